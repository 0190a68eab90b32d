"""BERTScore exactly as ``bert_score`` 0.3.13 computes it (that package is not installable here), with its
padding handled by masks so results never depend on the batch size.

Per pair (candidate, reference): both texts are stripped and encoded with special tokens (RoBERTa/GPT-2 style
tokenizers with a prefix space), embedded as ``hidden_states[layer]`` of the model (0 = embeddings), every
token vector L2-normalised; precision is the weighted mean over candidate tokens of their best cosine match
among the reference tokens, recall the converse, F1 their harmonic mean. Special tokens take part in the
matching but weigh 0; with ``idf`` the weights are ``ln((N+1)/(df+1))`` from the references being scored.
"""

from __future__ import annotations

import csv
import math
import threading
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from empo_worker.metrics.data import finite_mean, read_items
from empo_worker.metrics.encoder import autocast_dtype, load_config, load_tokenizer, pick_device, resolve_encoder
from empo_worker.protocol import Cancelled, Emit, InputFault

BERT_SCORE_VERSION = "0.3.13"

# bert_score's default layer per model (its `model2layers` table, English models).
MODEL_LAYERS = {
    "bert-base-uncased": 9, "bert-large-uncased": 18, "bert-base-cased-finetuned-mrpc": 9,
    "bert-base-multilingual-cased": 9, "roberta-base": 10, "roberta-large": 17, "roberta-large-mnli": 19,
    "roberta-base-openai-detector": 7, "roberta-large-openai-detector": 15, "distilroberta-base": 5,
    "distilbert-base-uncased": 5, "distilbert-base-uncased-distilled-squad": 4, "xlm-roberta-base": 9,
    "xlm-roberta-large": 17, "microsoft/deberta-base": 9, "microsoft/deberta-large": 16,
    "microsoft/deberta-xlarge-mnli": 40,
}
# Tokenizers bert_score encodes with `add_prefix_space=True` (GPT-2's byte-level BPE and its descendants).
PREFIX_SPACE_TYPES = {"roberta", "gpt2", "longformer", "bart"}


def default_layer(model: str) -> int | None:
    return MODEL_LAYERS.get(model)


def bert_score_hash(model: str, layer: int, idf: bool, rescale: bool, custom_baseline: bool) -> str:
    """bert_score's hash string (``get_hash``, slow tokenizer): which numbers may be compared with which."""
    import transformers

    text = f"{model}_L{layer}{'_idf' if idf else '_no-idf'}_version={BERT_SCORE_VERSION}(hug_trans={transformers.__version__})"
    if rescale:
        text += "-custom-rescaled" if custom_baseline else "-rescaled"
    return text


class SentenceEncoder:
    """bert_score's ``sent_encode``: strip, special tokens, truncation at the tokenizer's length, prefix space."""

    def __init__(self, tokenizer: Any, prefix_space: bool, max_length: int) -> None:
        self.tokenizer = tokenizer
        self.prefix_space = prefix_space
        self.max_length = max_length

    def __call__(self, text: str) -> list[int]:
        sent = text.strip()
        if sent == "":
            # bert_score: `build_inputs_with_special_tokens([])` (gone in transformers 5), i.e. the special tokens only.
            return list(self.tokenizer("", add_special_tokens=True)["input_ids"])
        # Under transformers 5 `encode(..., add_prefix_space=True)` is silently ignored, so the space is written here;
        # for a stripped sentence it is exactly what the byte-level pre-tokenizer's prefix space does.
        if self.prefix_space:
            sent = " " + sent
        return list(self.tokenizer(sent, add_special_tokens=True, truncation=True, max_length=self.max_length)["input_ids"])


def idf_weights(refs: list[list[int]]) -> Callable[[int], float]:
    """``get_idf_dict``: document frequency over each reference's set of ids, ``ln((N+1)/(df+1))``."""
    counts: Counter[int] = Counter()
    for ids in refs:
        counts.update(set(ids))
    n = len(refs)
    return lambda token: math.log((n + 1) / (counts.get(token, 0) + 1))


def read_baseline(file: str, layer: int) -> tuple[float, float, float]:
    """The (P, R, F) baseline of `layer` from a bert_score baseline CSV (header ``LAYER,P,R,F``; row at position `layer`)."""
    path = Path(file)
    if not path.is_file():
        raise InputFault(f"bertscore baseline file not found: {file}")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows or [c.strip() for c in rows[0][:4]] != ["LAYER", "P", "R", "F"]:
        raise InputFault(f"{file}: not a bert_score baseline file (expected the header LAYER,P,R,F)")
    body = rows[1:]
    if layer >= len(body):
        raise InputFault(f"{file}: has {len(body)} layer rows, so none for layer {layer}")
    try:
        p, r, f = (float(x) for x in body[layer][1:4])
    except ValueError:
        raise InputFault(f"{file}:{layer + 2}: P, R, F must be numbers") from None
    return p, r, f


