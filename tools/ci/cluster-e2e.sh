#!/usr/bin/env bash
# The quickstart end to end on loopback executors, by hand (the tests run the same in apps/cli/test/executorSsh.test.ts): brings the loopback stack up, runs
#   empo run experiments/quickstart.yaml --executor NAME --executors .empo/cluster/executors.yaml
# for each NAME given (default: loopback-slurm loopback-ray) into a store of its own, and checks that every run
# completed, that every worker stage's record names the executor, the host and the job id, that the stage ids are
# those of a local plan (--dry-run), and that metric points reached the store while the training stages ran.
#   bash tools/ci/cluster-e2e.sh [NAME ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(loopback-slurm loopback-ray)
export EMPO_DATA_DIR="${EMPO_DATA_DIR:-$(cd .. && pwd)/shared/data}"
[ -n "${EMPO_PUNKT:-}" ] || [ ! -f "$EMPO_DATA_DIR/nltk/punkt_english.json" ] || export EMPO_PUNKT="$EMPO_DATA_DIR/nltk/punkt_english.json"
python="${EMPO_PYTHON:-.venv/bin/python}"
cluster="${EMPO_CLUSTER_DIR:-.empo/cluster}"
out="$(mktemp -d)"

bash tools/cluster/stack.sh up
trap 'bash tools/cluster/stack.sh down' EXIT
npx empo run experiments/quickstart.yaml --dry-run --json --db "$out/plan.db" > "$out/plan.json"

for name in "${names[@]}"; do
  echo "== quickstart on $name"
  started=$(date +%s)
  npx empo run experiments/quickstart.yaml --executor "$name" --executors "$cluster/executors.yaml" --db "$out/$name.db"
  echo "quickstart on $name: $(( $(date +%s) - started )) s"
  "$python" - "$out/plan.json" "$out/$name.db" "$name" <<'PY'
import re, sqlite3, sys
plan, db, name = sys.argv[1:]
planned = set(re.findall(r'"((?:dataset|items|tiny-model|train|generate|evaluate)-[0-9a-f]{16})"', open(plan).read()))
c = sqlite3.connect(db)
stored = {r[0] for r in c.execute("select id from stages")}
assert stored == planned, f"stage ids differ from the local plan: {sorted(stored ^ planned)}"
bad = c.execute("select id, status from stages where status != 'completed'").fetchall()
assert not bad, f"stages not completed: {bad}"
runs = c.execute("select status, count(*) from runs group by status").fetchall()
assert runs and all(status == "completed" for status, _ in runs), f"runs: {runs}"
remote = c.execute("select id, executor, job_id from stages where kind in ('tiny-model', 'train', 'generate')").fetchall()
assert remote and all(e == name and j for _, e, j in remote), f"worker stages without executor/job id: {remote}"
hosts = c.execute("select distinct host from stage_jobs where executor = ?", (name,)).fetchall()
assert hosts and all(h for (h,) in hosts), "stage_jobs without a host"
for sid, finished in c.execute("select id, finished_at from stages where kind = 'train'").fetchall():
    first = c.execute("select min(time) from metric_points where stage_id = ?", (sid,)).fetchone()[0]
    assert first is not None and first < finished - 1000, f"{sid}: no metric point arrived before the stage ended"
print(f"{name}: {len(planned)} stages = the local plan, {sum(n for _, n in runs)} runs completed, "
      f"{len(remote)} worker stages on {name} ({', '.join(h for (h,) in hosts)}), loss curves live")
PY
done
