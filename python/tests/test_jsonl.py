"""The worker's one JSONL reader, through each file kind that goes through it: a bad line is named by file and line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import pytest

from empo_worker import tiny
from empo_worker.data import read_jsonl, read_rows
from empo_worker.metrics.data import read_items
from empo_worker.protocol import InputFault


def test_blank_lines_are_skipped_and_every_value_is_named_by_its_line(tmp_path: Path) -> None:
    file = tmp_path / "rows.jsonl"
    file.write_text('{"a": 1}\n\n  \n[2]\n"three"\n', encoding="utf-8")
    assert list(read_jsonl(file)) == [(f"{file}:1", {"a": 1}), (f"{file}:4", [2]), (f"{file}:5", "three")]


READERS: dict[str, Callable[[str], Any]] = {
    "training rows": lambda path: read_rows(path, "sft"),
    "score items": read_items,
    "tiny corpus": tiny.corpus_texts,
}


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
def test_a_line_that_is_not_json_is_named_by_file_and_line(reader: Callable[[str], Any], tmp_path: Path) -> None:
    file = tmp_path / "bad.jsonl"
    good = '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}], "response": "r", "context": "c"}'
    file.write_text(f"{good}\n\n{{oops\n", encoding="utf-8")
    with pytest.raises(InputFault, match="^" + re.escape(f"{file}:3: not valid JSON (")):
        reader(str(file))
