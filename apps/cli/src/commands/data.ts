import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { DatasetSources, inspectDataset, type InspectReport } from "@empo/data"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"

const source = Options.text("source").pipe(Options.withDescription("ED file, directory, or empatheticdialogues.tar.gz"))
const format = Options.choice("format", ["auto", "ed-raw", "ed-pairs", "hf"]).pipe(
  Options.withDefault("auto" as const),
  Options.withDescription("ed-raw = original release CSV/tarball, ed-pairs = pair-per-row derivative, hf = Hugging Face parquet/JSONL; auto detects from content")
)
const strict = Options.boolean("strict").pipe(Options.withDescription("fail (exit 2) on the first malformed row instead of counting it"))
const json = Options.boolean("json").pipe(Options.withDescription("print the result as JSON on stdout"))

const renderInspect = (r: InspectReport): string => {
  const lines = [`format ${r.format}; ${r.files.length} file(s); ${r.dialogues} dialogues, ${r.utterances} utterances; ${r.droppedHitRows} 'hit:' rows dropped; ${r.malformedCount} malformed rows`]
  for (const [name, s] of Object.entries(r.splits)) {
    lines.push(`  ${name}: ${s.dialogues} dialogues, ${s.utterances} utterances, ${s.items} generation items`)
    lines.push(`    ${Object.entries(s.emotions).map(([e, n]) => `${e} ${n}`).join(", ")}`)
  }
  for (const m of r.malformed) lines.push(`  malformed ${m.file}:${m.line}${m.field === undefined ? "" : ` (${m.field})`}: ${m.reason}`)
  if (r.malformedCount > r.malformed.length) lines.push(`  … and ${r.malformedCount - r.malformed.length} more`)
  return lines.join("\n")
}

const inspect = Command.make("inspect", { source, format, strict, json }, (flags) =>
  Effect.gen(function*() {
    const report = yield* inspectDataset(DatasetSources.LoadOptions.make({ source: flags.source, format: flags.format, strict: flags.strict }))
    yield* Console.log(flags.json ? JSON.stringify(report, null, 2) : renderInspect(report))
  })).pipe(Command.withDescription("Count dialogues, utterances, generation items and emotions per split; list malformed rows"))


/** `empo data …`: load, inspect and turn EmpatheticDialogues into generation items and preference datasets. */
export const dataCommand = Command.make("data").pipe(
  Command.withDescription("EmpatheticDialogues: inspect sources, build DPO/KTO/SFT datasets, write generation items"),
  Command.withSubcommands([inspect])
)
