#!/usr/bin/env bash
# Debian packages the test suites use (tmux for the real-terminal TUI test, openssh-server for the loopback SSH
# executor of tools/cluster/stack.sh). Root only, no-op when present.
set -euo pipefail
need=()
for pkg in tmux openssh-server; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# The loopback cluster stack's single-node Slurm (tools/cluster/slurm.sh).
for pkg in slurmctld slurmd slurm-client munge; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "missing Debian packages: ${need[*]} (run as root or install them)"; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
