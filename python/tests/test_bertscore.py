"""BERTScore against a direct computation written out here with explicit loops over tokens (bert_score 0.3.13's
definition), with and without idf, for batch sizes 1 and 32; the prefix space, rescaling and hash string."""

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
from transformers import AutoModel, AutoTokenizer  # noqa: E402

LAYER = 1


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tiny_encoder(tmp_path_factory.mktemp("bertscore")))


def pairs(n: int) -> list[dict[str, str]]:
    import csv

    with shared_data("predictions", "baseline_zephyr-7b-sft-full.txt").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="~"))[:n]
    out = [{"response": r["gens"], "context": r["prevs"], "target": r["gen_targets"]} for r in rows]
    out[3]["response"] = "   "  # an empty candidate scores 0
    out[5]["target"] = ""  # so does an empty reference
    out[7]["response"] = out[7]["target"]  # and the same text scores 1
    return out


def run(encoder: str, rows: list[dict[str, str]], tmp: Path, **params: Any) -> dict[str, Any]:
    from empo_worker.metrics import bertscore

    file = tmp / "items.jsonl"
    file.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return bertscore.score({"model": encoder, "layer": LAYER, **params}, str(file), lambda _e: None, threading.Event())


def direct(encoder: str, rows: list[dict[str, str]], idf: bool) -> tuple[list[float], list[float], list[float]]:
    tokenizer = AutoTokenizer.from_pretrained(encoder)
    model = AutoModel.from_pretrained(encoder).eval()

    def ids(text: str) -> list[int]:
        text = text.strip()
        if not text:
            return [tokenizer.cls_token_id, tokenizer.sep_token_id]
        return tokenizer(" " + text, add_special_tokens=True, truncation=True, max_length=512)["input_ids"]

    def vectors(tokens: list[int]) -> list[list[float]]:
        with torch.no_grad():
            states = model(torch.tensor([tokens]), output_hidden_states=True).hidden_states[LAYER][0]
        return states.double().tolist()

    def cos(a: list[float], b: list[float]) -> float:
        dot = sum(x * y for x, y in zip(a, b))
        return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))

    refs = [ids(r["target"]) for r in rows]
    df: dict[int, int] = {}
    for ref in refs:
        for t in set(ref):
            df[t] = df.get(t, 0) + 1

    def weight(t: int) -> float:
        if t in (tokenizer.cls_token_id, tokenizer.sep_token_id):
            return 0.0
        return math.log((len(refs) + 1) / (df.get(t, 0) + 1)) if idf else 1.0

    ps, rs, fs = [], [], []
    for row, ref in zip(rows, refs):
        hyp = ids(row["response"])
        if len(hyp) == 2 or len(ref) == 2:
            ps.append(0.0), rs.append(0.0), fs.append(0.0)
            continue
        hv, rv = vectors(hyp), vectors(ref)
        p_num = p_den = r_num = r_den = 0.0
        for i, t in enumerate(hyp):
            best = max(cos(hv[i], rv[j]) for j in range(len(ref)))
            p_num += weight(t) * best
            p_den += weight(t)
        for j, t in enumerate(ref):
            best = max(cos(rv[j], hv[i]) for i in range(len(hyp)))
            r_num += weight(t) * best
            r_den += weight(t)
        p, r = p_num / p_den, r_num / r_den
        ps.append(p), rs.append(r), fs.append(2 * p * r / (p + r))
    return ps, rs, fs


@pytest.mark.parametrize("idf", [False, True])
def test_equals_the_direct_formula_for_batch_sizes_1_and_32(encoder: str, tmp_path: Path, idf: bool) -> None:
    rows = pairs(40)
    p, r, f = direct(encoder, rows, idf)
    for batch in (1, 32):
        got = run(encoder, rows, tmp_path, idf=idf, batchSize=batch)["perItem"]
        for key, want in (("p", p), ("r", r), ("f1", f)):
            assert got[key] == pytest.approx(want, abs=1e-6), (key, batch)
    assert p[3] == r[3] == f[3] == 0.0 and f[5] == 0.0
    assert p[7] == pytest.approx(1.0, abs=1e-6)


def test_roberta_text_is_encoded_with_a_prefix_space(encoder: str) -> None:
    from empo_worker.metrics.bertscore import SentenceEncoder

    tokenizer = AutoTokenizer.from_pretrained(encoder)
    encode = SentenceEncoder(tokenizer, prefix_space=True, max_length=512)
    plain = tokenizer("I am so sorry to hear that.", add_special_tokens=True)["input_ids"]
    assert encode("  I am so sorry to hear that. ") != plain
    assert encode("I am so sorry to hear that.") == tokenizer(" I am so sorry to hear that.", add_special_tokens=True)["input_ids"]


def test_rescaling_reads_the_baseline_row_of_the_layer_and_the_hash_says_so(encoder: str, tmp_path: Path) -> None:
    import transformers

    rows = pairs(8)
    baseline = tmp_path / "baseline.tsv"
    baseline.write_text("LAYER,P,R,F\n0,0.1,0.2,0.3\n1,0.8,0.81,0.82\n2,0.5,0.5,0.5\n", encoding="utf-8")
    plain = run(encoder, rows, tmp_path)
    rescaled = run(encoder, rows, tmp_path, rescale=True, baseline=str(baseline))
    for key, b in (("p", 0.8), ("r", 0.81), ("f1", 0.82)):
        assert rescaled["perItem"][key] == pytest.approx([(x - b) / (1 - b) for x in plain["perItem"][key]], abs=1e-12)
    assert plain["meta"]["hash"] == f"{encoder}_L1_no-idf_version=0.3.13(hug_trans={transformers.__version__})"
    assert rescaled["meta"]["hash"].endswith("-custom-rescaled")


def test_bad_inputs_are_input_faults(encoder: str, tmp_path: Path) -> None:
    from empo_worker.metrics.bertscore import bert_score_hash, default_layer

    assert default_layer("roberta-large") == 17
    assert bert_score_hash("roberta-large", 17, False, False, False).startswith("roberta-large_L17_no-idf_version=0.3.13(")
    with pytest.raises(InputFault, match="no default layer"):
        run(encoder, pairs(8), tmp_path, layer=None)
    with pytest.raises(InputFault, match="layer 9 does not exist"):
        run(encoder, pairs(8), tmp_path, layer=9)
    bad = tmp_path / "bad.csv"
    bad.write_text("P,R,F\n0.1,0.1,0.1\n", encoding="utf-8")
    with pytest.raises(InputFault, match="LAYER,P,R,F"):
        run(encoder, pairs(8), tmp_path, rescale=True, baseline=str(bad))
