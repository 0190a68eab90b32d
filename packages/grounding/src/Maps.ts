import type { Emotion } from "@empo/core"

/** The study's default opposite map `plutchik_1` (empo-method §2.1), in its key order. */
export const PLUTCHIK_1: Readonly<Record<Emotion, Emotion>> = {
  sentimental: "apprehensive", afraid: "angry", proud: "ashamed", faithful: "jealous", terrified: "furious",
  joyful: "sad", angry: "afraid", sad: "joyful", jealous: "faithful", grateful: "disgusted", prepared: "anxious",
  embarrassed: "confident", excited: "devastated", annoyed: "apprehensive", lonely: "caring", ashamed: "proud",
  guilty: "proud", surprised: "anticipating", nostalgic: "hopeful", confident: "embarrassed", furious: "terrified",
  disappointed: "impressed", caring: "lonely", trusting: "disgusted", disgusted: "trusting", anticipating: "surprised",
  anxious: "content", hopeful: "nostalgic", content: "anxious", impressed: "disappointed", apprehensive: "annoyed",
  devastated: "excited"
}

/** The study's partial `plutchik_original` map: only the 9 wheel opposites; other labels yield no pairs. */
export const PLUTCHIK_ORIGINAL: Readonly<Partial<Record<Emotion, Emotion>>> = {
  afraid: "angry", joyful: "sad", angry: "afraid", sad: "joyful", surprised: "anticipating",
  trusting: "disgusted", disgusted: "trusting", anticipating: "surprised", apprehensive: "annoyed"
}
