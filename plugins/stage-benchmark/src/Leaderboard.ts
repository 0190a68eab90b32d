/**
 * Open LLM Leaderboard v2 normalisation: each raw score is rescaled between the task's random baseline (the
 * reciprocal of its number of choices) and 1, `(score − baseline) / (1 − baseline)`, and a score below the baseline
 * counts as 0. Generative tasks (IFEval, MATH Lvl 5) have baseline 0, so they are left as they are.
 *
 * Sources: the leaderboard's documentation, "Scores normalization"
 * (https://huggingface.co/docs/leaderboards/open_llm_leaderboard/normalization), which lists the number of choices
 * of every BBH subtask, GPQA (4), MMLU-Pro (10) and the MuSR subtasks (2, 5, 3); the maintainers' worked answer in
 * https://huggingface.co/spaces/open-llm-leaderboard/open_llm_leaderboard/discussions/825 (normalise each subtask,
 * then average). The leaderboard shows these ×100; the store keeps them on lm_eval's 0–1 scale. The BBH and GPQA
 * counts are checked against lm_eval's own `doc_to_choice` lists (test/LeaderboardChoices.test.ts).
 */

/** Number of answer choices of each leaderboard task (lm_eval task names of the `leaderboard` group). */
const choices: Readonly<Record<string, number>> = {
  leaderboard_bbh_boolean_expressions: 2,
  leaderboard_bbh_causal_judgement: 2,
  leaderboard_bbh_date_understanding: 6,
  leaderboard_bbh_disambiguation_qa: 3,
  leaderboard_bbh_formal_fallacies: 2,
  leaderboard_bbh_geometric_shapes: 11,
  leaderboard_bbh_hyperbaton: 2,
  leaderboard_bbh_logical_deduction_five_objects: 5,
  leaderboard_bbh_logical_deduction_seven_objects: 7,
  leaderboard_bbh_logical_deduction_three_objects: 3,
  leaderboard_bbh_movie_recommendation: 6,
  leaderboard_bbh_navigate: 2,
  leaderboard_bbh_object_counting: 19,
  leaderboard_bbh_penguins_in_a_table: 5,
  leaderboard_bbh_reasoning_about_colored_objects: 18,
  leaderboard_bbh_ruin_names: 6,
  leaderboard_bbh_salient_translation_error_detection: 6,
  leaderboard_bbh_snarks: 2,
  leaderboard_bbh_sports_understanding: 2,
  leaderboard_bbh_temporal_sequences: 4,
  leaderboard_bbh_tracking_shuffled_objects_five_objects: 5,
  leaderboard_bbh_tracking_shuffled_objects_seven_objects: 7,
  leaderboard_bbh_tracking_shuffled_objects_three_objects: 3,
  leaderboard_bbh_web_of_lies: 2,
  leaderboard_gpqa_diamond: 4,
  leaderboard_gpqa_extended: 4,
  leaderboard_gpqa_main: 4,
  leaderboard_mmlu_pro: 10,
  leaderboard_musr_murder_mysteries: 2,
  leaderboard_musr_object_placements: 5,
  leaderboard_musr_team_allocation: 3
}

/** Tasks the leaderboard scores without a random baseline (generative: the baseline is 0). */
const generative = ["leaderboard_ifeval", "leaderboard_math_"]

/** The random baseline of a task, 0 for generative leaderboard tasks, undefined for tasks the leaderboard lacks. */
export const leaderboardBaseline = (task: string): number | undefined => {
  const n = choices[task]
  if (n !== undefined) return 1 / n
  return generative.some((prefix) => task === prefix || task.startsWith(prefix)) ? 0 : undefined
}

/** A raw score on the leaderboard's scale: rescaled above the baseline, 0 below it. */
export const normaliseScore = (score: number, baseline: number): number =>
  score < baseline ? 0 : (score - baseline) / (1 - baseline)

/** A standard error under the same (linear) rescaling. */
export const normaliseStderr = (stderr: number, baseline: number): number => stderr / (1 - baseline)
