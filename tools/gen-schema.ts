/**
 * Writes experiments/experiment.schema.json from the ExperimentSpec Schema (and executors.schema.json from the inventory's), so editors (yaml-language-server)
 * complete and check experiment files. `--check` fails (exit 1) when the committed file is stale.
 *
 *   npx tsx tools/gen-schema.ts [--check]
 */
import { inventoryJsonSchemaText } from "@empo/experiments/Inventory"
import { experimentJsonSchemaText } from "@empo/experiments/JsonSchema"
import * as fs from "node:fs"
import * as path from "node:path"

const targets = [
  { target: path.resolve(import.meta.dirname, "../experiments/experiment.schema.json"), text: experimentJsonSchemaText() },
  { target: path.resolve(import.meta.dirname, "../experiments/executors.schema.json"), text: inventoryJsonSchemaText() }
]

for (const { target, text } of targets) {
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
}
