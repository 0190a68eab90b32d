"""Inputs of the neural metrics: the items file the Node side writes, EPITOME CSVs, corpora for tiny encoders."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from empo_worker.data import read_jsonl
from empo_worker.protocol import InputFault

MECHANISMS = ("ER", "IP", "EX")


@dataclass(frozen=True)
class Item:
    response: str
    context: str
    target: str | None


def read_items(path: str) -> list[Item]:
    """One JSON object per line: ``{"response", "context", "target"?}`` (what ``score`` requests point at)."""
    file = Path(path)
    if not file.is_file():
        raise InputFault(f"items file not found: {path}")
    items: list[Item] = []
    for where, row in read_jsonl(path):
        if not isinstance(row, dict) or not isinstance(row.get("response"), str) or not isinstance(row.get("context"), str):
            raise InputFault(f"{where}: expected an object with string `response` and `context`")
        target = row.get("target")
        items.append(Item(row["response"], row["context"], target if isinstance(target, str) else None))
    return items


def finite_mean(values: list[float]) -> float:
    kept = [v for v in values if not math.isnan(v)]
    return sum(kept) / len(kept) if kept else math.nan


@dataclass(frozen=True)
class EpitomeRow:
    seeker: str
    response: str
    level: int
    rationales: list[str]


def read_epitome_split(folder: str, split: str, mechanism: str) -> list[EpitomeRow]:
    """Rows of ``<folder>/<split>.csv`` with a level for `mechanism` (``{M}_level`` 0/1/2, ``{M}_rationales`` a|b|…)."""
    file = Path(folder) / f"{split}.csv"
    if not file.is_file():
        raise InputFault(f"EPITOME split not found: {file} (expected train.csv, val.csv and test.csv in {folder})")
    with file.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or [])
        needed = {"seeker_post", "response_post", f"{mechanism}_level"}
        missing = sorted(needed - columns)
        if missing:
            raise InputFault(f"{file}: missing column(s) {', '.join(missing)}")
        has_rationales = f"{mechanism}_rationales" in columns
        rows: list[EpitomeRow] = []
        for number, row in enumerate(reader, start=2):
            raw = (row.get(f"{mechanism}_level") or "").strip()
            if raw == "":
                continue
            try:
                level = int(float(raw))
            except ValueError:
                raise InputFault(f"{file}:{number}: {mechanism}_level = {raw!r} is not a level 0, 1 or 2") from None
            if level not in (0, 1, 2):
                raise InputFault(f"{file}:{number}: {mechanism}_level = {raw!r} is not a level 0, 1 or 2")
            spans = [s for s in (row.get(f"{mechanism}_rationales") or "").split("|") if s.strip()] if has_rationales else []
            rows.append(EpitomeRow(row["seeker_post"], row["response_post"], level, spans))
    if not rows:
        raise InputFault(f"{file}: no rows with a {mechanism} level")
    return rows


def corpus_texts(corpus: str) -> list[str]:
    """Texts to train a tiny tokenizer on: an EPITOME CSV (seeker/response posts) or what ``tiny`` reads."""
    from empo_worker import tiny

    path = Path(corpus)
    if path.is_dir():
        texts = [t for name in ("train.csv",) for t in corpus_texts(str(path / name))]
        return list(dict.fromkeys(texts))
    if path.suffix.lower() == ".csv" and path.is_file():
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if {"seeker_post", "response_post"} <= set(reader.fieldnames or []):
                texts = [text for row in reader for text in (row["seeker_post"], row["response_post"]) if text.strip()]
                # Lower-cased too: the EPITOME scorer lower-cases both posts.
                return list(dict.fromkeys(texts + [t.lower() for t in texts]))
    return tiny.corpus_texts(corpus)


def read_json_object(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))
