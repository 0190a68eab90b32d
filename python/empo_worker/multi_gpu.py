"""A training request on several GPUs: ``accelerate launch`` with a generated config, behind the worker protocol.

    python -m empo_worker.multi_gpu --processes N [--backend ddp|deepspeed|fsdp] [--option key=value ...] [--cpu]

Reads one ``train`` request line on stdin (as the worker does), writes it and a generated accelerate config into
the current directory, and runs ``accelerate launch --config_file accelerate.json -m empo_worker.multi_gpu --rank-main
request.json``. Every process trains (DDP by default); only rank 0 speaks the protocol on stdout, so whoever
follows this command (a local bridge, ``job.py``, a Slurm job, a Ray task) sees what one worker would print.

``--backend deepspeed`` / ``fsdp`` pass ``--option`` values through into the config's ``deepspeed_config`` /
``fsdp_config`` (``--option zero_stage=2``, ``--option fsdp_sharding_strategy=FULL_SHARD``); accelerate documents the
keys. ``--cpu`` runs the processes on CPU cores with gloo (DDP; tests and machines without GPUs).

Signals: SIGUSR1 (Slurm's warning before the time limit) reaches every rank; they agree on the step, save one
checkpoint and stop, and this command exits 75 as the single worker does (the batch script requeues the job).
SIGINT/SIGTERM stop the launcher and its ranks.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from empo_worker.protocol import PREEMPTED_EXIT, PREEMPTION, PROTOCOL_VERSION, InputFault, Preempted, ProtocolWriter, install

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
    if cpu and backend != "ddp":
        raise InputFault(f"--cpu runs DDP (gloo) only, not {backend}")
    config: dict[str, Any] = {
        "compute_environment": "LOCAL_MACHINE",
        # On CPU too: accelerate's MULTI_CPU (`use_cpu`) starts ONE process unless MPI is set up; the torchrun launcher
        # of MULTI_GPU starts N, which, seeing no GPU (CUDA_VISIBLE_DEVICES=""), train on CPU with gloo.
        "distributed_type": "MULTI_GPU" if backend == "ddp" else backend.upper(),
        "num_machines": 1,
        "machine_rank": 0,
        "num_processes": processes,
        "main_training_function": "main",
        "mixed_precision": "no" if cpu else "bf16",
        "use_cpu": False,
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


RANK_PIDS = "ranks"
PREEMPTED_MARK = "preempted"


def rank_main(request_file: Path) -> int:
    """One process of the run: trains; rank 0 alone writes the protocol (events, then the result or an error).

    Each rank records its pid under ``ranks/`` (beside the request) so the launching process can pass SIGUSR1 on:
    accelerate's launcher forwards only the terminating signals."""
    from empo_worker import train

    message = json.loads(request_file.read_text(encoding="utf-8"))
    rank = int(os.environ.get("RANK", "0"))
    main = rank == 0
    writer = install()
    request_id = message.get("id")
    signal.signal(signal.SIGUSR1, lambda _signum, _frame: PREEMPTION.set())
    pids = request_file.parent / RANK_PIDS
    pids.mkdir(exist_ok=True)
    (pids / str(rank)).write_text(str(os.getpid()))

    def emit(event: dict[str, Any]) -> None:
        if main:
            writer.send({"_tag": "event", "id": request_id, "event": event})

    try:
        value = train.run(message.get("payload") or {}, emit, threading.Event())
    except InputFault as error:
        if main:
            writer.send({"_tag": "error", "id": request_id, "kind": "input", "type": "InputFault", "message": str(error), "traceback": ""})
        return 2
    except Preempted as error:
        # No answer (as the single worker): the requeued job runs the request again and resumes from the checkpoint.
        if main:
            print(f"preempted: {error}", file=sys.stderr, flush=True)
            (request_file.parent / PREEMPTED_MARK).write_text(str(error))
        return PREEMPTED_EXIT
    if main:
        writer.send({"_tag": "result", "id": request_id, "value": value})
    return 0


def free_port() -> int:
    """A free TCP port for the ranks' rendezvous: two runs on one host must not both take accelerate's 29500."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _signal_ranks(signum: int) -> None:
    for pid_file in Path(RANK_PIDS).glob("*"):
        try:
            pid = int(pid_file.read_text())
            # Only a rank of ours: a pid recorded by a rank that exited may since name another process.
            if b"--rank-main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signum)
        except (OSError, ValueError):
            pass


def run_launcher(argv: list[str], extra_env: dict[str, str]) -> int:
    """Runs ``accelerate launch`` and relays signals: SIGUSR1 to every rank (checkpoint, then stop: exit 75),
    SIGINT/SIGTERM to the launcher, which stops its ranks. No rank outlives this process."""
    Path(PREEMPTED_MARK).unlink(missing_ok=True)
    shutil.rmtree(RANK_PIDS, ignore_errors=True)
    # Rank 0's stdout is our stdout (the protocol); accelerate's own chatter goes to stderr.
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **extra_env}
    # Slurm signals every process of a step: the launcher must outlive a USR1 (its default action is to die, and the
    # ranks, saving their checkpoint, would be orphaned). Each rank installs its own USR1 handler over the inherited
    # SIG_IGN.
    launcher = subprocess.Popen(argv, stdout=sys.__stdout__, stderr=sys.stderr, env=env,
                                preexec_fn=lambda: signal.signal(signal.SIGUSR1, signal.SIG_IGN))
    signal.signal(signal.SIGUSR1, lambda signum, _frame: _signal_ranks(signum))
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, lambda _signum, _frame: launcher.send_signal(signal.SIGTERM))
    code = launcher.wait()
    _signal_ranks(signal.SIGKILL)
    if Path(PREEMPTED_MARK).exists():
        return PREEMPTED_EXIT
    return code


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="empo_worker.multi_gpu")
    parser.add_argument("--rank-main", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--backend", default="ddp")
    parser.add_argument("--option", action="append", default=[], help="key=value for deepspeed_config / fsdp_config")
    parser.add_argument("--cpu", action="store_true")
    parser.add_argument("--port", type=int, default=None, help="the rendezvous port (default: a free one)")
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
    port = args.port if args.port is not None else free_port()
    return run_launcher(launch_argv(sys.executable, Path("accelerate.json"), Path("request.json"), port),
                        {"CUDA_VISIBLE_DEVICES": ""} if args.cpu else {})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
