"""diff-EPITOME (EmPO §5.1): the EPITOME bi-encoder classifiers of Sharma et al. (2020), loaded from checkpoints
in the official layout, scoring a response against the gold turn for ER / IP / EX, and trained on EPITOME data.

The module mirrors the key layout of the original ``BiEncoderAttentionWithRationaleClassification`` so its
published ``finetuned_{ER,IP,EX}.pth`` state dicts load unchanged: ``seeker_encoder.roberta.*``,
``responder_encoder.roberta.*``, ``attn.{q,k,v}_linear`` / ``attn.out``, ``norm.{alpha,bias}``,
``rationale_classifier``, ``empathy_classifier.{dense,out_proj}``. Hidden size and depth come from the encoder's
config, so a small RoBERTa config with a checkpoint of the same layout loads as well.
"""

from __future__ import annotations

import json
import math
import random
import threading
from pathlib import Path
from typing import Any, Sequence

from empo_worker.metrics.data import MECHANISMS, EpitomeRow, finite_mean, read_epitome_split, read_items
from empo_worker.metrics.encoder import TINY_PREFIX, autocast_dtype, load_config, load_tokenizer, pick_device, resolve_encoder
from empo_worker.protocol import Cancelled, Emit, InputFault

LEVELS = 3
RATIONALE_LABELS = 2
# Buffers older transformers saved into state dicts; they are recomputed, never learnt.
IGNORED_SUFFIXES = (".embeddings.position_ids", ".embeddings.token_type_ids")


def checkpoint_file(folder: str, mechanism: str) -> Path:
    return Path(folder) / f"finetuned_{mechanism}.pth"


def build_model(config: Any, pooler: bool = True) -> Any:
    import torch
    from torch import nn
    from transformers import RobertaModel

    hidden = config.hidden_size

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.roberta = RobertaModel(config, add_pooling_layer=pooler)

    class CrossAttention(nn.Module):
        """One head: responder states ask, seeker states answer; seeker padding is masked (the original had none)."""

        def __init__(self) -> None:
            super().__init__()
            self.q_linear = nn.Linear(hidden, hidden)
            self.k_linear = nn.Linear(hidden, hidden)
            self.v_linear = nn.Linear(hidden, hidden)
            self.out = nn.Linear(hidden, hidden)

        def forward(self, responder: Any, seeker: Any, seeker_mask: Any) -> Any:
            q, k, v = self.q_linear(responder), self.k_linear(seeker), self.v_linear(seeker)
            scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(hidden)
            scores = scores.masked_fill(seeker_mask[:, None, :] == 0, float("-inf"))
            return self.out(torch.matmul(torch.softmax(scores, dim=-1), v))

    class Norm(nn.Module):
        # Present in the original module (and its checkpoints) but never applied in its forward pass.
        def __init__(self) -> None:
            super().__init__()
            self.alpha = nn.Parameter(torch.ones(hidden))
            self.bias = nn.Parameter(torch.zeros(hidden))

    class Head(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.dense = nn.Linear(hidden, hidden)
            self.out_proj = nn.Linear(hidden, LEVELS)

        def forward(self, x: Any, dropout: Any) -> Any:
            return self.out_proj(dropout(torch.relu(self.dense(dropout(x)))))

    class EpitomeClassifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.dropout = nn.Dropout(0.2)
            self.head_dropout = nn.Dropout(0.1)
            self.rationale_classifier = nn.Linear(hidden, RATIONALE_LABELS)
            self.attn = CrossAttention()
            self.norm = Norm()
            self.empathy_classifier = Head()
            self.seeker_encoder = Encoder()
            self.responder_encoder = Encoder()

        def forward(self, seeker_ids: Any, seeker_mask: Any, responder_ids: Any, responder_mask: Any) -> tuple[Any, Any]:
            seeker = self.seeker_encoder.roberta(input_ids=seeker_ids, attention_mask=seeker_mask).last_hidden_state
            responder = self.responder_encoder.roberta(input_ids=responder_ids, attention_mask=responder_mask).last_hidden_state
            responder = responder + self.dropout(self.attn(responder, seeker, seeker_mask))
            levels = self.empathy_classifier(responder[:, 0, :], self.head_dropout)
            rationales = self.rationale_classifier(self.dropout(responder))
            return levels, rationales

    return EpitomeClassifier()


def _state_dict(file: Path) -> dict[str, Any]:
    import torch

    try:
        loaded = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable file is the input's fault
        raise InputFault(f"{file}: not a torch checkpoint ({type(error).__name__}: {error})") from None
    if isinstance(loaded, dict) and "state_dict" in loaded and isinstance(loaded["state_dict"], dict):
        loaded = loaded["state_dict"]
    if not isinstance(loaded, dict) or not all(isinstance(k, str) for k in loaded):
        raise InputFault(f"{file}: expected a state dict (a mapping of parameter names to tensors)")
    return {k: v for k, v in loaded.items() if not k.endswith(IGNORED_SUFFIXES)}


def _listed(keys: Sequence[str], limit: int = 6) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" … ({len(keys)} in all)" if len(keys) > limit else "")


