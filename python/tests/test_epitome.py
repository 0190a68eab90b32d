"""The `epitome` scorer: official-layout checkpoints load, levels equal a plain one-item forward pass of the original
architecture (written out here, without any batching or masking), batch size never changes a level, bad inputs are
input faults naming the file."""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import Any

import pytest

from conftest import shared_data
from empo_worker.protocol import InputFault
from neural_fixtures import tiny_encoder

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from transformers import AutoConfig, AutoTokenizer, RobertaModel  # noqa: E402


class Original(nn.Module):
    """The original module's parameters under the original names (SeekerEncoder/ResponderEncoder hold `.roberta`)."""

    def __init__(self, config: Any) -> None:
        super().__init__()
        h = config.hidden_size
        self.rationale_classifier = nn.Linear(h, 2)
        self.attn = nn.Module()
        for name in ("q_linear", "v_linear", "k_linear", "out"):
            setattr(self.attn, name, nn.Linear(h, h))
        self.norm = nn.Module()
        self.norm.alpha = nn.Parameter(torch.ones(h))
        self.norm.bias = nn.Parameter(torch.zeros(h))
        self.empathy_classifier = nn.Module()
        self.empathy_classifier.dense = nn.Linear(h, h)
        self.empathy_classifier.out_proj = nn.Linear(h, 3)
        self.seeker_encoder = nn.Module()
        self.seeker_encoder.roberta = RobertaModel(config)
        self.responder_encoder = nn.Module()
        self.responder_encoder.roberta = RobertaModel(config)

    def level(self, seeker: list[int], responder: list[int]) -> int:
        """One item, as the original forward (eval mode): no mask anywhere, one head, residual, ReLU head."""
        with torch.no_grad():
            s = self.seeker_encoder.roberta(torch.tensor([seeker])).last_hidden_state
            r = self.responder_encoder.roberta(torch.tensor([responder])).last_hidden_state
            q, k, v = self.attn.q_linear(r), self.attn.k_linear(s), self.attn.v_linear(s)
            attn = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1) @ v
            r = r + self.attn.out(attn)
            x = self.empathy_classifier.out_proj(torch.relu(self.empathy_classifier.dense(r[:, 0, :])))
            return int(x.argmax(dim=-1).item())


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("epitome")
    encoder = tiny_encoder(root)
    config = AutoConfig.from_pretrained(encoder)
    checkpoints = root / "checkpoints"
    checkpoints.mkdir()
    originals = {}
    for offset, m in enumerate(("ER", "IP", "EX")):
        torch.manual_seed(100 + offset)
        model = Original(config).eval()
        # Larger head weights than the 0.02 init so that the three levels all occur on random weights.
        with torch.no_grad():
            for p in model.empathy_classifier.parameters():
                p.normal_(0, 1.0)
            for p in model.attn.parameters():
                p.normal_(0, 0.3)
        torch.save(model.state_dict(), checkpoints / f"finetuned_{m}.pth")
        originals[m] = model
    return {"root": root, "encoder": str(encoder), "checkpoints": str(checkpoints), "originals": originals}


def items_file(root: Path, rows: list[dict[str, str]]) -> str:
    file = root / f"items-{len(rows)}.jsonl"
    file.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(file)


def baseline_rows(n: int) -> list[dict[str, str]]:
    import csv

    with shared_data("predictions", "baseline_zephyr-7b-sft-full.txt").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="~"))[:n]
    return [{"response": r["gens"], "context": r["prevs"], "target": r["gen_targets"]} for r in rows]


def score(setup: dict[str, Any], rows: list[dict[str, str]], **params: Any) -> dict[str, list[float]]:
    from empo_worker.metrics import epitome

    p = {"checkpoints": setup["checkpoints"], "encoder": setup["encoder"], **params}
    return epitome.score(p, items_file(setup["root"], rows), lambda _e: None, threading.Event())["perItem"]


