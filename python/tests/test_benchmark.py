"""The benchmark stage's worker module against lm_eval itself: a tiny Llama built from a config, a local
multiple-choice task and a local generate_until (exact-match) task written by the test, a LoRA adapter through
``peft=``, and the bad inputs refused before any weight is loaded."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins" / "stage-benchmark" / "python"))

import empo_benchmark  # noqa: E402
from empo_worker.protocol import InputFault  # noqa: E402
from empo_worker.tiny import build_model, build_tokenizer  # noqa: E402

WORDS = ["red", "green", "blue", "cat", "dog", "bird", "one", "two", "three", "sun", "moon", "star"]


def _docs() -> list[dict[str, Any]]:
    docs = []
    for i in range(8):
        a, b = WORDS[i % len(WORDS)], WORDS[(i * 5 + 3) % len(WORDS)]
        docs.append({"question": f"Is {a} before {b}?", "answer": i % 4, "target": a})
    return docs


def write_tasks(folder: Path) -> Path:
    """Two local tasks over one JSONL file: `tiny_mc` (four choices, acc) and `tiny_gen` (greedy, exact_match)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "data.jsonl"
    data.write_text("".join(json.dumps(d) + "\n" for d in _docs()), encoding="utf-8")
    files = f"{{test: {data}, validation: {data}}}"
    (folder / "tiny_mc.yaml").write_text(
        "task: tiny_mc\ndataset_path: json\n"
        f"dataset_kwargs:\n  data_files: {files}\n"
        "test_split: test\nfewshot_split: validation\noutput_type: multiple_choice\n"
        'doc_to_text: "{{question}}\\nAnswer:"\ndoc_to_choice: ["A", "B", "C", "D"]\ndoc_to_target: answer\n'
        "metric_list:\n  - {metric: acc, aggregation: mean, higher_is_better: true}\n", encoding="utf-8")
    (folder / "tiny_gen.yaml").write_text(
        "task: tiny_gen\ndataset_path: json\n"
        f"dataset_kwargs:\n  data_files: {files}\n"
        "test_split: test\noutput_type: generate_until\n"
        'doc_to_text: "Q: {{question}}\\nA:"\ndoc_to_target: "{{target}}"\n'
        'generation_kwargs: {until: ["\\n"], max_gen_toks: 3, do_sample: false}\n'
        "metric_list:\n  - {metric: exact_match, aggregation: mean, higher_is_better: true}\n", encoding="utf-8")
    return folder


def save_tiny(folder: Path, hidden: int = 32, seed: int = 0) -> Path:
    texts = [f"{d['question']} Answer: A B C D {d['target']}" for d in _docs()] * 4
    tokenizer = build_tokenizer(texts, 300)
    model = build_model(tokenizer, layers=1, hidden=hidden, heads=2, max_positions=128, seed=seed)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def save_adapter(model_dir: Path, folder: Path) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    base = AutoModelForCausalLM.from_pretrained(model_dir)
    peft = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    peft.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bench")
    model = save_tiny(root / "model")
    return {
        "model": model,
        "tasks": write_tasks(root / "tasks"),
        "adapter": save_adapter(model, root / "adapter"),
        "other": save_tiny(root / "other", hidden=48),
    }


