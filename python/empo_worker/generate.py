"""The ``generate`` request: one response per generation item, written atomically as predictions JSONL."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from empo_worker.data import _conversation, json_objects
from empo_worker.protocol import Cancelled, Emit, InputFault
from empo_worker.runtime import configure_threads, device_info, load_tokenizer

ITEM_FIELDS = ("id", "prompt", "target", "prev", "emotion")


def read_items(path: str, limit: int | None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for where, raw in json_objects(path, "items"):
        for field in ITEM_FIELDS:
            if field not in raw:
                raise InputFault(f"{where}: missing field `{field}`")
            if field != "prompt" and not isinstance(raw[field], str):
                raise InputFault(f"{where}: field `{field}` must be a string")
        prompt = _conversation(raw["prompt"], where, "prompt")
        if prompt[-1]["role"] != "user":
            raise InputFault(f"{where}: field `prompt` must end with a user turn")
        items.append({**{f: raw[f] for f in ITEM_FIELDS}, "prompt": prompt})
        if limit is not None and len(items) == limit:
            break
    if not items:
        raise InputFault(f"{path}: no items")
    return items


def load_model(model_ref: str, cuda: bool) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    dtype = torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float32
    try:
        # With peft installed this also loads an adapter folder (base from adapter_config.json + adapter).
        model = AutoModelForCausalLM.from_pretrained(model_ref, dtype=dtype)
    except OSError as error:
        raise InputFault(f"cannot load model {model_ref}: {error}") from None
    model.to("cuda" if cuda else "cpu")
    model.eval()
    return model


def run(payload: dict[str, Any], emit: Emit, cancel: threading.Event) -> dict[str, Any]:
    started_at = time.perf_counter()
    out = Path(payload["output"]).resolve()
    items = read_items(payload["items"], payload.get("limit"))
    configure_threads()
    import torch

    cuda, device = device_info()
    torch.manual_seed(int(payload.get("seed", 42)))
    tokenizer = load_tokenizer(payload["model"])
    tokenizer.padding_side = "left"
    model = load_model(payload["model"], cuda)
    decoding = payload.get("decoding") or {}
    system_prompt = payload.get("systemPrompt")
    batch_size = int(payload.get("batchSize", 8))
    generate_kwargs: dict[str, Any] = {
        "max_new_tokens": int(decoding.get("maxNewTokens", 200)),
        "do_sample": bool(decoding.get("doSample", False)),
        "repetition_penalty": float(decoding.get("repetitionPenalty", 1.0)),
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    if generate_kwargs["do_sample"]:
        generate_kwargs["temperature"] = float(decoding.get("temperature", 1.0))
        generate_kwargs["top_p"] = float(decoding.get("topP", 1.0))
    emit({"_tag": "started", "total": len(items), "device": device})
    out.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=out.parent, prefix=f".{out.name}.", suffix=".partial", delete=False
    )
    digest = hashlib.sha256()
    try:
        with handle:
            for start in range(0, len(items), batch_size):
                if cancel.is_set():
                    raise Cancelled("generation cancelled")
                batch = items[start : start + batch_size]
                prompts = []
                for item in batch:
                    messages = item["prompt"]
                    if system_prompt is not None and messages[0]["role"] != "system":
                        messages = [{"role": "system", "content": system_prompt}, *messages]
                    prompts.append(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
                # The template writes BOS itself; the tokenizer must not add another.
                encoded = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
                with torch.no_grad():
                    output = model.generate(**encoded, **generate_kwargs)
                new_tokens = output[:, encoded["input_ids"].shape[1] :]
                for item, tokens in zip(batch, new_tokens):
                    response = tokenizer.decode(tokens, skip_special_tokens=True).strip()
                    line = json.dumps({**item, "response": response}, ensure_ascii=False) + "\n"
                    handle.write(line)
                    digest.update(line.encode("utf-8"))
                emit({"_tag": "progress", "done": min(start + batch_size, len(items)), "total": len(items)})
        os.replace(handle.name, out)
    finally:
        if os.path.exists(handle.name):
            os.unlink(handle.name)
    seconds = time.perf_counter() - started_at
    emit({"_tag": "finished", "output": str(out), "rows": len(items), "sha256": digest.hexdigest(), "seconds": seconds})
    return {"output": str(out), "rows": len(items)}
