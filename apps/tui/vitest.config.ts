import { defineProject, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.ts"

export default mergeConfig(shared, defineProject({
  // Ink renders only the last frame under CI=true and chalk colours frames there: tests see what a user's
  // terminal shows, wherever they run.
  test: { name: "tui", env: { CI: "false", FORCE_COLOR: "0" } }
}))
