#!/usr/bin/env bash
# The loopback test cluster: a real sshd (and, from part B, a single-node Slurm and a Ray head), all on 127.0.0.1.
#
#   tools/cluster/stack.sh up|down|status
#
# Everything lives in $EMPO_CLUSTER_DIR (default <repo>/.empo/cluster): keys, configs, logs, pid files, and the
# inventory executors.yaml naming `loopback-ssh` (and `loopback-slurm`, `loopback-ray`). `up` is idempotent (a
# service whose recorded pid still runs is left alone); `down` stops only the processes this script started, by
# pid (each pid file holds `PID STARTTIME`, the start time from /proc/PID/stat, so a recycled pid is never hit).
# Hook points for more services: define start_X / stop_X / status_X / is_up_X / inventory_X (YAML lines of its
# entries, indented two spaces under `executors:`) and add X to SERVICES.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BASE="${EMPO_CLUSTER_DIR:-$REPO/.empo/cluster}"
PIDS="$BASE/pids"
SSH_PORT="${EMPO_CLUSTER_SSH_PORT:-2222}"
# The remote Python of the loopback host: the repo's venv (a symlink in worktrees).
REMOTE_PYTHON="${EMPO_CLUSTER_PYTHON:-$REPO/.venv/bin/python}"
# EMPO_CLUSTER_SERVICES picks a subset (a test's private sshd must not start a second munged beside CI's stack).
read -r -a SERVICES <<< "${EMPO_CLUSTER_SERVICES:-sshd slurm ray}"

mkdir -p "$PIDS"

log() { printf 'stack: %s\n' "$*" >&2; }

start_time() { # PID -> field 22 of /proc/PID/stat, empty when gone or a zombie
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
  stat="${stat##*) }"
  set -- $stat
  [ "$1" = "Z" ] && return 0
  echo "${20}"
}

record_pid() { # NAME PID
  echo "$2 $(start_time "$2")" > "$PIDS/$1.pid"
}

alive() { # NAME -> 0 when the recorded process still runs (same start time)
  local file="$PIDS/$1.pid" pid started
  [ -f "$file" ] || return 1
  read -r pid started < "$file" || return 1
  [ -n "$pid" ] && [ -n "$started" ] && [ "$(start_time "$pid")" = "$started" ]
}

stop_pid() { # NAME: TERM, then KILL after 15 s; only the process we recorded
  local file="$PIDS/$1.pid" pid started i
  if alive "$1"; then
    read -r pid started < "$file"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 150); do alive "$1" || break; sleep 0.1; done
    if alive "$1"; then kill -KILL "$pid" 2>/dev/null || true; fi
    log "stopped $1 (pid $pid)"
  fi
  rm -f "$file"
}

