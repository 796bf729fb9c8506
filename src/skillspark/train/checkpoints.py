"""Checkpoints a user can load (transformers/peft) and the trainer can resume from exactly.

DIR/checkpoints/step-000010/ holds `model/` (save_checkpoint: a full HF folder or a peft adapter) and
`trainer_state.pt` (the trainable tensors, the optimizer's moments, the next step and the extra state of
the teacher and the retriever). Resuming loads
the base model, then these tensors and moments, so the next steps compute exactly what an uninterrupted
run would have. Each checkpoint is built under a temporary name and renamed; `latest` names the newest.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

from skillspark.files import write_atomic
from skillspark.train.config import CHECKPOINTS_DIR
from skillspark.train.model import save_checkpoint

KEEP = 2  # checkpoints kept on disk: the newest and the one before it


def checkpoint_root(output: Path) -> Path:
    return output / CHECKPOINTS_DIR


def latest_checkpoint(output: Path) -> Path | None:
    pointer = checkpoint_root(output) / "latest"
    if not pointer.is_file():
        return None
    path = checkpoint_root(output) / pointer.read_text(encoding="utf-8").strip()
    return path if (path / "trainer_state.pt").is_file() else None


def save(output: Path, model, tokenizer, optimizer, next_step: int, extra: dict | None = None, full_state: tuple[dict, dict] | None = None) -> Path:
    """Write checkpoint `step-{next_step}` atomically, point `latest` at it, drop the older ones.

    `full_state` (sharding.full_checkpoint_state): the whole weights and optimizer state of a sharded
    model, written in place of the model's own, so that the checkpoint reads as a single-process one."""
    root = checkpoint_root(output)
    name = f"step-{next_step:06d}"
    final, staging = root / name, root / f".{name}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    weights, optimizer_state = full_state if full_state is not None else (None, optimizer.state_dict())
    save_checkpoint(model, tokenizer, staging / "model", state_dict=weights)
    trainable = {n: (weights[n] if weights is not None else p.detach().cpu().clone()) for n, p in model.named_parameters() if p.requires_grad}
    state = {"next_step": next_step, "trainable": trainable, "optimizer": optimizer_state, "extra": extra or {}}
    torch.save(state, staging / "trainer_state.pt")
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    write_atomic(root / "latest", name + "\n")
    for old in sorted(p for p in root.glob("step-*") if p.is_dir())[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def restore(checkpoint: Path, model, optimizer) -> tuple[int, dict]:
    """Load the trainable tensors and the optimizer state; return the step to continue from and the
    extra state saved with them (the teacher's weights, the retriever's statistics)."""
    state = torch.load(checkpoint / "trainer_state.pt", map_location="cpu", weights_only=True)
    parameters = dict(model.named_parameters())
    with torch.no_grad():
        for name, tensor in state["trainable"].items():
            parameters[name].copy_(tensor)
    optimizer.load_state_dict(state["optimizer"])
    return int(state["next_step"]), state.get("extra", {})
