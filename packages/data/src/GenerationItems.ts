import { ChatMessage, type Dialogue, GenerationItem, roleOfTurn } from "@empo/core"

/** A generation item as plain data (its JSON form); builders use it to skip class construction. */
export type GenerationItemData = typeof GenerationItem.Encoded

/** The study's cut (see {@link generationItem}) as plain data. */
export const cutForGeneration = (dialogue: Dialogue, systemPrompt?: string): GenerationItemData | undefined => {
  const n = dialogue.turns.length
  const targetIndex = n % 2 === 0 ? n - 1 : n - 2
  if (targetIndex < 1) return undefined
  const prompt: Array<{ role: "system" | "user" | "assistant"; content: string }> = []
  if (systemPrompt !== undefined) prompt.push({ role: "system", content: systemPrompt })
  for (let i = 0; i < targetIndex; i++) prompt.push({ role: roleOfTurn(i), content: dialogue.turns[i]! })
  return { id: dialogue.id, prompt, target: dialogue.turns[targetIndex]!, prev: dialogue.turns[targetIndex - 1]!, emotion: dialogue.emotion }
}

/** {@link generationItems} as plain data, same order: what the dataset builders consume. */
export const generationItemData = (dialogues: ReadonlyArray<Dialogue>, systemPrompt?: string): Array<GenerationItemData> => {
  const items: Array<GenerationItemData> = []
  for (const d of sortByConvId(dialogues)) {
    const item = cutForGeneration(d, systemPrompt)
    if (item !== undefined) items.push(item)
  }
  return items
}

/**
 * The study's cut (empo-method §1.4): the target is the LAST listener turn and the prompt ends with the
 * user turn before it; `prev` is that user turn. Even length n → prompt d[:-1]; odd n ≥ 3 → prompt
 * d[:-2] (the trailing speaker turn is dropped); n = 1 → no item. A system prompt, if given, is
 * prepended. Messages are built without re-validation (the turns are already typed strings).
 */
export const generationItem = (dialogue: Dialogue, systemPrompt?: string): GenerationItem | undefined => {
  const n = dialogue.turns.length
  const targetIndex = n % 2 === 0 ? n - 1 : n - 2
  if (targetIndex < 1) return undefined
  const prompt: Array<ChatMessage> = []
  if (systemPrompt !== undefined) prompt.push(ChatMessage.make({ role: "system", content: systemPrompt }, { disableValidation: true }))
  for (let i = 0; i < targetIndex; i++) prompt.push(ChatMessage.make({ role: roleOfTurn(i), content: dialogue.turns[i]! }, { disableValidation: true }))
  return GenerationItem.make({
    id: dialogue.id,
    prompt,
    target: dialogue.turns[targetIndex]!,
    prev: dialogue.turns[targetIndex - 1]!,
    emotion: dialogue.emotion
  }, { disableValidation: true })
}

/**
 * Items for every dialogue that has a listener turn, in the study's order: sorted by `conv_id` as a
 * plain string (pandas `groupby` sorts keys, so `hit:0_conv:0` < `hit:0_conv:1` < `hit:10000_conv:…`).
 */
export const generationItems = (dialogues: ReadonlyArray<Dialogue>, systemPrompt?: string): Array<GenerationItem> => {
  const items: Array<GenerationItem> = []
  for (const d of sortByConvId(dialogues)) {
    const item = generationItem(d, systemPrompt)
    if (item !== undefined) items.push(item)
  }
  return items
}

/** Dialogues sorted by id with code-unit comparison (Python's `str` order for ASCII ids). */
export const sortByConvId = <A extends { readonly id: string }>(xs: ReadonlyArray<A>): Array<A> =>
  [...xs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
