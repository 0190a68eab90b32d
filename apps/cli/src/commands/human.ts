import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import { InputError, IoError } from "@empo/core/Errors"
import {
  analyze,
  type Analysis,
  type ConditionSource,
  HumanStore,
  parseRatingsCsv,
  parseStatements,
  planStudy,
  ratingsOfRows,
  renderRatingsCsv,
  sliders,
  studyPlan,
  studyStatements
} from "@empo/human"
import { RunStore } from "@empo/store"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import { randomBytes } from "node:crypto"
import { dbOption, jsonOption } from "./runs.ts"

const writable = (db: string) => HumanStore.layerNoDeps.pipe(Layer.provideMerge(RunStore.layer(db)))
const readOnly = (db: string) => HumanStore.layerNoDeps.pipe(Layer.provideMerge(RunStore.layerReadOnly(db)))

const studyOption = Options.text("study").pipe(Options.withDescription("the study's id"))

const condition = Options.text("condition").pipe(
  Options.repeated,
  Options.withDescription("NAME=SOURCE, two or more: SOURCE is a predictions file, run:<run-id> (its generated predictions) or gold (the reference replies); NAME is what the ratings' model column says")
)

/** `NAME=file`, `NAME=run:<id>` or `NAME=gold`; a run is resolved to its predictions artifact in the store. */
const parseCondition = (text: string) =>
  Effect.gen(function* () {
    const m = /^([A-Za-z0-9_.-]{1,64})=(.+)$/.exec(text)
    if (m === null) return yield* new InputError({ field: "--condition", reason: `expected NAME=SOURCE (NAME: letters, digits, _ . -), got ${JSON.stringify(text)}` })
    const [, name, source] = m as unknown as [string, string, string]
    if (source === "gold") return { name, kind: "gold" } as ConditionSource
    if (source.startsWith("run:")) {
      const detail = yield* (yield* RunStore).showRun(source.slice(4))
      const artifact = detail.artifacts.find((a) => a.kind === "predictions")
      if (artifact === undefined) return yield* new InputError({ field: "--condition", reason: `run ${detail.run.id} has no generated predictions yet` })
      return { name, kind: "run", runId: detail.run.id, file: artifact.path } as ConditionSource
    }
    return { name, kind: "file", file: source } as ConditionSource
  })

const batch = Command.make("batch", {
  db: dbOption,
  study: studyOption,
  title: Options.text("title").pipe(Options.withDefault("Rating conversations"), Options.withDescription("shown to raters")),
  condition,
  perEmotion: Options.integer("per-emotion").pipe(Options.withDefault(studyPlan.perEmotion), Options.withDescription("items drawn per emotion (the study: 4)")),
  items: Options.integer("items").pipe(Options.withDefault(studyPlan.items), Options.withDescription("total items; beyond the per-emotion draw, the first unsampled items of --extra-emotions (the study: 135)")),
  extraEmotions: Options.text("extra-emotions").pipe(Options.withDefault(studyPlan.extraEmotions.join(",")), Options.withDescription("comma-separated emotions the extra items come from; empty = any")),
  seed: Options.integer("seed").pipe(Options.withDefault(studyPlan.seed)),
  ratersPerItem: Options.integer("raters-per-item").pipe(Options.withDefault(3)),
  itemsPerRater: Options.integer("items-per-rater").pipe(Options.withDefault(15)),
  attentionChecks: Options.integer("attention-checks").pipe(Options.withDefault(0), Options.withDescription("attention-check items added to every rater's bundle")),
  statements: Options.text("statements").pipe(Options.optional, Options.withDescription("YAML with the statements and scale (default: the study's four sliders and checkbox)")),
  completionCode: Options.text("completion-code").pipe(Options.optional, Options.withDescription("shown at the end (e.g. Prolific's); default: random")),
  redirect: Options.text("redirect").pipe(Options.optional, Options.withDescription("link on the completion page (e.g. Prolific's completion URL)")),
  json: jsonOption
}, (flags) =>
  Effect.gen(function* () {
    const positive = (value: number, field: string) =>
      Number.isInteger(value) && value > 0 ? Effect.void : Effect.fail(new InputError({ field, reason: `must be a positive integer, got ${value}` }))
    yield* positive(flags.perEmotion, "--per-emotion")
    yield* positive(flags.items, "--items")
    yield* positive(flags.ratersPerItem, "--raters-per-item")
    yield* positive(flags.itemsPerRater, "--items-per-rater")
    if (flags.attentionChecks < 0) return yield* new InputError({ field: "--attention-checks", reason: "must be 0 or more" })
    const fs = yield* FileSystem.FileSystem
    const statements = Option.isNone(flags.statements) ? studyStatements : yield* parseStatements(flags.statements.value,
      yield* fs.readFileString(flags.statements.value).pipe(Effect.mapError((cause) => new IoError({ operation: "read", path: flags.statements.pipe(Option.getOrElse(() => "")), cause }))))
    const conditions = yield* Effect.forEach(flags.condition, parseCondition)
    const study = yield* planStudy({
      id: flags.study, title: flags.title, conditions, statements,
      plan: { perEmotion: flags.perEmotion, items: flags.items, extraEmotions: flags.extraEmotions.split(",").map((s) => s.trim()).filter((s) => s !== ""), seed: flags.seed },
      ratersPerItem: flags.ratersPerItem, itemsPerRater: flags.itemsPerRater, attentionChecks: flags.attentionChecks,
      completionCode: Option.getOrUndefined(flags.completionCode), redirectUrl: Option.getOrUndefined(flags.redirect)
    })
    yield* (yield* HumanStore).createStudy(study)
    const summary = {
      study: study.id, conditions: conditions.map((c) => c.name), items: study.design.items, bundles: study.bundles.length,
      ratings: study.bundles.reduce((n, b) => n + b.length, 0), completionCode: study.completionCode
    }
    if (flags.json) return yield* Console.log(JSON.stringify(summary, null, 2))
    yield* Console.log(`study ${summary.study}: ${summary.items} items × ${summary.conditions.length} conditions (${summary.conditions.join(", ")}), ` +
      `${summary.bundles} rater bundles of ${flags.itemsPerRater}${flags.attentionChecks > 0 ? ` + ${flags.attentionChecks} attention checks` : ""}, ` +
      `completion code ${summary.completionCode}\nserve it with: empo human serve --study ${summary.study}`)
  }).pipe(Effect.provide(writable(flags.db)))).pipe(
  Command.withDescription("Create a blind rating study from two or more runs or prediction files (stratified, seeded sampling)")
)