def _run(payload: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    result = empo_benchmark.run(payload, events.append, threading.Event())
    return result, events


def _direct(model_args: dict[str, Any], tasks_dir: Path, tasks: list[str], **kwargs: Any) -> dict[str, Any]:
    import lm_eval
    from lm_eval.tasks import TaskManager

    return lm_eval.simple_evaluate(model="hf", model_args=model_args, tasks=tasks, batch_size=4, device="cpu",
                                   task_manager=TaskManager(include_path=str(tasks_dir), include_defaults=False), log_samples=False, **kwargs)


def test_results_equal_a_direct_simple_evaluate_call(workspace: dict[str, Path]) -> None:
    result, events = _run({"model": str(workspace["model"]), "tasks": ["tiny_mc", "tiny_gen"],
                           "includePath": str(workspace["tasks"]), "numFewshot": 1, "batchSize": 4, "dtype": "float32"})
    direct = _direct({"pretrained": str(workspace["model"]), "dtype": "float32"}, workspace["tasks"],
                     ["tiny_mc", "tiny_gen"], num_fewshot=1)
    assert direct is not None
    for task, metric in (("tiny_mc", "acc"), ("tiny_gen", "exact_match")):
        ours, theirs = result["results"][task], direct["results"][task]
        assert ours[f"{metric},none"] == pytest.approx(theirs[f"{metric},none"], abs=1e-12)
        assert ours[f"{metric}_stderr,none"] == pytest.approx(theirs[f"{metric}_stderr,none"], abs=1e-12)
    assert result["n-shot"] == {"tiny_mc": 1, "tiny_gen": 1}
    assert result["n-samples"]["tiny_mc"] == {"original": 8, "effective": 8}
    assert set(result["versions"]) == {"tiny_mc", "tiny_gen"}
    assert set(result["task_hashes"]) == {"tiny_mc", "tiny_gen"} and all(len(h) == 64 for h in result["task_hashes"].values())
    assert "samples" not in result
    assert result["lm_eval_version"] == "0.4.13"
    phases = [e["phase"] for e in events]
    assert phases[:2] == ["tasks", "evaluate"] and phases[-1] == "done"
    # lm_eval's progress bars report through events too; the last one of each bar is complete.
    progress = [e["message"] for e in events if e["phase"] == "progress"]
    assert progress and all(m.split(": ")[-1].split("/")[0] == m.split("/")[-1] for m in progress[-1:])
    json.dumps(result, allow_nan=False)  # the worker protocol refuses NaN


def test_a_lora_adapter_evaluates_through_peft(workspace: dict[str, Path]) -> None:
    payload = {"model": str(workspace["model"]), "adapter": str(workspace["adapter"]), "tasks": ["tiny_mc"],
               "includePath": str(workspace["tasks"]), "batchSize": 4, "dtype": "float32", "limit": 4}
    result, events = _run(payload)
    assert "+ adapter" in events[1]["message"]
    assert result["config"]["model_args"]["peft"] == str(workspace["adapter"])
    direct = _direct({"pretrained": str(workspace["model"]), "peft": str(workspace["adapter"]), "dtype": "float32"},
                     workspace["tasks"], ["tiny_mc"], limit=4)
    assert direct is not None
    assert result["results"]["tiny_mc"]["acc,none"] == pytest.approx(direct["results"]["tiny_mc"]["acc,none"], abs=1e-12)
    assert result["n-samples"]["tiny_mc"]["effective"] == 4
    # A model folder that is an adapter (a LoRA training stage's output) evaluates on its base the same way.
    folder, _ = _run({**payload, "model": str(workspace["adapter"]), "adapter": None})
    assert folder["results"]["tiny_mc"]["acc,none"] == result["results"]["tiny_mc"]["acc,none"]


@pytest.mark.parametrize("change, message", [
    ({"tasks": ["tiny_mc", "no_such_task"]}, "unknown task 'no_such_task'"),
    ({"includePath": "/nonexistent/tasks"}, "include path /nonexistent/tasks is not a folder"),
    ({"adapter": "OTHER"}, "does not fit model"),
    ({"model": "/nonexistent/model"}, "model folder /nonexistent/model does not exist"),
    ({"adapter": "/nonexistent/adapter"}, "adapter folder /nonexistent/adapter does not exist"),
])
def test_bad_input_is_refused_before_the_model_loads(workspace: dict[str, Path], change: dict[str, Any], message: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import lm_eval

    def no_evaluation(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("simple_evaluate must not be reached")

    monkeypatch.setattr(lm_eval, "simple_evaluate", no_evaluation)
    if change.get("adapter") == "OTHER":
        # An adapter trained on a wider model than the one it is put on.
        change = {"adapter": str(save_adapter(workspace["other"], workspace["other"].parent / "other-adapter"))}
    payload = {"model": str(workspace["model"]), "tasks": ["tiny_mc"], "includePath": str(workspace["tasks"]), **change}
    with pytest.raises(InputFault, match=message):
        _run(payload)
