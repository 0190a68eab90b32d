import { commonTrainParamFields, defineOptimizer, trlOptimizerLayer } from "@empo/core/Optimizer"
import * as Schema from "effect/Schema"

/** SFT params: the common TRL fields (loss on assistant turns only is always on). */
export const SftParams = Schema.Struct(commonTrainParamFields)
export type SftParams = typeof SftParams.Type

/** Supervised fine-tuning on whole dialogues (`{messages}` JSONL) with TRL's SFTTrainer, assistant-only loss. */
export const sftOptimizer = defineOptimizer({
  manifest: {
    id: "sft",
    kind: "optimizer",
    version: "0.1.0",
    description: "Supervised fine-tuning (TRL SFTTrainer, loss on assistant turns only, optional LoRA/QLoRA)",
    stage: "sft",
    dataFormat: "sft",
    presetsDir: new URL("../presets/", import.meta.url)
  },
  params: SftParams,
  layer: (params) => trlOptimizerLayer("sft", "sft", params)
})

export default sftOptimizer