const serve = Command.make("serve", {
  db: dbOption,
  study: studyOption,
  host: Options.text("host").pipe(Options.withDefault("127.0.0.1"), Options.withDescription("address to listen on (0.0.0.0 behind a proxy for Prolific)")),
  port: Options.integer("port").pipe(Options.withDefault(8080), Options.withDescription("0 picks a free port")),
  adminToken: Options.text("admin-token").pipe(Options.optional, Options.withDescription("token of the admin view; default: random, printed at start")),
  reclaimAfter: Options.integer("reclaim-after").pipe(Options.withDefault(120),
    Options.withDescription("minutes: once every bundle is taken, hand an unfinished one idle this long to a new rater (0: never)"))
}, (flags) =>
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<HumanStore>()
    // Loaded on demand: every other command starts without the web server's modules.
    const { makeServer } = yield* Effect.promise(() => import("@empo/human/Server"))
    const token = Option.getOrElse(flags.adminToken, () => randomBytes(16).toString("hex"))
    const app = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const server = await makeServer({ runPromiseExit: (effect) => Runtime.runPromiseExit(runtime)(effect) }, {
            studyId: flags.study, adminToken: token, reclaimAfterMs: flags.reclaimAfter > 0 ? flags.reclaimAfter * 60_000 : undefined
          })
          await server.listen({ host: flags.host, port: flags.port })
          return server
        },
        catch: (cause) => (cause as { _tag?: string })._tag === "StudyNotFoundError" ? cause as InputError : new IoError({ operation: "listen", path: `${flags.host}:${flags.port}`, cause })
      }),
      (server) => Effect.promise(() => server.close())
    )
    const address = app.server.address()
    const port = typeof address === "object" && address !== null ? address.port : flags.port
    const base = `http://${flags.host}:${port}/`
    yield* Console.log(`serving study ${flags.study} at ${base}\n  raters:  ${base}?PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}  (or ${base}?u=NAME)\n  admin:   ${base}admin?token=${token}\n(Ctrl-C stops; every rating is already in ${flags.db})`)
    return yield* Effect.never
  }).pipe(Effect.scoped, Effect.provide(writable(flags.db)))).pipe(
  Command.withDescription("Serve a study to raters (intro, example, one item per page, completion code) and an admin view behind a token")
)

const exportCommand = Command.make("export", {
  db: dbOption,
  study: studyOption,
  out: Options.text("out").pipe(Options.withDescription("CSV file to write, in the study's he_data.csv layout"))
}, (flags) =>
  Effect.gen(function* () {
    const store = yield* HumanStore
    const study = yield* store.getStudy(flags.study)
    const rows = yield* store.ratingsOf(flags.study)
    const fs = yield* FileSystem.FileSystem
    yield* fs.writeFileString(flags.out, renderRatingsCsv(rows, study.statements)).pipe(Effect.mapError((cause) => new IoError({ operation: "write", path: flags.out, cause })))
    yield* Console.log(`wrote ${rows.filter((r) => !r.attention).length} ratings of study ${flags.study} to ${flags.out}`)
  }).pipe(Effect.provide(readOnly(flags.db)))).pipe(Command.withDescription("Write a study's ratings as CSV in the study's he_data.csv layout"))

