#!/usr/bin/env bash
# Sets up a fresh checkout: Node dependencies (npm ci), the bundled `empo` command, and the Python worker's venv in .venv.
# Idempotent; re-run after pulling. EMPO_SETUP_PYTHON picks the interpreter that creates the venv.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== npm dependencies"
# npm ci wipes node_modules and rebuilds better-sqlite3 (~1 min): skip it when the install is newer than the lock.
if [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  echo "node_modules is up to date with package-lock.json"
elif [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

echo "== bundle of the empo command (apps/cli/dist)"
# Starts in ~0.4 s with half the memory of compiling the TypeScript at every start; bin/empo.mjs falls back to
# the sources whenever they are newer than this bundle.
npm run --silent build

echo "== Python worker environment (.venv)"
base_python="${EMPO_SETUP_PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$base_python" -m venv .venv
fi
# Unreachable package indexes otherwise cost five retries per package.
export PIP_RETRIES="${PIP_RETRIES:-0}"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r python/requirements.txt -r python/requirements-dev.txt -r python/requirements-cluster.txt
.venv/bin/python -m pip install --quiet --no-deps --disable-pip-version-check -r python/requirements-lmeval.txt
.venv/bin/python -m pip install --quiet --no-deps --disable-pip-version-check -e python
# Fail here, not at the first training, if the stack does not import together.
.venv/bin/python -c "import torch, transformers, trl, peft, lm_eval.evaluator, empo_worker.server; print('python stack: torch', torch.__version__, '| trl', trl.__version__, '| lm_eval', lm_eval.__version__)"
echo "== setup done"
