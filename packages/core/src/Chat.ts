import * as Schema from "effect/Schema"

/** Speaker role in TRL's conversational format. */
export const ChatRole = Schema.Literal("system", "user", "assistant")
export type ChatRole = typeof ChatRole.Type

/** One chat message `{role, content}`. */
export class ChatMessage extends Schema.Class<ChatMessage>("ChatMessage")({
  role: ChatRole,
  content: Schema.String
}) {}

/** An ordered list of chat messages. */
export const Conversation = Schema.Array(ChatMessage)
export type Conversation = typeof Conversation.Type

/** ED speaker turns are `user` (the one who feels the emotion), listener turns `assistant`. */
export const roleOfTurn = (index: number): ChatRole => (index % 2 === 0 ? "user" : "assistant")

/** Turns of a dialogue as chat messages, alternating user/assistant from the first turn. */
export const turnsToChat = (turns: ReadonlyArray<string>): Array<ChatMessage> =>
  turns.map((content, i) => new ChatMessage({ role: roleOfTurn(i), content }))
