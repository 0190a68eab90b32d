"""Runs one worker request as a Ray task on an existing cluster, through Ray core only (no dashboard, no Jobs API).

    python ray_driver.py --address HOST:PORT [--num-gpus N] [--num-cpus N] [--task-file F] -- WORKER ARGV...

The request lines arrive on this driver's stdin; the task (scheduled with ``num_gpus``) starts the unchanged worker
on its node with those lines as stdin, and yields each protocol line as it is printed (a Ray streaming generator),
which the driver prints to stdout at once: whoever follows the driver's stdout sees the same NDJSON protocol as from
a local worker. The worker's files must be at the same paths on the node (a shared work dir). The environment
given to the task (``EMPO_*``, ``PYTHONPATH``, ``CUDA_*``, ``HF_*`` of this process) travels as a task argument, in
memory, never in a file or the task's name. SIGINT/SIGTERM cancel the task (``ray.cancel``) and exit 130.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any, Iterator

# Variables of this process the worker needs on its node; Ray's own and the shell's stay here.
FORWARDED_PREFIXES = ("EMPO_", "HF_", "CUDA_", "TORCH", "TOKENIZERS_", "TRANSFORMERS_", "PYTHON")


def forwarded_env(environ: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if k.startswith(FORWARDED_PREFIXES)}


def run_worker(argv: list[str], stdin: bytes, env: dict[str, str], cwd: str | None) -> Iterator[str]:
    """Body of the remote task: the worker as a child process, its stdout lines yielded as they come."""
    import subprocess

    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=cwd,
                               env={**os.environ, **env})
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(stdin)
    process.stdin.close()
    try:
        for raw in process.stdout:
            yield raw.decode("utf-8", errors="replace").rstrip("\n")
    finally:
        # A cancelled task stops its worker too.
        if process.poll() is None:
            process.terminate()
        code = process.wait()
    yield json.dumps({"_tag": "rayTaskExit", "code": code})


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    if "--" not in argv:
        raise SystemExit("ray_driver: the worker argv follows `--`")
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="ray_driver")
    parser.add_argument("--address", required=True)
    parser.add_argument("--num-gpus", type=float, default=0.0)
    parser.add_argument("--num-cpus", type=float, default=1.0)
    parser.add_argument("--task-file", default=None, help="where to write the task id (for status and cancel)")
    options = parser.parse_args(argv[:split])
    worker = argv[split + 1:]
    if not worker:
        raise SystemExit("ray_driver: empty worker argv after `--`")
    return options, worker


def main(argv: list[str]) -> int:
    options, worker = parse(argv)
    host = options.address.removeprefix("ray://").rsplit(":", 1)[0]
    if host in ("127.0.0.1", "localhost"):
        # A loopback head: Ray would otherwise swap 127.0.0.1 for the machine's routable address.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    request = sys.stdin.buffer.read()
    import ray

    ray.init(address=options.address, logging_level="ERROR", log_to_driver=False,
             **({"_node_ip_address": host} if host in ("127.0.0.1", "localhost") else {}))
    task: Any = ray.remote(num_gpus=options.num_gpus, num_cpus=options.num_cpus, max_retries=0)(run_worker)
    stream = task.remote(worker, request, forwarded_env(dict(os.environ)), os.getcwd())
    if options.task_file:
        Path(options.task_file).write_text(stream.completed().task_id().hex())

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    code = 1
    try:
        for ref in stream:
            line = ray.get(ref)
            if line.startswith('{"_tag": "rayTaskExit"'):
                code = int(json.loads(line)["code"])
                continue
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
    except KeyboardInterrupt:
        ray.cancel(stream, force=True)
        return 130
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
