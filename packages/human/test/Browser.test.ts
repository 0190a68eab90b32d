import { assert, describe, it } from "@effect/vitest"
import { repoRoot } from "@empo/core/testing/sharedData"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { type BrowserContext, chromium, type Page } from "playwright-core"
import { HumanStore } from "../src/HumanStore.ts"
import { makeServer } from "../src/Server.ts"
import { makeStudy } from "./support.ts"

// Debian's Chromium, started the way this machine kind needs (no sandbox as root, no background network).
const chromiumPath = process.env["EMPO_CHROMIUM"] ?? "/usr/bin/chromium"
const flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"]
/** Screenshots land here for a person to look at; never committed (.test-output/ is ignored). */
const shots = path.join(repoRoot(), ".test-output", "human")

const browserOf = (viewport: { width: number; height: number }): Promise<BrowserContext> =>
  chromium.launchPersistentContext(fs.mkdtempSync(path.join(os.tmpdir(), "empo-chromium-")), {
    executablePath: chromiumPath, headless: true, args: flags, viewport, ignoreDefaultArgs: ["--enable-automation"]
  })

const startStudy = async (page: Page, url: string) => {
  await page.goto(url)
  await page.getByRole("button", { name: "I agree, continue" }).click()
  await page.getByRole("heading", { name: "A solved example" }).waitFor()
  await page.getByRole("button", { name: "Start the study" }).click()
  await page.getByTestId("progress").waitFor()
}

interface Clicked { readonly assignment: string; readonly values: Record<string, number> }

/** Sets the sliders by keyboard and mouse-free `fill` (what a range input accepts), ticks the box on even items. */
const rateCurrent = async (page: Page, k: number): Promise<Clicked> => {
  const assignment = await page.locator("input[name=assignment]").getAttribute("value")
  const values = { Dim1: 5 + k, Dim2: 95 - k, Dim3: 50 + k, Dim4: 3 * k, Dim5: k % 2 === 0 ? 1 : 0 }
  for (const key of ["Dim1", "Dim2", "Dim3", "Dim4"] as const) await page.locator(`#${key}`).fill(String(values[key]))
  if (values.Dim5 === 1) await page.locator("#Dim5").check()
  await page.getByRole("button", { name: "Next" }).click()
  await page.waitForLoadState("domcontentloaded")
  return { assignment: assignment!, values }
}

// Runs in the page; typed loosely because this project compiles without the DOM library.
const notOverflowing = (page: Page) =>
  page.evaluate("document.documentElement.scrollWidth <= window.innerWidth") as Promise<boolean>

