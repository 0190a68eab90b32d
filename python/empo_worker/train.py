"""The ``train`` request: SFT, DPO (sigmoid), IPO and KTO with TRL's own trainers.

Checkpoints go to ``checkpointDir/checkpoint-N`` when the request names that folder (it belongs to the caller's
stage, survives interrupted attempts and is never deleted here), else to ``<outputDir>.checkpoints/checkpoint-N``.
With a ``checkpointDir``, a run resumes from its newest complete checkpoint (one with a readable
``trainer_state.json``), saves every ``saveSteps`` or, when that is absent, every tenth of the run, and keeps
the last two checkpoints. An explicit ``resumeFrom`` wins over the folder's checkpoints. The final model is
saved into a temporary sibling folder and renamed to ``outputDir`` only once complete, so a killed run never
leaves ``outputDir`` behind.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from empo_worker.data import read_rows
from empo_worker.protocol import PREEMPTION, Cancelled, Emit, InputFault, Preempted
from empo_worker.runtime import configure_threads, device_info, load_tokenizer

STAGE_ONLY_FIELDS = {
    "beta": {"dpo", "ipo", "kto"},
    "labelSmoothing": {"dpo"},
    "desirableWeight": {"kto"},
    "undesirableWeight": {"kto"},
}


def check_hyper(stage: str, hyper: dict[str, Any]) -> None:
    for field, stages in STAGE_ONLY_FIELDS.items():
        if hyper.get(field) is not None and stage not in stages:
            raise InputFault(f"`{field}` does not apply to stage {stage} (only {', '.join(sorted(stages))})")
    if stage == "kto" and int(hyper["batchSize"]) < 2:
        raise InputFault("KTO needs batchSize ≥ 2 (its KL estimate pairs each completion with another in the batch)")


CHECKPOINT_NAME = re.compile(r"checkpoint-(\d+)")
# With a stage-owned checkpoint folder and no saveSteps: save every tenth of the run (transformers reads a
# save_steps below 1 as a fraction of the total), keeping two so a half-written newest one has a fallback.
DEFAULT_SAVE_FRACTION = 0.1
KEPT_CHECKPOINTS = 2


def latest_checkpoint(folder: Path) -> Path | None:
    """The highest ``checkpoint-N`` in `folder` whose trainer_state.json reads; newer incomplete ones are skipped."""
    if not folder.is_dir():
        return None
    numbered = [
        (int(match.group(1)), entry)
        for entry in folder.iterdir()
        if entry.is_dir() and (match := CHECKPOINT_NAME.fullmatch(entry.name)) is not None
    ]
    for _, entry in sorted(numbered, reverse=True):
        try:
            json.loads((entry / "trainer_state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        return entry
    return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def artifacts_of(folder: Path) -> list[dict[str, Any]]:
    return [
        {"path": str(file.relative_to(folder)), "sha256": sha256_of(file), "bytes": file.stat().st_size}
        for file in sorted(folder.rglob("*"))
        if file.is_file()
    ]


def numeric(logs: dict[str, Any]) -> dict[str, float]:
    return {
        key: float(value)
        for key, value in logs.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(float(value))
    }


def load_policy(model_ref: str, hyper: dict[str, Any], cuda: bool) -> tuple[Any, Any]:
    """The model to train and, when a fresh LoRA is requested, its peft config."""
    import torch
    from transformers import AutoModelForCausalLM

    lora = hyper.get("lora")
    dtype = torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float32
    kwargs: dict[str, Any] = {"dtype": dtype}
    if lora is not None and lora.get("quantize4bit"):
        if not cuda:
            raise InputFault("lora.quantize4bit (QLoRA) needs a CUDA device; none is available")
        try:
            from transformers import BitsAndBytesConfig
            import bitsandbytes  # noqa: F401
        except ImportError:
            raise InputFault("lora.quantize4bit (QLoRA) needs bitsandbytes: pip install bitsandbytes") from None
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16
        )
    if (Path(model_ref) / "adapter_config.json").is_file():
        if lora is not None:
            raise InputFault(
                f"{model_ref} is a LoRA adapter: omit `lora` to keep training it (as the study's DPO did), "
                "or merge it into a full model first"
            )
        from peft import AutoPeftModelForCausalLM

        # The adapter keeps training; TRL copies it as a frozen "ref" adapter, so the reference is the SFT model.
        return AutoPeftModelForCausalLM.from_pretrained(model_ref, is_trainable=True, **kwargs), None
    try:
        model = AutoModelForCausalLM.from_pretrained(model_ref, **kwargs)
    except OSError as error:
        raise InputFault(f"cannot load model {model_ref}: {error}") from None
    if lora is None:
        return model, None
    from peft import LoraConfig

    return model, LoraConfig(
        r=int(lora["r"]),
        lora_alpha=float(lora["alpha"]),
        lora_dropout=float(lora["dropout"]),
        target_modules=list(lora["targetModules"]),
        bias="none",
        task_type="CAUSAL_LM",
    )


def make_config(
    stage: str, hyper: dict[str, Any], work_dir: Path, seed: int, cuda: bool, has_eval: bool, stage_owned: bool = False
) -> Any:
    import torch

    save_steps = hyper.get("saveSteps") or (DEFAULT_SAVE_FRACTION if stage_owned else None)
    eval_steps = hyper.get("evalSteps")
    common: dict[str, Any] = {
        "output_dir": str(work_dir),
        "per_device_train_batch_size": int(hyper["batchSize"]),
        "per_device_eval_batch_size": int(hyper.get("evalBatchSize") or hyper["batchSize"]),
        "gradient_accumulation_steps": int(hyper.get("gradientAccumulationSteps", 1)),
        "num_train_epochs": float(hyper.get("epochs", 1)),
        "max_steps": int(hyper.get("maxSteps") or -1),
        "learning_rate": float(hyper["learningRate"]),
        "lr_scheduler_type": hyper.get("scheduler", "linear"),
        # transformers 5 folds warmup_ratio into warmup_steps: a value below 1 is a fraction of all steps.
        "warmup_steps": float(hyper.get("warmupRatio", 0)),
        "max_grad_norm": float(hyper.get("maxGradNorm", 1)),
        "weight_decay": float(hyper.get("weightDecay", 0)),
        "logging_steps": int(hyper.get("loggingSteps", 1)),
        "save_strategy": "steps" if save_steps else "no",
        "save_steps": save_steps or 500,
        "save_total_limit": KEPT_CHECKPOINTS if stage_owned else None,
        "eval_strategy": "steps" if (has_eval and eval_steps) else "no",
        "eval_steps": int(eval_steps) if eval_steps else None,
        "seed": seed,
        "report_to": "none",
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
        # TRL's defaults (bf16 + gradient checkpointing) fail or only slow things down on CPU.
        "use_cpu": not cuda,
        "bf16": cuda and torch.cuda.is_bf16_supported(),
        "gradient_checkpointing": cuda,
        "max_length": int(hyper["maxLength"]),
    }
    if stage == "sft":
        from trl import SFTConfig

        return SFTConfig(**common, assistant_only_loss=True, packing=False)
    if stage in ("dpo", "ipo"):
        from trl import DPOConfig

        extra: dict[str, Any] = {"loss_type": ["sigmoid" if stage == "dpo" else "ipo"]}
        if hyper.get("beta") is not None:
            extra["beta"] = float(hyper["beta"])
        if hyper.get("labelSmoothing") is not None:
            extra["label_smoothing"] = float(hyper["labelSmoothing"])
        return DPOConfig(**common, **extra)
    from trl import KTOConfig

    extra = {}
    for field, name in (("beta", "beta"), ("desirableWeight", "desirable_weight"), ("undesirableWeight", "undesirable_weight")):
        if hyper.get(field) is not None:
            extra[name] = float(hyper[field])
    return KTOConfig(**common, **extra)


def make_trainer(stage: str, model: Any, peft_config: Any, config: Any, tokenizer: Any, train_ds: Any, eval_ds: Any) -> Any:
    kwargs: dict[str, Any] = {
        "model": model,
        "args": config,
        "train_dataset": train_ds,
        "eval_dataset": eval_ds,
        "processing_class": tokenizer,
        "peft_config": peft_config,
    }
    if stage == "sft":
        from trl import SFTTrainer

        return SFTTrainer(**kwargs)
    if stage in ("dpo", "ipo"):
        from trl import DPOTrainer

        return DPOTrainer(**kwargs)
    from trl import KTOTrainer

    return KTOTrainer(**kwargs)


def preemption_agreed(args: Any) -> bool:
    """Whether to checkpoint and stop after this step. Under ``accelerate launch`` (several processes) the signal
    reaches the ranks at slightly different steps: they agree through an all-reduce, or one rank would stop while
    the others wait for it in the next step's collective."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
        return PREEMPTION.is_set()
    import torch

    flag = torch.tensor([1 if PREEMPTION.is_set() else 0], device=args.device)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    if int(flag.item()) == 1:
        PREEMPTION.set()
    return PREEMPTION.is_set()


