import * as Context from "effect/Context"
import type { Emotion } from "./Emotion.ts"

/**
 * An emotion theory: for a prompt's emotion, which emotions count as "opposite". Rejected replies are
 * gold listener turns from dialogues with one of these emotions. An empty list means the emotion yields
 * no pairs (e.g. the study's partial `plutchik-original` map).
 */
export interface GrounderShape {
  readonly id: string
  readonly description: string
  readonly opposites: (emotion: Emotion) => ReadonlyArray<Emotion>
}

/** The active emotion theory. */
export class Grounder extends Context.Tag("@empo/core/Grounder")<Grounder, GrounderShape>() {}
