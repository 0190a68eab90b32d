"""Process-wide settings shared by training and generation."""

from __future__ import annotations

import os
from typing import Any

from empo_worker.protocol import InputFault


def configure_threads() -> None:
    """Uses every core unless EMPO_TORCH_THREADS says otherwise (CI shares 2 cores between jobs)."""
    import torch

    wanted = os.environ.get("EMPO_TORCH_THREADS")
    torch.set_num_threads(int(wanted) if wanted else max(1, os.cpu_count() or 1))


def device_info() -> tuple[bool, str]:
    import torch

    if torch.cuda.is_available():
        return True, f"cuda:{torch.cuda.get_device_name(0)}"
    return False, "cpu"


def load_tokenizer(model_ref: str) -> Any:
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(model_ref)
    except OSError as error:
        raise InputFault(f"cannot load a tokenizer from {model_ref}: {error}") from None
    if tokenizer.chat_template is None:
        raise InputFault(f"{model_ref}: the tokenizer has no chat template (needed for conversational data)")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer
