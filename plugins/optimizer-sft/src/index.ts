import { defineTrlOptimizer, trlParams } from "@empo/core/Optimizer"

/** SFT params: the common TRL fields (loss on assistant turns only is always on). */
export const SftParams = trlParams({})
export type SftParams = typeof SftParams.Type

/** Supervised fine-tuning on whole dialogues (`{messages}` JSONL) with TRL's SFTTrainer, assistant-only loss. */
export const sftOptimizer = defineTrlOptimizer("sft", {
  description: "Supervised fine-tuning (TRL SFTTrainer, loss on assistant turns only, optional LoRA/QLoRA)",
  params: SftParams,
  presetsDir: new URL("../presets/", import.meta.url)
})
