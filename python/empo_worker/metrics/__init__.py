"""Metrics scored in the worker, behind one ``score`` request.

``score``: ``{"metric": id, "params": {...}, "items": "<path of a JSONL file of {response, context, target?}>"}``
→ ``{"perItem": {key: [number | null, ...]}, "aggregate": {key: number}, "meta": {key: string}}``, with progress
events ``{"done", "total"}``. The scorers are imported only when asked for (torch, transformers).
"""

from __future__ import annotations

import importlib
import math
import threading
from typing import Any

from empo_worker.protocol import Emit, InputFault

# Named as the metric plugins' `python` module, so the worker may import it as a plugin: it serves no method of
# its own (``score`` is built in).
HANDLERS: dict[str, Any] = {}

# metric id → module of this package with `score(params, items_file, emit, cancel)` and `aggregate(per_item)`.
SCORERS = {"epitome": "epitome", "bertscore": "bertscore"}


def _json_numbers(values: list[float]) -> list[float | None]:
    # NaN is not JSON: an undefined score travels as null.
    return [None if math.isnan(v) else v for v in values]


def run_score(payload: dict[str, Any], emit: Emit, cancel: threading.Event) -> dict[str, Any]:
    metric = payload.get("metric")
    if not isinstance(metric, str) or metric not in SCORERS:
        raise InputFault(f"score: unknown metric {metric!r}; the worker scores {', '.join(sorted(SCORERS))}")
    items = payload.get("items")
    if not isinstance(items, str):
        raise InputFault("score: `items` must be the path of a JSONL items file")
    params = payload.get("params") or {}
    if not isinstance(params, dict):
        raise InputFault("score: `params` must be an object")
    module = importlib.import_module(f"empo_worker.metrics.{SCORERS[metric]}")
    result = module.score(params, items, emit, cancel)
    per_item = result["perItem"]
    aggregate = {k: v for k, v in module.aggregate(per_item).items() if not math.isnan(v)}
    return {"perItem": {k: _json_numbers(v) for k, v in per_item.items()}, "aggregate": aggregate, "meta": result.get("meta", {})}