def make_event_callback(emit: Emit, cancel: threading.Event, started: dict[str, Any], resumed: bool) -> Any:
    from transformers import TrainerCallback

    class EventCallback(TrainerCallback):  # type: ignore[misc]
        def __init__(self) -> None:
            self.last_metrics: dict[str, float] = {}
            self.summary: dict[str, float] = {}
            self.step_clock = time.perf_counter()
            self.step_seconds: list[float] = []
            self.training = False

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.training = True
            event = {"_tag": "started", **started, "totalSteps": int(state.max_steps), "startStep": int(state.global_step)}
            if resumed:
                event["resumedFromStep"] = int(state.global_step)
            emit(event)
            self.step_clock = time.perf_counter()

        def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if cancel.is_set():
                raise Cancelled("training cancelled")

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            now = time.perf_counter()
            self.step_seconds.append(now - self.step_clock)
            self.step_clock = now
            if cancel.is_set():
                raise Cancelled("training cancelled")
            if preemption_agreed(args):
                # The Trainer saves checkpoint-<step> right after this callback, then leaves its loop.
                control.should_save = True
                control.should_training_stop = True

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.training = False

        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
            values = numeric(logs or {})
            step = int(state.global_step)
            if any(key.startswith("eval_") for key in values):
                emit({"_tag": "eval", "step": step, "metrics": values})
            elif "train_runtime" in values:
                self.summary = values
            else:
                self.last_metrics.update(values)
                event: dict[str, Any] = {
                    "_tag": "log",
                    "step": step,
                    "epoch": float(state.epoch or 0.0),
                    "metrics": values,
                }
                if "loss" in values:
                    event["loss"] = values["loss"]
                if "learning_rate" in values:
                    event["learningRate"] = values["learning_rate"]
                if self.step_seconds:
                    event["secondsPerStep"] = sum(self.step_seconds) / len(self.step_seconds)
                    self.step_seconds = []
                emit(event)

        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            step = int(state.global_step)
            emit({"_tag": "checkpoint", "step": step, "path": str(Path(args.output_dir) / f"checkpoint-{step}")})

    return EventCallback()