class Embedder:
    """Token vectors of `hidden_states[layer]`, computed once per distinct sentence, batched, L2-normalised."""

    def __init__(self, model: Any, layer: int, pad_id: int, device: Any) -> None:
        self.model = model
        self.layer = layer
        self.pad_id = pad_id
        self.device = device

    def embed(self, sentences: list[list[int]], batch_size: int, cancel: threading.Event | None, progress: Callable[[int], None]) -> list[Any]:
        import torch

        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        out: list[Any] = [None] * len(sentences)
        dtype = autocast_dtype(self.device)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                if cancel is not None and cancel.is_set():
                    raise Cancelled("bertscore cancelled")
                chunk = order[start : start + batch_size]
                width = max(len(sentences[i]) for i in chunk)
                ids = torch.full((len(chunk), width), self.pad_id, dtype=torch.long)
                mask = torch.zeros((len(chunk), width), dtype=torch.long)
                for row, i in enumerate(chunk):
                    ids[row, : len(sentences[i])] = torch.tensor(sentences[i])
                    mask[row, : len(sentences[i])] = 1
                with torch.autocast(self.device.type, dtype=dtype, enabled=dtype is not None):
                    states = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device),
                                        output_hidden_states=True).hidden_states[self.layer]
                states = states.float()
                states = states / states.norm(dim=-1, keepdim=True)
                for row, i in enumerate(chunk):
                    out[i] = states[row, : len(sentences[i])].cpu()
                progress(len(chunk))
        return out


def pair_scores(hyp_vectors: list[Any], hyp_ids: list[list[int]], ref_vectors: list[Any], ref_ids: list[list[int]],
                weight: Callable[[int], float], specials: set[int], batch_size: int) -> tuple[list[float], list[float], list[float]]:
    import torch

    precision: list[float] = []
    recall: list[float] = []
    f1: list[float] = []
    for start in range(0, len(hyp_vectors), batch_size):
        hs = hyp_vectors[start : start + batch_size]
        rs = ref_vectors[start : start + batch_size]
        hid = hyp_ids[start : start + batch_size]
        rid = ref_ids[start : start + batch_size]
        th = max(h.shape[0] for h in hs)
        tr = max(r.shape[0] for r in rs)
        dim = hs[0].shape[1]
        h = torch.zeros((len(hs), th, dim), dtype=torch.float64)
        r = torch.zeros((len(rs), tr, dim), dtype=torch.float64)
        hm = torch.zeros((len(hs), th), dtype=torch.bool)
        rm = torch.zeros((len(rs), tr), dtype=torch.bool)
        hw = torch.zeros((len(hs), th), dtype=torch.float64)
        rw = torch.zeros((len(rs), tr), dtype=torch.float64)
        for b in range(len(hs)):
            h[b, : hs[b].shape[0]] = hs[b].double()
            r[b, : rs[b].shape[0]] = rs[b].double()
            hm[b, : hs[b].shape[0]] = True
            rm[b, : rs[b].shape[0]] = True
            hw[b, : len(hid[b])] = torch.tensor([0.0 if t in specials else weight(t) for t in hid[b]], dtype=torch.float64)
            rw[b, : len(rid[b])] = torch.tensor([0.0 if t in specials else weight(t) for t in rid[b]], dtype=torch.float64)
        sim = torch.bmm(h, r.transpose(1, 2))
        sim = sim.masked_fill(~(hm[:, :, None] & rm[:, None, :]), float("-inf"))
        best_h = sim.max(dim=2).values.masked_fill(~hm, 0.0)
        best_r = sim.max(dim=1).values.masked_fill(~rm, 0.0)
        p = (best_h * hw).sum(dim=1) / hw.sum(dim=1)
        rr = (best_r * rw).sum(dim=1) / rw.sum(dim=1)
        f = 2 * p * rr / (p + rr)
        # bert_score: a sentence of special tokens only (an empty one) scores 0, as does every NaN F.
        empty = torch.tensor([len(a) == 2 or len(b) == 2 for a, b in zip(hid, rid)])
        p = p.masked_fill(empty, 0.0)
        rr = rr.masked_fill(empty, 0.0)
        f = f.masked_fill(torch.isnan(f), 0.0)
        precision += p.tolist()
        recall += rr.tolist()
        f1 += f.tolist()
    return precision, recall, f1


