import { MalformedRow, type Split } from "@empo/core"
import { isUtf8 } from "node:buffer"
import { forEachLine } from "./internal/csv.ts"
import { NOT_UTF8 } from "./internal/utf8.ts"
import { isMalformed, normalizeSplit, type ParsedFile, type UtteranceRow, validateUtterance } from "./Preprocess.ts"

/**
 * Rows of a Hugging Face export (`conv_id, utterance_idx, context, prompt, speaker_idx, utterance,
 * selfeval, tags`; one utterance per row, text still `_comma_`-escaped). `line` in reports is the JSONL
 * line or the 1-based parquet row number. A `split` column, when present, overrides the file's split.
 */
export const parseHfRecords = (
  records: ReadonlyArray<{ readonly record: unknown; readonly line: number }>,
  file: string,
  fileSplit: Split | undefined
): ParsedFile<UtteranceRow> => {
  const rows: Array<UtteranceRow> = []
  const malformed: Array<MalformedRow> = []
  for (const { line, record } of records) {
    if (typeof record !== "object" || record === null || Array.isArray(record)) {
      malformed.push(MalformedRow.make({ file, line, reason: "expected a JSON object per line" }))
      continue
    }
    const r = record as Record<string, unknown>
    const notUtf8 = Object.keys(r).find((k) => r[k] instanceof NotUtf8Text)
    if (notUtf8 !== undefined) {
      malformed.push(MalformedRow.make({ file, line, field: notUtf8, reason: NOT_UTF8 }))
      continue
    }
    const missing = ["conv_id", "utterance_idx", "context", "prompt", "utterance"].find((k) => !(k in r) || r[k] === null)
    if (missing !== undefined) {
      malformed.push(MalformedRow.make({ file, line, field: missing, reason: `missing column ${missing}` }))
      continue
    }
    const split = typeof r["split"] === "string" ? normalizeSplit(r["split"]) : fileSplit
    if (split === undefined) {
      malformed.push(MalformedRow.make({ file, line, field: "split", reason: "no split: neither a `split` column nor a split name (train/valid/validation/test) in the file name" }))
      continue
    }
    const row = validateUtterance({
      convId: typeof r["conv_id"] === "string" ? r["conv_id"] : undefined,
      utteranceIdx: r["utterance_idx"],
      context: r["context"],
      prompt: r["prompt"],
      utterance: r["utterance"]
    }, split, file, line)
    if (isMalformed(row)) malformed.push(row)
    else rows.push(row)
  }
  return { rows, malformed }
}

/** Splits JSONL into records; a line that is not JSON, or listed in `invalidUtf8Lines`, is reported as malformed. */
export const readJsonlRecords = (
  text: string,
  file: string,
  invalidUtf8Lines?: ReadonlySet<number>
): { records: Array<{ record: unknown; line: number }>; malformed: Array<MalformedRow> } => {
  const records: Array<{ record: unknown; line: number }> = []
  const malformed: Array<MalformedRow> = []
  forEachLine(text, (lineText, line) => {
    if (lineText.trim() === "") return
    if (invalidUtf8Lines !== undefined && invalidUtf8Lines.has(line)) {
      malformed.push(MalformedRow.make({ file, line, reason: NOT_UTF8 }))
      return
    }
    try {
      records.push({ record: JSON.parse(lineText), line })
    } catch (e) {
      malformed.push(MalformedRow.make({ file, line, reason: `not valid JSON (truncated line?): ${(e as Error).message}` }))
    }
  })
  return { records, malformed }
}

/** A parquet text value whose bytes are not UTF-8: {@link parseHfRecords} reports its row instead of keeping U+FFFD. */
export class NotUtf8Text {
  constructor(readonly bytes: Uint8Array) {}
}

const textDecoder = new TextDecoder()
// hyparquet's own string parser, except that invalid bytes become a NotUtf8Text marker instead of U+FFFD.
const parsers = { stringFromBytes: (bytes: Uint8Array | undefined) => bytes && (isUtf8(bytes) ? textDecoder.decode(bytes) : new NotUtf8Text(bytes)) }

/** Reads every row of a parquet file as plain objects (snappy, gzip, zstd, brotli, lz4 supported). */
export const readParquetRecords = async (bytes: Uint8Array): Promise<Array<{ record: unknown; line: number }>> => {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  // Loaded on use: ~260 KB of parquet readers that only the HF layout needs, kept out of every start-up.
  const [{ parquetReadObjects }, { compressors }] = await Promise.all([import("hyparquet"), import("hyparquet-compressors")])
  const objects = await parquetReadObjects({ file, compressors, parsers })
  return objects.map((record, i) => ({ record, line: i + 1 }))
}
