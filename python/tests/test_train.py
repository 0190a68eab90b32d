import json
import threading
from pathlib import Path

import pytest

from conftest import Recorder
from empo_worker import data as data_module
from empo_worker import generate, train
from empo_worker.protocol import Cancelled, InputFault

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


def test_an_interrupted_run_resumes_from_the_newest_complete_checkpoint_of_its_stage(tiny_model: Path, data: dict, tmp_path: Path) -> None:
    checkpoints = tmp_path / "stage-checkpoints"
    request = {"stage": "sft", "model": str(tiny_model), "trainData": str(data["sft"]), "outputDir": str(tmp_path / "sft"),
               "checkpointDir": str(checkpoints), "hyper": {**HYPER, "learningRate": 1e-3, "saveSteps": 2}}
    cancel = threading.Event()
    first = Recorder()

    def cancel_after_first_checkpoint(event: dict) -> None:
        first(event)
        if event["_tag"] == "checkpoint":
            cancel.set()

    with pytest.raises(Cancelled):
        train.run(request, cancel_after_first_checkpoint, cancel)
    assert [(c["step"], Path(c["path"]).parent) for c in first.tagged("checkpoint")] == [(2, checkpoints)]
    assert "resumedFromStep" not in first.events[0]
    assert not (tmp_path / "sft").exists()
    # Newer checkpoints a killed save left without a (readable) trainer_state.json are skipped.
    (checkpoints / "checkpoint-4").mkdir()
    (checkpoints / "checkpoint-4" / "config.json").write_text("{}")
    (checkpoints / "checkpoint-5").mkdir()
    (checkpoints / "checkpoint-5" / "trainer_state.json").write_text('{"global_step": ')

    second = Recorder()
    train.run(request, second, threading.Event())
    started = second.events[0]
    assert started["_tag"] == "started" and started["startStep"] == 2 and started["resumedFromStep"] == 2
    logged = [e["step"] for e in second.tagged("log")]
    assert logged[0] > 2 and logged == [3, 4, 5, 6]
    assert second.events[-1]["_tag"] == "finished" and second.events[-1]["steps"] == HYPER["maxSteps"]
    # The folder belongs to the stage: the worker leaves it for the runner to remove.
    assert checkpoints.is_dir()


def test_a_stage_checkpoint_folder_without_save_steps_still_saves_and_keeps_two(tiny_model: Path, data: dict, tmp_path: Path) -> None:
    checkpoints = tmp_path / "stage-checkpoints"
    recorder = Recorder()
    train.run({"stage": "sft", "model": str(tiny_model), "trainData": str(data["sft"]), "outputDir": str(tmp_path / "sft"),
               "checkpointDir": str(checkpoints), "hyper": {**HYPER, "maxSteps": 20, "learningRate": 1e-3}},
              recorder, threading.Event())
    # A tenth of 20 steps: a checkpoint every 2 steps, the last two kept.
    assert [c["step"] for c in recorder.tagged("checkpoint")] == [2, 4, 6, 8, 10, 12, 14, 16, 18, 20]
    assert sorted(p.name for p in checkpoints.glob("checkpoint-*")) == ["checkpoint-18", "checkpoint-20"]
    assert train.latest_checkpoint(checkpoints) == checkpoints / "checkpoint-20"
    assert train.latest_checkpoint(tmp_path / "absent") is None
