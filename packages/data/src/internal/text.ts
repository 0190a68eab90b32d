/**
 * Decoding for the CSV loaders. Why not plain UTF-8: one non-ASCII character anywhere makes V8 decode
 * the whole file on its slow path into a two-byte string (~17 ms per 3.5 MB ED file, and every
 * indexOf/slice after it is slower). Decoding as latin1 is a memcpy into a one-byte string, and it
 * is byte-exact for CSV structure because UTF-8 multi-byte sequences never contain ASCII bytes
 * (`,` `"` `\n`). Fields that contain bytes ≥ 0x80 are re-decoded as UTF-8 with {@link fixUtf8}.
 */
export const decodeForCsv = (bytes: Uint8Array): { readonly text: string; readonly ascii: boolean } => {
  // A UTF-8 byte-order mark (spreadsheet exports) would be three latin1 characters glued to the first column name.
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset + bom, bytes.byteLength - bom)
  const text = buffer.toString("latin1")
  return { text, ascii: !NON_ASCII.test(text) }
}

const NON_ASCII = /[\u0080-\u00ff]/

/** A field sliced from a latin1-decoded text, back to its real UTF-8 characters. */
export const fixUtf8 = (field: string): string => (NON_ASCII.test(field) ? Buffer.from(field, "latin1").toString("utf8") : field)
