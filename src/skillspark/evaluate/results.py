"""The files of an eval: `results.jsonl` (one fsynced line per finished trial) and `eval.json` (its configuration).

Why these two: results.jsonl is the commit point of a trial (a kill loses at most the trials in flight;
a torn last line is ignored), and eval.json pins what the results mean (tasks and skills by digest), so
`--resume` can refuse to mix results of a changed task or SKILL.md into one table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from skillspark.errors import UserError
from skillspark.files import append_line, write_atomic

RESULTS_FILE = "results.jsonl"
CONFIG_FILE = "eval.json"
ResultStatus = Literal["pass", "fail", "error", "infra_error"]


class EvalResult(BaseModel):
    """One finished trial: the fields issue 9 names, exactly."""

    task: str
    condition: str
    model: str
    trial: int
    reward: float | None
    passed: bool
    status: ResultStatus
    tokens_in: int
    tokens_out: int
    cost_usd: float | None
    duration_s: float
    skill_sha256: str | None
    skill_read: bool
    trial_dir: str
    skills_mode: str = "pointer"  # how the agent was shown the skills (results written before the flag: pointer)

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.task, self.condition, self.model, self.trial)


def result_status(harbor_status: str, reward: float | None) -> ResultStatus:
    """pass / fail / error / infra_error from a `TrialOutcome` status (an agent timeout is a fail)."""
    if harbor_status == "infra_error":
        return "infra_error"
    if harbor_status in ("agent_error", "verifier_error"):
        return "error"
    return "pass" if harbor_status == "ok" and reward is not None and reward >= 1.0 else "fail"


def append_result(out_dir: Path, result: EvalResult) -> None:
    append_line(out_dir / RESULTS_FILE, result.model_dump_json())


def read_results(out_dir: Path) -> list[EvalResult]:
    """Every complete line of results.jsonl; a torn or foreign line (a kill mid-write) is skipped."""
    path = out_dir / RESULTS_FILE
    if not path.exists():
        return []
    results = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            results.append(EvalResult.model_validate_json(line))
        except ValidationError:
            continue
    return results


def repair_results(out_dir: Path) -> list[EvalResult]:
    """Keep one line per finished trial (the first), dropping torn and repeated lines, so appends start clean.

    Without this, the next append after a torn last line (a kill mid-write) would be glued to it and lost.
    """
    seen: set[tuple[str, str, str, int]] = set()
    unique = []
    for result in read_results(out_dir):
        if result.key not in seen:
            seen.add(result.key)
            unique.append(result)
    path = out_dir / RESULTS_FILE
    text = "".join(f"{r.model_dump_json()}\n" for r in unique)
    if path.exists() and path.read_text(encoding="utf-8") != text:
        write_atomic(path, text)
    return unique


def write_config(out_dir: Path, config: dict[str, Any]) -> None:
    write_atomic(out_dir / CONFIG_FILE, json.dumps(config, indent=2, sort_keys=True), make_parents=True)


def read_config(out_dir: Path) -> dict[str, Any] | None:
    path = out_dir / CONFIG_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise UserError(f"{path}: not valid JSON; restore it or start over with a new --output") from None
    if not isinstance(data, dict) or not isinstance(data.get("fingerprint"), dict):
        raise UserError(f"{path}: not an eval configuration; start over with a new --output")
    return data


def config_change(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """The first difference between two fingerprints, in words; None when they match."""
    for key in sorted(set(old) | set(new)):
        if old.get(key) == new.get(key):
            continue
        if isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
            inner = config_change(old[key], new[key])
            return f"{key} {inner}" if inner else key
        return f"{key} ({_short(old.get(key))} -> {_short(new.get(key))})"
    return None


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."
