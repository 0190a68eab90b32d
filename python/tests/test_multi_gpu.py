"""Training with gpus > 1: the generated accelerate config, and a real two-process DDP run (gloo on CPU) behind
the worker protocol, rank 0 alone reporting."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO
from empo_worker.multi_gpu import accelerate_config, launch_argv
from empo_worker.protocol import PREEMPTED_EXIT, InputFault


def test_the_config_is_ddp_by_default_and_passes_deepspeed_and_fsdp_options_through() -> None:
    ddp = accelerate_config(4)
    assert ddp["distributed_type"] == "MULTI_GPU" and ddp["num_processes"] == 4 and ddp["mixed_precision"] == "bf16"
    deepspeed = accelerate_config(2, "deepspeed", {"zero_stage": 3, "offload_optimizer_device": "cpu"})
    assert deepspeed["distributed_type"] == "DEEPSPEED"
    assert deepspeed["deepspeed_config"] == {"zero_stage": 3, "offload_optimizer_device": "cpu"}
    fsdp = accelerate_config(8, "fsdp", {"fsdp_sharding_strategy": "FULL_SHARD"})
    assert fsdp["distributed_type"] == "FSDP" and fsdp["fsdp_config"]["fsdp_sharding_strategy"] == "FULL_SHARD"
    on_cpu = accelerate_config(2, cpu=True)
    assert on_cpu["distributed_type"] == "MULTI_GPU" and on_cpu["use_cpu"] is False and on_cpu["mixed_precision"] == "no"
    with pytest.raises(InputFault, match="--cpu runs DDP"):
        accelerate_config(2, "deepspeed", cpu=True)
    with pytest.raises(InputFault, match="expected one of ddp, deepspeed, fsdp"):
        accelerate_config(2, "horovod")
    with pytest.raises(InputFault, match="ddp takes no options"):
        accelerate_config(2, "ddp", {"zero_stage": 2})
    argv = launch_argv("/py", Path("/j/accelerate.json"), Path("/j/request.json"))
    assert argv[:5] == ["/py", "-m", "accelerate.commands.launch", "--config_file", "/j/accelerate.json"]
    assert argv[-3:] == ["empo_worker.multi_gpu", "--rank-main", "/j/request.json"]


def test_two_processes_train_one_model_and_speak_the_protocol_once(tiny_model: Path, data: dict, tmp_path: Path) -> None:
    request = {"id": 1, "_tag": "train", "payload": {
        "stage": "sft", "model": str(tiny_model), "trainData": str(data["sft"]), "outputDir": str(tmp_path / "out"),
        "hyper": {"batchSize": 2, "maxSteps": 3, "maxLength": 64, "learningRate": 1e-3}}}
    done = subprocess.run(
        [sys.executable, "-m", "empo_worker.multi_gpu", "--processes", "2", "--cpu", "--port", "29617"],
        input=json.dumps(request) + "\n", capture_output=True, text=True, cwd=tmp_path, timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO / "python"), "EMPO_TORCH_THREADS": "1", "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    messages = [json.loads(line) for line in done.stdout.splitlines()]
    assert messages[0]["_tag"] == "ready"
    events = [m["event"] for m in messages if m["_tag"] == "event"]
    assert len([e for e in events if e["_tag"] == "started"]) == 1
    assert [e["step"] for e in events if e["_tag"] == "log"] == [1, 2, 3]
    assert messages[-1] == {"_tag": "result", "id": 1, "value": {"outputDir": str(tmp_path / "out"), "steps": 3}}
    assert (tmp_path / "out" / "model.safetensors").is_file()
    assert json.loads((tmp_path / "accelerate.json").read_text())["num_processes"] == 2
    # Two processes really trained (each rank records its pid), though one spoke.
    assert sorted(p.name for p in (tmp_path / "ranks").iterdir()) == ["0", "1"]


def _start(request: dict, cwd: Path, stderr: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "empo_worker.multi_gpu", "--processes", "2", "--cpu"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr.open("w"), text=True, cwd=cwd, start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "python"), "EMPO_TORCH_THREADS": "1", "OMP_NUM_THREADS": "1"},
    )
    assert process.stdin is not None
    process.stdin.write(json.dumps({"id": 1, "_tag": "train", "payload": request}) + "\n")
    process.stdin.close()
    return process


def _alive(pid: int) -> bool:
    try:
        return b"--rank-main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@pytest.mark.parametrize("target", ["command", "every process"])
def test_sigusr1_reaches_every_rank_one_checkpoint_and_the_rerun_resumes(target: str, tiny_model: Path, data: dict, tmp_path: Path) -> None:
    """USR1 to the command alone (job.py passing Slurm's `B:` signal on) or to every process of it (Slurm signalling
    a step): the ranks agree on one step, save one checkpoint, and the command exits 75 without answering; run
    again, it resumes from that step."""
    checkpoints = tmp_path / "checkpoints"
    request = {"stage": "sft", "model": str(tiny_model), "trainData": str(data["sft"]), "outputDir": str(tmp_path / "out"),
               "checkpointDir": str(checkpoints), "seed": 1,
               "hyper": {"batchSize": 2, "maxSteps": 12, "maxLength": 64, "learningRate": 1e-3, "saveSteps": 1000}}
    first = _start(request, tmp_path, tmp_path / "first.err")
    assert first.stdout is not None
    messages = []
    for line in first.stdout:
        messages.append(json.loads(line))
        if messages[-1].get("_tag") == "event" and messages[-1]["event"]["_tag"] == "log" and messages[-1]["event"]["step"] >= 2:
            if target == "command":
                first.send_signal(signal.SIGUSR1)
            else:
                os.killpg(first.pid, signal.SIGUSR1)
            break
    messages += [json.loads(line) for line in first.stdout]
    assert first.wait(timeout=300) == PREEMPTED_EXIT, (tmp_path / "first.err").read_text()[-3000:]
    assert not [m for m in messages if m["_tag"] in ("result", "error")]
    saved = [m["event"] for m in messages if m["_tag"] == "event" and m["event"]["_tag"] == "checkpoint"]
    assert len(saved) == 1
    stopped_at = saved[0]["step"]
    assert 2 <= stopped_at < 12 and (checkpoints / f"checkpoint-{stopped_at}" / "trainer_state.json").is_file()
    ranks = [int(p.read_text()) for p in (tmp_path / "ranks").iterdir()]
    assert len(ranks) == 2 and not any(_alive(pid) for pid in ranks)

    rerun = _start(request, tmp_path, tmp_path / "second.err")
    assert rerun.stdout is not None
    answers = [json.loads(line) for line in rerun.stdout]
    assert rerun.wait(timeout=300) == 0, (tmp_path / "second.err").read_text()[-3000:]
    events = [m["event"] for m in answers if m["_tag"] == "event"]
    started = [e for e in events if e["_tag"] == "started"]
    assert len(started) == 1 and started[0]["resumedFromStep"] == stopped_at
    assert min(e["step"] for e in events if e["_tag"] == "log") == stopped_at + 1
    assert answers[-1]["_tag"] == "result" and answers[-1]["value"]["steps"] == 12


def test_sigint_stops_the_launcher_and_leaves_no_rank_behind(tiny_model: Path, data: dict, tmp_path: Path) -> None:
    request = {"stage": "sft", "model": str(tiny_model), "trainData": str(data["sft"]), "outputDir": str(tmp_path / "out"),
               "hyper": {"batchSize": 2, "maxSteps": 500, "maxLength": 64, "learningRate": 1e-3}}
    process = _start(request, tmp_path, tmp_path / "err")
    assert process.stdout is not None
    for line in process.stdout:
        message = json.loads(line)
        if message.get("_tag") == "event" and message["event"]["_tag"] == "log":
            break
    ranks = [int(p.read_text()) for p in (tmp_path / "ranks").iterdir()]
    assert len(ranks) == 2 and all(_alive(pid) for pid in ranks)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) != 0
    deadline = time.time() + 10
    while time.time() < deadline and any(_alive(pid) for pid in ranks):
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in ranks)
    assert not (tmp_path / "out" / "model.safetensors").exists()
