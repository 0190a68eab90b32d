/**
 * Test-only: small training files in TRL's conversational format, cut from the shared ED CSV (whole dialogues
 * for SFT, gold-vs-other-dialogue pairs for DPO/IPO, the same split into desirable/undesirable rows for KTO,
 * and generation items). Real text, a few dozen rows, written into a test's temp dir.
 */
import * as fs from "node:fs"
import * as path from "node:path"

const SYSTEM = "You are a kind listener."

/** Minimal RFC-4180 CSV reader (quoted fields with commas, doubled quotes and newlines). */
const parseCsv = (text: string): Array<Array<string>> => {
  const rows: Array<Array<string>> = []
  let row: Array<string> = []
  let field = ""
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === "\"" && text[i + 1] === "\"") {
        field += "\""
        i++
      } else if (c === "\"") quoted = false
      else field += c
    } else if (c === "\"") quoted = true
    else if (c === ",") {
      row.push(field)
      field = ""
    } else if (c === "\n") {
      row.push(field.replace(/\r$/, ""))
      rows.push(row)
      row = []
      field = ""
    } else field += c
  }
  if (field !== "" || row.length > 0) rows.push([...row, field])
  return rows
}

/** Whole dialogues from an ED-derivative CSV with `conv_id, utterance_idx, sp1, sp2` columns. */
export const edDialogues = (csvFile: string, limit: number): Array<Array<string>> => {
  const [header, ...rows] = parseCsv(fs.readFileSync(csvFile, "utf8"))
  const col = (name: string) => header!.indexOf(name)
  const [conv, idx, sp1, sp2] = [col("conv_id"), col("utterance_idx"), col("sp1"), col("sp2")]
  const byConv = new Map<string, Array<Array<string>>>()
  for (const row of rows) {
    if (row.length < header!.length) continue
    const list = byConv.get(row[conv]!) ?? []
    list.push(row)
    byConv.set(row[conv]!, list)
  }
  const dialogues: Array<Array<string>> = []
  for (const turns of byConv.values()) {
    turns.sort((a, b) => Number(a[idx]) - Number(b[idx]))
    const texts = [turns[0]![sp1]!, ...turns.map((t) => t[sp2]!)]
    dialogues.push(texts.slice(0, texts.length >= 4 ? 4 : 2))
    if (dialogues.length === limit) break
  }
  return dialogues
}

const chat = (texts: ReadonlyArray<string>) => texts.map((content, i) => ({ role: i % 2 === 0 ? "user" : "assistant", content }))

const writeJsonl = (file: string, rows: ReadonlyArray<unknown>) => {
  fs.writeFileSync(file, rows.map((r) => JSON.stringify(r) + "\n").join(""))
  return file
}

/** Files written by {@link writeTrainingSets}. */
export interface TrainingSets {
  readonly sft: string
  readonly pairs: string
  readonly kto: string
  readonly items: string
}

/** Writes `n` dialogues' worth of SFT, pair, KTO and generation-item JSONL into `dir`. */
export const writeTrainingSets = (csvFile: string, dir: string, n = 64): TrainingSets => {
  const dialogues = edDialogues(csvFile, n)
  const sft = [], pairs = [], kto = []
  for (const [i, texts] of dialogues.entries()) {
    const messages = chat(texts)
    sft.push({ messages })
    const prompt = [{ role: "system", content: SYSTEM }, ...messages.slice(0, -1)]
    const other = dialogues[(i + 1 + ((i * 7) % (dialogues.length - 1))) % dialogues.length]!
    const chosen = [messages[messages.length - 1]]
    const rejected = [{ role: "assistant", content: other[other.length - 1] }]
    pairs.push({ prompt, chosen, rejected })
    kto.push({ prompt, completion: chosen, label: true }, { prompt, completion: rejected, label: false })
  }
  const items = dialogues.slice(0, 6).map((texts, i) => ({
    id: `ed-${i}`,
    prompt: chat(texts).slice(0, -1),
    target: texts[texts.length - 1],
    prev: texts[texts.length - 2],
    emotion: "sad"
  }))
  return {
    sft: writeJsonl(path.join(dir, "sft.jsonl"), sft),
    pairs: writeJsonl(path.join(dir, "pairs.jsonl"), pairs),
    kto: writeJsonl(path.join(dir, "kto.jsonl"), kto),
    items: writeJsonl(path.join(dir, "items.jsonl"), items)
  }
}
