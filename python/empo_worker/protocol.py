"""The NDJSON wire protocol: one request per stdin line, tagged messages on the real stdout.

stdout carries protocol messages only: ``install()`` points ``sys.stdout`` at stderr so prints from
TRL, transformers or tqdm can never corrupt the stream.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any, Callable, TextIO

PROTOCOL_VERSION = 1

Emit = Callable[[dict[str, Any]], None]

# A request handler, built in or registered by a plugin: (payload, emit, cancel flag) -> JSON-able result.
Handler = Callable[[dict[str, Any], Emit, threading.Event], Any]


class InputFault(Exception):
    """The request or its data is wrong (reported with kind ``input``, exit code 2 on the Node side)."""


class Cancelled(Exception):
    """The run was cancelled by a ``cancel`` request or SIGINT."""


# Exit status of a worker that saved a checkpoint on SIGUSR1 and stopped (EX_TEMPFAIL): the batch script requeues
# the job, which resumes from that checkpoint. Slurm sends the signal before the time limit (`--signal=USR1@120`).
PREEMPTED_EXIT = 75

# Set by the SIGUSR1 handler (server.py); training saves a checkpoint at the end of the current step and stops.
PREEMPTION = threading.Event()


class Preempted(Exception):
    """Training stopped on SIGUSR1 after saving a checkpoint; the worker exits PREEMPTED_EXIT without answering."""


class ProtocolWriter:
    """Serialises messages onto the protocol stream; thread-safe because the stdin reader also writes."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message, ensure_ascii=False, allow_nan=False, default=_jsonable)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def install() -> ProtocolWriter:
    """Takes over stdout for the protocol and sends everything else to stderr."""
    real_stdout = sys.stdout
    sys.stdout = sys.stderr
    try:
        real_stdout.reconfigure(encoding="utf-8", newline="\n")  # type: ignore[attr-defined]
    except AttributeError:
        pass
    return ProtocolWriter(real_stdout)
