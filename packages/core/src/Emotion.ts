import * as Schema from "effect/Schema"

/** The 32 EmpatheticDialogues emotion labels, in the order the EmPO study's maps list them. */
export const ED_EMOTIONS = [
  "sentimental", "afraid", "proud", "faithful", "terrified", "joyful", "angry", "sad",
  "jealous", "grateful", "prepared", "embarrassed", "excited", "annoyed", "lonely", "ashamed",
  "guilty", "surprised", "nostalgic", "confident", "furious", "disappointed", "caring", "trusting",
  "disgusted", "anticipating", "anxious", "hopeful", "content", "impressed", "apprehensive", "devastated"
] as const

/** One of the 32 ED emotion labels (the conversation's grounding `context`). */
export const Emotion = Schema.Literal(...ED_EMOTIONS).annotations({
  identifier: "Emotion",
  description: "one of the 32 EmpatheticDialogues emotion labels"
})
export type Emotion = typeof Emotion.Type

/** True when `s` is one of the 32 labels. */
export const isEmotion: (s: unknown) => s is Emotion = Schema.is(Emotion)
