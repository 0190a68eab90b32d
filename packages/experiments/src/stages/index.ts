import { datasetStage } from "./dataset.ts"
import { evaluateStage } from "./evaluate.ts"
import { generateStage } from "./generate.ts"
import { modelStage } from "./model.ts"
import { trainStage } from "./train.ts"

export { datasetKind, DatasetInputs, datasetStage, planDataset } from "./dataset.ts"
export { evaluateKind, evaluateStage, EvaluateInputs } from "./evaluate.ts"
export { generateKind, generateStage, GenerateInputs, itemsKind, ItemsInputs } from "./generate.ts"
export { modelStage, tinyModelKind, TinyModelInputs } from "./model.ts"
export { StageFiles } from "./shared.ts"
export { trainKind, trainStage, TrainInputs } from "./train.ts"

/**
 * The built-in pipeline, in planning order: base model → SFT → preference → generate → evaluate. A stage plugin
 * listed after these plans from what they left in the context (models, roles).
 */
export const builtinStages = [datasetStage, modelStage, trainStage, generateStage, evaluateStage] as const
