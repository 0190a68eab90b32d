"""A training request on several GPUs: ``accelerate launch`` with a generated config, behind the worker protocol.

    python -m empo_worker.multi_gpu --processes N [--backend ddp|deepspeed|fsdp] [--option key=value ...] [--cpu]

Reads one ``train`` request line on stdin (as the worker does), writes it and a generated accelerate config into
the current directory, and runs ``accelerate launch --config_file accelerate.json -m empo_worker.multi_gpu --rank-main
request.json``. Every process trains (DDP by default); only rank 0 speaks the protocol on stdout, so whoever
follows this command (a local bridge, ``job.py``, a Slurm job, a Ray task) sees what one worker would print.

``--backend deepspeed`` / ``fsdp`` pass ``--option`` values through into the config's ``deepspeed_config`` /
``fsdp_config`` (``--option zero_stage=2``, ``--option fsdp_sharding_strategy=FULL_SHARD``); accelerate documents the
keys. ``--cpu`` runs the processes on CPU cores with gloo (tests; ``MULTI_CPU``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from empo_worker.protocol import PROTOCOL_VERSION, InputFault, ProtocolWriter, install

BACKENDS = ("ddp", "deepspeed", "fsdp")


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def accelerate_config(processes: int, backend: str = "ddp", options: dict[str, Any] | None = None, cpu: bool = False) -> dict[str, Any]:
    """The accelerate config of one run: `processes` GPUs (or CPU processes) on one machine."""
    if backend not in BACKENDS:
        raise InputFault(f"backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    if processes < 1:
        raise InputFault(f"processes must be ≥ 1, got {processes}")
    options = options or {}
    config: dict[str, Any] = {
        "compute_environment": "LOCAL_MACHINE",
        "distributed_type": "MULTI_CPU" if cpu else ("MULTI_GPU" if backend == "ddp" else backend.upper()),
        "num_machines": 1,
        "machine_rank": 0,
        "num_processes": processes,
        "main_training_function": "main",
        "mixed_precision": "no" if cpu else "bf16",
        "use_cpu": cpu,
        "rdzv_backend": "static",
        "same_network": True,
    }
    if backend == "deepspeed":
        config["deepspeed_config"] = {"zero_stage": 2, **options}
    elif backend == "fsdp":
        config["fsdp_config"] = {"fsdp_version": 2, **options}
    elif options:
        raise InputFault(f"--option {', '.join(options)}: ddp takes no options (deepspeed and fsdp do)")
    return config


def launch_argv(python: str, config_file: Path, request_file: Path, port: int | None = None) -> list[str]:
    argv = [python, "-m", "accelerate.commands.launch", "--config_file", str(config_file)]
    if port is not None:
        argv += ["--main_process_port", str(port)]
    return argv + ["-m", "empo_worker.multi_gpu", "--rank-main", str(request_file)]


def rank_main(request_file: Path) -> int:
    """One process of the run: trains; rank 0 alone writes the protocol (events, then the result or an error)."""
    from empo_worker import train

    message = json.loads(request_file.read_text(encoding="utf-8"))
    main = int(os.environ.get("RANK", "0")) == 0
    writer = install()
    request_id = message.get("id")

    def emit(event: dict[str, Any]) -> None:
        if main:
            writer.send({"_tag": "event", "id": request_id, "event": event})

    try:
        value = train.run(message.get("payload") or {}, emit, threading.Event())
    except InputFault as error:
        if main:
            writer.send({"_tag": "error", "id": request_id, "kind": "input", "type": "InputFault", "message": str(error), "traceback": ""})
        return 2
    if main:
        writer.send({"_tag": "result", "id": request_id, "value": value})
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="empo_worker.multi_gpu")
    parser.add_argument("--rank-main", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--backend", default="ddp")
    parser.add_argument("--option", action="append", default=[], help="key=value for deepspeed_config / fsdp_config")
    parser.add_argument("--cpu", action="store_true")
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    if args.rank_main is not None:
        return rank_main(args.rank_main)
    writer: ProtocolWriter = install()
    writer.send({"_tag": "ready", "protocol": PROTOCOL_VERSION, "pid": os.getpid()})
    line = sys.stdin.readline()
    try:
        message = json.loads(line)
        if message.get("_tag") != "train":
            raise InputFault(f"multi_gpu runs `train` requests only, got {message.get('_tag')!r}")
        options = dict(item.split("=", 1) for item in args.option)
        config = accelerate_config(args.processes, args.backend, {k: _value(v) for k, v in options.items()}, args.cpu)
    except (ValueError, InputFault) as error:
        writer.send({"_tag": "error", "id": None, "kind": "input", "type": type(error).__name__, "message": str(error), "traceback": ""})
        return 2
    Path("request.json").write_text(json.dumps(message), encoding="utf-8")
    Path("accelerate.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    # Rank 0's stdout is our stdout (the protocol); accelerate's own chatter goes to stderr.
    done = subprocess.run(launch_argv(sys.executable, Path("accelerate.json"), Path("request.json"), args.port),
                          stdout=sys.__stdout__, stderr=sys.stderr, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
