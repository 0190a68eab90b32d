"""The baseline of tools/bench/benchmark: lm_eval called directly, in one Python process.

    direct.py build OUT_DIR            a tiny Llama + BPE tokenizer from the retention task's text (seeded)
    direct.py eval MODEL TASKS LIMIT   one simple_evaluate; prints {"call": s, "process": s} (JSON, last line)
"""

from __future__ import annotations

import json
import sys
import time

STARTED = time.monotonic()


def build(out: str) -> None:
    from pathlib import Path

    from empo_worker.tiny import build_model, build_tokenizer

    rows = [json.loads(line) for line in (Path(__file__).resolve().parents[3] / "experiments/tasks/retention/retention.jsonl").read_text().splitlines()]
    texts = [f"Question: {r['question']} " + " ".join(r["choices"]) + " Answer: A B C D" for r in rows] * 8
    tokenizer = build_tokenizer(texts, 400)
    model = build_model(tokenizer, layers=2, hidden=64, heads=4, max_positions=256, seed=0)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def evaluate(model: str, tasks: str, limit: str) -> None:
    import lm_eval
    from lm_eval.tasks import TaskManager

    began = time.monotonic()
    lm_eval.simple_evaluate(model="hf", model_args={"pretrained": model, "dtype": "float32"}, tasks=["retention_mc"], num_fewshot=1,
                            batch_size=8, device="cpu", limit=int(limit), task_manager=TaskManager(include_path=tasks, include_defaults=False),
                            log_samples=True, random_seed=1234, numpy_random_seed=1234, torch_random_seed=1234, fewshot_random_seed=1234)
    call = time.monotonic() - began
    print(json.dumps({"call": call, "process": time.monotonic() - STARTED}))


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(sys.argv[2])
    else:
        evaluate(*sys.argv[2:5])
