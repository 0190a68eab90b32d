/** A dialogue turn as raters see it: the speaker (the one who feels the emotion) or the listener. */
export interface Turn {
  readonly role: "user" | "assistant"
  readonly content: string
}

const tagged = /<\|(system|user|assistant)\|>\n([\s\S]*?)(?:<\/s>\n?|(?=<\|(?:system|user|assistant)\|>)|$)/g

/**
 * The turns of a Zephyr chat template (`<|system|>…</s>\n<|user|>…`) without the system prompt and without
 * the trailing empty `<|assistant|>` that asks for the generation.
 */
export const turnsOfTemplate = (template: string): Array<Turn> => {
  const turns: Array<Turn> = []
  for (const m of template.matchAll(tagged)) {
    if (m[1] === "system") continue
    turns.push({ role: m[1] as Turn["role"], content: m[2]!.replace(/\n$/, "") })
  }
  while (turns.length > 0 && turns[turns.length - 1]!.role === "assistant" && turns[turns.length - 1]!.content === "") turns.pop()
  return turns
}

/** Turns of a chat message list (JSONL `prompt`), the system message dropped. */
export const turnsOfMessages = (messages: ReadonlyArray<{ readonly role: string; readonly content: string }>): Array<Turn> =>
  messages.filter((m) => m.role === "user" || m.role === "assistant").map((m) => ({ role: m.role as Turn["role"], content: m.content }))

/** The study's display text: `Speaker:` / `Listener:` turns, then `Listener (Response): <response>`. */
export const displayText = (turns: ReadonlyArray<Turn>, response: string): string =>
  [...turns.map((t) => `${t.role === "user" ? "Speaker" : "Listener"}: ${t.content}`), `Listener (Response): ${response}`].join("\n")

/** The turns' contents, one per line (the study's `chat_cut`). */
export const chatCut = (turns: ReadonlyArray<Turn>): string => turns.map((t) => t.content).join("\n")

/** The Zephyr template of turns after a system prompt, ending with the generation prompt (the study's `chat_templates`). */
export const zephyrTemplate = (system: string, turns: ReadonlyArray<Turn>): string =>
  [`<|system|>\n${system}</s>\n`, ...turns.map((t) => `<|${t.role}|>\n${t.content}</s>\n`), "<|assistant|>\n"].join("")

const escapes: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }

/** Escapes text for HTML element content and attribute values. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => escapes[c]!)
