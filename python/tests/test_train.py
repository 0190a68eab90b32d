import json
import threading
from pathlib import Path

import pytest

from conftest import Recorder
from empo_worker import data as data_module
from empo_worker import generate, train
from empo_worker.protocol import InputFault

HYPER = {"batchSize": 8, "maxSteps": 6, "maxLength": 128}


def run_train(stage: str, model: Path, rows: Path, out: Path, **hyper) -> Recorder:
    recorder = Recorder()
    train.run(
        {"stage": stage, "model": str(model), "trainData": str(rows), "evalData": str(rows), "outputDir": str(out),
         "hyper": {**HYPER, **hyper}},
        recorder,
        threading.Event(),
    )
    return recorder


def test_tiny_model_has_a_training_compatible_chat_template(tiny_model: Path) -> None:
    from transformers import AutoTokenizer
    from trl.chat_template_utils import has_generation_markers, is_chat_template_prefix_preserving

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    assert has_generation_markers(tokenizer.chat_template)
    assert is_chat_template_prefix_preserving(tokenizer)
    messages = [{"role": "user", "content": "I lost my job."}, {"role": "assistant", "content": "I am sorry."}]
    assert tokenizer.apply_chat_template(messages, tokenize=False) == "<s><|user|>\nI lost my job.</s>\n<|assistant|>\nI am sorry.</s>\n"
    encoded = tokenizer.apply_chat_template(messages, return_dict=True, return_assistant_tokens_mask=True)
    trained = [t for t, m in zip(encoded["input_ids"], encoded["assistant_masks"]) if m]
    assert tokenizer.decode(trained) == "I am sorry.</s>"


def test_sft_then_dpo_streams_trl_metrics_and_writes_hashed_artifacts(tiny_model: Path, data: dict, tmp_path: Path) -> None:
    sft = run_train("sft", tiny_model, data["sft"], tmp_path / "sft", learningRate=1e-3)
    assert [e["_tag"] for e in sft.events][0] == "started"
    assert len(sft.tagged("log")) == 6 and "mean_token_accuracy" in sft.tagged("log")[0]["metrics"]
    dpo = run_train("dpo", tmp_path / "sft", data["dpo"], tmp_path / "dpo", learningRate=5e-4, beta=0.1)
    logs = dpo.tagged("log")
    assert {"rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "logps/chosen"} <= set(logs[-1]["metrics"])
    finished = dpo.events[-1]
    assert finished["_tag"] == "finished" and finished["steps"] == 6
    for artifact in finished["artifacts"]:
        assert train.sha256_of(tmp_path / "dpo" / artifact["path"]) == artifact["sha256"]
    assert json.loads((tmp_path / "dpo" / "empo-train.json").read_text())["request"]["stage"] == "dpo"

    recorder = Recorder()
    generate.run({"model": str(tmp_path / "dpo"), "items": str(data["items"]), "output": str(tmp_path / "pred.jsonl"),
                  "decoding": {"maxNewTokens": 8}, "batchSize": 4}, recorder, threading.Event())
    predictions = [json.loads(line) for line in (tmp_path / "pred.jsonl").read_text().splitlines()]
    assert len(predictions) == 6 and all(set(p) == {"id", "prompt", "response", "target", "prev", "emotion"} for p in predictions)
    assert recorder.events[-1]["rows"] == 6


def test_impossible_combinations_are_refused(tiny_model: Path, data: dict, tmp_path: Path) -> None:
    with pytest.raises(InputFault, match="`labelSmoothing` does not apply to stage kto"):
        run_train("kto", tiny_model, data["kto"], tmp_path / "k", learningRate=1e-3, labelSmoothing=0.1)
    with pytest.raises(InputFault, match="KTO needs batchSize"):
        run_train("kto", tiny_model, data["kto"], tmp_path / "k", learningRate=1e-3, batchSize=1)
    with pytest.raises(InputFault, match="needs preference pairs"):
        data_module.read_rows(str(data["kto"]), "dpo")
    assert not (tmp_path / "k").exists()