describe("the rater app in Debian's Chromium (playwright-core)", () => {
  it("two raters at once: Prolific links, intro, reload resumes, completion code, stored = clicked, disjoint balanced bundles", async () => {
    fs.mkdirSync(shots, { recursive: true })
    const { runtime, id } = await makeStudy()
    const app = await makeServer(runtime, { studyId: id, adminToken: "adm" })
    await app.listen({ host: "127.0.0.1", port: 0 })
    const address = app.server.address() as { port: number }
    const base = `http://127.0.0.1:${address.port}/`
    const desktop = await browserOf({ width: 1280, height: 800 })
    const phone = await browserOf({ width: 390, height: 844 })
    try {
      const a = await desktop.newPage()
      const b = await phone.newPage()
      await Promise.all([
        startStudy(a, `${base}?PROLIFIC_PID=64f0a1b2c3&STUDY_ID=st1&SESSION_ID=se1`),
        startStudy(b, `${base}?u=phone-rater`)
      ])
      await a.screenshot({ path: path.join(shots, "item-1280x800.png"), fullPage: false })
      await b.screenshot({ path: path.join(shots, "item-390-phone.png"), fullPage: true })
      // Usable on a phone: nothing wider than the screen, the sliders and the button on it and tappable.
      assert.isTrue(await notOverflowing(b), "no horizontal scrolling at 390 px")
      for (const sel of ["#Dim1", "#Dim4", "button[type=submit]"]) {
        const box = (await b.locator(sel).boundingBox())!
        assert.isAtLeast(box.x, 0, sel)
        assert.isAtMost(box.x + box.width, 390, sel)
        assert.isAtLeast(box.height, sel === "button[type=submit]" ? 44 : 20, sel)
      }
      assert.isTrue(await notOverflowing(a))
      assert.strictEqual(await a.locator("#Dim1").inputValue(), "50", "sliders start at 50")
      assert.include(await a.locator(".anchors").first().innerText(), "Strongly disagree")
      assert.include(await a.locator(".anchors").first().innerText(), "Strongly agree")

      const clickedA: Array<Clicked> = []
      const clickedB: Array<Clicked> = []
      for (let k = 0; k < 2; k++) {
        const [ca, cb] = await Promise.all([rateCurrent(a, k), rateCurrent(b, k)])
        clickedA.push(ca)
        clickedB.push(cb)
      }
      // A reload mid-way shows the same item (same assignment, same response, same progress).
      const before = { assignment: await a.locator("input[name=assignment]").getAttribute("value"), response: await a.getByTestId("response").innerText() }
      await a.reload()
      assert.strictEqual(await a.locator("input[name=assignment]").getAttribute("value"), before.assignment)
      assert.strictEqual(await a.getByTestId("response").innerText(), before.response)
      assert.strictEqual(await a.getByTestId("progress").innerText(), "Item 3 of 5")
      // So does opening the Prolific link again.
      await a.goto(`${base}?PROLIFIC_PID=64f0a1b2c3&STUDY_ID=st1&SESSION_ID=se1`)
      assert.strictEqual(await a.locator("input[name=assignment]").getAttribute("value"), before.assignment)
      for (let k = 2; k < 5; k++) {
        const [ca, cb] = await Promise.all([rateCurrent(a, k), rateCurrent(b, k)])
        clickedA.push(ca)
        clickedB.push(cb)
      }
      assert.strictEqual(await a.getByTestId("completion-code").innerText(), "C0DE42")
      assert.strictEqual(await b.getByTestId("completion-code").innerText(), "C0DE42")
      await b.screenshot({ path: path.join(shots, "done-390-phone.png") })

      const stored = await runtime.runPromise(Effect.flatMap(HumanStore, (s) => s.ratingsOf(id)))
      const byRater = (who: string) => stored.filter((r) => r.externalId === who)
      const storedA = byRater("64f0a1b2c3")
      const storedB = byRater("phone-rater")
      assert.deepStrictEqual(storedA.map((r) => r.values), clickedA.map((c) => c.values), "stored ratings equal what was clicked")
      assert.deepStrictEqual(storedB.map((r) => r.values), clickedB.map((c) => c.values))
      const bundleOf = (cs: ReadonlyArray<Clicked>) => new Set(cs.map((c) => c.assignment.split(".")[0]))
      assert.strictEqual(bundleOf(clickedA).size, 1)
      assert.notDeepEqual([...bundleOf(clickedA)], [...bundleOf(clickedB)], "disjoint bundles")
      const units = (rs: typeof stored) => rs.filter((r) => !r.attention).map((r) => `${r.itemId}/${r.condition}`)
      assert.strictEqual(new Set([...units(storedA), ...units(storedB)]).size, 8, "no unit rated by both")
      for (const rs of [storedA, storedB]) {
        assert.strictEqual(rs.length, 5)
        assert.strictEqual(rs.filter((r) => r.attention).length, 1)
        assert.strictEqual(new Set(rs.filter((r) => !r.attention).map((r) => r.itemId)).size, 4, "no dialogue twice for one rater")
        const perCondition = ["zephyr_base", "zephyr_dpo", "human_targets"].map((c) => rs.filter((r) => r.condition === c).length)
        assert.isAtMost(Math.max(...perCondition) - Math.min(...perCondition), 1, `balanced conditions: ${perCondition}`)
      }
      const admin = await desktop.newPage()
      assert.strictEqual((await admin.goto(`${base}admin`))!.status(), 401)
      await admin.goto(`${base}admin?token=adm`)
      assert.include(await admin.innerText("body"), "phone-rater")
      await admin.screenshot({ path: path.join(shots, "admin-1280x800.png") })
    } finally {
      await desktop.close()
      await phone.close()
      await app.close()
      await runtime.dispose()
    }
  }, 120_000)
})
