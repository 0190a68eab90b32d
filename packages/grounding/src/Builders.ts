import { type Dialogue, type KtoExample, type PreferencePair, type SftExample, turnsToChat } from "@empo/core"
import type { GenerationItemData } from "@empo/data"
import type * as Schema from "effect/Schema"
import type { Negative } from "./Pairing.ts"

type Encoded<S extends Schema.Schema.Any> = Schema.Schema.Encoded<S>

/** A DPO row as written to JSONL (TRL conversational format + provenance). */
export type DpoRow = Encoded<typeof PreferencePair>
/** A KTO row as written to JSONL. */
export type KtoRow = Encoded<typeof KtoExample>
/** An SFT row as written to JSONL. */
export type SftRow = Encoded<typeof SftExample>

const assistant = (content: string) => [{ role: "assistant" as const, content }]

/** One DPO pair per negative: chosen = the prompt's gold target, rejected = the negative's gold target. */
export const dpoRows = (items: ReadonlyArray<GenerationItemData>, negatives: ReadonlyArray<Negative>, grounder: string): Array<DpoRow> =>
  negatives.map(({ prompt, rejected, draw }) => {
    const item = items[prompt]!
    const other = items[rejected]!
    return {
      prompt: item.prompt,
      chosen: assistant(item.target),
      rejected: assistant(other.target),
      provenance: { dialogueId: item.id, emotion: item.emotion, rejectedEmotion: other.emotion, rejectedDialogueId: other.id, grounder, draw }
    }
  })

/** One KTO row before serialisation: the desirable row of `prompt` (no negative) or one of its undesirable rows. */
export interface KtoEntry {
  readonly prompt: number
  readonly negative: Negative | undefined
}

/**
 * KTO row order: per prompt that has negatives (ascending prompt index), one desirable row followed by
 * one undesirable row per negative, in draw order. The builder cuts a row limit on this layout, so the
 * manifest can count exactly the rows it keeps.
 */
export const ktoLayout = (negatives: ReadonlyArray<Negative>): Array<KtoEntry> => {
  const byPrompt = new Map<number, Array<Negative>>()
  for (const n of negatives) {
    const list = byPrompt.get(n.prompt)
    if (list === undefined) byPrompt.set(n.prompt, [n])
    else list.push(n)
  }
  const layout: Array<KtoEntry> = []
  for (const prompt of [...byPrompt.keys()].sort((a, b) => a - b)) {
    layout.push({ prompt, negative: undefined })
    for (const negative of byPrompt.get(prompt)!) layout.push({ prompt, negative })
  }
  return layout
}

/** The KTO rows of a {@link ktoLayout} (or a prefix of one). */
export const ktoRowsOf = (items: ReadonlyArray<GenerationItemData>, layout: ReadonlyArray<KtoEntry>, grounder: string): Array<KtoRow> =>
  layout.map(({ prompt, negative }): KtoRow => {
    const item = items[prompt]!
    if (negative === undefined) return { prompt: item.prompt, completion: assistant(item.target), label: true }
    const other = items[negative.rejected]!
    return {
      prompt: item.prompt,
      completion: assistant(other.target),
      label: false,
      provenance: { dialogueId: item.id, emotion: item.emotion, rejectedEmotion: other.emotion, rejectedDialogueId: other.id, grounder, draw: negative.draw }
    }
  })

/**
 * KTO: per prompt that has negatives, one desirable row (its gold target, label true) followed by one
 * undesirable row per negative (label false). So with k negatives there are k undesirable rows per
 * desirable one; pass `--negatives 1` for the study's intended 1:1 alternation (§2.4), or weight the
 * classes in the trainer.
 */
export const ktoRows = (items: ReadonlyArray<GenerationItemData>, negatives: ReadonlyArray<Negative>, grounder: string): Array<KtoRow> =>
  ktoRowsOf(items, ktoLayout(negatives), grounder)

/** SFT: whole dialogues (single-utterance ones too, as pipe_sft kept them), optional system message first. */
export const sftRows = (dialogues: ReadonlyArray<Dialogue>, systemPrompt?: string): Array<SftRow> =>
  dialogues.map((d) => ({
    messages: systemPrompt === undefined ? turnsToChat(d.turns) : [{ role: "system" as const, content: systemPrompt }, ...turnsToChat(d.turns)],
    dialogueId: d.id,
    emotion: d.emotion
  }))
