import * as Schema from "effect/Schema"
import { Conversation } from "./Chat.ts"
import { Emotion } from "./Emotion.ts"

/** Canonical split names; the original ED release calls validation `valid`. */
export const Split = Schema.Literal("train", "valid", "test")
export type Split = typeof Split.Type

/** Which loader produced a dialogue. */
export const DatasetFormat = Schema.Literal("ed-raw", "ed-pairs", "hf")
export type DatasetFormat = typeof DatasetFormat.Type

/** A whole ED conversation, turns ordered by `utterance_idx`. */
export class Dialogue extends Schema.Class<Dialogue>("Dialogue")({
  /** ED `conv_id`, e.g. `hit:0_conv:0`. */
  id: Schema.String,
  emotion: Emotion,
  /** The speaker's situation description (ED `prompt`). */
  situation: Schema.String,
  /** Utterance texts in conversation order; even index = speaker (user), odd = listener (assistant). */
  turns: Schema.Array(Schema.String),
  split: Split,
  /** Where it was read from: `<format>:<file>`. */
  source: Schema.String
}) {}

/** A prompt cut for generation: ends with a user turn; the target is the last listener turn. */
export class GenerationItem extends Schema.Class<GenerationItem>("GenerationItem")({
  /** The dialogue id. */
  id: Schema.String,
  prompt: Conversation,
  /** Gold last listener turn. */
  target: Schema.String,
  /** The user turn right before the target (used by EPITOME and VAD). */
  prev: Schema.String,
  emotion: Emotion
}) {}

/** Where a preference pair came from. */
export class PairProvenance extends Schema.Class<PairProvenance>("PairProvenance")({
  dialogueId: Schema.String,
  emotion: Emotion,
  rejectedEmotion: Emotion,
  /** Dialogue whose gold listener turn became the rejected reply. */
  rejectedDialogueId: Schema.String,
  grounder: Schema.String,
  /** Which of the k negatives of this prompt (0-based). */
  draw: Schema.Int
}) {}

/** A DPO/IPO pair in TRL's conversational format (prompt, chosen, rejected message lists). */
export class PreferencePair extends Schema.Class<PreferencePair>("PreferencePair")({
  prompt: Conversation,
  chosen: Conversation,
  rejected: Conversation,
  provenance: PairProvenance
}) {}

/** An unpaired KTO example in TRL's conversational format. */
export class KtoExample extends Schema.Class<KtoExample>("KtoExample")({
  prompt: Conversation,
  completion: Conversation,
  /** true = desirable (gold), false = undesirable (opposite-emotion turn). */
  label: Schema.Boolean,
  provenance: Schema.optional(PairProvenance)
}) {}

/** A whole dialogue for SFT (loss on assistant turns). */
export class SftExample extends Schema.Class<SftExample>("SftExample")({
  messages: Conversation,
  dialogueId: Schema.String,
  emotion: Emotion
}) {}
