"""Reads training JSONL in TRL's conversational format and checks every row before TRL sees it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from empo_worker.protocol import InputFault

ROLES = {"system", "user", "assistant"}

# Columns each stage trains on; anything else on a row (provenance, ids) is dropped.
STAGE_COLUMNS: dict[str, tuple[str, ...]] = {
    "sft": ("messages",),
    "dpo": ("prompt", "chosen", "rejected"),
    "ipo": ("prompt", "chosen", "rejected"),
    "kto": ("prompt", "completion", "label"),
}


def _conversation(value: Any, where: str, field: str) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise InputFault(f"{where}: field `{field}` must be a non-empty list of {{role, content}} messages")
    for index, message in enumerate(value):
        if (
            not isinstance(message, dict)
            or message.get("role") not in ROLES
            or not isinstance(message.get("content"), str)
        ):
            raise InputFault(f"{where}: field `{field}[{index}]` must be {{role: system|user|assistant, content: string}}")
    return [{"role": m["role"], "content": m["content"]} for m in value]


def read_jsonl(path: str | Path) -> Iterator[tuple[str, Any]]:
    """Yields (`file:line`, value) for each non-blank JSONL line; a line that is not JSON raises an InputFault naming
    file and line. The one JSONL reader of the worker: training rows, generation items, score items, tiny corpora."""
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                value = json.loads(line)
            except ValueError as error:
                raise InputFault(f"{where}: not valid JSON ({error})") from None
            yield where, value


def json_objects(path: str, what: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yields (`file:line`, object) for each non-blank JSONL line; a bad line raises an InputFault naming it."""
    if not Path(path).is_file():
        raise InputFault(f"{what} file not found: {path}")
    for where, raw in read_jsonl(path):
        if not isinstance(raw, dict):
            raise InputFault(f"{where}: expected a JSON object")
        yield where, raw


def read_rows(path: str, stage: str) -> list[dict[str, Any]]:
    """Rows of `path` reduced to the stage's columns; the first bad row raises an InputFault naming file:line."""
    columns = STAGE_COLUMNS[stage]
    rows: list[dict[str, Any]] = []
    for where, raw in json_objects(path, "data"):
        if stage == "kto" and "chosen" in raw and "completion" not in raw:
            raise InputFault(
                f"{where}: KTO trains on unpaired rows {{prompt, completion, label}}, but this file holds "
                "preference pairs {prompt, chosen, rejected}; convert them explicitly (each pair → one desirable "
                "and one undesirable row, e.g. `empo data build --kind kto`) or train with dpo/ipo"
            )
        if stage in ("dpo", "ipo") and "completion" in raw and "chosen" not in raw:
            raise InputFault(f"{where}: {stage} needs preference pairs {{prompt, chosen, rejected}}, found unpaired KTO rows")
        if stage == "sft" and "messages" not in raw:
            raise InputFault(f"{where}: SFT needs whole dialogues in field `messages`")
        row: dict[str, Any] = {}
        for column in columns:
            if column not in raw:
                raise InputFault(f"{where}: missing field `{column}`")
            if column == "label":
                if not isinstance(raw["label"], bool):
                    raise InputFault(f"{where}: field `label` must be true or false")
                row["label"] = raw["label"]
            else:
                row[column] = _conversation(raw[column], where, column)
        if stage == "sft" and not any(m["role"] == "assistant" for m in row["messages"]):
            raise InputFault(f"{where}: field `messages` has no assistant turn to train on")
        rows.append(row)
    if not rows:
        raise InputFault(f"{path}: no rows")
    if stage == "kto" and len({r["label"] for r in rows}) < 2:
        raise InputFault(f"{path}: KTO needs both desirable (label true) and undesirable (label false) rows")
    return rows