def load_classifier(file: Path, config: Any, encoder: str) -> Any:
    """The classifier of one checkpoint; keys or shapes that do not fit the layout are a clear input fault."""
    if not file.is_file():
        raise InputFault(f"checkpoint not found: {file} (the folder needs finetuned_ER.pth, finetuned_IP.pth and finetuned_EX.pth)")
    state = _state_dict(file)
    model = build_model(config, pooler="seeker_encoder.roberta.pooler.dense.weight" in state)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing keys: {_listed(missing)}")
        if unexpected:
            parts.append(f"unexpected keys: {_listed(unexpected)}")
        raise InputFault(
            f"{file} is not an EPITOME bi-encoder checkpoint for the encoder {encoder} "
            f"(BiEncoderAttentionWithRationaleClassification layout): {'; '.join(parts)}"
        )
    wrong = [f"{k} {tuple(state[k].shape)} (expected {tuple(v.shape)})" for k, v in expected.items() if tuple(state[k].shape) != tuple(v.shape)]
    if wrong:
        raise InputFault(
            f"{file} does not fit the encoder {encoder} (hidden {config.hidden_size}, {config.num_hidden_layers} layers): "
            f"shape mismatch for {_listed(wrong, 3)}"
        )
    model.load_state_dict(state)
    return model.eval()


class Encoded:
    """Token ids of one text as the EmPO scorer made them: lower-cased, special tokens, truncated at `max_length`."""

    def __init__(self, tokenizer: Any, max_length: int) -> None:
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.cache: dict[str, list[int]] = {}

    def __call__(self, text: str) -> list[int]:
        ids = self.cache.get(text)
        if ids is None:
            ids = self.tokenizer(text.lower(), add_special_tokens=True, truncation=True, max_length=self.max_length)["input_ids"]
            self.cache[text] = ids
        return ids


def _pad(rows: list[list[int]], pad_id: int) -> tuple[Any, Any]:
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1
    return ids, mask


def classify(model: Any, pairs: list[tuple[list[int], list[int]]], pad_id: int, batch_size: int, device: Any,
             cancel: threading.Event | None = None, progress: Any = None) -> list[int]:
    """Level (argmax) of every (seeker ids, responder ids) pair, batched by similar length; order kept."""
    import torch

    order = sorted(range(len(pairs)), key=lambda i: (len(pairs[i][1]), len(pairs[i][0])))
    levels = [0] * len(pairs)
    dtype = autocast_dtype(device)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            if cancel is not None and cancel.is_set():
                raise Cancelled("epitome scoring cancelled")
            chunk = order[start : start + batch_size]
            s_ids, s_mask = _pad([pairs[i][0] for i in chunk], pad_id)
            r_ids, r_mask = _pad([pairs[i][1] for i in chunk], pad_id)
            with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
                logits, _ = model(s_ids.to(device), s_mask.to(device), r_ids.to(device), r_mask.to(device))
            for i, level in zip(chunk, logits.float().argmax(dim=-1).tolist()):
                levels[i] = int(level)
            if progress is not None:
                progress(len(chunk))
    return levels