wait_for() { # SECONDS CMD...: poll until CMD succeeds
  local limit="$1" i; shift
  for i in $(seq $((limit * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

# ---- sshd -------------------------------------------------------------------------------------------------------
SSH="$BASE/ssh"
ssh_probe() {
  ssh -F none -p "$SSH_PORT" -i "$SSH/client_ed25519" -o IdentitiesOnly=yes -o UserKnownHostsFile="$SSH/known_hosts" \
    -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5 "$(id -un)@127.0.0.1" true
}
start_sshd() {
  alive sshd && return 0
  command -v /usr/sbin/sshd >/dev/null || { log "openssh-server is not installed (tools/ci/install-system.sh)"; return 1; }
  mkdir -p "$SSH" && chmod 700 "$SSH"
  [ -f "$SSH/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$SSH/host_ed25519"
  [ -f "$SSH/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$SSH/client_ed25519"
  cp "$SSH/client_ed25519.pub" "$SSH/authorized_keys"
  echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$SSH/host_ed25519.pub")" > "$SSH/known_hosts"
  cat > "$SSH/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $SSH_PORT
HostKey $SSH/host_ed25519
PidFile $SSH/sshd.pid
AuthorizedKeysFile $SSH/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
MaxSessions 100
MaxStartups 100:30:200
ClientAliveInterval 5
ClientAliveCountMax 3
CONF
  # sshd's compile-time privilege-separation dir (what Debian's unit creates).
  [ -d /run/sshd ] || mkdir -p -m 0755 /run/sshd
  /usr/sbin/sshd -D -e -f "$SSH/sshd_config" >> "$SSH/sshd.log" 2>&1 &
  record_pid sshd $!
  wait_for 10 ssh_probe || { log "sshd did not accept a login; see $SSH/sshd.log"; return 1; }
  log "sshd up on 127.0.0.1:$SSH_PORT (pid $(cut -d' ' -f1 "$PIDS/sshd.pid"))"
}
stop_sshd() { stop_pid sshd; }
is_up_sshd() { alive sshd; }
status_sshd() { if alive sshd; then echo "sshd: up (127.0.0.1:$SSH_PORT, pid $(cut -d' ' -f1 "$PIDS/sshd.pid"))"; else echo "sshd: down"; fi; }
inventory_sshd() {
  cat <<YAML
  loopback-ssh:
    kind: ssh
    hosts:
      - host: 127.0.0.1
        port: $SSH_PORT
        user: $(id -un)
        identityFile: $SSH/client_ed25519
        knownHosts: $SSH/known_hosts
        python: $REMOTE_PYTHON
        workDir: $BASE/remote/ssh
        slots: 2
YAML
}

# ---- Slurm (munged + slurmctld + slurmd) and a Ray head: tools/cluster/slurm.sh, tools/cluster/ray.sh -----------
# shellcheck source=tools/cluster/slurm.sh
. "$REPO/tools/cluster/slurm.sh"
# shellcheck source=tools/cluster/ray.sh
. "$REPO/tools/cluster/ray.sh"
_start_slurm_lib() { start_slurm "$BASE" && log "slurm up (SLURM_CONF=$BASE/slurm/slurm.conf)"; }
_stop_slurm_lib() { stop_slurm "$BASE"; }
is_up_slurm() { slurm_status "$BASE" >/dev/null; }
status_slurm() { slurm_status "$BASE" || true; }
inventory_slurm() {
  cat <<YAML
  loopback-slurm:
    kind: slurm
    python: $REMOTE_PYTHON
    workDir: $BASE/remote/slurm
    partition: debug
    time: "00:30:00"
    slurmEnv:
      SLURM_CONF: $BASE/slurm/slurm.conf
    maxJobs: 2
YAML
}
_start_ray_lib() { start_ray "$BASE" && log "ray up ($(ray_address))"; }
_stop_ray_lib() { stop_ray "$BASE"; }
is_up_ray() { ray_status "$BASE" >/dev/null; }
status_ray() { ray_status "$BASE" || true; }
inventory_ray() {
  cat <<YAML
  loopback-ray:
    kind: ray
    address: $(ray_address)
    python: $REMOTE_PYTHON
    workDir: $BASE/remote/ray
    maxJobs: 2
YAML
}

write_inventory() {
  local out="$BASE/executors.yaml" s
  {
    echo "# Written by tools/cluster/stack.sh up: the loopback executors (see README, \"Running on GPU hosts and clusters\")."
    echo "executors:"
    for s in "${SERVICES[@]}"; do if "is_up_$s"; then "inventory_$s"; fi; done
  } > "$out.tmp"
  mv "$out.tmp" "$out"
  log "wrote $out"
}

assert_loopback() {
  command -v ss >/dev/null || return 0
  local bad
  bad="$(ss -ltnp 2>/dev/null | awk -v p=":$SSH_PORT" '$4 ~ p"$" && $4 !~ /^127\./ {print}')"
  [ -z "$bad" ] || { log "a service listens beyond loopback: $bad"; return 1; }
}

case "${1:-status}" in
  up)
    for s in "${SERVICES[@]}"; do if declare -F "_start_${s}_lib" >/dev/null; then "_start_${s}_lib"; else "start_$s"; fi; done
    assert_loopback
    write_inventory
    ;;
  down)
    for (( i=${#SERVICES[@]}-1; i>=0; i-- )); do
      s="${SERVICES[$i]}"
      if declare -F "_stop_${s}_lib" >/dev/null; then "_stop_${s}_lib"; else "stop_$s"; fi
    done
    ;;
  status)
    for s in "${SERVICES[@]}"; do "status_$s"; done
    ;;
  *)
    echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
