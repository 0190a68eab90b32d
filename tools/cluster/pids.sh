# PID records shared by the loopback stack's pieces (sourced, not run). A record is `PID STARTTIME` in
# <dir>/NAME.pid, the start time being field 22 of /proc/PID/stat: a recycled PID never matches, so the stack
# only ever signals the processes it started itself. Nothing is ever killed by name.

cluster_starttime() { # PID -> start time in clock ticks, empty when gone
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  # Field 2 (comm) may hold spaces; everything after the last ')' is space-separated from field 3 on.
  stat=${stat##*) }
  set -- $stat
  echo "${20}"
}

cluster_record() { # DIR NAME PID: records a process the stack just started
  echo "$3 $(cluster_starttime "$3")" > "$1/$2.pid"
}

cluster_alive() { # DIR NAME: true when the recorded process is still the one started (zombies count as dead)
  local file="$1/$2.pid" pid start state
  [ -f "$file" ] || return 1
  read -r pid start < "$file" || return 1
  [ -n "$pid" ] && [ "$(cluster_starttime "$pid")" = "$start" ] || return 1
  state=$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
  [ "$state" != "Z" ]
}

cluster_pid() { # DIR NAME -> the recorded PID
  local pid _
  read -r pid _ < "$1/$2.pid" && echo "$pid"
}

cluster_stop() { # DIR NAME [SIGNAL]: TERM (or SIGNAL), KILL after 15 s; removes the record
  local dir="$1" name="$2" signal="${3:-TERM}" pid i
  if cluster_alive "$dir" "$name"; then
    pid=$(cluster_pid "$dir" "$name")
    kill "-$signal" "$pid" 2>/dev/null || true
    for i in $(seq 150); do cluster_alive "$dir" "$name" || break; sleep 0.1; done
    if cluster_alive "$dir" "$name"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$dir/$name.pid"
}

cluster_wait() { # SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds; fails after SECONDS
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}
