import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { gpusPerStageOf, inventoryPath, loadInventory, placementOf, RayExecutorSpec, SshExecutorSpec } from "../src/Inventory.ts"
import { trainLaunch } from "../src/remote/RemoteStage.ts"
import { fetchDir, filesOfDir, localTransport, quoteArgv, sendFiles } from "../src/remote/Transport.ts"

const temp = () => fs.mkdtempSync(path.join(os.tmpdir(), "empo-exec-"))
const write = (file: string, text: string) => {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, text)
  return file
}

// Every shell metacharacter a name could carry: command substitution, quotes, separators, newlines, traversal.
const nasty = ["$(touch /tmp/empo-pwned-$$)", "`touch /tmp/empo-pwned-bq`", "a'b\"c", "x; touch /tmp/empo-pwned-semi", "line1\nline2", "../../etc", "-rf", "*", "$HOME", ""]

describe("executor inventory", () => {
  it.effect("decodes ssh entries with defaults and places compute stages on the executor", () => Effect.gen(function* () {
    const dir = temp()
    const file = write(path.join(dir, "executors.yaml"), [
      "executors:",
      "  gpu:",
      "    kind: ssh",
      "    hosts:",
      "      - { host: gpu1.example.org, user: alice, identityFile: id_ed25519, gpus: [0, 1], workDir: /scratch/empo }",
      "    placement: { evaluate: executor, generate: local }",
      "  here: { kind: local }"
    ].join("\n"))
    const inventory = yield* loadInventory(file)
    const gpu = inventory.executors.get("gpu") as SshExecutorSpec
    assert.strictEqual(gpu.hosts[0]!.port, 22)
    assert.strictEqual(gpu.hosts[0]!.strictHostKeyChecking, true)
    assert.strictEqual(gpu.hosts[0]!.python, "python3")
    assert.deepStrictEqual(gpu.forwardEnv, ["HF_TOKEN"])
    assert.strictEqual(placementOf(gpu, "train", "compute"), "executor")
    assert.strictEqual(placementOf(gpu, "dataset", "local"), "local")
    assert.strictEqual(placementOf(gpu, "evaluate", "local"), "executor")
    assert.strictEqual(placementOf(gpu, "generate", "compute"), "local")
    assert.strictEqual(placementOf(inventory.executors.get("here")!, "train", "compute"), "local")
  }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("refuses a bad inventory naming file, line and field (exit code 2)", () => Effect.gen(function* () {
    const dir = temp()
    const file = write(path.join(dir, "executors.yaml"), [
      "executors:",
      "  gpu:",
      "    kind: ssh",
      "    hosts:",
      "      - { host: h, user: u, workDir: /w, prot: 22 }",
      "  cluster:",
      "    kind: kubernetes"
    ].join("\n"))
    const error = yield* Effect.flip(loadInventory(file))
    assert.strictEqual(error.exitCode, 2)
    assert.match(error.message, /executors\.yaml:5:\d+: executors\.gpu\.hosts\.0\.prot: unknown field; did you mean port\?/)
    assert.match(error.message, /executors\.cluster\.kind: unknown executor kind "kubernetes"; known: ssh, slurm, ray, local/)
    const missing = yield* Effect.flip(loadInventory(path.join(dir, "absent.yaml")))
    assert.strictEqual(missing.exitCode, 2)
    assert.match(missing.message, /absent\.yaml:1:1: cannot read the executor inventory/)
  }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("gpusPerStage per kind or for all; a training stage with several GPUs starts under accelerate launch", () => Effect.gen(function* () {
    const dir = temp()
    const file = write(path.join(dir, "executors.yaml"), [
      "executors:",
      "  gpu:",
      "    kind: ssh",
      "    hosts: [{ host: gpu1, user: alice, gpus: 4, workDir: /scratch/empo }]",
      "    gpusPerStage: { train: 4, generate: 1 }",
      "    accelerate: { backend: deepspeed, options: { zero_stage: 3, offload_optimizer_device: cpu } }",
      "    env: { PYTHONPATH: /opt/extra }",
      "  ray: { kind: ray, address: '127.0.0.1:6379', workDir: /w, gpusPerStage: 0.5 }",
      "  cpu:",
      "    kind: ssh",
      "    hosts: [{ host: box, user: bob, workDir: /w }]",
      "    accelerate: { cpuProcesses: 2 }"
    ].join("\n"))
    const inventory = yield* loadInventory(file)
    const gpu = inventory.executors.get("gpu") as SshExecutorSpec
    assert.deepStrictEqual([gpusPerStageOf(gpu, "train"), gpusPerStageOf(gpu, "generate"), gpusPerStageOf(gpu, "evaluate")], [4, 1, undefined])
    assert.strictEqual(gpusPerStageOf(inventory.executors.get("ray") as RayExecutorSpec, "train"), 0.5)
    const worker = { argv: ["/py", "-u", "/w/worker/abc/worker.py"], dir: "/w/worker/abc" }
    const four = trainLaunch({ python: "/py" }, worker, gpu.accelerate, 4, gpu.env)
    assert.deepStrictEqual(four.argv, ["/py", "-u", "-m", "empo_worker.multi_gpu", "--processes", "4", "--backend", "deepspeed",
      "--option", "zero_stage=3", "--option", `offload_optimizer_device="cpu"`])
    assert.deepStrictEqual(four.env, { PYTHONPATH: "/w/worker/abc:/opt/extra" })
    // One GPU (or none, without cpuProcesses) is the plain worker.
    assert.deepStrictEqual(trainLaunch({ python: "/py" }, worker, gpu.accelerate, 1).argv, worker.argv)
    assert.deepStrictEqual(trainLaunch({ python: "/py" }, worker, gpu.accelerate, 0).argv, worker.argv)
    const cpu = (inventory.executors.get("cpu") as SshExecutorSpec).accelerate
    assert.deepStrictEqual(trainLaunch({ python: "/py" }, worker, cpu, 0).argv.slice(3), ["empo_worker.multi_gpu", "--processes", "2", "--backend", "ddp", "--cpu"])
    // cpuProcesses is for hosts without GPUs: a GPU stage uses its GPUs.
    assert.strictEqual(trainLaunch({ python: "/py" }, worker, cpu, 1).processes, 1)
    const bad = yield* Effect.flip(loadInventory(write(path.join(dir, "bad.yaml"), [
      "executors:",
      "  gpu:",
      "    kind: ssh",
      "    hosts: [{ host: gpu1, user: alice, workDir: /w }]",
      "    accelerate: { backend: horovod }"
    ].join("\n"))))
    assert.match(bad.message, /bad\.yaml:5:.*executors\.gpu\.accelerate\.backend/s)
  }).pipe(Effect.provide(NodeContext.layer)))

  it("finds the inventory: flag, then EMPO_EXECUTORS, then .empo/executors.yaml", () => {
    assert.strictEqual(inventoryPath("a.yaml", { EMPO_EXECUTORS: "b.yaml" }), "a.yaml")
    assert.strictEqual(inventoryPath(undefined, { EMPO_EXECUTORS: "b.yaml" }), "b.yaml")
    assert.strictEqual(inventoryPath(undefined, {}), ".empo/executors.yaml")
  })
})

describe("remote transport", () => {
  it("quotes argv so a shell sees exactly the same arguments, executing nothing", () => {
    const dir = temp()
    const script = `for a in "$@"; do printf '%s\\0' "$a"; done`
    const command = quoteArgv(["sh", "-c", script, "sh", ...nasty])
    const result = spawnSync("sh", ["-c", command], { cwd: dir, encoding: "utf8" })
    assert.strictEqual(result.status, 0)
    assert.deepStrictEqual(result.stdout.split("\0").slice(0, -1), nasty)
    assert.deepStrictEqual(fs.readdirSync(dir), [])
    assert.isFalse(fs.existsSync("/tmp/empo-pwned-semi"))
    assert.isFalse(fs.existsSync("/tmp/empo-pwned-bq"))
  })

  it.effect("sends files content-addressed: the second upload sends nothing, names stay inside their folders", () => Effect.gen(function* () {
    const local = temp()
    const remote = temp()
    write(path.join(local, "a.jsonl"), "one\n")
    write(path.join(local, "sub/b.bin"), "two\n")
    write(path.join(local, "sub/copy-of-a"), "one\n")
    const transport = localTransport()
    const files = yield* filesOfDir(local)
    const cas = path.join(remote, "cas")
    const first = yield* sendFiles(transport, cas, path.join(remote, "stages/x"), files)
    assert.deepStrictEqual({ files: first.files, sent: first.sent }, { files: 3, sent: 2 })
    const second = yield* sendFiles(transport, cas, path.join(remote, "stages/y"), files)
    assert.deepStrictEqual({ sent: second.sent, bytesSent: second.bytesSent }, { sent: 0, bytesSent: 0 })
    assert.strictEqual(fs.readFileSync(path.join(remote, "stages/y/sub/copy-of-a"), "utf8"), "one\n")
    // A target folder whose name is shell text is just a name.
    const odd = path.join(remote, "stages", "$(touch pwned); 'q' \n")
    yield* sendFiles(transport, cas, odd, files)
    assert.strictEqual(fs.readFileSync(path.join(odd, "a.jsonl"), "utf8"), "one\n")
    assert.isFalse(fs.existsSync(path.join(process.cwd(), "pwned")))
    const refused = yield* Effect.flip(sendFiles(transport, cas, odd, [{ ...files[0]!, relativePath: "../escape" }]))
    assert.match(refused.message, /leaves its folder/)
    const back = temp()
    const names = yield* fetchDir(transport, path.join(remote, "stages/x"), path.join(back, "out"), cas)
    assert.deepStrictEqual(names, ["a.jsonl", "sub/b.bin", "sub/copy-of-a"])
    assert.strictEqual(fs.readFileSync(path.join(back, "out/sub/b.bin"), "utf8"), "two\n")
  }))

  it.effect("stages of one runner upload the same file to the same store at once: every upload succeeds", () => Effect.gen(function* () {
    // The quickstart's generate stages did on Ray: their shared temp name let one rename take the other's file away.
    const local = temp()
    const remote = temp()
    write(path.join(local, "items.jsonl"), "x\n".repeat(100_000))
    const transport = localTransport()
    const target = path.join(remote, "cas", "same")
    fs.mkdirSync(path.dirname(target), { recursive: true })
    yield* Effect.all(Array.from({ length: 8 }, () => transport.upload(path.join(local, "items.jsonl"), target)), { concurrency: "unbounded" })
    assert.strictEqual(fs.readFileSync(target, "utf8"), "x\n".repeat(100_000))
    assert.deepStrictEqual(fs.readdirSync(path.dirname(target)), ["same"])
  }))
})
