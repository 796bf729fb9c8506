"""A Harbor job folder (`skillspark run`, `harbor run`): one row per trial, read from each trial's result.json.

Why its own reader: a job has no trajectory.jsonl, only trial dirs; each row is parsed again only when its
result.json changed, and the trial page itself is the shared trial view (`app._trial`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from skillspark.dashboard.listing import CachedListing
from skillspark.dashboard.runs import SMALL_FILE_MAX, TRIAL_RESULT, Run, is_trial, subdirs
from skillspark.dashboard.tail import signature
from skillspark.harbor.safe_read import TrialReader


class TrialRow(BaseModel):
    task: str  # the trial folder's name (the page links to it)
    task_name: str | None
    status: str  # pass, fail or error
    reward: float | None
    tokens: int | None
    cost_usd: float | None
    changed: int


class JobReader(CachedListing[TrialRow]):
    """Trial rows of one job folder, cached by each result.json's signature."""

    def __init__(self, run: Run):
        super().__init__()
        self.run = run
        self._rows: dict[str, tuple[tuple | None, TrialRow]] = {}

    def _list(self) -> list[TrialRow]:
        rows = (self._row(e.name) for e in subdirs(self.run.path) if is_trial(e.path))
        return [r for r in rows if r is not None]

    def _row(self, name: str) -> TrialRow | None:
        sig = signature(self.run.path / name / TRIAL_RESULT)
        cached = self._rows.get(name)
        if cached is not None and cached[0] == sig:
            return cached[1]
        data = TrialReader(self.run.path / name).json(TRIAL_RESULT, SMALL_FILE_MAX)
        if not isinstance(data, dict):
            return None
        row = TrialRow(task=name, task_name=_text(data.get("task_name")), status=_status(data),
                       reward=_reward(data), tokens=_tokens(data), cost_usd=_number(_get(data, "agent_result", "cost_usd")),
                       changed=sig[0] if sig else 0)
        self._rows[name] = (sig, row)
        return row


def _get(data: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _reward(data: dict[str, Any]) -> float | None:
    from skillspark.harbor.trials import scalar_reward

    rewards = _get(data, "verifier_result", "rewards")
    numbers = {k: v for k, v in rewards.items() if _number(v) is not None} if isinstance(rewards, dict) else {}
    return scalar_reward(numbers)


def _tokens(data: dict[str, Any]) -> int | None:
    parts = [_number(_get(data, "agent_result", k)) for k in ("n_input_tokens", "n_output_tokens")]
    return int(sum(p for p in parts if p is not None)) if any(p is not None for p in parts) else None


def _status(data: dict[str, Any]) -> str:
    if data.get("exception_info"):
        return "error"
    reward = _reward(data)
    return "pass" if reward is not None and reward >= 1.0 else "fail"
