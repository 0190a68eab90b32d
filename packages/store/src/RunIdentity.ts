import { type ContentHasher, shortHash } from "@empo/core/ContentHash"
import type { RunId } from "./Records.ts"

/** The section of a resolved run configuration that says where and how it executes, never what it computes. */
export const executionSection = "executor"

/** A run's configuration without its {@link executionSection}: what its id hashes. */
export const computationOf = (config: unknown): unknown => {
  if (config === null || typeof config !== "object" || Array.isArray(config) || !(executionSection in config)) return config
  const { [executionSection]: _execution, ...computation } = config as Record<string, unknown>
  return computation
}

/**
 * A run's id: the 12-hex-digit hash of what it computes (data, model, stages, seed), so the same sweep under
 * another executor, timeout or host is the same run. Pass the planning's `hasher` to reuse its memo; the id is
 * the same either way.
 */
export const runIdOf = (config: unknown, hasher?: ContentHasher): RunId =>
  (hasher === undefined ? shortHash(computationOf(config), 12) : hasher.shortHash(computationOf(config), 12)) as RunId
