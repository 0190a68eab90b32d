import * as FileSystem from "@effect/platform/FileSystem"
import { Resvg } from "@resvg/resvg-js"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as vega from "vega"
import * as vl from "vega-lite"
import { FigureError } from "./ReportError.ts"
import { type Figure, figureFont } from "./Figures.ts"

/** A drawn figure: the SVG Vega wrote and a PNG of it at twice its size (for slides and papers). */
export interface RenderedFigure {
  readonly figure: Figure
  readonly svg: string
  readonly png: Uint8Array
}

/** Font files tried in order (Debian's fonts-dejavu-core); resvg needs a real font file to draw any text. */
export const defaultFontFiles: ReadonlyArray<string> = [
  "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
  "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
]

/**
 * Vega-Lite → Vega → SVG in Node (the "none" renderer: no canvas, text widths estimated), and SVG → PNG with resvg.
 */
export class FigureRenderer extends Context.Tag("@empo/report/FigureRenderer")<FigureRenderer, {
  readonly render: (figure: Figure) => Effect.Effect<RenderedFigure, FigureError>
}>() {
  /** Renders with the first of `fontFiles` that exists (system fonts when none does). */
  static readonly layer = (fontFiles: ReadonlyArray<string> = defaultFontFiles): Layer.Layer<FigureRenderer, never, FileSystem.FileSystem> =>
    Layer.effect(FigureRenderer, Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const fonts = yield* Effect.filter(fontFiles, (f) => fs.exists(f).pipe(Effect.orElseSucceed(() => false)))
      const render = Effect.fn("FigureRenderer.render")(function* (figure: Figure) {
        const svg = yield* Effect.tryPromise({
          try: async () => {
            const compiled = vl.compile(figure.spec).spec
            const view = new vega.View(vega.parse(compiled), { renderer: "none" })
            try {
              return await view.toSVG()
            } finally {
              view.finalize()
            }
          },
          catch: (cause) => new FigureError({ figure: figure.id, stage: "svg", cause })
        })
        const png = yield* Effect.try({
          try: () => new Resvg(svg, {
            font: { loadSystemFonts: fonts.length === 0, fontFiles: [...fonts], defaultFontFamily: figureFont, sansSerifFamily: figureFont },
            fitTo: { mode: "zoom", value: 2 },
            background: "white"
          }).render().asPng(),
          catch: (cause) => new FigureError({ figure: figure.id, stage: "png", cause })
        })
        return { figure, svg, png }
      })
      return FigureRenderer.of({ render })
    }))
}

/**
 * Makes an SVG's ids unique within a page (`clip1` → `<prefix>-clip1`): Vega numbers clip paths and gradients
 * from 1 in every SVG, so two inlined figures would otherwise share (and break) each other's.
 */
export const prefixSvgIds = (svg: string, prefix: string): string =>
  svg
    .replace(/\bid="([^"]+)"/g, (_m, id: string) => `id="${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${prefix}-${id})`)
    .replace(/href="#([^"]+)"/g, (_m, id: string) => `href="#${prefix}-${id}"`)
