"""Fixtures: a tiny model built from the shared ED data, and a few dozen rows per training format."""

from __future__ import annotations

import csv
import json
import os
import random
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SYSTEM = "You are a kind listener."


def shared_data(*parts: str) -> Path:
    base = Path(os.environ.get("EMPO_DATA_DIR") or REPO.parent / "shared" / "data")
    return base.joinpath(*parts)


def ed_dialogues(limit: int) -> list[list[str]]:
    """Whole ED dialogues from the shared val.csv: the first row's sp1, then every row's sp2."""
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    with shared_data("empathetic_dialogues", "val.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows[row["conv_id"]].append(row)
    dialogues = []
    for turns in rows.values():
        turns.sort(key=lambda r: int(r["utterance_idx"]))
        texts = [turns[0]["sp1"], *(t["sp2"] for t in turns)]
        if len(texts) >= 2:
            dialogues.append(texts[: 4 if len(texts) >= 4 else 2])
        if len(dialogues) == limit:
            break
    return dialogues


def chat(texts: list[str]) -> list[dict[str, str]]:
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(texts)]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def training_sets(folder: Path, n: int = 64) -> dict[str, Path]:
    dialogues = ed_dialogues(n)
    rng = random.Random(0)
    sft, dpo, kto = [], [], []
    for index, texts in enumerate(dialogues):
        messages = chat(texts)
        sft.append({"messages": messages})
        prompt = [{"role": "system", "content": SYSTEM}, *messages[:-1]]
        other = dialogues[(index + 1 + rng.randrange(len(dialogues) - 1)) % len(dialogues)]
        chosen = [messages[-1]]
        rejected = [{"role": "assistant", "content": other[-1]}]
        dpo.append({"prompt": prompt, "chosen": chosen, "rejected": rejected})
        kto.append({"prompt": prompt, "completion": chosen, "label": True})
        kto.append({"prompt": prompt, "completion": rejected, "label": False})
    return {
        "sft": write_jsonl(folder / "sft.jsonl", sft),
        "dpo": write_jsonl(folder / "dpo.jsonl", dpo),
        "kto": write_jsonl(folder / "kto.jsonl", kto),
        "items": write_jsonl(folder / "items.jsonl", [
            {"id": f"d{i}", "prompt": chat(t)[:-1], "target": t[-1], "prev": t[-2], "emotion": "sad"}
            for i, t in enumerate(dialogues[:6])
        ]),
    }


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    def tagged(self, tag: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["_tag"] == tag]


@pytest.fixture(scope="session")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return training_sets(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from empo_worker import tiny

    out = tmp_path_factory.mktemp("models") / "tiny"
    tiny.run(
        {"corpus": str(shared_data("empathetic_dialogues", "val.csv")), "outputDir": str(out), "vocab": 1000, "hidden": 64},
        Recorder(),
        threading.Event(),
    )
    return out
