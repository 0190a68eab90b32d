import * as Schema from "effect/Schema"

/** The JSON shape of Punkt parameters (NLTK's `PunktParameters` fields), e.g. `punkt_english.json`. */
export const PunktParametersJson = Schema.Struct({
  /** Lower-cased abbreviations without their final period (`"dr"`, `"u.s"`). */
  abbrev_types: Schema.Array(Schema.String),
  /** Word-type pairs whose first word ends in a period that does not end a sentence (`["##number##", "abreast"]`). */
  collocations: Schema.Array(Schema.Tuple(Schema.String, Schema.String)),
  /** Lower-cased words that frequently start a sentence. */
  sent_starters: Schema.Array(Schema.String),
  /** Word type → bit-set of orthographic contexts it was seen in (NLTK's `_ORTHO_*` flags). */
  ortho_context: Schema.Record({ key: Schema.String, value: Schema.Int })
})
export type PunktParametersJson = typeof PunktParametersJson.Type

/**
 * Punkt parameters compiled for lookup: built once, then shared by every tokenizer call
 * (the tokenizer never copies or rebuilds them).
 */
export class PunktParameters {
  readonly abbrevTypes: ReadonlySet<string>
  /** Collocations as `first + " " + second` (types never contain whitespace). */
  readonly collocations: ReadonlySet<string>
  readonly sentStarters: ReadonlySet<string>
  readonly orthoContext: ReadonlyMap<string, number>

  constructor(json: PunktParametersJson) {
    this.abbrevTypes = new Set(json.abbrev_types)
    this.collocations = new Set(json.collocations.map(([first, second]) => `${first} ${second}`))
    this.sentStarters = new Set(json.sent_starters)
    this.orthoContext = new Map(Object.entries(json.ortho_context))
  }

  /** Back to the JSON shape (sorted, so equal parameters give byte-identical files). */
  toJson(): PunktParametersJson {
    return {
      abbrev_types: [...this.abbrevTypes].sort(),
      collocations: [...this.collocations].sort().map((pair) => {
        const space = pair.indexOf(" ")
        return [pair.slice(0, space), pair.slice(space + 1)] as const
      }),
      sent_starters: [...this.sentStarters].sort(),
      ortho_context: Object.fromEntries([...this.orthoContext].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    }
  }
}

/** Decodes the JSON shape straight into compiled {@link PunktParameters}. */
export const PunktParametersFromJson: Schema.Schema<PunktParameters, typeof PunktParametersJson.Encoded> =
  Schema.transform(PunktParametersJson, Schema.instanceOf(PunktParameters), {
    strict: true,
    decode: (json) => new PunktParameters(json),
    encode: (params) => params.toJson()
  })

/**
 * NLTK's `punkt_tab` format (what `nltk.download("punkt_tab")` installs per language):
 * `abbrev_types.txt`, `sent_starters.txt` (one entry a line), `collocations.tab` (two tab-separated
 * types a line) and `ortho_context.tab` (type, tab, integer flags).
 */
export interface PunktTabFiles {
  readonly abbrevTypes: string
  readonly collocations: string
  readonly sentStarters: string
  readonly orthoContext: string
}

/** A line of a `punkt_tab` file that does not have the expected shape. */
export class PunktTabLineError extends Error {
  constructor(readonly file: string, readonly line: number, readonly reason: string) {
    super(`${file}:${line}: ${reason}`)
  }
}

const tabLines = (text: string): ReadonlyArray<string> => {
  const lines = text.split("\n")
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop()
  return lines
}

/** Converts NLTK's `punkt_tab` files into the JSON shape; throws {@link PunktTabLineError} on a malformed line. */
export const punktJsonFromTab = (files: PunktTabFiles): PunktParametersJson => {
  const collocations = tabLines(files.collocations).map((line, index) => {
    const fields = line.split("\t")
    if (fields.length !== 2) throw new PunktTabLineError("collocations.tab", index + 1, "expected two tab-separated types")
    return [fields[0]!, fields[1]!] as const
  })
  const orthoContext: Record<string, number> = {}
  tabLines(files.orthoContext).forEach((line, index) => {
    const tab = line.lastIndexOf("\t")
    const flags = Number(line.slice(tab + 1))
    if (tab < 0 || !Number.isInteger(flags)) {
      throw new PunktTabLineError("ortho_context.tab", index + 1, "expected a type, a tab and integer flags")
    }
    orthoContext[line.slice(0, tab)] = flags
  })
  return {
    abbrev_types: tabLines(files.abbrevTypes),
    collocations,
    sent_starters: tabLines(files.sentStarters),
    ortho_context: orthoContext
  }
}