def test_levels_equal_a_plain_one_item_forward_of_the_original_module(setup: dict[str, Any]) -> None:
    rows = baseline_rows(24)
    tokenizer = AutoTokenizer.from_pretrained(setup["encoder"])

    def ids(text: str) -> list[int]:
        return tokenizer(text.lower(), add_special_tokens=True, truncation=True, max_length=64)["input_ids"]

    per_item = score(setup, rows, batchSize=16)
    for m, model in setup["originals"].items():
        pred = [model.level(ids(r["context"]), ids(r["response"])) for r in rows]
        gold = [model.level(ids(r["context"]), ids(r["target"])) for r in rows]
        assert per_item[f"pred_{m}"] == [float(x) for x in pred]
        assert per_item[f"gt_{m}"] == [float(x) for x in gold]
        assert per_item[f"diff_{m}"] == [float((p - g) ** 2) for p, g in zip(pred, gold)]
    # The random heads must not all say one level, or the comparison above would prove little.
    assert len({v for m in ("ER", "IP", "EX") for v in per_item[f"pred_{m}"]}) >= 2


def test_batch_size_1_and_16_give_identical_levels(setup: dict[str, Any]) -> None:
    rows = baseline_rows(40)
    assert score(setup, rows, batchSize=1) == score(setup, rows, batchSize=16)


def test_a_checkpoint_folder_missing_a_file_names_it(setup: dict[str, Any], tmp_path: Path) -> None:
    import shutil

    partial = tmp_path / "partial"
    partial.mkdir()
    for m in ("ER", "IP"):
        shutil.copy(Path(setup["checkpoints"]) / f"finetuned_{m}.pth", partial)
    with pytest.raises(InputFault, match="finetuned_EX.pth"):
        score({**setup, "checkpoints": str(partial)}, baseline_rows(2))


def test_a_checkpoint_of_another_architecture_names_the_file_and_keys(setup: dict[str, Any], tmp_path: Path) -> None:
    import shutil

    from transformers import RobertaForSequenceClassification

    other = tmp_path / "other"
    shutil.copytree(setup["checkpoints"], other)
    config = AutoConfig.from_pretrained(setup["encoder"])
    torch.save(RobertaForSequenceClassification(config).state_dict(), other / "finetuned_ER.pth")
    with pytest.raises(InputFault, match=r"finetuned_ER\.pth is not an EPITOME bi-encoder checkpoint.*missing keys: .*unexpected keys: "):
        score({**setup, "checkpoints": str(other)}, baseline_rows(2))


def test_an_encoder_folder_without_a_tokenizer_is_named(setup: dict[str, Any], tmp_path: Path) -> None:
    import shutil

    bare = tmp_path / "bare-encoder"
    bare.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(Path(setup["encoder"]) / name, bare)
    with pytest.raises(InputFault, match=f"{bare} has no tokenizer"):
        score({**setup, "encoder": str(bare)}, baseline_rows(2))


def test_items_without_the_user_turn_are_refused(setup: dict[str, Any]) -> None:
    rows = [{"response": r["response"], "context": "", "target": r["target"]} for r in baseline_rows(3)]
    with pytest.raises(InputFault, match="prevs"):
        score(setup, rows)


def test_rationale_labels_mark_the_tokens_of_each_span(setup: dict[str, Any]) -> None:
    from empo_worker.metrics.epitome import macro_f1, rationale_labels

    tokenizer = AutoTokenizer.from_pretrained(setup["encoder"])
    ids, labels = rationale_labels(tokenizer, "I am so sorry. That sounds hard.", ["so sorry"], 64)
    marked = tokenizer.decode([i for i, label in zip(ids, labels) if label == 1]).strip()
    assert marked == "so sorry"
    assert labels[0] == 0 and labels[-1] == 0
    assert macro_f1([0, 0, 1, 2], [0, 0, 0, 0]) == pytest.approx((2 * 2 / (2 * 2 + 2)) / 3)