const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : "–")

const renderAnalysis = (a: Analysis, dims: ReadonlyArray<string>): string => {
  const names = Object.keys(a.conditions)
  const width = Math.max(9, ...names.map((n) => n.length))
  const lines = [`${"condition".padEnd(width)}  ${dims.map((d) => `${d} mean ± sd`.padStart(16)).join("  ")}  n`]
  for (const c of names) {
    const row = a.conditions[c]!
    lines.push(`${c.padEnd(width)}  ${dims.map((d) => `${fmt(row[d]!.mean)} ± ${fmt(row[d]!.sd)}`.padStart(16)).join("  ")}  ${row[dims[0]!]!.n}`)
  }
  const significant = a.pairs.filter((p) => p.significant)
  lines.push("", `significant pairs (one-sided paired t-test A > B, p < 0.05${a.pairs.some((p) => p.p_holm !== undefined) ? ", Holm-adjusted" : ""}):`)
  for (const p of significant) lines.push(`  ${p.dim}  ${p.a} > ${p.b}  t=${fmt(p.t, 3)}  p=${p.p.toExponential(2)}${p.p_holm === undefined ? "" : `  p_holm=${p.p_holm.toExponential(2)}`}  d=${fmt(p.d, 3)}`)
  if (significant.length === 0) lines.push("  (none)")
  lines.push("", `Krippendorff's alpha (interval): ${dims.map((d) => `${d} ${fmt(a.alpha[d]!, 3)}`).join("  ")}`)
  lines.push(`Pearson r with response length:  ${dims.map((d) => `${d} ${fmt(a.length_r[d]!, 3)}`).join("  ")}`)
  return lines.join("\n")
}

const analyzeCommand = Command.make("analyze", {
  db: dbOption,
  ratings: Options.text("ratings").pipe(Options.withDescription("a ratings CSV in the he_data.csv layout, or a study id in the store")),
  holm: Options.boolean("holm").pipe(Options.withDescription("flag pairs by Holm-adjusted p (per dimension) instead of raw p")),
  json: jsonOption
}, (flags) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const isFile = yield* fs.exists(flags.ratings).pipe(Effect.orElseSucceed(() => false))
    const { dims, tested, ratings } = isFile
      ? yield* Effect.gen(function* () {
        const text = yield* fs.readFileString(flags.ratings).pipe(Effect.mapError((cause) => new IoError({ operation: "read", path: flags.ratings, cause })))
        const table = yield* parseRatingsCsv(flags.ratings, text)
        // The study's layout: Dim5 is the checkbox; every other Dim column is a slider.
        return { dims: table.dims, tested: table.dims.filter((d) => d !== "Dim5" || table.dims.length === 1), ratings: table.ratings }
      })
      : yield* Effect.gen(function* () {
        const store = yield* HumanStore
        const study = yield* store.getStudy(flags.ratings)
        return { dims: study.statements.statements.map((s) => s.key), tested: sliders(study.statements).map((s) => s.key), ratings: ratingsOfRows(yield* store.ratingsOf(study.id)) }
      }).pipe(Effect.provide(readOnly(flags.db)))
    if (ratings.length === 0) return yield* new InputError({ file: flags.ratings, reason: "no ratings yet" })
    const result = analyze(ratings, { dims, tested, holm: flags.holm })
    yield* Console.log(flags.json ? JSON.stringify(result, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2) : renderAnalysis(result, dims))
  })).pipe(Command.withDescription("The study's analysis: per-condition means, paired one-sided t-tests with Cohen's d, Krippendorff's alpha, length correlation"))

const ls = Command.make("ls", { db: dbOption, json: jsonOption }, (flags) =>
  Effect.gen(function* () {
    const studies = yield* (yield* HumanStore).listStudies()
    if (flags.json) return yield* Console.log(JSON.stringify(studies, null, 2))
    if (studies.length === 0) return yield* Console.log("no human studies (create one with `empo human batch`)")
    yield* Console.log(studies.map((s) => `${s.id}  ${s.ratings}/${s.expected} ratings  ${s.completedRaters}/${s.bundles} raters done  ${s.title}`).join("\n"))
  }).pipe(Effect.provide(readOnly(flags.db)))).pipe(Command.withDescription("List human studies with their progress"))

export const humanCommand = Command.make("human").pipe(
  Command.withDescription("Human evaluation: blind rating batches, the rater web app, export and the study's analysis"),
  Command.withSubcommands([batch, serve, exportCommand, analyzeCommand, ls])
)
