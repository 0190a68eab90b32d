// The benchmark stage end to end on a CPU: the shipped quickstart-benchmark experiment (a tiny model from ED → SFT →
// DPO, benchmarked with lm-evaluation-harness on the local task in experiments/tasks/retention) plans the base and
// SFT benchmarks once per sweep, stores lm_eval's numbers exactly as lm_eval.simple_evaluate returns them, and
// `empo compare` shows the retention section; `empo benchmark` evaluates one model outside a sweep.
import { venvPython } from "@empo/bridge/PythonInterpreter"
import { repoRoot, sharedDataDir } from "@empo/core/testing/sharedData"
import { assert, describe, it } from "vitest"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const root = repoRoot()
const shipped = path.join(root, "experiments", "quickstart-benchmark.yaml")
const tasks = path.join(root, "experiments", "tasks", "retention")
const python = process.env["EMPO_PYTHON"] ?? venvPython

// Asynchronous, so vitest's worker keeps answering while a stage trains or evaluates.
const spawn = (command: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env) =>
  new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    execFile(command, args, { cwd: root, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ status: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr }))
  })
const empo = (args: ReadonlyArray<string>) =>
  spawn(process.execPath, [path.join(root, "apps/cli/bin/empo.mjs"), ...args], { ...process.env, NO_COLOR: "1", EMPO_DATA_DIR: sharedDataDir() })

// lm_eval called directly, with the settings the experiment gives the stage.
const directLmEval = async (model: string, limit: number) => {
  const script = [
    "import json, sys, lm_eval",
    "from lm_eval.tasks import TaskManager",
    `r = lm_eval.simple_evaluate(model='hf', model_args={'pretrained': sys.argv[1], 'dtype': 'float32'}, tasks=['retention_mc'],`,
    `  num_fewshot=1, batch_size=8, device='cpu', limit=${limit}, random_seed=1234, numpy_random_seed=1234, torch_random_seed=1234,`,
    "  fewshot_random_seed=1234, task_manager=TaskManager(include_path=sys.argv[2], include_defaults=False), log_samples=False)",
    "print(json.dumps(r['results']['retention_mc']))"
  ].join("\n")
  const out = await spawn(python, ["-c", script, model, tasks])
  assert.strictEqual(out.status, 0, out.stderr)
  return JSON.parse(out.stdout) as Record<string, unknown>
}

