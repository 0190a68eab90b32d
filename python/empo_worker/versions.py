"""The ``versions`` request: interpreter, package versions and accelerators."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
import sys
import threading
from typing import Any

from empo_worker.protocol import Emit

PACKAGES = ("torch", "transformers", "trl", "peft", "accelerate", "datasets", "tokenizers", "bitsandbytes", "lm_eval")


def package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def run(payload: dict[str, Any], emit: Emit, cancel: threading.Event) -> dict[str, Any]:
    import torch

    cuda = torch.cuda.is_available()
    return {
        "python": platform.python_version(),
        "executable": sys.executable,
        "packages": {name: package_version(name) for name in PACKAGES},
        "cuda": cuda,
        "devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else ["cpu"],
        "bitsandbytes": importlib.util.find_spec("bitsandbytes") is not None,
        "threads": torch.get_num_threads(),
    }
