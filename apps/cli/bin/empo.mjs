#!/usr/bin/env node
// Internal packages ship TypeScript sources (no build step); tsx compiles them on load.
import { register } from "tsx/esm/api"

register()
await import("../src/bin.ts")