describe("benchmark stage", () => {
  it("quickstart-benchmark plans the base and SFT benchmarks once for the sweep, the DPO ones per run", async () => {
    const dry = await empo(["run", shipped, "--dry-run", "--json"])
    assert.strictEqual(dry.status, 0, dry.stderr)
    const plan = JSON.parse(dry.stdout) as { runs: ReadonlyArray<{ stages: ReadonlyArray<{ name: string; stageId: string }> }> }
    const ids = (role: string) => plan.runs.map((r) => r.stages.find((s) => s.name === role)?.stageId)
    assert.strictEqual(plan.runs.length, 2)
    for (const role of ["bench-base", "bench-sft"]) assert.strictEqual(new Set(ids(role)).size, 1, role)
    assert.strictEqual(new Set(ids("bench")).size, 2)
    assert.match(ids("bench")[0]!, /^benchmark-[0-9a-f]{16}$/)

    // A missing include path is refused when the file is loaded, with its line, before anything runs.
    const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "empo-benchmark-bad-")), "bad.yaml")
    fs.writeFileSync(bad, fs.readFileSync(shipped, "utf8").replace("includePath: experiments/tasks/retention", "includePath: experiments/tasks/nope"))
    const refused = await empo(["run", bad, "--dry-run"])
    assert.strictEqual(refused.status, 2, refused.stderr)
    assert.match(refused.stderr, /bad\.yaml:\d+:\d+: stages\.benchmark\.includePath: no folder experiments\/tasks\/nope/)
  })

  it("stores lm_eval's own numbers, shows retention in compare, and `empo benchmark` evaluates outside a sweep", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-benchmark-"))
    const db = path.join(dir, "empo.db")
    const work = path.join(dir, "stages")
    // The shipped experiment, one run of it without the SFT step and 8 documents per model: what CI can afford.
    const spec = fs.readFileSync(shipped, "utf8").replace(/\nsweep:[\s\S]*$/, "\n").replace(/  sft:\n(    .*\n)+/, "")
      .replace("    dtype: float32\n", "    dtype: float32\n    limit: 8\n    models: [base, preference]\n")
    assert.include(spec, "limit: 8")
    const file = path.join(dir, "quickstart-benchmark.yaml")
    fs.writeFileSync(file, spec)
    const run = await empo(["run", file, "--db", db, "--work-dir", work])
    assert.strictEqual(run.status, 0, run.stderr)
    assert.include(run.stderr, "lm_eval 0.4.13")

    const json = await empo(["compare", "quickstart-benchmark", "--db", db, "--format", "json"])
    assert.strictEqual(json.status, 0, json.stderr)
    const table = JSON.parse(json.stdout) as {
      metrics: ReadonlyArray<string>
      retention: { rows: ReadonlyArray<{ scores: ReadonlyArray<{ key: string; value: number; stderr: number; base: number; baseStderr: number; delta: number; dropped: boolean }> }> }
    }
    assert.include(table.metrics, "bench.retention_mc.acc")
    assert.notInclude(table.metrics, "bench-base.retention_mc.acc")
    const acc = table.retention.rows[0]!.scores.find((s) => s.key === "retention_mc.acc")!
    assert.closeTo(acc.delta, acc.value - acc.base, 1e-12)
    assert.strictEqual(acc.dropped, acc.delta < -2 * Math.hypot(acc.stderr, acc.baseStderr))

    const shown = await empo(["compare", "quickstart-benchmark", "--db", db])
    assert.strictEqual(shown.status, 0, shown.stderr)
    assert.match(shown.stdout, /retention \(benchmarks of each run's final model vs the base model/)
    assert.match(shown.stdout, /run\s+benchmark\s+score ± stderr\s+base ± stderr\s+Δ vs base/)
    assert.match(shown.stdout, /retention_mc\.acc\s+\d\.\d{4} ± \d\.\d{4}\s+\d\.\d{4} ± \d\.\d{4}\s+[+-]\d\.\d{4}/)

    // The stored metrics are what lm_eval.simple_evaluate returns for the same model and task.
    const stages = JSON.parse((await empo(["run", file, "--dry-run", "--json", "--db", db, "--work-dir", work])).stdout) as {
      runs: ReadonlyArray<{ stages: ReadonlyArray<{ name: string; stageId: string }> }>
    }
    const stageOf = (role: string) => stages.runs[0]!.stages.find((s) => s.name === role)!.stageId
    const direct = await directLmEval(path.join(work, stageOf("preference")), 8)
    for (const key of ["acc", "acc_stderr", "acc_norm", "acc_norm_stderr"]) {
      const stored = JSON.parse(fs.readFileSync(path.join(work, stageOf("bench"), "results.json"), "utf8")) as { results: Record<string, Record<string, number>> }
      assert.closeTo(stored.results["retention_mc"]![`${key},none`]!, direct[`${key},none`] as number, 1e-12)
    }
    const storedScores = Object.fromEntries(table.retention.rows[0]!.scores.map((s) => [s.key, s]))
    assert.closeTo(storedScores["retention_mc.acc"]!.value, direct["acc,none"] as number, 1e-12)
    assert.closeTo(storedScores["retention_mc.acc"]!.stderr, direct["acc_stderr,none"] as number, 1e-12)
    const metadata = JSON.parse(fs.readFileSync(path.join(work, stageOf("bench"), "benchmark.json"), "utf8")) as Record<string, any>
    assert.strictEqual(metadata["lm_eval_version"], "0.4.13")
    assert.deepStrictEqual(metadata["n-shot"], { retention_mc: 1 })
    assert.deepStrictEqual(metadata["n-samples"], { retention_mc: { original: 24, effective: 8 } })
    assert.match(metadata["task_hashes"]["retention_mc"], /^[0-9a-f]{64}$/)

    // `empo benchmark --json` on the base model: lm_eval's own dicts, equal to what the stage stored.
    const base = path.relative(root, path.join(work, stageOf("model")))
    const single = await empo(["benchmark", "--model", base, "--tasks", "retention_mc", "--include-path", "experiments/tasks/retention",
      "--num-fewshot", "1", "--limit", "8", "--batch-size", "8", "--seed", "1234", "--dtype", "float32", "--json"])
    assert.strictEqual(single.status, 0, single.stderr)
    const output = JSON.parse(single.stdout) as { results: Record<string, Record<string, unknown>>; "n-samples": unknown; versions: unknown }
    assert.deepStrictEqual(output.versions, { retention_mc: 1 })
    assert.deepStrictEqual(output["n-samples"], { retention_mc: { original: 24, effective: 8 } })
    assert.strictEqual(output.results["retention_mc"]!["acc,none"], storedScores["retention_mc.acc"]!.base)
    assert.strictEqual(output.results["retention_mc"]!["acc_stderr,none"], storedScores["retention_mc.acc"]!.baseStderr)

    // Bad input: exit 2, naming what is wrong, before a model is loaded.
    const refused = async (args: ReadonlyArray<string>, pattern: RegExp) => {
      const out = await empo(["benchmark", "--model", base, "--tasks", "retention_mc", ...args])
      assert.strictEqual(out.status, 2, out.stderr)
      assert.match(out.stderr, pattern)
    }
    await refused(["--include-path", "/no/such/tasks"], /include path \/no\/such\/tasks is not a folder/)
    await refused(["--include-path", "experiments/tasks/retention", "--adapter", tasks], /adapter .*retention has no adapter_config\.json/)
    await refused(["--batch-size", "lots"], /--batch-size: expected a positive integer or auto, got "lots"/)
  }, 600_000)
})
