"""The Ray driver against a real Ray head on loopback (tools/cluster/ray.sh): the unchanged worker runs as a task,
its protocol lines reach the driver's stdout as they are printed, and SIGINT cancels the task."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from conftest import REPO

pytest.importorskip("ray")
PORT = "6391"
DRIVER = REPO / "python" / "empo_worker" / "ray_driver.py"


def stack(command: str, base: Path) -> None:
    subprocess.run(["bash", "-c", f'. "{REPO}/tools/cluster/ray.sh" && {command} "$1"', "bash", str(base)],
                   check=True, env={**os.environ, "EMPO_RAY_PORT": PORT, "EMPO_PYTHON": sys.executable}, timeout=120)


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # Ray's unix sockets must fit in 107 bytes: a short base dir.
    base = Path(f"/tmp/empo-ray-{os.getpid()}")
    stack("start_ray", base)
    try:
        yield f"127.0.0.1:{PORT}"
    finally:
        stack("stop_ray", base)


def driver(address: str, request: dict, worker: list[str], tmp: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-u", str(DRIVER), "--address", address, "--num-gpus", "0", "--task-file", str(tmp / "task"), "--", *worker],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=(tmp / "driver.err").open("w"), text=True,
        env={**os.environ, "EMPO_PLANTED": "yes"},
    )
    assert process.stdin is not None
    process.stdin.write(json.dumps(request) + "\n")
    process.stdin.close()
    return process


def test_the_worker_runs_as_a_ray_task_and_streams_its_protocol(ray_head: str, tmp_path: Path) -> None:
    worker = [sys.executable, "-u", str(REPO / "python" / "worker.py")]
    process = driver(ray_head, {"id": 1, "_tag": "throughput", "payload": {"count": 20}}, worker, tmp_path)
    assert process.stdout is not None
    messages = [json.loads(line) for line in process.stdout]
    assert process.wait(timeout=120) == 0, (tmp_path / "driver.err").read_text()[-2000:]
    assert messages[0]["_tag"] == "ready" and messages[0]["pid"] != process.pid
    assert len([m for m in messages if m["_tag"] == "event"]) == 20
    assert messages[-1] == {"_tag": "result", "id": 1, "value": {"count": 20, "seconds": messages[-1]["value"]["seconds"]}}
    assert len((tmp_path / "task").read_text()) > 8


def test_lines_arrive_while_the_task_runs_and_sigint_cancels_it(ray_head: str, tmp_path: Path) -> None:
    marker = tmp_path / "still-running"
    slow = [sys.executable, "-u", "-c",
            "import json, os, sys, time\n"
            "for i in range(600):\n"
            f"    open({str(marker)!r}, 'w').write(str(i))\n"
            "    print(json.dumps({'_tag': 'event', 'id': 1, 'event': {'i': i, 'env': os.environ.get('EMPO_PLANTED')}}), flush=True)\n"
            "    time.sleep(0.1)\n"]
    process = driver(ray_head, {"id": 1, "_tag": "noop"}, slow, tmp_path)
    assert process.stdout is not None
    first = json.loads(process.stdout.readline())
    assert first["event"] == {"i": 0, "env": "yes"}
    json.loads(process.stdout.readline())
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 130
    # The task's worker is gone: the marker stops changing.
    time.sleep(1.5)
    before = marker.read_text()
    time.sleep(1.0)
    assert marker.read_text() == before
