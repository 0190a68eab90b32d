"""job.py: a worker request as a detached job (launch, follow, status, cancel), secrets only in the environment."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

JOB = Path(__file__).resolve().parents[1] / "empo_worker" / "job.py"
TOKEN = "hf_planted_secret_5e1f0c"

# A stand-in worker speaking the protocol: one event per step, then the result; reports whether the token arrived.
FAKE_WORKER = r"""
import json, os, sys, time
def send(message):
    # One write per line, as the real ProtocolWriter does: print() writes the newline apart, and a cancel's
    # KeyboardInterrupt landing between the two left a line without its end.
    sys.stdout.write(json.dumps(message) + "\n")
request = json.loads(sys.stdin.readline())
steps = request["payload"]["steps"]
send({"_tag": "ready", "protocol": 1, "pid": os.getpid()})
try:
    for step in range(steps):
        send({"_tag": "event", "id": request["id"], "event": {"step": step}})
        time.sleep(request["payload"]["sleep"])
except KeyboardInterrupt:
    send({"_tag": "error", "id": request["id"], "kind": "cancelled", "type": "Cancelled", "message": "cancelled", "traceback": ""})
    sys.exit(130)
send({"_tag": "result", "id": request["id"], "value": {"tokenLength": len(os.environ.get("HF_TOKEN", ""))}})
"""


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(JOB), *args], input=stdin, capture_output=True, text=True, timeout=60)


def start(job: Path, steps: int, sleep: float) -> int:
    job.mkdir(parents=True)
    (job / "request.ndjson").write_text(json.dumps({"id": 1, "_tag": "train", "payload": {"steps": steps, "sleep": sleep}}) + "\n")
    launched = run("launch", str(job), stdin=json.dumps({"argv": [sys.executable, "-u", "-c", FAKE_WORKER], "env": {"HF_TOKEN": TOKEN}}))
    assert launched.returncode == 0, launched.stderr
    return int(json.loads(launched.stdout)["pid"])


def test_a_job_runs_detached_and_is_followed_from_any_line(tmp_path: Path) -> None:
    job = tmp_path / "jobs" / "k1"
    pid = start(job, steps=5, sleep=0.05)
    # A second launch of the same key returns the first job instead of starting another.
    again = run("launch", str(job), stdin=json.dumps({"argv": ["false"], "env": {}}))
    assert json.loads(again.stdout)["pid"] == pid
    followed = run("follow", str(job), "0").stdout.strip().splitlines()
    messages = [json.loads(line) for line in followed]
    assert [m["_tag"] for m in messages] == ["ready"] + ["event"] * 5 + ["result", "jobExit"]
    assert messages[-2]["value"] == {"tokenLength": len(TOKEN)}
    assert messages[-1]["state"] == "exited" and messages[-1]["code"] == 0 and messages[-1]["lines"] == 7
    # Following again from line 4 replays only the rest (what a reconnecting follower does).
    tail = [json.loads(line)["_tag"] for line in run("follow", str(job), "4").stdout.strip().splitlines()]
    assert tail == ["event", "event", "result", "jobExit"]
    assert json.loads(run("status", str(job)).stdout)["state"] == "exited"
    # The token reached the worker's environment but no file of the job.
    for file in job.rglob("*"):
        if file.is_file():
            assert TOKEN not in file.read_text(errors="replace"), file


def test_cancel_interrupts_the_worker_and_records_its_exit(tmp_path: Path) -> None:
    job = tmp_path / "k2"
    start(job, steps=1000, sleep=0.05)
    deadline = time.time() + 30
    while time.time() < deadline and not (job / "events.ndjson").exists():
        time.sleep(0.05)
    assert json.loads(run("status", str(job)).stdout)["state"] == "running"
    cancelled = json.loads(run("cancel", str(job), "5").stdout)
    assert cancelled["state"] == "exited" and cancelled["code"] == 130
    tags = [json.loads(line)["_tag"] for line in (job / "events.ndjson").read_text().splitlines()]
    assert tags[-1] == "error"


def test_status_of_a_job_never_launched_is_unknown(tmp_path: Path) -> None:
    status = json.loads(run("status", str(tmp_path / "nothing")).stdout)
    assert status["state"] == "unknown" and "no job was launched" in status["reason"]
    refused = run("launch", str(tmp_path / "no-request"), stdin=json.dumps({"argv": ["true"], "env": {}}))
    assert refused.returncode == 2 and "request.ndjson" in refused.stderr
