"""Tiny Llama-architecture models for CPU runs: a BPE tokenizer trained on the dialogues, a Zephyr-style
chat template with ``{% generation %}`` markers (TRL's assistant-only loss), and random weights, saved in
Hugging Face format so every stage loads them exactly like a hub model. Nothing is downloaded."""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator

from empo_worker.data import read_jsonl
from empo_worker.protocol import Emit, InputFault

SPECIAL_TOKENS = ["<unk>", "<s>", "</s>", "<pad>", "<|system|>", "<|user|>", "<|assistant|>"]

# Zephyr serialisation (`<|role|>\n` + content + `</s>\n`), with the BOS written by the template so TRL's
# tokenisation of rendered text adds none twice; the assistant content and its `</s>` are the trained span.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "{{ '<|assistant|>\n' }}{% generation %}{{ message['content'] + eos_token }}{% endgeneration %}{{ '\n' }}"
    "{% else %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + eos_token + '\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)


def _csv_texts(path: Path) -> Iterator[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or [])
        text_columns = [c for c in ("utterance", "sp1", "sp2") if c in columns]
        if not text_columns:
            raise InputFault(f"{path}:1: no text column (expected `utterance` or `sp1`/`sp2`)")
        for row in reader:
            for column in text_columns:
                text = (row.get(column) or "").replace("_comma_", ",").strip()
                if text:
                    yield text


def _jsonl_texts(path: Path) -> Iterator[str]:
    for _where, row in read_jsonl(path):
        for field in ("messages", "prompt", "chosen", "rejected", "completion"):
            for message in row.get(field) or []:
                if isinstance(message, dict) and isinstance(message.get("content"), str):
                    yield message["content"]


def corpus_texts(corpus: str) -> list[str]:
    path = Path(corpus)
    if not path.is_file():
        raise InputFault(f"corpus not found: {corpus}")
    texts = _csv_texts(path) if path.suffix.lower() == ".csv" else _jsonl_texts(path)
    unique = list(dict.fromkeys(texts))
    if not unique:
        raise InputFault(f"{corpus}: no dialogue text found")
    return unique


def train_byte_level_bpe(texts: list[str], vocab_size: int, specials: list[str]) -> Any:
    """A byte-level BPE `tokenizers.Tokenizer` trained on `texts`, `specials` taking the first ids in order (the tiny
    Llama's and the tiny RoBERTa's tokenizers both; their files are cached by content, so keep this deterministic)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    backend = Tokenizer(models.BPE(unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer=trainer)
    return backend


def save_folder(out: Path, *parts: Any) -> None:
    """Saves each of `parts` (anything with ``save_pretrained``) into a sibling staging folder, then renames it to
    `out` (absent or empty), so a crash never leaves a half-written model folder behind."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for part in parts:
            part.save_pretrained(staging)
        if out.exists():
            out.rmdir()
        os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def build_tokenizer(texts: list[str], vocab_size: int) -> Any:
    from transformers import PreTrainedTokenizerFast

    backend = train_byte_level_bpe(texts, vocab_size, SPECIAL_TOKENS)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        additional_special_tokens=["<|system|>", "<|user|>", "<|assistant|>"],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.padding_side = "right"
    return tokenizer


def build_model(tokenizer: Any, layers: int, hidden: int, heads: int, max_positions: int, seed: int) -> Any:
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    if hidden % heads != 0:
        raise InputFault(f"hidden ({hidden}) must be a multiple of heads ({heads})")
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=max_positions,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return model


def run(payload: dict[str, Any], emit: Emit, cancel: threading.Event) -> dict[str, Any]:
    out = Path(payload["outputDir"]).resolve()
    if out.exists() and any(out.iterdir()):
        raise InputFault(f"output dir is not empty: {out}")
    texts = corpus_texts(payload["corpus"])
    tokenizer = build_tokenizer(texts, int(payload.get("vocab", 2000)))
    model = build_model(
        tokenizer,
        layers=int(payload.get("layers", 2)),
        hidden=int(payload.get("hidden", 128)),
        heads=int(payload.get("heads", 4)),
        max_positions=int(payload.get("maxPositions", 512)),
        seed=int(payload.get("seed", 42)),
    )
    save_folder(out, model, tokenizer)
    return {
        "outputDir": str(out),
        "parameters": sum(p.numel() for p in model.parameters()),
        "vocabSize": len(tokenizer),
        "texts": len(texts),
    }
