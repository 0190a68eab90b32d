import * as fs from "node:fs"

/**
 * Test-only: reads one of the study's `~`-separated prediction files (pandas `to_csv(sep="~")`: header,
 * minimal `"` quoting with doubled inner quotes) into rows keyed by column name. The product's reader is
 * `@empo/metrics`; this one exists so the tokenizer and lexicon plugins can be tested on their own.
 */
export const readTildeCsv = (file: string): Array<Record<string, string>> => {
  const text = fs.readFileSync(file, "utf8")
  const records: Array<Array<string>> = []
  let record: Array<string> = []
  let field = ""
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"'
          i++
        } else quoted = false
      } else field += c
    } else if (c === '"') quoted = true
    else if (c === "~") {
      record.push(field)
      field = ""
    } else if (c === "\n") {
      record.push(field)
      records.push(record)
      record = []
      field = ""
    } else field += c
  }
  if (field !== "" || record.length > 0) {
    record.push(field)
    records.push(record)
  }
  const [header, ...rows] = records
  return rows.map((row) => Object.fromEntries(header!.map((name, i) => [name, row[i] ?? ""])))
}

/** Test-only: one column of a prediction file. */
export const predictionColumn = (file: string, column: string): Array<string> =>
  readTildeCsv(file).map((row) => {
    const value = row[column]
    if (value === undefined) throw new Error(`${file}: no column ${column}`)
    return value
  })