def load_model(ref: str, layer: int) -> tuple[Any, Any]:
    from transformers import AutoModel

    config = load_config(ref, "bertscore model")
    layers = getattr(config, "num_hidden_layers", None)
    if isinstance(layers, int) and not 0 <= layer <= layers:
        raise InputFault(f"bertscore layer {layer} does not exist in {ref} (hidden states 0..{layers}; 0 = embeddings)")
    try:
        model = AutoModel.from_pretrained(ref)
    except (OSError, ValueError) as error:
        raise InputFault(f"cannot load the bertscore model {ref}: {error}") from None
    # Layers above `layer` cannot change hidden_states[layer]: drop them (as bert_score does) to save their time.
    encoder = getattr(model, "encoder", None)
    if encoder is not None and hasattr(encoder, "layer") and isinstance(layers, int):
        import torch

        encoder.layer = torch.nn.ModuleList(list(encoder.layer)[:layer])
    return config, model.eval()


def score(params: dict[str, Any], items_file: str, emit: Emit, cancel: threading.Event) -> dict[str, Any]:
    from empo_worker.runtime import configure_threads

    configure_threads()
    model_ref = str(params.get("model", "roberta-large"))
    layer_param = params.get("layer")
    layer = int(layer_param) if layer_param is not None else default_layer(model_ref)
    if layer is None:
        raise InputFault(f"bertscore has no default layer for the model {model_ref}: give `layer` (bert_score's table knows {', '.join(sorted(MODEL_LAYERS))})")
    idf = bool(params.get("idf", False))
    rescale = bool(params.get("rescale", False))
    baseline_file = params.get("baseline")
    batch_size = int(params.get("batchSize", 64))
    items = read_items(items_file)
    if items and all(item.target is None for item in items):
        raise InputFault("bertscore needs the gold listener turn of each item as its reference (column `gen_targets`, JSONL key `target`)")
    baseline = None
    if rescale:
        if not isinstance(baseline_file, str) or baseline_file == "":
            raise InputFault("bertscore.rescale needs `baseline`, a bert_score baseline CSV (LAYER,P,R,F) for the model")
        baseline = read_baseline(baseline_file, layer)
    local_ref = resolve_encoder(model_ref)
    config, model = load_model(local_ref, layer)
    tokenizer = load_tokenizer(local_ref, "bertscore model")
    max_length = tokenizer.model_max_length
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int) and max_length > positions:
        # A tokenizer saved without a length: the model's positions bound it (RoBERTa reserves two for padding).
        max_length = positions - 2 if config.model_type in ("roberta", "xlm-roberta", "camembert") else positions
    encode = SentenceEncoder(tokenizer, getattr(config, "model_type", "") in PREFIX_SPACE_TYPES, max_length)
    hyp_ids = [encode(it.response) for it in items]
    ref_ids = [encode(it.target or "") for it in items]
    weight = idf_weights(ref_ids) if idf else (lambda _token: 1.0)
    specials = {t for t in (tokenizer.cls_token_id, tokenizer.sep_token_id) if t is not None}
    device = pick_device()
    model.to(device)
    distinct = list(dict.fromkeys(tuple(s) for s in hyp_ids + ref_ids))
    index = {s: i for i, s in enumerate(distinct)}
    done = [0]

    def progress(n: int) -> None:
        done[0] += n
        emit({"done": done[0], "total": len(distinct)})

    vectors = Embedder(model, layer, tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0, device).embed(
        [list(s) for s in distinct], batch_size, cancel, progress)
    p, r, f = pair_scores([vectors[index[tuple(s)]] for s in hyp_ids], hyp_ids, [vectors[index[tuple(s)]] for s in ref_ids], ref_ids,
                          weight, specials, batch_size)
    no_target = [it.target is None for it in items]
    if baseline is not None:
        bp, br, bf = baseline
        p = [(x - bp) / (1 - bp) for x in p]
        r = [(x - br) / (1 - br) for x in r]
        f = [(x - bf) / (1 - bf) for x in f]
    nan = math.nan
    per_item = {
        "p": [nan if skip else x for x, skip in zip(p, no_target)],
        "r": [nan if skip else x for x, skip in zip(r, no_target)],
        "f1": [nan if skip else x for x, skip in zip(f, no_target)],
    }
    return {
        "perItem": per_item,
        "meta": {"hash": bert_score_hash(model_ref, layer, idf, rescale, baseline is not None), "layer": str(layer), "device": device.type},
    }


def aggregate(per_item: dict[str, list[float]]) -> dict[str, float]:
    return {"p": finite_mean(per_item["p"]), "r": finite_mean(per_item["r"]), "f1": finite_mean(per_item["f1"])}
