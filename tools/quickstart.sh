#!/usr/bin/env bash
# The README's main job: set up, run experiments/quickstart.yaml on CPU (tiny model → SFT → DPO ×2 β and KTO →
# generations → feature and neural metrics), then print the comparison and write the report (reports/quickstart). Rerunning resumes where it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
# Offline defaults: use the provided data beside the checkout when it is there (Punkt parameters for the
# tokenizer; otherwise they are downloaded from NLTK on first use).
shared="$(cd .. && pwd)/shared/data"
if [ -z "${EMPO_DATA_DIR:-}" ] && [ -d "$shared" ]; then export EMPO_DATA_DIR="$shared"; fi
if [ -z "${EMPO_PUNKT:-}" ] && [ -n "${EMPO_DATA_DIR:-}" ] && [ -f "$EMPO_DATA_DIR/nltk/punkt_english.json" ]; then
  export EMPO_PUNKT="$EMPO_DATA_DIR/nltk/punkt_english.json"
fi
npx empo run experiments/quickstart.yaml
npx empo compare quickstart
npx empo report quickstart
