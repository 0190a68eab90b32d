"""The long-lived worker: reads requests from stdin, runs one at a time, streams events back.

Requests: ``{"id": n, "_tag": "versions"|"train"|"generate"|"tinyModel"|"score"|"tinyEncoder"|"epitomeTrain"|<plugin method>, "payload": {...}}``,
``{"id": n, "_tag": "cancel", "target": m}`` and ``{"id": n, "_tag": "shutdown"}``.
Messages: ``ready``, ``event`` (id + event), ``result`` (id + value), ``error`` (id, kind, type, message,
traceback) and ``protocolError`` for an unreadable request line. Methods that no built-in serves come from the
plugin modules named in ``EMPO_WORKER_PLUGINS`` (see ``plugins.py``).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sys
import threading
import traceback
from typing import Any

from empo_worker.plugins import ENV_VAR, PluginModuleMissing, PluginRegistry, module_names
from empo_worker.protocol import (
    PREEMPTED_EXIT, PREEMPTION, PROTOCOL_VERSION, Cancelled, Emit, Handler, InputFault, Preempted, ProtocolWriter, install,
)

TRACEBACK_LINES = 30


def _handlers() -> dict[str, Handler]:
    # Imported lazily so `versions` and protocol errors answer before torch is loaded.
    from empo_worker import diagnostics, generate, tiny, train, versions
    from empo_worker.metrics import encoder, run_score

    return {
        "versions": versions.run,
        "train": train.run,
        "generate": generate.run,
        "tinyModel": tiny.run,
        "throughput": diagnostics.run,
        "score": run_score,
        "tinyEncoder": encoder.run_tiny_encoder,
        "epitomeTrain": _epitome_train,
    }


def _epitome_train(payload: dict[str, Any], emit: Any, cancel: threading.Event) -> Any:
    # Imported on use: the EPITOME module pulls in torch and transformers.
    from empo_worker.metrics import epitome

    return epitome.run_train(payload, emit, cancel)


def _tail(text: str) -> str:
    return "\n".join(text.rstrip().splitlines()[-TRACEBACK_LINES:])


def _failure_kind(error: BaseException) -> str:
    if isinstance(error, InputFault):
        return "input"
    if isinstance(error, (Cancelled, KeyboardInterrupt)):
        return "cancelled"
    if isinstance(error, PluginModuleMissing):
        return "missing"
    if isinstance(error, ModuleNotFoundError) and (error.name or "").split(".")[0] in {
        "torch", "transformers", "trl", "peft", "accelerate", "datasets", "tokenizers", "safetensors",
    }:
        return "missing"
    return "failed"


class Worker:
    def __init__(self, writer: ProtocolWriter, plugin_modules: list[str] | None = None) -> None:
        self.writer = writer
        self.plugin_modules = plugin_modules if plugin_modules is not None else module_names(os.environ.get(ENV_VAR))
        self.requests: "queue.Queue[dict[str, Any] | None]" = queue.Queue()
        self.cancel_flags: dict[Any, threading.Event] = {}
        self.lock = threading.Lock()

    def read_stdin(self) -> None:
        for raw in sys.stdin:
            line = raw.strip()
            if not line:
                continue
            try:
                message = json.loads(line)
                if not isinstance(message, dict) or not isinstance(message.get("_tag"), str):
                    raise ValueError("expected an object with a string _tag")
            except ValueError as error:
                self.writer.send({"_tag": "protocolError", "message": str(error), "line": line[:200]})
                continue
            if message["_tag"] == "cancel":
                with self.lock:
                    flag = self.cancel_flags.get(message.get("target"))
                if flag is not None:
                    flag.set()
                self.writer.send({"_tag": "result", "id": message.get("id"), "value": {"cancelled": flag is not None}})
                continue
            self.requests.put(message)
        self.requests.put(None)

    def handle(self, message: dict[str, Any], handlers: dict[str, Handler], plugins: PluginRegistry) -> None:
        request_id = message.get("id")
        flag = threading.Event()
        with self.lock:
            self.cancel_flags[request_id] = flag

        def emit(event: dict[str, Any]) -> None:
            self.writer.send({"_tag": "event", "id": request_id, "event": event})

        try:
            handler = handlers.get(message["_tag"]) or plugins.handler(message["_tag"])
            if handler is None:
                known = sorted(handlers) + plugins.methods()
                raise InputFault(f"unknown request {message['_tag']!r}; known: {', '.join(known)}")
            payload = message.get("payload") or {}
            if not isinstance(payload, dict):
                raise InputFault("payload must be an object")
            value = handler(payload, emit, flag)
            self.writer.send({"_tag": "result", "id": request_id, "value": value})
        except BaseException as error:  # noqa: BLE001 - every failure is reported on the protocol
            if isinstance(error, SystemExit):
                raise
            if isinstance(error, Preempted):
                # No answer: the requeued job runs this request again and answers it, resuming from the checkpoint.
                print(f"preempted: {error}", file=sys.stderr, flush=True)
                raise SystemExit(PREEMPTED_EXIT) from None
            print(traceback.format_exc(), file=sys.stderr)
            self.writer.send({
                "_tag": "error",
                "id": request_id,
                "kind": _failure_kind(error),
                "type": type(error).__name__,
                "message": str(error) or type(error).__name__,
                "traceback": _tail(traceback.format_exc()),
            })
            if isinstance(error, KeyboardInterrupt):
                raise SystemExit(130) from None
        finally:
            with self.lock:
                self.cancel_flags.pop(request_id, None)

    def serve(self) -> int:
        # `ready` first: the reader thread may answer a bad line with `protocolError` at once.
        self.writer.send({"_tag": "ready", "protocol": PROTOCOL_VERSION, "pid": os.getpid()})
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGUSR1, lambda _signum, _frame: PREEMPTION.set())
        threading.Thread(target=self.read_stdin, name="stdin-reader", daemon=True).start()
        handlers = _handlers()
        plugins = PluginRegistry(self.plugin_modules, builtins=handlers)
        builtin_versions = handlers["versions"]

        def versions(payload: dict[str, Any], emit: Emit, cancel: threading.Event) -> Any:
            return {**builtin_versions(payload, emit, cancel), "plugins": plugins.describe()}

        handlers["versions"] = versions
        while True:
            message = self.requests.get()
            if message is None:
                return 0
            if message["_tag"] == "shutdown":
                self.writer.send({"_tag": "result", "id": message.get("id"), "value": None})
                return 0
            self.handle(message, handlers, plugins)


def main() -> int:
    writer = install()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return Worker(writer).serve()
