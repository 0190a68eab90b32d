import * as FileSystem from "@effect/platform/FileSystem"
import { InputError, IoError } from "@empo/core/Errors"
import { decodeUtf8, readPredictions } from "@empo/metrics/Predictions"
import { parse as parseCsv } from "csv-parse/sync"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { randomBytes } from "node:crypto"
import { type Turn, turnsOfMessages, turnsOfTemplate } from "./Display.ts"
import { attentionResponse, type NewStudy } from "./HumanStore.ts"
import * as prand from "pure-rand"
import { generator, makeBundles, sampleItems, type SamplingPlan, shuffle } from "./Sampling.ts"
import type { StatementSet } from "./Statements.ts"

/** Where one condition's responses come from. `gold` is the reference listener turns of the other conditions' items. */
export type ConditionSource =
  | { readonly name: string; readonly kind: "file"; readonly file: string }
  | { readonly name: string; readonly kind: "run"; readonly runId: string; readonly file: string }
  | { readonly name: string; readonly kind: "gold" }

export interface BatchOptions {
  readonly id: string
  readonly title: string
  readonly conditions: ReadonlyArray<ConditionSource>
  readonly plan: SamplingPlan
  readonly statements: StatementSet
  readonly ratersPerItem: number
  readonly itemsPerRater: number
  readonly attentionChecks: number
  readonly completionCode?: string | undefined
  readonly redirectUrl?: string | undefined
}

interface LoadedItem {
  readonly id: string
  readonly response: string
  readonly target: string
  readonly context: string
  readonly emotion: string
  readonly chat: ReadonlyArray<Turn>
}

const JsonlPrompt = Schema.parseJson(Schema.Struct({ prompt: Schema.optional(Schema.Array(Schema.Struct({ role: Schema.String, content: Schema.String }))) }))

// The predictions reader leaves the (bulky) chat column out of its items; the dialogue shown to raters is read
// here from the same rows: `chat_templates` of the study's files, `prompt` of `empo generate`'s JSONL.
const chatsOf = (file: string, text: string, format: string): Effect.Effect<Array<ReadonlyArray<Turn> | undefined>, InputError> =>
  Effect.try({
    try: () => {
      if (format === "jsonl") {
        return text.split("\n").filter((l) => l.trim() !== "").map((line) => {
          const prompt = Schema.decodeUnknownSync(JsonlPrompt)(line).prompt
          return prompt === undefined ? undefined : turnsOfMessages(prompt)
        })
      }
      const rows = parseCsv(text, { delimiter: format === "tilde" ? "~" : ",", bom: true, skip_empty_lines: true }) as Array<Array<string>>
      const at = rows[0]!.indexOf("chat_templates")
      return rows.slice(1).map((r) => (at === -1 ? undefined : turnsOfTemplate(r[at]!)))
    },
    catch: (cause) => new InputError({ file, reason: `cannot read the dialogues: ${(cause as Error).message}` })
  })

/** Reads one predictions file into items with their dialogue; every item needs an emotion (sampling is by emotion). */
export const loadPredictions = Effect.fn("Batch.loadPredictions")(function* (file: string) {
  const fs = yield* FileSystem.FileSystem
  const predictions = yield* readPredictions(file)
  const bytes = yield* fs.readFile(file).pipe(Effect.mapError((cause) => new IoError({ operation: "read", path: file, cause })))
  const chats = yield* chatsOf(file, yield* decodeUtf8(file, bytes), predictions.format)
  return yield* Effect.forEach(predictions.items, (item, k) =>
    item.emotion === undefined || item.emotion === ""
      ? Effect.fail(new InputError({ file, field: "emotions", reason: `item ${item.id} has no emotion (the batch samples by emotion)` }))
      : Effect.succeed<LoadedItem>({
        id: item.id, response: item.response, target: item.target ?? "", context: item.context, emotion: item.emotion,
        chat: chats[k] ?? [{ role: "user", content: item.context }]
      }))
})

/**
 * Decides a study: the items every condition has (in the first file's order), sampled by `plan`, one response per
 * condition, bundles of `itemsPerRater` units with `ratersPerItem` ratings each, and `attentionChecks` check items
 * placed at seeded positions in every bundle. Pure apart from reading the files; the same inputs give the same study.
 */
export const planStudy = Effect.fn("Batch.planStudy")(function* (options: BatchOptions) {
  const names = options.conditions.map((c) => c.name)
  if (new Set(names).size !== names.length) return yield* new InputError({ reason: `condition names must differ: ${names.join(", ")}`, field: "--condition" })
  if (options.conditions.length < 2) return yield* new InputError({ reason: "a study compares two or more conditions", field: "--condition" })
  const loaded = new Map<string, Map<string, LoadedItem>>()
  for (const c of options.conditions) {
    if (c.kind === "gold") continue
    const items = yield* loadPredictions(c.file)
    loaded.set(c.name, new Map(items.map((i) => [i.id, i])))
  }
  const first = [...loaded.values()][0]
  if (first === undefined) return yield* new InputError({ reason: "at least one condition must be a run or a predictions file", field: "--condition" })
  const common = [...first.values()].filter((i) => [...loaded.values()].every((m) => m.has(i.id)))
  if (common.length === 0) return yield* new InputError({ reason: "the conditions share no item ids (are they predictions of the same items?)", field: "--condition" })
  const sampled = sampleItems(common, options.plan)
  if (options.itemsPerRater > sampled.length) {
    return yield* new InputError({ reason: `--items-per-rater ${options.itemsPerRater} is more than the ${sampled.length} items sampled`, field: "--items-per-rater" })
  }
  const items: Array<NewStudy["items"][number]> = sampled.map((base) => ({
    itemId: base.id, emotion: base.emotion, context: base.context, chat: base.chat, attention: false,
    responses: Object.fromEntries(options.conditions.map((c) => {
      const own = c.kind === "gold" ? base : loaded.get(c.name)!.get(base.id)!
      return [c.name, { response: c.kind === "gold" ? base.target : own.response, target: base.target }]
    }))
  }))
  const bundles = makeBundles(sampled.map((s) => s.id), names, {
    ratersPerItem: options.ratersPerItem, itemsPerRater: options.itemsPerRater, seed: options.plan.seed
  })
  const gen = generator(options.plan.seed + 2)
  const checks = shuffle(sampled, gen).slice(0, options.attentionChecks).map((base, k) => ({
    itemId: `attention-${k + 1}`, emotion: base.emotion, context: base.context, chat: base.chat, attention: true,
    responses: { attention: { response: attentionResponse, target: "" } }
  }))
  items.push(...checks)
  const withChecks = bundles.map((units) => {
    const out = [...units]
    for (const check of checks) out.splice(prand.unsafeUniformIntDistribution(Math.min(1, out.length), out.length, gen), 0, { item: check.itemId, condition: "attention" })
    return out
  })
  const study: NewStudy = {
    id: options.id,
    title: options.title,
    statements: options.statements,
    design: {
      ratersPerItem: options.ratersPerItem, itemsPerRater: options.itemsPerRater, attentionChecks: options.attentionChecks,
      seed: options.plan.seed, items: sampled.length, bundles: withChecks.length
    },
    completionCode: options.completionCode ?? randomBytes(4).toString("hex").toUpperCase(),
    redirectUrl: options.redirectUrl ?? null,
    conditions: options.conditions.map((c) => ({
      name: c.name, sourceKind: c.kind, source: c.kind === "gold" ? "gold" : c.file, runId: c.kind === "run" ? c.runId : null
    })),
    items,
    bundles: withChecks
  }
  return study
})
