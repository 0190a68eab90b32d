"""Loading (and, for CPU runs, building) the RoBERTa-family encoders the neural metrics read.

A tiny encoder is a Hugging Face RoBERTa folder made from a config with random, seeded weights and a byte-level
BPE tokenizer trained on local text, with RoBERTa's special tokens at RoBERTa's ids (``<s>`` 0, ``<pad>`` 1,
``</s>`` 2, ``<unk>`` 3, ``<mask>`` 4), so every code path treats it exactly like ``roberta-base``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from empo_worker.protocol import Emit, InputFault
from empo_worker.tiny import save_folder, train_byte_level_bpe

ROBERTA_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "tokenizer_config.json")


def pick_device() -> Any:
    import torch

    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def autocast_dtype(device: Any) -> Any:
    """bf16 where the GPU supports it, else fp16 on CUDA; None (full precision) on CPU."""
    import torch

    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _is_local(ref: str) -> bool:
    return os.path.sep in ref or ref.startswith(".") or Path(ref).exists()


def load_config(ref: str, what: str) -> Any:
    from transformers import AutoConfig

    if _is_local(ref):
        folder = Path(ref)
        if not folder.is_dir():
            raise InputFault(f"{what} folder not found: {ref}")
        if not (folder / "config.json").is_file():
            raise InputFault(f"{what} folder {ref} has no config.json (a Hugging Face model folder is needed)")
    try:
        return AutoConfig.from_pretrained(ref)
    except (OSError, ValueError) as error:
        raise InputFault(f"cannot load the {what} config from {ref}: {error}") from None


def load_tokenizer(ref: str, what: str, **kwargs: Any) -> Any:
    from transformers import AutoTokenizer

    if _is_local(ref):
        folder = Path(ref)
        if not any((folder / name).is_file() for name in TOKENIZER_FILES):
            raise InputFault(
                f"{what} folder {ref} has no tokenizer (expected tokenizer.json, or vocab.json + merges.txt, "
                "beside config.json)"
            )
    try:
        return AutoTokenizer.from_pretrained(ref, **kwargs)
    except (OSError, ValueError, TypeError) as error:
        raise InputFault(f"cannot load the {what} tokenizer from {ref}: {error}") from None


def build_tokenizer(texts: list[str], vocab_size: int, max_length: int) -> Any:
    from tokenizers import processors
    from transformers import RobertaTokenizerFast

    backend = train_byte_level_bpe(texts, vocab_size, ROBERTA_SPECIALS)
    backend.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), add_prefix_space=False, trim_offsets=True)
    return RobertaTokenizerFast(
        tokenizer_object=backend,
        bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
        unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
        model_max_length=max_length,
    )


def build_encoder(texts: list[str], out: Path, *, hidden: int, layers: int, heads: int, vocab: int, seed: int,
                  max_length: int = 512) -> dict[str, Any]:
    """Writes a tiny RoBERTa (random weights from `seed`) and its tokenizer to `out` (which must not hold files)."""
    import torch
    from transformers import RobertaConfig, RobertaModel

    if hidden % heads != 0:
        raise InputFault(f"hidden ({hidden}) must be a multiple of heads ({heads})")
    if out.exists() and any(out.iterdir()):
        raise InputFault(f"output dir is not empty: {out}")
    tokenizer = build_tokenizer(texts, vocab, max_length)
    torch.manual_seed(seed)
    config = RobertaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
        intermediate_size=hidden * 2, max_position_embeddings=max_length + 2, type_vocab_size=1,
        pad_token_id=1, bos_token_id=0, eos_token_id=2,
    )
    model = RobertaModel(config)
    save_folder(out, model, tokenizer)
    return {"outputDir": str(out), "parameters": sum(p.numel() for p in model.parameters()), "vocabSize": len(tokenizer)}


def run_tiny_encoder(payload: dict[str, Any], emit: Emit, cancel: threading.Event) -> dict[str, Any]:
    """The ``tinyEncoder`` request: a tiny RoBERTa folder from a corpus (ED CSV, EPITOME CSV or dialogue JSONL)."""
    from empo_worker.metrics.data import corpus_texts

    texts = corpus_texts(str(payload["corpus"]))
    info = build_encoder(
        texts, Path(str(payload["outputDir"])).resolve(),
        hidden=int(payload.get("hidden", 32)), layers=int(payload.get("layers", 2)), heads=int(payload.get("heads", 2)),
        vocab=int(payload.get("vocab", 2000)), seed=int(payload.get("seed", 42)),
    )
    return {**info, "texts": len(texts)}


TINY_PREFIX = "tiny:"
TINY_SETTINGS = {"hidden": 32, "layers": 2, "heads": 2, "vocab": 2000, "seed": 42}


def cache_dir() -> Path:
    """``$EMPO_CACHE`` (else ``~/.cache/empo``), as the Node side's data cache."""
    return Path(os.environ.get("EMPO_CACHE") or Path.home() / ".cache" / "empo")


def resolve_encoder(ref: str) -> str:
    """A model reference as a loadable one. ``tiny:<corpus>`` names a tiny RoBERTa built (once, then cached by the
    corpus's sha256) from that corpus with fixed settings and seed: what CPU-only runs such as the quickstart score
    with, since no model can be downloaded there."""
    if not ref.startswith(TINY_PREFIX):
        return ref
    import hashlib

    from empo_worker.metrics.data import corpus_texts

    corpus = Path(ref[len(TINY_PREFIX):])
    if not corpus.is_file():
        raise InputFault(f"{ref}: the corpus file {corpus} does not exist")
    digest = hashlib.sha256(corpus.read_bytes() + repr(sorted(TINY_SETTINGS.items())).encode()).hexdigest()[:16]
    folder = cache_dir() / "tiny-encoders" / digest
    if not (folder / "config.json").is_file():
        # Built aside and renamed into place: two workers (concurrent evaluate stages) may build it at once; the
        # first rename wins and the other's identical copy is dropped.
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{digest}-", dir=folder.parent))
        try:
            build_encoder(corpus_texts(str(corpus)), staging, **TINY_SETTINGS)
            try:
                os.rename(staging, folder)
            except OSError:
                if not (folder / "config.json").is_file():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return str(folder)