def run(payload: dict[str, Any], emit: Emit, cancel: threading.Event) -> dict[str, Any]:
    stage = payload.get("stage")
    if stage not in ("sft", "dpo", "ipo", "kto"):
        raise InputFault(f"unknown stage {stage!r}; expected sft, dpo, ipo or kto")
    hyper: dict[str, Any] = payload["hyper"]
    check_hyper(stage, hyper)
    out = Path(payload["outputDir"]).resolve()
    if out.exists():
        raise InputFault(f"output dir already exists: {out} (choose a new one; runs never overwrite results)")
    resume = payload.get("resumeFrom")
    if resume is not None and not (Path(resume) / "trainer_state.json").is_file():
        raise InputFault(f"resumeFrom is not a checkpoint folder (no trainer_state.json): {resume}")
    stage_checkpoints = Path(payload["checkpointDir"]).resolve() if payload.get("checkpointDir") else None
    work_dir = stage_checkpoints or out.with_name(out.name + ".checkpoints")
    if resume is None and stage_checkpoints is not None:
        latest = latest_checkpoint(stage_checkpoints)
        resume = str(latest) if latest is not None else None
    seed = int(payload.get("seed", 42))
    configure_threads()
    import torch
    from datasets import Dataset

    cuda, device = device_info()
    random.seed(seed)
    train_rows = read_rows(payload["trainData"], stage)
    eval_rows = read_rows(payload["evalData"], stage) if payload.get("evalData") else None
    if stage == "kto":
        # KTOTrainer samples sequentially by default; mixed labels per batch keep its KL estimate meaningful.
        random.Random(seed).shuffle(train_rows)
    tokenizer = load_tokenizer(payload["model"])
    model, peft_config = load_policy(payload["model"], hyper, cuda)
    config = make_config(stage, hyper, work_dir, seed, cuda, eval_rows is not None, stage_owned=stage_checkpoints is not None)
    trainer = make_trainer(
        stage, model, peft_config, config, tokenizer,
        Dataset.from_list(train_rows), Dataset.from_list(eval_rows) if eval_rows is not None else None,
    )
    if cancel.is_set():
        raise Cancelled("training cancelled")
    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    started = {
        "stage": stage,
        "device": device,
        "trainRows": len(trainer.train_dataset),
        "trainableParameters": int(trainable),
    }
    if trainer.eval_dataset is not None:
        started["evalRows"] = len(trainer.eval_dataset)
    callback = make_event_callback(emit, cancel, started, resumed=resume is not None)
    trainer.add_callback(callback)
    trainer.train(resume_from_checkpoint=resume)
    if PREEMPTION.is_set():
        raise Preempted(f"checkpoint-{int(trainer.state.global_step)} saved in {work_dir} on SIGUSR1")
    final_eval: dict[str, float] = {}
    if trainer.eval_dataset is not None:
        final_eval = numeric(trainer.evaluate())
    steps = int(trainer.state.global_step)
    if int(os.environ.get("RANK", "0")) != 0:
        # Under `accelerate launch` (multi_gpu.py) rank 0 alone writes the model and reports it.
        return {"outputDir": str(out), "steps": steps}
    metrics = {**callback.last_metrics, **callback.summary, **final_eval}
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        trainer.save_model(str(staging))
        tokenizer.save_pretrained(str(staging))
        record = {"request": payload, "steps": steps, "metrics": metrics, "device": device, "torch": torch.__version__}
        (staging / "empo-train.json").write_text(json.dumps(record, indent=2, allow_nan=False), encoding="utf-8")
        artifacts = artifacts_of(staging)
        os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if stage_checkpoints is None and work_dir.is_dir() and not any(work_dir.iterdir()):
        work_dir.rmdir()
    emit({"_tag": "finished", "outputDir": str(out), "steps": steps, "artifacts": artifacts, "metrics": metrics})
    return {"outputDir": str(out), "steps": steps}
