# A real Ray head on 127.0.0.1 (Ray core only: the dashboard's packages are not installed), sourced by
# tools/cluster/stack.sh. `ray start --block` stays in the foreground and takes gcs_server, raylet and the
# workers down with it on TERM, so its one PID is all the stack records. Port: EMPO_RAY_PORT (6390).
#   start_ray BASE    idempotent; waits until a driver connects
#   stop_ray BASE     TERM to the recorded `ray start` (KILL after 15 s)
#   ray_status BASE   one line; exit 1 when down
#   ray_address       host:port drivers connect to

# shellcheck source=tools/cluster/pids.sh
. "$(dirname "${BASH_SOURCE[0]}")/pids.sh"

_ray_python() { echo "${EMPO_PYTHON:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.venv/bin/python}"; }

ray_address() { echo "127.0.0.1:${EMPO_RAY_PORT:-6390}"; }

start_ray() {
  local base="$1" python
  python=$(_ray_python)
  mkdir -p "$base/pids" "$base/ray"
  if ! cluster_alive "$base/pids" ray; then
    # Ray turns a node address of 127.0.0.1 into the machine's routable IP unless cluster mode is off; with
    # it off every listener stays on loopback. The temp dir is short: Ray's unix sockets live under it.
    RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 "$python" -m ray.scripts.scripts start --head \
      --port "${EMPO_RAY_PORT:-6390}" --include-dashboard false --node-ip-address 127.0.0.1 \
      --temp-dir "$base/ray/tmp" --num-cpus "$(nproc)" --num-gpus 0 --object-store-memory 100000000 \
      --disable-usage-stats --block > "$base/ray/ray.out" 2>&1 &
    cluster_record "$base/pids" ray $!
  fi
  RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 cluster_wait 60 "$python" -c "import ray; ray.init(address='$(ray_address)', _node_ip_address='127.0.0.1', logging_level='ERROR')" \
    || { echo "the Ray head did not come up (see $base/ray/ray.out)" >&2; return 1; }
}

stop_ray() { cluster_stop "$1/pids" ray; }

ray_status() {
  if cluster_alive "$1/pids" ray; then echo "ray: up (pid $(cluster_pid "$1/pids" ray), $(ray_address))"
  else echo "ray: down"; return 1; fi
}
