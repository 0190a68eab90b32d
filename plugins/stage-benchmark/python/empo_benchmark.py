"""lm-evaluation-harness in the worker: ``benchmark.run`` evaluates a model (a folder or hub id, optionally with a
LoRA adapter through lm_eval's ``peft=``) on tasks with ``lm_eval.simple_evaluate`` and returns lm_eval's own result
dicts. Tasks, include paths and the adapter are checked before any weight is loaded, so bad input fails in seconds
with kind ``input`` (exit 2 on the Node side)."""

from __future__ import annotations

import json
import math
import threading
import time
from pathlib import Path
from typing import Any

from empo_worker.protocol import Cancelled, Emit, InputFault


def _str_list(payload: dict[str, Any], key: str) -> list[str]:
    value = payload.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise InputFault(f"`{key}` must be a non-empty list of task names")
    return list(value)


_FULL_INDEX: dict[str | None, Any] = {}


def task_manager(include_path: str | None, tasks: list[str]) -> Any:
    """lm_eval's task index over ``include_path`` (a folder of task YAML files) and its bundled tasks. Indexing the
    ~15,000 bundled task files takes 10-20 s on two cores, so when every requested name is a plain task of the
    include path, that folder's own index is used; the full one is built once per worker."""
    if include_path is not None and not Path(include_path).is_dir():
        raise InputFault(f"include path {include_path} is not a folder")
    from lm_eval.tasks import TaskManager

    if include_path is not None:
        local = TaskManager(include_path=include_path, include_defaults=False)
        if all(task in local.all_subtasks for task in tasks):
            return local
    if include_path not in _FULL_INDEX:
        _FULL_INDEX[include_path] = TaskManager(include_path=include_path)
    return _FULL_INDEX[include_path]


def check_tasks(manager: Any, tasks: list[str], include_path: str | None) -> None:
    """Refuses task names lm_eval does not know (tasks, groups and tags of its index, globs allowed)."""
    known = set(manager.all_tasks)
    for task in tasks:
        if task in known or manager.match_tasks([task]):
            continue
        where = "lm_eval's bundled tasks" + ("" if include_path is None else f" or the include path {include_path}")
        raise InputFault(f"unknown task {task!r}: no task, group or tag of that name in {where}")


def _adapter_base(adapter: Path) -> str | None:
    config = adapter / "adapter_config.json"
    try:
        return json.loads(config.read_text(encoding="utf-8")).get("base_model_name_or_path")
    except (OSError, ValueError) as error:
        raise InputFault(f"adapter {adapter}: cannot read adapter_config.json ({error})") from None


def check_adapter(model: str, adapter: str) -> None:
    """Checks that every LoRA tensor of ``adapter`` fits a module of ``model``, on a meta-device copy of the
    model built from its config (no weights are read), so a mismatch fails before the evaluation loads anything."""
    folder = Path(adapter)
    if not (folder / "adapter_config.json").is_file():
        raise InputFault(f"adapter {adapter} has no adapter_config.json (not a PEFT adapter folder)")
    weights = folder / "adapter_model.safetensors"
    if not weights.is_file():
        raise InputFault(f"adapter {adapter} has no adapter_model.safetensors")
    import torch
    from safetensors import safe_open
    from transformers import AutoConfig, AutoModelForCausalLM

    try:
        config = AutoConfig.from_pretrained(model)
    except (OSError, ValueError) as error:
        raise InputFault(f"model {model}: cannot read its config ({error})") from None
    with torch.device("meta"):
        skeleton = AutoModelForCausalLM.from_config(config)
    modules = dict(skeleton.named_modules())
    with safe_open(str(weights), framework="pt") as handle:
        for key in handle.keys():
            for part, dim in ((".lora_A.", "in_features"), (".lora_B.", "out_features")):
                if part not in key:
                    continue
                name = key.split(part)[0].removeprefix("base_model.model.")
                module = modules.get(name)
                if module is None:
                    raise InputFault(f"adapter {adapter} does not fit model {model}: it has no module {name}")
                shape = handle.get_slice(key).get_shape()
                expected = getattr(module, dim, None)
                got = shape[1] if part == ".lora_A." else shape[0]
                if expected is not None and got != expected:
                    raise InputFault(
                        f"adapter {adapter} does not fit model {model}: {key} has {dim} {got}, "
                        f"the model's {name} has {expected}")