def seeded_checkpoints(ref: str, encoder: str) -> str:
    """``tiny:<seed>``: three classifiers with seeded random heads on `encoder` (no training), cached; they give
    real but meaningless levels, for runs that only need the pipeline to work (the quickstart on a CPU)."""
    import hashlib

    import torch

    from empo_worker.metrics.encoder import cache_dir

    try:
        seed = int(ref[len(TINY_PREFIX):])
    except ValueError:
        raise InputFault(f"checkpoints {ref!r}: expected tiny:<integer seed>") from None
    digest = hashlib.sha256(f"{Path(encoder).resolve()}|{seed}".encode()).hexdigest()[:16]
    folder = cache_dir() / "tiny-epitome" / digest
    if all(checkpoint_file(str(folder), m).is_file() for m in MECHANISMS):
        return str(folder)
    config = load_config(encoder, "encoder")
    folder.mkdir(parents=True, exist_ok=True)
    for offset, m in enumerate(MECHANISMS):
        torch.manual_seed(seed + offset)
        model = _fresh_model(encoder, config)
        staging = folder / f".finetuned_{m}.pth.tmp"
        torch.save(model.state_dict(), staging)
        staging.replace(checkpoint_file(str(folder), m))
    return str(folder)


def score(params: dict[str, Any], items_file: str, emit: Emit, cancel: threading.Event) -> dict[str, Any]:
    from empo_worker.runtime import configure_threads

    configure_threads()
    encoder = resolve_encoder(str(params.get("encoder", "roberta-base")))
    checkpoints = str(params["checkpoints"])
    if checkpoints.startswith(TINY_PREFIX):
        checkpoints = seeded_checkpoints(checkpoints, encoder)
    max_length = int(params.get("maxLength", 64))
    batch_size = int(params.get("batchSize", 16))
    mechanisms = [m for m in MECHANISMS]
    items = read_items(items_file)
    if items and all(item.context == "" for item in items):
        raise InputFault("epitome needs the user turn before each response (column `prevs`, JSONL key `prev`); every item's is empty")
    if items and all(item.target is None for item in items):
        raise InputFault("epitome needs the gold listener turn of each item (column `gen_targets`, JSONL key `target`)")
    for m in mechanisms:
        if not checkpoint_file(checkpoints, m).is_file():
            raise InputFault(f"checkpoint folder {checkpoints} has no finetuned_{m}.pth (it needs finetuned_ER.pth, finetuned_IP.pth, finetuned_EX.pth)")
    config = load_config(encoder, "encoder")
    if getattr(config, "model_type", "") not in ("roberta", "xlm-roberta", "camembert"):
        raise InputFault(f"encoder {encoder} is a {getattr(config, 'model_type', '?')} model; the EPITOME classifiers are RoBERTa bi-encoders")
    tokenizer = load_tokenizer(encoder, "encoder")
    encode = Encoded(tokenizer, max_length)
    device = pick_device()
    pred_pairs = [(encode(it.context), encode(it.response)) for it in items]
    gold_pairs = [(encode(it.context), encode(it.target if it.target is not None else "")) for it in items]
    total = len(mechanisms) * 2 * len(items)
    done = [0]

    def progress(n: int) -> None:
        done[0] += n
        emit({"done": done[0], "total": total})

    per_item: dict[str, list[float]] = {}
    for m in mechanisms:
        model = load_classifier(checkpoint_file(checkpoints, m), config, encoder).to(device)
        levels = classify(model, pred_pairs + gold_pairs, tokenizer.pad_token_id, batch_size, device, cancel, progress)
        pred, gold = levels[: len(items)], levels[len(items) :]
        per_item[f"pred_{m}"] = [float(p) if it.response.strip() else math.nan for p, it in zip(pred, items)]
        per_item[f"gt_{m}"] = [float(g) if it.target is not None else math.nan for g, it in zip(gold, items)]
        per_item[f"diff_{m}"] = [(p - g) ** 2 for p, g in zip(per_item[f"pred_{m}"], per_item[f"gt_{m}"])]
        del model
    return {"perItem": per_item, "meta": {"device": device.type, "encoder": encoder}}


