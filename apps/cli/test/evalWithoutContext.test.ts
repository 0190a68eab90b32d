import { assert, describe, it } from "@effect/vitest"
import { sharedData } from "@empo/core/testing/sharedData"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { PluginsLive } from "../src/plugins.ts"
import { empoInProcess } from "./support/inProcess.ts"

// Predictions with responses only: no `prevs` column (issue 11 item 10).
const responsesOnly = () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "empo-noprevs-")), "preds.txt")
  fs.writeFileSync(file, "~gens\n0~Wow, congratulations!\n1~I am so sorry to hear that.\n")
  return file
}
const punkt = ["--punkt", sharedData("nltk", "punkt_english.json"), "--no-cache"]

describe("empo eval on predictions without the user turn", () => {
  it.effect("`--metrics length` scores a file with no `prevs` column (it never reads it)", () =>
    Effect.gen(function* () {
      const { exit, stdout } = yield* empoInProcess(["eval", "--predictions", responsesOnly(), "--metrics", "length", "--json", ...punkt], PluginsLive)
      assert.strictEqual(exit._tag, "Success")
      const summary = JSON.parse(stdout) as { n: number; metrics: Record<string, Record<string, number>> }
      assert.strictEqual(summary.n, 2)
      assert.strictEqual(summary.metrics["length"]!["chars_mean"], (21 + 27) / 2)
    }))

  it.effect("`--metrics vad`, which compares the response to the user turn, refuses it naming the column (exit 2)", () =>
    Effect.gen(function* () {
      const { exit } = yield* empoInProcess([
        "eval", "--predictions", responsesOnly(), "--metrics", "vad", ...punkt,
        "--param", `vad.vadLexicon=${sharedData("lexicons", "NRC-VAD-Lexicon.txt")}`,
        "--param", `vad.intensityLexicon=${sharedData("lexicons", "NRC-Emotion-Intensity.txt")}`
      ], PluginsLive)
      const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
      if (Option.isNone(error)) return assert.fail("vad scored predictions that have no user turn")
      const e = error.value as { _tag: string; message: string; exitCode: number }
      assert.strictEqual(e._tag, "MetricError")
      assert.strictEqual(e.exitCode, 2)
      assert.include(e.message, "`prevs`")
    }))
})
