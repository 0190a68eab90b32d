"""SIGUSR1 (Slurm's time-limit warning): the worker checkpoints, exits 75 without answering, and a rerun of the
same request resumes from that checkpoint, its step count continuing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from conftest import REPO
from empo_worker.protocol import PREEMPTED_EXIT


def start_worker(request: dict, stderr: Path) -> subprocess.Popen[str]:
    worker = subprocess.Popen(
        [sys.executable, "-u", str(REPO / "python" / "worker.py")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr.open("w"), text=True,
        env={**os.environ, "EMPO_TORCH_THREADS": "1"},
    )
    assert worker.stdin is not None
    worker.stdin.write(json.dumps({"id": 1, "_tag": "train", "payload": request}) + "\n")
    worker.stdin.close()
    return worker


def test_sigusr1_saves_a_checkpoint_and_the_rerun_resumes_from_it(tiny_model: Path, data: dict, tmp_path: Path) -> None:
    checkpoints = tmp_path / "checkpoints"
    request = {"stage": "sft", "model": str(tiny_model), "trainData": str(data["sft"]), "outputDir": str(tmp_path / "out"),
               "checkpointDir": str(checkpoints), "seed": 1,
               "hyper": {"batchSize": 4, "maxSteps": 10, "maxLength": 96, "learningRate": 1e-3, "saveSteps": 1000}}
    worker = start_worker(request, tmp_path / "first.err")
    assert worker.stdout is not None
    messages = []
    for line in worker.stdout:
        messages.append(json.loads(line))
        if messages[-1].get("_tag") == "event" and messages[-1]["event"]["_tag"] == "log" and messages[-1]["event"]["step"] >= 2:
            worker.send_signal(signal.SIGUSR1)
            break
    messages += [json.loads(line) for line in worker.stdout]
    assert worker.wait(timeout=120) == PREEMPTED_EXIT, (tmp_path / "first.err").read_text()[-2000:]
    # No answer to the request: the requeued job answers it.
    assert not [m for m in messages if m["_tag"] in ("result", "error")]
    saved = [e["event"] for e in messages if e["_tag"] == "event" and e["event"]["_tag"] == "checkpoint"]
    assert len(saved) == 1
    stopped_at = saved[0]["step"]
    assert 2 <= stopped_at < 10 and (checkpoints / f"checkpoint-{stopped_at}" / "trainer_state.json").is_file()
    assert not (tmp_path / "out").exists()

    rerun = start_worker(request, tmp_path / "second.err")
    assert rerun.stdout is not None
    answers = [json.loads(line) for line in rerun.stdout]
    assert rerun.wait(timeout=300) == 0, (tmp_path / "second.err").read_text()[-2000:]
    events = [m["event"] for m in answers if m["_tag"] == "event"]
    started = next(e for e in events if e["_tag"] == "started")
    assert started["resumedFromStep"] == stopped_at and started["startStep"] == stopped_at
    assert min(e["step"] for e in events if e["_tag"] == "log") == stopped_at + 1
    assert answers[-1]["_tag"] == "result" and answers[-1]["value"]["steps"] == 10
