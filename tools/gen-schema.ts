/**
 * Writes experiments/experiment.schema.json from the ExperimentSpec Schema, so editors (yaml-language-server)
 * complete and check experiment files. `--check` fails (exit 1) when the committed file is stale.
 *
 *   npx tsx tools/gen-schema.ts [--check]
 */
import { ExperimentSpec } from "@empo/experiments/ExperimentSpec"
import { JSONSchema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"

const target = path.resolve(import.meta.dirname, "../experiments/experiment.schema.json")
const schema = {
  ...JSONSchema.make(ExperimentSpec),
  $id: "https://empo.dev/experiment.schema.json",
  title: "EmPO experiment",
  description: "An EmPO Workbench experiment: data, model, stages and an optional sweep (see experiments/README.md)"
}
const text = JSON.stringify(schema, null, 2) + "\n"

if (process.argv.includes("--check")) {
  const current = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : ""
  if (current !== text) {
    process.stderr.write(`${path.relative(process.cwd(), target)} is stale: run npx tsx tools/gen-schema.ts\n`)
    process.exit(1)
  }
} else {
  const temp = `${target}.tmp`
  fs.writeFileSync(temp, text)
  fs.renameSync(temp, target)
  process.stderr.write(`wrote ${path.relative(process.cwd(), target)}\n`)
}
