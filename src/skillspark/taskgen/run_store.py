"""The audit trail of one `tasks generate` run, under `DIR/_runs/<id>/`, and the memo that makes resume free.

- `state.json`: the run's settings and each candidate's status, rewritten atomically (the commit point).
- `events.jsonl`: one fsynced line per stage (blueprint, critique, render, gates, repair, promote).
- `calls/<key>.json`: every finished LLM call (its text, ok flag, cost), written atomically once it
  returned, with the route its JSON was asked by; `calls.jsonl`: the call records with cost and route. A call's key names its place in the pipeline
  (`c0-v1-repair-0`), so a resumed run that reaches the same place reads the answer instead of asking again.
- `c<i>/v<r>/`: each blueprint version with its prompt, critique, render report, rendered task and audit.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from skillspark.errors import UserError
from skillspark.files import append_line, write_atomic
from skillspark.llm.records import ChatResult
from skillspark.taskgen.library import Reference

RUNS_DIR = "_runs"
Status = Literal["pending", "accepted", "rejected", "stopped"]


class CandidateState(BaseModel):
    index: int
    seed: int
    status: Status = "pending"
    rounds: int = 0
    name: str | None = None
    promoted_to: str | None = None  # set before the rename into DIR/: resume finishes a half-done promotion
    reason: str | None = None
    failed_gates: list[str] = Field(default_factory=list)


class RunState(BaseModel):
    run_id: str
    idea_digest: str
    idea_file: str
    settings: dict[str, Any]
    references: list[Reference] = Field(default_factory=list)
    candidates: list[CandidateState] = Field(default_factory=list)
    spent_usd: float = 0.0


class CachedCall(BaseModel):
    key: str
    text: str
    ok: bool
    error: str | None = None
    cost_usd: float | None = None
    route: str | None = None  # how JSON was asked for: schema | grammar | json_object | tolerant (llm.structured)
    route_fallback: bool = False  # the endpoint refused the schema; the call was made again without it


class RunStore:
    """Reads and writes one run folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state_path = root / "state.json"
        self.events_path = root / "events.jsonl"
        self.calls_dir = root / "calls"

    @staticmethod
    def new_run_id() -> str:
        return time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() % 1_000_000:06d}"

    @classmethod
    def latest(cls, output: Path, idea_digest: str) -> RunStore:
        """The newest run of this idea under `output/_runs`, for --resume."""
        runs = sorted((output / RUNS_DIR).glob("*/state.json"), reverse=True) if (output / RUNS_DIR).is_dir() else []
        for state in runs:
            store = cls(state.parent)
            if store.load().idea_digest == idea_digest:
                return store
        raise UserError(f"--resume: no earlier run of this idea under {output / RUNS_DIR}; run without --resume")

    def load(self) -> RunState:
        try:
            return RunState.model_validate_json(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserError(f"{self.state_path}: not a readable run state ({type(exc).__name__}); "
                            "delete that run folder or run without --resume") from None

    def save(self, state: RunState) -> None:
        write_atomic(self.state_path, state.model_dump_json(indent=2), make_parents=True)

    def event(self, stage: str, **fields: Any) -> None:
        record = {"at": datetime.now(UTC).isoformat(timespec="milliseconds"), "stage": stage, **fields}
        append_line(self.events_path, json.dumps(record, ensure_ascii=False, default=str))

    def cached(self, key: str) -> CachedCall | None:
        path = self.calls_dir / f"{key}.json"
        if not path.is_file():
            return None
        try:
            return CachedCall.model_validate_json(path.read_text(encoding="utf-8"))
        except ValueError:
            return None  # torn by a crash mid-write cannot happen (atomic), but a hand edit can: ask again

    def remember(self, key: str, result: ChatResult, record: dict[str, Any]) -> CachedCall:
        call = CachedCall(key=key, text=result.text, ok=result.ok, error=result.error, cost_usd=result.cost_usd,
                          route=result.route, route_fallback=result.route_fallback)
        write_atomic(self.calls_dir / f"{key}.json", call.model_dump_json(), make_parents=True)
        append_line(self.root / "calls.jsonl", json.dumps({"key": key, **record}, default=str))
        return call

    def version_dir(self, candidate: int, version: int) -> Path:
        return self.root / f"c{candidate}" / f"v{version}"

    def write(self, relative: Path | str, text: str) -> Path:
        path = self.root / relative
        write_atomic(path, text, make_parents=True)
        return path
