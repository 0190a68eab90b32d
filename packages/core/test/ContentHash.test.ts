import { describe, expect, it } from "@effect/vitest"
import { createHash } from "node:crypto"
import { canonicalJson, makeContentHasher, sha256Hex, shortHash } from "../src/ContentHash.ts"

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest("hex")

describe("ContentHash", () => {
  it("writes sorted keys, drops undefined members and nulls undefined array slots", () => {
    const value = { b: 1, a: [1, undefined, "x"], c: undefined, d: { z: null, y: "é" } }
    expect(canonicalJson(value)).toBe('{"a":[1,null,"x"],"b":1,"d":{"y":"é","z":null}}')
    expect(canonicalJson(undefined)).toBe("null")
  })

  it("hashes the canonical text's UTF-8 bytes, truncated to the asked length", () => {
    const value = { model: { kind: "tiny" }, seed: 3, label: "β=0.1" }
    const full = digest(canonicalJson(value))
    expect(sha256Hex(canonicalJson(value))).toBe(full)
    expect(shortHash(value)).toBe(full.slice(0, 12))
    expect(shortHash(value, 16)).toBe(full.slice(0, 16))
  })

  it("gives the same hashes through a hasher that remembers shared sections", () => {
    const hasher = makeContentHasher()
    const shared = hasher.remember({ data: { split: "train", limit: 64 }, list: [2, 1] })
    const values = [{ shared, beta: 0.1 }, { beta: 0.5, shared }, [shared, shared]]
    for (const value of values) expect(hasher.shortHash(value, 12)).toBe(shortHash(value, 12))
  })
})
