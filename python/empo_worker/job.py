"""A worker request as a detached job on a remote host: the runner-independent half of the executor contract.

Stdlib only; run as a script (``python <root>/empo_worker/job.py <command> <job dir>``), so it works before and
without the worker's own imports. The job dir holds ``job.json`` (the worker argv, written by ``launch``),
``request.ndjson`` (the request line, written by the runner), ``events.ndjson`` (the worker's stdout: the
protocol), ``stderr.log``, ``supervisor.pid`` / ``worker.pid`` (``pid starttime``) and ``exit.json`` at the end.

Commands:
  launch DIR      reads ``{"argv": [...], "env": {...}}`` on stdin (secrets travel only here, into the process
                  environment: never into argv or files), starts the supervisor in its own session and prints
                  ``{"pid": n}``; a second launch of a live or finished job prints the first one's pid.
  supervise DIR   (internal) runs the worker with stdin/stdout/stderr redirected, records its exit status.
  status DIR      prints ``{"state": "running"|"exited"|"unknown", ...}``.
  follow DIR N    prints the protocol lines from line N (0-based) as they are written, then one
                  ``{"_tag": "jobExit", ...}`` line once the job ended and every line was printed.
  cancel DIR      SIGINT to the worker (the worker reports ``cancelled``), then SIGTERM, SIGKILL after a grace.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

POLL_SECONDS = 0.1


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] == "Z":
        return None
    return fields[19]


def _write_atomic(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text)
    os.replace(temp, path)


def _record_pid(path: Path, pid: int) -> None:
    _write_atomic(path, f"{pid} {_start_time(pid) or ''}\n")


def _alive(path: Path) -> int | None:
    """The pid recorded in ``path`` if that very process (same start time) still runs."""
    try:
        pid_text, _, started = path.read_text().strip().partition(" ")
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    now = _start_time(pid)
    return pid if now is not None and (started == "" or now == started) else None


def _exit_info(job: Path) -> dict[str, Any] | None:
    try:
        return json.loads((job / "exit.json").read_text())
    except (OSError, ValueError):
        return None


def launch(job: Path) -> int:
    spec = json.loads(sys.stdin.read() or "{}")
    argv = spec.get("argv")
    env = spec.get("env") or {}
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        print("launch: stdin must be {\"argv\": [non-empty list of strings], \"env\": {...}}", file=sys.stderr)
        return 2
    job.mkdir(parents=True, exist_ok=True)
    existing = _alive(job / "supervisor.pid")
    if existing is not None or _exit_info(job) is not None:
        pid = existing if existing is not None else int((job / "supervisor.pid").read_text().split()[0])
        print(json.dumps({"pid": pid, "existing": True}))
        return 0
    if not (job / "request.ndjson").exists():
        print(f"launch: {job / 'request.ndjson'} is missing", file=sys.stderr)
        return 2
    # job.json holds what is not secret; the environment only reaches the supervisor's (and so the worker's) env.
    _write_atomic(job / "job.json", json.dumps({"argv": argv}))
    child_env = {**os.environ, **{str(k): str(v) for k, v in env.items()}}
    with open(job / "supervisor.log", "ab") as log:
        process = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "supervise", str(job)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=child_env, start_new_session=True, close_fds=True,
        )
    _record_pid(job / "supervisor.pid", process.pid)
    print(json.dumps({"pid": process.pid, "existing": False}))
    return 0


def supervise(job: Path) -> int:
    # The supervisor outlives signals meant for the worker, so the exit status is always recorded.
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    argv = json.loads((job / "job.json").read_text())["argv"]
    worker: subprocess.Popen[bytes] | None = None

    def forward(signum: int, _frame: object) -> None:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signum)

    # TERM (scancel) and USR1 (Slurm's time-limit warning: checkpoint, then exit) go on to the worker.
    for forwarded in (signal.SIGTERM, signal.SIGUSR1):
        signal.signal(forwarded, forward)
    with open(job / "request.ndjson", "rb") as stdin, open(job / "events.ndjson", "ab") as stdout, \
            open(job / "stderr.log", "ab") as stderr:
        # The worker gets SIGINT back (the supervisor ignores it): a cancel reaches Python as KeyboardInterrupt.
        worker = subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr, cwd=str(job),
                                  preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        _record_pid(job / "worker.pid", worker.pid)
        code = worker.wait()
    info = {"code": code if code >= 0 else None, "signal": signal.Signals(-code).name if code < 0 else None,
            "finishedAt": time.time()}
    _write_atomic(job / "exit.json", json.dumps(info))
    return 0


def status(job: Path) -> dict[str, Any]:
    info = _exit_info(job)
    if info is not None:
        return {"state": "exited", **info}
    if _alive(job / "supervisor.pid") is not None:
        return {"state": "running"}
    if not (job / "supervisor.pid").exists():
        return {"state": "unknown", "reason": f"no job was launched in {job}"}
    return {"state": "unknown", "reason": "the job's supervisor died without recording an exit status"}


def follow(job: Path, start: int) -> int:
    events = job / "events.ndjson"
    index = 0
    offset = 0
    pending = b""
    while True:
        ended = status(job)
        chunk = b""
        if events.exists():
            with open(events, "rb") as handle:
                handle.seek(offset)
                chunk = handle.read()
            offset += len(chunk)
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if index >= start:
                sys.stdout.buffer.write(line + b"\n")
            index += 1
        sys.stdout.flush()
        # `ended` was read before the file: every line the worker wrote before it exited has been printed.
        if ended["state"] != "running":
            print(json.dumps({"_tag": "jobExit", "lines": index, **ended}), flush=True)
            return 0
        time.sleep(POLL_SECONDS)


def cancel(job: Path, grace: float) -> int:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        pid = _alive(job / "worker.pid")
        if pid is None:
            break
        os.kill(pid, sig)
        deadline = time.time() + grace
        while time.time() < deadline and _alive(job / "worker.pid") is not None:
            time.sleep(POLL_SECONDS)
    # A supervisor that lost its worker before recording (killed itself) leaves nothing running behind.
    supervisor = _alive(job / "supervisor.pid")
    if supervisor is not None and _exit_info(job) is None and _alive(job / "worker.pid") is None:
        deadline = time.time() + 2
        while time.time() < deadline and _exit_info(job) is None:
            time.sleep(POLL_SECONDS)
    print(json.dumps(status(job)))
    return 0


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    command, job = argv[0], Path(argv[1])
    if command == "launch":
        return launch(job)
    if command == "supervise":
        return supervise(job)
    if command == "status":
        print(json.dumps(status(job)))
        return 0
    if command == "follow":
        return follow(job, int(argv[2]) if len(argv) > 2 else 0)
    if command == "cancel":
        return cancel(job, float(argv[2]) if len(argv) > 2 else 10.0)
    print(f"unknown command {command!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
