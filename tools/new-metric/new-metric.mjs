#!/usr/bin/env node
// Scaffolds a metric plugin: `node tools/new-metric/new-metric.mjs <name> [--dir <plugins dir>]`.
// Writes plugins/metric-<name>/ (package.json, tsconfig, vitest config, README, a pure scoring function,
// the plugin adapter, its unit test and the shared contract test), then prints the one registration line
// for apps/cli/src/plugins.ts. Refuses to overwrite an existing folder.
import * as fs from "node:fs"
import * as path from "node:path"

const repoRoot = path.resolve(import.meta.dirname, "../..")

const usage = () => {
  process.stderr.write("usage: node tools/new-metric/new-metric.mjs <name> [--dir <plugins dir>]\n  <name>: lowercase id such as `question-rate`\n")
  process.exit(2)
}

const args = process.argv.slice(2)
const dirFlag = args.indexOf("--dir")
const pluginsDir = path.resolve(dirFlag === -1 ? path.join(repoRoot, "plugins") : args[dirFlag + 1] ?? usage())
const name = args.filter((a, i) => a !== "--dir" && i !== dirFlag + 1)[0] ?? usage()
if (!/^[a-z][a-z0-9-]*$/.test(name)) {
  process.stderr.write(`error: metric name \`${name}\` must be lowercase letters, digits and dashes, starting with a letter\n`)
  process.exit(2)
}

const folder = path.join(pluginsDir, `metric-${name}`)
if (fs.existsSync(folder)) {
  process.stderr.write(`error: ${folder} already exists\n`)
  process.exit(2)
}
const camel = name.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase())
const Pascal = camel[0].toUpperCase() + camel.slice(1)
const key = name.replaceAll("-", "_")
const toRoot = path.relative(folder, repoRoot).split(path.sep).join("/")

const files = {
  "package.json": JSON.stringify({
    name: `@empo/metric-${name}`,
    version: "0.1.0",
    private: true,
    type: "module",
    description: `Metric plugin \`${name}\``,
    exports: { ".": "./src/index.ts", "./*": "./src/*.ts", "./internal/*": null },
    scripts: { test: "vitest run", typecheck: "tsc -p tsconfig.json" },
    dependencies: { "@empo/core": "*", effect: "^3.22.4" },
    devDependencies: { "@empo/metrics": "*", "@empo/text": "*" },
    nx: { tags: ["type:plugin"] }
  }, null, 2) + "\n",
  "tsconfig.json": `{ "extends": "${toRoot}/tsconfig.base.json", "include": ["src", "test"] }\n`,
  "vitest.config.ts": `import { defineProject, mergeConfig } from "vitest/config"
import shared from "${toRoot}/vitest.shared.ts"

export default mergeConfig(shared, defineProject({ test: { name: "metric-${name}" } }))
`,
  "README.md": `# @empo/metric-${name} (\`${name}\`)

TODO: one paragraph on what the metric measures and where its definition comes from.

Keys: \`${key}_mean\`. Per item: \`${key}\`.
Params: \`minTokens\` (default 1): responses with fewer tokens score NaN.
`,
  [`src/${camel}.ts`]: `/**
 * The pure part of the metric: plain data in, numbers out, no Effect. Replace the example
 * (the share of tokens that are question marks) with your formula.
 */
export const ${camel}Score = (tokens: ReadonlyArray<string>, minTokens: number): number =>
  tokens.length < minTokens ? Number.NaN : tokens.filter((t) => t === "?").length / tokens.length

/** Mean over the finite values (NaN for none). */
export const finiteMean = (xs: ReadonlyArray<number>): number => {
  const finite = xs.filter(Number.isFinite)
  return finite.length === 0 ? Number.NaN : finite.reduce((s, x) => s + x, 0) / finite.length
}
`,
  "src/index.ts": `import { defineMetric, type EvalItem, Metric, MetricResource, MetricScores, Tokenizer } from "@empo/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { finiteMean, ${camel}Score } from "./${camel}.ts"

export * from "./${camel}.ts"

export const ${Pascal}Params = Schema.Struct({
  minTokens: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 1 })
})
export type ${Pascal}Params = typeof ${Pascal}Params.Type

const id = "${name}"
const version = "0.1.0"

export const plugin = defineMetric({
  manifest: {
    id,
    kind: "metric",
    version,
    description: "TODO: what ${name} measures, in one line",
    // Per aggregate key: which way is better ("higher" | "lower" | "none") and a short label for tables.
    keys: { ${key}_mean: { direction: "none", label: "TODO: short label" } }
  },
  params: ${Pascal}Params,
  layer: (params: ${Pascal}Params) =>
    Layer.effect(
      Metric,
      Effect.gen(function* () {
        const tokenizer = yield* Tokenizer
        // Everything a result depends on besides items and params (lexicons, counts files) goes here with its sha256.
        const resources = [new MetricResource(tokenizer.resource)]
        const score = Effect.fn("${name}.score")(function* (items: ReadonlyArray<EvalItem>) {
          const values = items.map((item) => ${camel}Score(tokenizer.wordTokenize(item.response), params.minTokens))
          return new MetricScores({
            metric: id,
            version,
            params,
            resources,
            perItem: { ${key}: values },
            aggregate: { ${key}_mean: finiteMean(values) }
          })
        })
        return Metric.of({ id, version, params, resources, score })
      })
    )
})
`,
  [`test/${camel}.test.ts`]: `import { assert, describe, it } from "@effect/vitest"
import { ${camel}Score } from "../src/index.ts"

describe("${name} (pure)", () => {
  it("scores a token list", () => {
    assert.strictEqual(${camel}Score(["Why", "?"], 1), 0.5)
    assert.isNaN(${camel}Score([], 1))
  })
})
`,
  "test/contract.test.ts": `import { metricContract } from "@empo/metrics/testing/metricContract"
import { plugin } from "../src/index.ts"

metricContract(plugin, { badParams: { minTokens: 0 } })
`
}

for (const [file, content] of Object.entries(files)) {
  fs.mkdirSync(path.dirname(path.join(folder, file)), { recursive: true })
  fs.writeFileSync(path.join(folder, file), content)
}

process.stdout.write(`created ${path.relative(process.cwd(), folder) || folder}
next:
  1. npm install --no-audit --no-fund          (links @empo/metric-${name} into the workspace)
  2. add to apps/cli/package.json dependencies:  "@empo/metric-${name}": "*"
  3. register it in apps/cli/src/plugins.ts:
       import { plugin as ${camel} } from "@empo/metric-${name}"
     and add \`${camel}\` to the metricPlugins list
  4. cd plugins/metric-${name} && npx vitest run && npx tsc -p tsconfig.json
  5. npx empo eval --predictions <file> --metrics ${name}
`)
