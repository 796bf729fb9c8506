"""Which weights the skill-conditioned teacher scores with: live, frozen, EMA, or synchronized every N steps.

`live`: the current policy (SDAR's setting; no copy). `frozen`: the policy as it started. `ema`: an
exponential moving average of the policy. `--teacher-sync N` (Skill-SD's dynamic synchronization):
the teacher's copy is refreshed from the student every N steps and frozen in between. Only trainable
tensors are copied (with LoRA, the adapters), and `applied` swaps them in for the teacher's forward.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


class TeacherWeights:
    def __init__(self, model, mode: str, sync_every: int = 0, ema_decay: float = 0.99) -> None:
        self.mode, self.sync_every, self.ema_decay = mode, sync_every, ema_decay
        self.copy: dict[str, torch.Tensor] | None = None
        if mode != "live" or sync_every > 0:
            self.copy = {name: p.detach().clone() for name, p in self._trainable(model)}

    @staticmethod
    def _trainable(model) -> Iterator[tuple[str, torch.nn.Parameter]]:
        return ((name, p) for name, p in model.named_parameters() if p.requires_grad)

    @contextmanager
    def applied(self, model):
        """The teacher's weights in place for the duration of the block, the student's restored after."""
        if self.copy is None:
            yield
            return
        saved = {}
        with torch.no_grad():
            for name, p in self._trainable(model):
                saved[name] = p.detach().clone()
                p.copy_(self.copy[name])
        try:
            yield
        finally:
            with torch.no_grad():
                for name, p in self._trainable(model):
                    p.copy_(saved[name])

    def after_step(self, model, steps_done: int) -> None:
        """Follow the student after an optimizer step, as the mode says."""
        if self.copy is None:
            return
        with torch.no_grad():
            if self.sync_every > 0 and steps_done % self.sync_every == 0:
                for name, p in self._trainable(model):
                    self.copy[name].copy_(p)
            elif self.mode == "ema":
                for name, p in self._trainable(model):
                    self.copy[name].mul_(self.ema_decay).add_(p.detach(), alpha=1.0 - self.ema_decay)

    def state_dict(self) -> dict:
        return {"copy": self.copy}

    def load_state_dict(self, state: dict) -> None:
        self.copy = state["copy"]
