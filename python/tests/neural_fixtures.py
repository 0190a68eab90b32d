"""A tiny RoBERTa encoder shared by the neural-metric tests (built once per session from the EPITOME posts)."""

from __future__ import annotations

from pathlib import Path

from conftest import shared_data


def tiny_encoder(root: Path) -> Path:
    from empo_worker.metrics.data import corpus_texts
    from empo_worker.metrics.encoder import build_encoder

    folder = root / "encoder"
    if not folder.exists():
        build_encoder(corpus_texts(str(shared_data("epitome", "train.csv"))), folder, hidden=32, layers=2, heads=2, vocab=1000, seed=7)
    return folder
