# A real single-node Slurm on 127.0.0.1 (munged + slurmctld + slurmd; no systemd, no cgroups), sourced by
# tools/cluster/stack.sh. Recipe and pitfalls: ../shared/docs/cluster-test-stack.md. Every path lives under
# $1/slurm and $1/munge; ports come from EMPO_SLURMCTLD_PORT / EMPO_SLURMD_PORT (6817 / 6818) so two stacks
# on one machine do not collide.
#   start_slurm BASE   idempotent: starts only what is not alive, waits for the node to be idle
#   stop_slurm BASE    cancels our jobs, waits for them to drain, stops the daemons it started (by PID)
#   slurm_status BASE  one line per daemon; exit 1 when one is down
#   slurm_inventory BASE   the `loopback-slurm` entry of .empo/cluster/executors.yaml (YAML, indented 2)
#   slurm_env BASE     `export SLURM_CONF=…` for a shell that wants sbatch/squeue against this cluster

# shellcheck source=tools/cluster/pids.sh
. "$(dirname "${BASH_SOURCE[0]}")/pids.sh"

_slurm_conf() { echo "$1/slurm/slurm.conf"; }

_slurm_write_conf() {
  local base="$1" conf cpus memory
  conf=$(_slurm_conf "$base")
  cpus=$(nproc)
  # Half the machine's memory, in MiB: enough for tiny-model jobs, never more than the node has.
  memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 2048 ))
  cat > "$conf" <<CONF
ClusterName=empo-loopback
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=${EMPO_SLURMCTLD_PORT:-6817}
SlurmdPort=${EMPO_SLURMD_PORT:-6818}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$base/munge/munge.socket.2
CredType=cred/munge
# Without these slurmctld listens on 0.0.0.0.
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
StateSaveLocation=$base/slurm/state
SlurmdSpoolDir=$base/slurm/spool
SlurmctldPidFile=$base/slurm/slurmctld.pid
SlurmdPidFile=$base/slurm/slurmd.pid
SlurmctldLogFile=$base/slurm/log/slurmctld.log
SlurmdLogFile=$base/slurm/log/slurmd.log
MailProg=/bin/true
MpiDefault=none
SwitchType=switch/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$base/slurm/log/jobcomp.txt
# No slurmdbd: the executor reads state from squeue/scontrol, as on clusters without accounting.
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# Submit -> running in ~0.5 s instead of ~3 s.
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
ReturnToService=2
MinJobAge=3600
KillWait=5
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
}

start_slurm() {
  local base="$1" conf
  conf=$(_slurm_conf "$base")
  mkdir -p "$base/pids" "$base/slurm/state" "$base/slurm/spool" "$base/slurm/log" "$base/slurm/work" "$base/munge"
  # munged refuses a socket directory that is not world-executable.
  chmod 755 "$base/munge"
  [ -f "$base/munge/munge.key" ] || mungekey -c -k "$base/munge/munge.key"
  _slurm_write_conf "$base"
  if ! cluster_alive "$base/pids" munged; then
    munged -F --key-file="$base/munge/munge.key" --socket="$base/munge/munge.socket.2" \
      --pid-file="$base/munge/munged.pid" --seed-file="$base/munge/munged.seed" \
      --log-file="$base/munge/munged.log" > "$base/munge/munged.out" 2>&1 &
    cluster_record "$base/pids" munged $!
  fi
  cluster_wait 10 bash -c "munge -n -S '$base/munge/munge.socket.2' | unmunge -S '$base/munge/munge.socket.2'" \
    || { echo "munged did not answer (see $base/munge/munged.log)" >&2; return 1; }
  if ! cluster_alive "$base/pids" slurmctld; then
    slurmctld -D -f "$conf" > "$base/slurm/log/slurmctld.out" 2>&1 &
    cluster_record "$base/pids" slurmctld $!
  fi
  if ! cluster_alive "$base/pids" slurmd; then
    # -N: the node is "localhost" whatever the machine's hostname.
    slurmd -D -N localhost -f "$conf" > "$base/slurm/log/slurmd.out" 2>&1 &
    cluster_record "$base/pids" slurmd $!
  fi
  SLURM_CONF="$conf" cluster_wait 30 scontrol ping \
    || { echo "slurmctld did not answer (see $base/slurm/log/slurmctld.log)" >&2; return 1; }
  SLURM_CONF="$conf" cluster_wait 30 bash -c "sinfo -h -N -o %T | grep -Eq '^(idle|mixed|allocated)'" \
    || { echo "the Slurm node did not come up (see $base/slurm/log/slurmd.log)" >&2; return 1; }
}

stop_slurm() {
  local base="$1" conf
  conf=$(_slurm_conf "$base")
  if cluster_alive "$base/pids" slurmctld; then
    # slurmstepd outlives slurmd: cancel and drain our jobs first, or they keep running.
    SLURM_CONF="$conf" scancel --full --quiet --user="$(id -un)" 2>/dev/null || true
    SLURM_CONF="$conf" cluster_wait 20 bash -c '[ -z "$(squeue -h -t PD,R,CG,S,CF,RQ,RS -o %i)" ]' || true
  fi
  cluster_stop "$base/pids" slurmd
  cluster_stop "$base/pids" slurmctld
  cluster_stop "$base/pids" munged
}

slurm_status() {
  local base="$1" name rc=0
  for name in munged slurmctld slurmd; do
    if cluster_alive "$base/pids" "$name"; then echo "$name: up (pid $(cluster_pid "$base/pids" "$name"))"
    else echo "$name: down"; rc=1; fi
  done
  return $rc
}

slurm_env() { echo "export SLURM_CONF=$(_slurm_conf "$1")"; }
