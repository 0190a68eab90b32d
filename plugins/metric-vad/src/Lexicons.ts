/** Valence, arousal, dominance of a term, each in [0, 1]. */
export type Vad = readonly [valence: number, arousal: number, dominance: number]

/** A lexicon line that does not have the expected shape (1-based line number). */
export class LexiconLineError extends Error {
  constructor(readonly line: number, readonly field: string, readonly reason: string) {
    super(`line ${line}: ${reason}`)
  }
}

const parseScore = (text: string | undefined, line: number, field: string): number => {
  const value = text === undefined || text.trim() === "" ? Number.NaN : Number(text)
  if (!Number.isFinite(value)) throw new LexiconLineError(line, field, `\`${field}\` is not a number: ${JSON.stringify(text ?? "")}`)
  return value
}

const lines = (text: string): Array<string> => text.split(/\r?\n/)

/** NRC-VAD lexicon: `term\tvalence\tarousal\tdominance` per line (blank lines and a header line ignored). */
export const parseVadLexicon = (text: string): Map<string, Vad> => {
  const lexicon = new Map<string, Vad>()
  lines(text).forEach((raw, index) => {
    if (raw.trim() === "" || (index === 0 && /^[^\t]*\tvalence\t/i.test(raw))) return
    const fields = raw.split("\t")
    const line = index + 1
    if (fields.length !== 4) throw new LexiconLineError(line, "term", `expected 4 tab-separated fields, found ${fields.length}`)
    lexicon.set(fields[0]!, [
      parseScore(fields[1], line, "valence"),
      parseScore(fields[2], line, "arousal"),
      parseScore(fields[3], line, "dominance")
    ])
  })
  return lexicon
}

/**
 * NRC Emotion Intensity lexicon: `word\temotion\tscore` per line. A word listed under several emotions
 * keeps the score of its LAST line, as the study's loader did (so the file's order matters).
 */
export const parseIntensityLexicon = (text: string): Map<string, number> => {
  const lexicon = new Map<string, number>()
  lines(text).forEach((raw, index) => {
    if (raw.trim() === "") return
    const fields = raw.split("\t")
    const line = index + 1
    if (fields.length !== 3) throw new LexiconLineError(line, "word", `expected 3 tab-separated fields, found ${fields.length}`)
    lexicon.set(fields[0]!, parseScore(fields[2], line, "score"))
  })
  return lexicon
}
