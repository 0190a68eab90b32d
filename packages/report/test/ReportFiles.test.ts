import * as NodeContext from "@effect/platform-node/NodeContext"
import { RunStore } from "@empo/store"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { chromium } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { FigureRenderer } from "../src/FigureRenderer.ts"
import { Report, type ReportWritten } from "../src/Report.ts"
import { keyOf, seedSweep } from "./fixture.ts"

const chromiumPath = "/usr/bin/chromium"
const hasPdflatex = (() => {
  try {
    execFileSync("pdflatex", ["--version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

// CI installs both (tools/ci/install-system.sh): there a missing one fails the test instead of skipping it.
const inCi = process.env["CI"] !== undefined && process.env["CI"] !== "false"
const dir = mkdtempSync(join(tmpdir(), "empo-report-files-"))
const out = join(dir, "report")
let written: ReportWritten

beforeAll(async () => {
  const store = RunStore.layer(join(dir, "empo.db")).pipe(Layer.provide(NodeContext.layer))
  written = await Effect.gen(function* () {
    yield* seedSweep(dir)
    const report = yield* Report
    return yield* report.write({ experiment: "sweep", out, keyOf })
  }).pipe(
    Effect.provide(Layer.provideMerge(Report.layer.pipe(Layer.provide(FigureRenderer.layer())), Layer.merge(store, NodeContext.layer))),
    Effect.scoped,
    Effect.runPromise
  )
}, 60_000)

// What the fixture holds: shared SFT (1 line), 5 preference runs, 3 configurations, DPO and KTO over β.
const expectedSeries: Record<string, number> = { "curves-sft": 1, "curves-preference": 5, "metrics-bars": 3, "sweep-beta": 2, "emotion-heatmap": 3 }

describe("empo report files", () => {
  it("writes the HTML, an SVG and a PNG per figure, and the tables", () => {
    expect(written.figures.map((f) => f.id)).toEqual(Object.keys(expectedSeries))
    for (const id of Object.keys(expectedSeries)) {
      expect(readFileSync(join(out, "figures", `${id}.svg`), "utf8")).toMatch(/^<svg[^>]+viewBox/)
      const png = readFileSync(join(out, "figures", `${id}.png`))
      expect(png.subarray(1, 4).toString()).toBe("PNG")
      // IHDR width: drawn at twice the SVG's size.
      expect(png.readUInt32BE(16)).toBeGreaterThan(400)
    }
    for (const table of ["headline.tex", "headline.csv", "lineage.csv"]) expect(statSync(join(out, "tables", table)).size).toBeGreaterThan(100)
    const csv = readFileSync(join(out, "tables", "headline.csv"), "utf8").trim().split("\n")
    expect(csv[0]).toBe("configuration,baseline,metric,label,direction,mean,ci95,ci_kind,n,delta,p,test,best")
    expect(csv).toHaveLength(1 + 3 * 3)
    const lineage = readFileSync(join(out, "tables", "lineage.csv"), "utf8")
    expect(lineage).toContain(`run00,dpo β=0.1 seed=0,items,items,items-dddd,pending,writes,items.jsonl,items,${"d".repeat(64)},1000,`)
    expect(lineage).toContain(`run00,dpo β=0.1 seed=0,sft,train,train-cccc,pending,reads,data.jsonl,,${"a".repeat(64)},,dataset-aaaa`)
    // Self-contained: no script, no stylesheet or image fetched from anywhere.
    const html = readFileSync(join(out, "report.html"), "utf8")
    expect(html).not.toMatch(/<script|<link |src="http|href="http|@import/)
  })

  it.skipIf(!hasPdflatex && !inCi)("the LaTeX table compiles with pdflatex (booktabs)", () => {
    const doc = join(dir, "doc.tex")
    writeFileSync(doc, [
      "\\documentclass{article}", "\\usepackage{booktabs}", "\\usepackage[margin=1cm,landscape]{geometry}",
      "\\begin{document}", "\\begin{table}\\centering", `\\input{${join(out, "tables", "headline.tex")}}`, "\\caption{Headline metrics}", "\\end{table}", "\\end{document}"
    ].join("\n"))
    execFileSync("pdflatex", ["-interaction=nonstopmode", "-halt-on-error", "-output-directory", dir, doc], { cwd: dir, stdio: "pipe", timeout: 60_000 })
    expect(statSync(join(dir, "doc.pdf")).size).toBeGreaterThan(1000)
    const log = readFileSync(join(dir, "doc.log"), "utf8")
    expect(log).not.toMatch(/Missing character|Undefined control sequence/)
  }, 90_000)

  describe.skipIf(!existsSync(chromiumPath) && !inCi)("in headless Chromium", () => {
    let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>>
    const requests: Array<string> = []
    beforeAll(async () => {
      context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "empo-chromium-")), {
        executablePath: chromiumPath,
        headless: true,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        viewport: { width: 1280, height: 900 }
      })
      context.on("request", (r) => requests.push(r.url()))
    }, 60_000)
    afterAll(async () => {
      await context?.close()
    })

    it("renders every figure with its series, fetches nothing, and the page is not blank", async () => {
      const page = await context.newPage()
      const url = pathToFileURL(join(out, "report.html")).href
      await page.goto(url)
      const figures = await page.$$eval("figure[data-figure]", (els) => els.map((el) => {
        const svg = el.querySelector("svg")!
        const box = svg.getBoundingClientRect()
        const count = (selector: string) => svg.querySelectorAll(selector).length
        return {
          id: el.getAttribute("data-figure")!, kind: el.getAttribute("data-kind")!, series: Number(el.getAttribute("data-series")),
          width: box.width, height: box.height,
          legend: count(".role-legend-label text"),
          // One <path> per series in the first panel (Vega groups a line mark's paths per colour).
          lines: count("g.mark-line[class*='concat_0_'] > path"),
          bars: count("g.mark-rect.concat_0_layer_0_marks > path"),
          rows: count(".role-title-text text"),
          cells: count("g.mark-rect.role-mark > path")
        }
      }))
      expect(figures.map((f) => f.id)).toEqual(Object.keys(expectedSeries))
      for (const f of figures) {
        expect(f.series, f.id).toBe(expectedSeries[f.id])
        expect(f.width, f.id).toBeGreaterThan(200)
        expect(f.height, f.id).toBeGreaterThan(100)
        if (f.kind === "curves") expect([f.legend, f.lines], f.id).toEqual([f.series, f.series])
        if (f.kind === "sweep") expect([f.legend, f.lines], f.id).toEqual([f.series, f.series])
        if (f.kind === "bars") expect([f.legend, f.bars], f.id).toEqual([f.series, f.series])
        // 3 configurations × 2 per-item scores × 4 emotions.
        if (f.kind === "heatmap") expect([f.rows, f.cells], f.id).toEqual([3, 3 * 2 * 4])
      }
      const headline = await page.$$eval("#headline-table tbody tr", (rows) => rows.map((r) => r.textContent ?? ""))
      expect(headline).toHaveLength(3)
      expect(headline.join("\n")).toMatch(/↓/)
      expect(requests.every((r) => r.startsWith("file://"))).toBe(true)

      // Not blank: the screenshot, decoded by the browser itself, has many non-white pixels of several colours.
      const shot = await page.screenshot({ fullPage: true })
      // Runs in the page (a string: this package's TypeScript has no DOM types); samples every 7th pixel.
      const pixels = (png: Buffer) => page.evaluate<{ ink: number; colours: number; width: number; height: number }>(`(async () => {
        const img = new Image()
        img.src = "data:image/png;base64,${png.toString("base64")}"
        await img.decode()
        const canvas = document.createElement("canvas")
        canvas.width = img.width
        canvas.height = img.height
        const ctx = canvas.getContext("2d")
        ctx.drawImage(img, 0, 0)
        const data = ctx.getImageData(0, 0, img.width, img.height).data
        let ink = 0
        const colours = new Set()
        for (let i = 0; i < data.length; i += 4 * 7) {
          if (data[i] < 235 || data[i + 1] < 235 || data[i + 2] < 235) ink++
          colours.add((data[i] >> 4) << 8 | (data[i + 1] >> 4) << 4 | (data[i + 2] >> 4))
        }
        return { ink: ink / (data.length / 28), colours: colours.size, width: img.width, height: img.height }
      })()`)
      const page1 = await pixels(shot)
      expect(page1.height).toBeGreaterThan(2000)
      expect(page1.ink).toBeGreaterThan(0.02)
      expect(page1.colours).toBeGreaterThan(20)
      // The PNGs too: drawn text and marks, not an empty canvas.
      for (const id of Object.keys(expectedSeries)) {
        const png = await pixels(readFileSync(join(out, "figures", `${id}.png`)))
        expect(png.ink, id).toBeGreaterThan(0.01)
        expect(png.colours, id).toBeGreaterThan(5)
      }
      writeFileSync(join(dir, "screenshot.png"), shot)
      await page.close()
    }, 60_000)
  })
})
