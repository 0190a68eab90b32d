/**
 * The normalisation's choice counts against lm_eval's own task definitions (the installed lm_eval 0.4.13): each
 * BBH subtask's and GPQA's `doc_to_choice` list. (MuSR's and MMLU-Pro's choices come from their datasets, which
 * are not here; their counts are the leaderboard documentation's.)
 */
import { repoRoot } from "@empo/core/testing/sharedData"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "vitest"
import { leaderboardBaseline } from "../src/index.ts"

const venvPython = path.join(repoRoot(), ".venv/bin/python")

const READ_CHOICES = `
import json, pathlib, yaml, lm_eval
root = pathlib.Path(lm_eval.__file__).parent / "tasks" / "leaderboard"
class Loader(yaml.SafeLoader): pass
Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
out = {}
for f in sorted((root / "bbh_mc").glob("*.yaml")):
    if not f.name.startswith("_"):
        out["leaderboard_bbh_" + f.stem] = len(yaml.load(f.read_text(), Loader=Loader)["doc_to_choice"])
gpqa = yaml.load((root / "gpqa" / "_template_yaml").read_text(), Loader=Loader)["doc_to_choice"]
for name in ("diamond", "extended", "main"):
    out["leaderboard_gpqa_" + name] = len(gpqa)
print(json.dumps(out))
`

describe.skipIf(!fs.existsSync(venvPython))("leaderboard normalisation constants", () => {
  it("equal lm_eval's choice lists for every BBH subtask and GPQA", () => {
    const counts = JSON.parse(execFileSync(venvPython, ["-c", READ_CHOICES], { encoding: "utf8" })) as Record<string, number>
    assert.strictEqual(Object.keys(counts).filter((t) => t.startsWith("leaderboard_bbh_")).length, 24)
    for (const [task, n] of Object.entries(counts)) assert.strictEqual(leaderboardBaseline(task), 1 / n, task)
  })
})