def _clean(value: Any) -> Any:
    """lm_eval's dicts as JSON: numpy scalars as numbers, NaN (a one-sample stderr) as null."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def model_args(model: str, adapter: str | None, dtype: str) -> dict[str, Any]:
    """``hf`` model args; a model folder that is itself a LoRA adapter evaluates on its base through ``peft=``."""
    if adapter is None and (Path(model) / "adapter_config.json").is_file():
        base = _adapter_base(Path(model))
        if not base:
            raise InputFault(f"adapter {model}: adapter_config.json names no base_model_name_or_path")
        model, adapter = base, model
    args: dict[str, Any] = {"pretrained": model, "dtype": dtype}
    if adapter is not None:
        args["peft"] = adapter
        # As the study ran it (`tokenizer=<adapter>`): an adapter saved with its tokenizer (chat template, added
        # tokens) is evaluated with that tokenizer.
        if (Path(adapter) / "tokenizer_config.json").is_file():
            args["tokenizer"] = adapter
    return args


class _Reporting:
    """Swaps the progress bars of lm_eval's `hf` model for ones that also emit `progress` events (at most one every
    two seconds, and the last), and checks the cancel flag between batches; restored when the evaluation ends."""

    def __init__(self, emit: Emit, cancel: threading.Event) -> None:
        from tqdm import tqdm

        class Bar(tqdm):  # type: ignore[misc, valid-type]
            _last = 0.0

            def update(self, n: float | None = 1) -> bool | None:
                done = super().update(n)
                now = time.monotonic()
                if self.total and (now - self._last >= 2 or self.n >= self.total):
                    self._last = now
                    emit({"phase": "progress", "message": f"{self.desc or 'requests'}: {self.n}/{self.total}"})
                if cancel.is_set():
                    raise Cancelled("benchmark cancelled")
                return done

        self.bar = Bar

    def __enter__(self) -> None:
        import lm_eval.models.huggingface as hf

        self.module, self.original = hf, hf.tqdm
        hf.tqdm = self.bar

    def __exit__(self, *_: object) -> None:
        self.module.tqdm = self.original


def run(payload: dict[str, Any], emit: Emit, cancel: threading.Event) -> dict[str, Any]:
    model = payload.get("model")
    if not isinstance(model, str) or not model:
        raise InputFault("`model` must be a model folder or hub id")
    # A path (absolute or ./, ../) must exist; anything else may be a hub id, which transformers resolves.
    if model.startswith(("/", "./", "../")) and not Path(model).is_dir():
        raise InputFault(f"model folder {model} does not exist")
    adapter = payload.get("adapter")
    if adapter is not None and not Path(adapter).is_dir():
        raise InputFault(f"adapter folder {adapter} does not exist")
    tasks = _str_list(payload, "tasks")
    include_path = payload.get("includePath")
    seed = payload.get("seed")
    started = time.monotonic()
    emit({"phase": "tasks", "message": f"resolving {', '.join(tasks)}"})
    manager = task_manager(include_path, tasks)
    check_tasks(manager, tasks, include_path)
    args = model_args(model, adapter, str(payload.get("dtype") or "auto"))
    if "peft" in args:
        check_adapter(args["pretrained"], args["peft"])
    if cancel.is_set():
        raise Cancelled("benchmark cancelled")
    import lm_eval

    emit({"phase": "evaluate", "message": f"lm_eval {lm_eval.__version__}: {args['pretrained']}"
          + ("" if "peft" not in args else f" + adapter {args['peft']}") + f" on {len(tasks)} task(s)"})
    seeds = {} if seed is None else {
        "random_seed": seed, "numpy_random_seed": seed, "torch_random_seed": seed, "fewshot_random_seed": seed}
    with _Reporting(emit, cancel):
        results = _evaluate(lm_eval, args, tasks, manager, payload, seeds)
    if results is None:
        raise RuntimeError("lm_eval returned no results (a non-zero rank of a distributed run)")
    emit({"phase": "done", "message": f"evaluated in {time.monotonic() - started:.1f}s"})
    samples = results.pop("samples", None) or {}
    cleaned = _clean(results)
    # The same cumulative hash lm_eval's EvaluationTracker writes into its results file (prompts, docs, targets).
    from lm_eval.utils import hash_string

    cleaned["task_hashes"] = {
        task: hash_string("".join(s["doc_hash"] + s["prompt_hash"] + s["target_hash"] for s in rows))
        for task, rows in samples.items()}
    cleaned.setdefault("lm_eval_version", lm_eval.__version__)
    return cleaned


def _evaluate(lm_eval: Any, args: dict[str, Any], tasks: list[str], manager: Any, payload: dict[str, Any],
              seeds: dict[str, int]) -> Any:
    return lm_eval.simple_evaluate(
        model="hf",
        model_args=args,
        tasks=tasks,
        num_fewshot=payload.get("numFewshot"),
        batch_size=payload.get("batchSize", 1),
        device=payload.get("device") or "cpu",
        limit=payload.get("limit"),
        apply_chat_template=bool(payload.get("applyChatTemplate", False)),
        task_manager=manager,
        # Samples are needed for lm_eval's task hashes; they are dropped from the returned dicts below.
        log_samples=True,
        **seeds,
    )


HANDLERS = {"benchmark.run": run}
