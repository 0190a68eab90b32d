/**
 * The one grammar for `key=value` command-line params (`empo train --param`, `empo eval --param`):
 *
 * - the key is a dotted path of names (`lora.r`, `vad.vadLexicon`); each dot nests one level;
 * - the value is `true`/`false`, a number (`5e-4`, `-3`), `null`, JSON (`[1, 2]`, `{"a": 1}`, `"true"` for the
 *   string), or else the text itself (`data/lexicons/x.txt`, `q_proj,v_proj`; plugins' Schemas split lists);
 * - a key given twice, or both as a value and as a prefix (`lora=…` and `lora.r=…`), is refused.
 *
 * Plugins then decode the resulting record with their own params Schema.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { InputError } from "./Errors.ts"

/** A param value as the command line can write it. */
export type ParamValue = string | number | boolean | null | ReadonlyArray<ParamValue> | { readonly [key: string]: ParamValue }

export const ParamValue: Schema.Schema<ParamValue> = Schema.Union(
  Schema.String,
  Schema.Number,
  Schema.Boolean,
  Schema.Null,
  Schema.Array(Schema.suspend((): Schema.Schema<ParamValue> => ParamValue)),
  Schema.Record({ key: Schema.String, value: Schema.suspend((): Schema.Schema<ParamValue> => ParamValue) })
)

const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

/** The text after `=` → a typed value (see the module comment for the rules). */
export const ParamValueFromText: Schema.Schema<ParamValue, string> = Schema.transformOrFail(Schema.String, ParamValue, {
  strict: true,
  decode: (text, _options, ast) => {
    if (text === "true" || text === "false") return ParseResult.succeed(text === "true")
    if (text === "null") return ParseResult.succeed(null)
    if (NUMBER.test(text)) {
      const value = Number(text)
      return Number.isFinite(value) ? ParseResult.succeed(value) : ParseResult.fail(new ParseResult.Type(ast, text, `${text} is not a finite number`))
    }
    if (/^\s*[[{"]/.test(text)) {
      return ParseResult.try({
        try: () => JSON.parse(text) as unknown,
        catch: (error) => new ParseResult.Type(ast, text, `not valid JSON (${error instanceof Error ? error.message : String(error)})`)
      }).pipe(Effect.flatMap((json) => ParseResult.decodeUnknown(ParamValue)(json)))
    }
    return ParseResult.succeed(text)
  },
  encode: (value) => ParseResult.succeed(typeof value === "string" && !NUMBER.test(value) && !/^(true|false|null|\s*[[{"])/.test(value) ? value : JSON.stringify(value))
})

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/

/** One parsed `key=value`: the key's path and the typed value. */
export interface ParsedParam {
  readonly path: ReadonlyArray<string>
  readonly value: ParamValue
}

export interface ParseParamsOptions {
  /** The flag the entries came from, for messages (default `--param`). */
  readonly flag?: string
  /** Fewest path segments a key must have (2 for `<metric>.<key>`), with what they mean for the message. */
  readonly minDepth?: { readonly depth: number; readonly shape: string }
}

const refuse = (flag: string, entry: string, reason: string) =>
  new InputError({ reason: `${flag} ${entry}: ${reason}`, field: flag })

/** Parses one `key=value` entry. */
export const parseParam = (entry: string, options: ParseParamsOptions = {}): Effect.Effect<ParsedParam, InputError> => {
  const flag = options.flag ?? "--param"
  const eq = entry.indexOf("=")
  if (eq <= 0) return Effect.fail(refuse(flag, entry, `expected ${options.minDepth?.shape ?? "key=value"}`))
  const path = entry.slice(0, eq).split(".")
  const bad = path.find((segment) => !NAME.test(segment) || segment === "__proto__")
  if (bad !== undefined) {
    return Effect.fail(refuse(flag, entry, `\`${bad}\` is not a param name (letters, digits, _ and -, starting with a letter or _)`))
  }
  if (options.minDepth !== undefined && path.length < options.minDepth.depth) {
    return Effect.fail(refuse(flag, entry, `expected ${options.minDepth.shape}`))
  }
  return Either.match(Schema.decodeEither(ParamValueFromText)(entry.slice(eq + 1)), {
    onLeft: (error) =>
      Effect.fail(refuse(flag, entry, ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => issue.message).join("; "))),
    onRight: (value) => Effect.succeed({ path, value })
  })
}

/** Parses every entry into one nested record (`lora.r=8` → `{ lora: { r: 8 } }`). */
export const parseParams = (
  entries: ReadonlyArray<string>,
  options: ParseParamsOptions = {}
): Effect.Effect<Record<string, ParamValue>, InputError> =>
  Effect.gen(function* () {
    const flag = options.flag ?? "--param"
    const out: Record<string, ParamValue> = {}
    // Which entry set each path, so a conflict names both.
    const setBy = new Map<string, string>()
    for (const entry of entries) {
      const { path, value } = yield* parseParam(entry, options)
      let target: Record<string, ParamValue> = out
      for (let depth = 0; depth < path.length; depth++) {
        const prefix = path.slice(0, depth + 1).join(".")
        const earlier = setBy.get(prefix)
        if (earlier !== undefined) return yield* refuse(flag, entry, `\`${prefix}\` is already set by ${flag} ${earlier}`)
        if (depth === path.length - 1) {
          if (Object.hasOwn(target, path[depth]!)) return yield* refuse(flag, entry, `\`${prefix}\` is already set by other ${flag} entries`)
          target[path[depth]!] = value
          setBy.set(prefix, entry)
        } else {
          if (!Object.hasOwn(target, path[depth]!)) target[path[depth]!] = {}
          target = target[path[depth]!] as Record<string, ParamValue>
        }
      }
    }
    return out
  })