def aggregate(per_item: dict[str, list[float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for m in MECHANISMS:
        for kind in ("diff", "pred", "gt"):
            out[f"{kind}_{m}"] = finite_mean(per_item[f"{kind}_{m}"])
    out["diff_mean"] = (out["diff_ER"] + out["diff_IP"] + out["diff_EX"]) / 3
    return out


# --- training --------------------------------------------------------------------------------------------------


def rationale_labels(tokenizer: Any, response: str, spans: list[str], max_length: int) -> tuple[list[int], list[int]]:
    """Responder ids and a 0/1 label per token: 1 where the token overlaps a rationale span (special tokens 0)."""
    text = response.lower()
    encoded = tokenizer(text, add_special_tokens=True, truncation=True, max_length=max_length, return_offsets_mapping=True)
    marked: list[tuple[int, int]] = []
    for span in spans:
        needle = span.strip().lower()
        at = text.find(needle) if needle else -1
        if at >= 0:
            marked.append((at, at + len(needle)))
    labels = []
    for start, end in encoded["offset_mapping"]:
        real = end > start
        labels.append(1 if real and any(start < b and end > a for a, b in marked) else 0)
    return list(encoded["input_ids"]), labels


def macro_f1(truth: list[int], predicted: list[int]) -> float:
    """Macro-F1 over the labels present in either list (scikit-learn's default, zero division = 0)."""
    labels = sorted(set(truth) | set(predicted))
    scores = []
    for label in labels:
        tp = sum(1 for t, p in zip(truth, predicted) if t == label and p == label)
        fp = sum(1 for t, p in zip(truth, predicted) if t != label and p == label)
        fn = sum(1 for t, p in zip(truth, predicted) if t == label and p != label)
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores) if scores else 0.0


def accuracy(truth: list[int], predicted: list[int]) -> float:
    return sum(1 for t, p in zip(truth, predicted) if t == p) / len(truth) if truth else 0.0


def _seed(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _fresh_model(encoder: str, config: Any) -> Any:
    """The bi-encoder with both encoders from `encoder`'s weights (heads freshly initialised as the original)."""
    import torch
    from torch import nn
    from transformers import AutoModel

    model = build_model(config)
    for module in (model.attn, model.empathy_classifier, model.rationale_classifier):
        for sub in module.modules():
            if isinstance(sub, nn.Linear):
                nn.init.normal_(sub.weight, mean=0.0, std=0.02)
                nn.init.zeros_(sub.bias)
    try:
        base = AutoModel.from_pretrained(encoder)
    except (OSError, ValueError) as error:
        raise InputFault(f"cannot load the encoder weights from {encoder}: {error}") from None
    weights = {k: v for k, v in base.state_dict().items() if not k.endswith(IGNORED_SUFFIXES)}
    for part in (model.seeker_encoder.roberta, model.responder_encoder.roberta):
        missing, _ = part.load_state_dict(weights, strict=False)
        if any(not k.startswith("pooler.") for k in missing):
            raise InputFault(f"encoder {encoder} does not fit a RoBERTa model: missing {_listed(sorted(missing))}")
    return model


def train_mechanism(mechanism: str, payload: dict[str, Any], config: Any, tokenizer: Any, emit: Emit,
                    cancel: threading.Event, out: Path) -> dict[str, Any]:
    import torch
    from torch import nn

    data = str(payload["data"])
    encoder = str(payload["encoder"])
    max_length = int(payload.get("maxLength", 64))
    epochs = int(payload.get("epochs", 4))
    batch_size = int(payload.get("batchSize", 32))
    lr = float(payload.get("lr", 2e-5))
    lambda_ei = float(payload.get("lambdaEI", 0.5))
    lambda_re = float(payload.get("lambdaRE", 0.5))
    seed = int(payload.get("seed", 12))
    limit = payload.get("limit")
    device = pick_device()

    train_rows = read_epitome_split(data, "train", mechanism)
    test_rows = read_epitome_split(data, "test", mechanism)
    val_rows = read_epitome_split(data, "val", mechanism)
    if isinstance(limit, int) and limit > 0:
        train_rows = train_rows[:limit]
    _seed(seed)
    model = _fresh_model(encoder, config).to(device)
    if bool(payload.get("freezeSeeker", True)):
        # As the original: the seeker encoder stays as pre-trained.
        for p in model.seeker_encoder.parameters():
            p.requires_grad = False
    encode = Encoded(tokenizer, max_length)

    def tensors(rows: list[EpitomeRow]) -> list[tuple[list[int], list[int], list[int], int]]:
        out_rows = []
        for row in rows:
            ids, labels = rationale_labels(tokenizer, row.response, row.rationales, max_length)
            out_rows.append((encode(row.seeker), ids, labels, row.level))
        return out_rows

    train = tensors(train_rows)
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, eps=1e-8)
    steps = epochs * math.ceil(len(train) / batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: max(0.0, 1 - step / max(1, steps)))
    level_loss = nn.CrossEntropyLoss()
    rationale_loss = nn.CrossEntropyLoss(ignore_index=-100)
    generator = random.Random(seed)
    history = []
    for epoch in range(epochs):
        model.train()
        order = list(range(len(train)))
        generator.shuffle(order)
        total = 0.0
        for start in range(0, len(order), batch_size):
            if cancel.is_set():
                raise Cancelled("epitome training cancelled")
            batch = [train[i] for i in order[start : start + batch_size]]
            s_ids, s_mask = _pad([b[0] for b in batch], tokenizer.pad_token_id)
            r_ids, r_mask = _pad([b[1] for b in batch], tokenizer.pad_token_id)
            width = r_ids.shape[1]
            r_labels = torch.full((len(batch), width), -100, dtype=torch.long)
            for i, b in enumerate(batch):
                r_labels[i, : len(b[2])] = torch.tensor(b[2], dtype=torch.long)
            levels = torch.tensor([b[3] for b in batch], dtype=torch.long)
            logits, rationale_logits = model(s_ids.to(device), s_mask.to(device), r_ids.to(device), r_mask.to(device))
            loss = lambda_ei * level_loss(logits, levels.to(device)) + lambda_re * rationale_loss(
                rationale_logits.reshape(-1, RATIONALE_LABELS), r_labels.to(device).reshape(-1))
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            total += float(loss.item()) * len(batch)
        history.append({"epoch": epoch + 1, "loss": total / len(train)})
        emit({"mechanism": mechanism, "epoch": epoch + 1, "epochs": epochs, "loss": total / len(train)})
    model.eval()

    def evaluate(rows: list[EpitomeRow]) -> dict[str, float]:
        pairs = [(encode(r.seeker), encode(r.response)) for r in rows]
        predicted = classify(model, pairs, tokenizer.pad_token_id, 64, device)
        truth = [r.level for r in rows]
        return {"accuracy": accuracy(truth, predicted), "macroF1": macro_f1(truth, predicted), "n": len(rows)}

    counts = [sum(1 for r in train_rows if r.level == level) for level in range(LEVELS)]
    majority = max(range(LEVELS), key=lambda level: counts[level])
    truth = [r.level for r in test_rows]
    baseline = [majority] * len(truth)
    result = {
        "train": {"n": len(train_rows), "levelCounts": counts},
        "val": evaluate(val_rows),
        "test": evaluate(test_rows),
        "majority": {"level": majority, "accuracy": accuracy(truth, baseline), "macroF1": macro_f1(truth, baseline)},
        "epochs": history,
        "checkpoint": str(checkpoint_file(str(out), mechanism)),
    }
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, checkpoint_file(str(out), mechanism))
    return result


def run_train(payload: dict[str, Any], emit: Emit, cancel: threading.Event) -> dict[str, Any]:
    """The ``epitomeTrain`` request: one classifier per mechanism, checkpoints in the official layout + metrics.json."""
    from empo_worker.runtime import configure_threads

    configure_threads()
    encoder = resolve_encoder(str(payload["encoder"]))
    payload = {**payload, "encoder": encoder}
    out = Path(str(payload["outputDir"])).resolve()
    mechanisms = [str(m) for m in payload.get("mechanisms") or MECHANISMS]
    unknown = [m for m in mechanisms if m not in MECHANISMS]
    if unknown:
        raise InputFault(f"unknown mechanism(s) {', '.join(unknown)}; use ER, IP, EX")
    for m in mechanisms:
        read_epitome_split(str(payload["data"]), "train", m)
    config = load_config(encoder, "encoder")
    tokenizer = load_tokenizer(encoder, "encoder")
    out.mkdir(parents=True, exist_ok=True)
    results = {m: train_mechanism(m, payload, config, tokenizer, emit, cancel, out) for m in mechanisms}
    record = {
        "encoder": encoder, "data": str(payload["data"]), "seed": int(payload.get("seed", 12)),
        "epochs": int(payload.get("epochs", 4)), "lr": float(payload.get("lr", 2e-5)),
        "maxLength": int(payload.get("maxLength", 64)), "device": pick_device().type, "mechanisms": results,
    }
    (out / "metrics.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return {"outputDir": str(out), **record}
