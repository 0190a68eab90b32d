"""Training with gpus > 1: the generated accelerate config, and a real two-process DDP run (gloo on CPU) behind
the worker protocol, rank 0 alone reporting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from empo_worker.multi_gpu import accelerate_config, launch_argv
from empo_worker.protocol import InputFault


def test_the_config_is_ddp_by_default_and_passes_deepspeed_and_fsdp_options_through() -> None:
    ddp = accelerate_config(4)
    assert ddp["distributed_type"] == "MULTI_GPU" and ddp["num_processes"] == 4 and ddp["mixed_precision"] == "bf16"
    deepspeed = accelerate_config(2, "deepspeed", {"zero_stage": 3, "offload_optimizer_device": "cpu"})
    assert deepspeed["distributed_type"] == "DEEPSPEED"
    assert deepspeed["deepspeed_config"] == {"zero_stage": 3, "offload_optimizer_device": "cpu"}
    fsdp = accelerate_config(8, "fsdp", {"fsdp_sharding_strategy": "FULL_SHARD"})
    assert fsdp["distributed_type"] == "FSDP" and fsdp["fsdp_config"]["fsdp_sharding_strategy"] == "FULL_SHARD"
    assert accelerate_config(2, cpu=True)["distributed_type"] == "MULTI_CPU"
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
