/** The three EPITOME mechanisms: emotional reactions, interpretations, explorations. */
export const mechanisms = ["ER", "IP", "EX"] as const
export type Mechanism = (typeof mechanisms)[number]

/** diff-Epitome of one item and mechanism (empo-method §5.1): squared level difference, model vs gold. */
export const diffLevel = (predicted: number, gold: number): number => (predicted - gold) ** 2

/** A level must be 0, 1 or 2. */
export const parseLevel = (raw: string): number | undefined => {
  const x = Number(raw.trim())
  return raw.trim() !== "" && Number.isInteger(x) && x >= 0 && x <= 2 ? x : undefined
}
