import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { repoRoot } from "@empo/core/testing/sharedData"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { promisify } from "node:util"
import * as tar from "tar"

const run = promisify(execFile)
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "empo-cli-dl-"))

// A tiny raw-format release: 2 labels that are each other's plutchik-1 opposite, 4 dialogues per split.
const HEADER = "conv_id,utterance_idx,context,prompt,speaker_idx,utterance,selfeval,tags"
const rows = (split: string) =>
  [0, 1, 2, 3].flatMap((i) => {
    const emotion = i % 2 === 0 ? "joyful" : "sad"
    return [1, 2].map((u) => `hit:${i}_conv:${i},${u},${emotion},situation ${i}_comma_ ${split},${u},turn ${u} of ${i} in ${split}_comma_ ok,,`)
  })
let tarball: Buffer
const server = http.createServer((_req, res) => {
  res.writeHead(200, { "content-length": String(tarball.length) })
  res.end(tarball)
})
let url = ""

beforeAll(async () => {
  const src = path.join(tmp, "src", "empatheticdialogues")
  fs.mkdirSync(src, { recursive: true })
  for (const split of ["train", "valid", "test"]) fs.writeFileSync(path.join(src, `${split}.csv`), [HEADER, ...rows(split)].join("\n") + "\n")
  const file = path.join(tmp, "release.tar.gz")
  await tar.create({ gzip: true, file, cwd: path.dirname(src), portable: true }, ["empatheticdialogues"])
  tarball = fs.readFileSync(file)
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/empatheticdialogues.tar.gz`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe("npx empo data download → build", () => {
  it("downloads the release tarball into $EMPO_CACHE and builds a DPO set from it", async () => {
    const env = { ...process.env, EMPO_CACHE: path.join(tmp, "cache"), NO_COLOR: "1" }
    const dl = await run("npx", ["empo", "data", "download", "--url", url, "--json"], { cwd: repoRoot(), env })
    const report = JSON.parse(dl.stdout) as { source: string; files: Array<{ bytes: number; cached: boolean }> }
    expect(report.source).toBe(path.join(tmp, "cache", "empatheticdialogues.tar.gz"))
    expect(report.files[0]).toMatchObject({ bytes: tarball.length, cached: false })
    expect(dl.stderr).toContain("100% of")
    const out = path.join(tmp, "out", "dpo.jsonl")
    await run("npx", ["empo", "data", "build", "--source", report.source, "--split", "train", "--grounder", "plutchik-1", "--kind", "dpo", "--negatives", "2", "--out", out], { cwd: repoRoot(), env })
    const lines = fs.readFileSync(out, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l) as { chosen: Array<{ content: string }>; rejected: Array<{ content: string }>; provenance: { emotion: string; rejectedEmotion: string } })
    expect(lines.length).toBe(4 * 2)
    for (const l of lines) {
      expect(l.provenance.rejectedEmotion).toBe(l.provenance.emotion === "joyful" ? "sad" : "joyful")
      expect(l.chosen[0]!.content).toMatch(/^turn 2 of \d in train, ok$/)
    }
  }, 240_000)
})
