import { sharedData } from "@empo/core/testing/sharedData"
import { Schema } from "effect"
import * as fs from "node:fs"
import { assert, describe, it } from "vitest"
import { PunktParameters, PunktParametersFromJson, punktJsonFromTab, PunktTabLineError } from "../src/index.ts"

const json = JSON.parse(fs.readFileSync(sharedData("nltk", "punkt_english.json"), "utf8"))

describe("PunktParameters", () => {
  it("decodes the shared English parameters with NLTK's counts", () => {
    const params = Schema.decodeUnknownSync(PunktParametersFromJson)(json)
    assert.strictEqual(params.abbrevTypes.size, 156)
    assert.strictEqual(params.collocations.size, 37)
    assert.strictEqual(params.sentStarters.size, 39)
    assert.strictEqual(params.orthoContext.size, 20366)
    assert.isTrue(params.collocations.has("##number## abreast"))
  })

  it("round-trips through NLTK's punkt_tab files", () => {
    const params = new PunktParameters(json).toJson()
    const tab = punktJsonFromTab({
      abbrevTypes: params.abbrev_types.join("\n") + "\n",
      collocations: params.collocations.map((pair) => pair.join("\t")).join("\n") + "\n",
      sentStarters: params.sent_starters.join("\n") + "\n",
      orthoContext: Object.entries(params.ortho_context).map(([w, f]) => `${w}\t${f}`).join("\n") + "\n"
    })
    assert.deepStrictEqual(new PunktParameters(tab).toJson(), params)
  })

  it("names the file and line of a malformed punkt_tab line", () => {
    assert.throws(
      () => punktJsonFromTab({ abbrevTypes: "", collocations: "a\tb\nonly-one\n", sentStarters: "", orthoContext: "" }),
      PunktTabLineError,
      "collocations.tab:2"
    )
    assert.throws(
      () => punktJsonFromTab({ abbrevTypes: "", collocations: "", sentStarters: "", orthoContext: "the\t4\nof\tmany\n" }),
      "ortho_context.tab:2"
    )
  })

  it("rejects a file of the wrong shape with the failing field", () => {
    assert.throws(() => Schema.decodeUnknownSync(PunktParametersFromJson)({ ...json, sent_starters: "but" }), /sent_starters/)
  })
})
