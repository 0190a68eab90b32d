#!/usr/bin/env bash
# Runs the TUI benchmark from an esbuild bundle instead of through tsx: what a prebuilt `empo` would cost.
# The tsx on-the-fly compiler alone holds ~85 MB of the dev-mode memory floor.
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=tools/bench/tui/.build
mkdir -p "$out"
# Ink's optional React DevTools hook is never used here; a stub keeps the bundle self-contained.
echo "export default { connectToDevTools() {} }" > "$out/devtools-stub.mjs"
npx esbuild tools/bench/tui/bench.tsx --bundle --platform=node --format=esm --target=node20 \
  --outfile="$out/bench.mjs" --external:better-sqlite3 --alias:react-devtools-core=./$out/devtools-stub.mjs \
  --banner:js="import { createRequire } from 'module'; const require = createRequire(import.meta.url);" --log-level=error
node "$out/bench.mjs" "$@"
