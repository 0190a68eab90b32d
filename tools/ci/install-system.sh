#!/usr/bin/env bash
# Debian packages the test suites use. Root only, no-op when present.
#   tmux: the real-terminal TUI test; chromium: browser tests (rater app, report); openssh-server, slurm*, munge:
#   the loopback cluster stack (tools/cluster); texlive-*: the report's LaTeX tables compile with pdflatex.
set -euo pipefail
need=()
for pkg in tmux chromium fonts-dejavu-core openssh-server slurmctld slurmd slurm-client munge \
  texlive-latex-base texlive-latex-recommended texlive-fonts-recommended; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# The loopback cluster stack's single-node Slurm (tools/cluster/slurm.sh).
for pkg in slurmctld slurmd slurm-client munge; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "missing Debian packages: ${need[*]} (run as root or install them)"; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
