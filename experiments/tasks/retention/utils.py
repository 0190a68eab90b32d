"""The retention task's documents: read from retention.jsonl beside this file, so the task works from any working
directory (lm_eval's `dataset_kwargs.data_files` would need an absolute path)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load(**_: Any) -> Any:
    import datasets

    rows = [json.loads(line) for line in (Path(__file__).parent / "retention.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows), "validation": datasets.Dataset.from_list(rows)})
