"""The ``throughput`` request: emits ``count`` small events, to measure the bridge's event rate."""

from __future__ import annotations

import threading
import time
from typing import Any

from empo_worker.protocol import Emit


def run(payload: dict[str, Any], emit: Emit, cancel: threading.Event) -> dict[str, Any]:
    count = int(payload.get("count", 10000))
    started = time.perf_counter()
    for step in range(count):
        emit({"_tag": "log", "step": step, "epoch": 0.0, "metrics": {"loss": 0.5, "rewards/accuracies": 0.5}})
    return {"count": count, "seconds": time.perf_counter() - started}
