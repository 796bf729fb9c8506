"""Finding the runs under the served folders and reading explore/SPARK runs: task rows and task pages.

Why from disk only: a run is whatever `skillspark explore` (or the original SPARK code, or `skillspark
eval`) wrote, so the dashboard shows runs started from any terminal and survives its own restart. Every
read stays inside a served folder: folders are listed without following links, files are opened with
O_NOFOLLOW (`tail.open_regular`, `harbor.safe_read.TrialReader`). Rows are cached by the files' stat
signatures and refreshed at most every `listing.ROWS_TTL_S`, so a 1,000-task run costs a listing, not a
parse, and only once a second however many pages watch it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from skillspark.core.skill import SKILL_FILE, Skill
from skillspark.dashboard.digest import LONG, clip
from skillspark.dashboard.digest import digest as record_digest
from skillspark.dashboard.listing import CachedListing
from skillspark.dashboard.tail import JsonlTail, TailCache, signature
from skillspark.files import write_atomic
from skillspark.harbor.safe_read import TrialReader

RunKind = Literal["explore", "spark", "eval", "harbor"]
TRAJECTORY = "trajectory.jsonl"
ATTEMPTS = "attempts.json"
SPEND = "spend.json"
RESULTS = "results.jsonl"
EVAL_CONFIG = "eval.json"
TRIAL_RESULT = "result.json"  # of a Harbor trial
MAX_DEPTH = 3  # how deep below a served folder runs are looked for
SKIP_DIRS = {"tasks", "skills", "memos", "node_modules", "__pycache__"}
RUNS_TTL_S = 2.0
STALE_S = 600.0  # an unfinished run with no write for this long is shown as stopped, not running
TERMINAL_STATES = ("solved", "exhausted", "infra_stopped", "failed", "budget_exhausted", "cancelled")
SMALL_FILE_MAX = 32 * 2**20


class Run(BaseModel):
    """One run folder: `id` is stable across restarts (name plus a digest of the path)."""

    id: str
    kind: RunKind
    name: str
    path: Path


def run_id(path: Path) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", path.name).strip("-")[:40] or "run"
    return f"{slug}-{hashlib.sha256(str(path).encode()).hexdigest()[:6]}"


def subdirs(folder: Path) -> list[os.DirEntry]:
    """Child folders that are real folders (no links), not hidden; [] when unreadable."""
    try:
        with os.scandir(folder) as entries:
            return sorted((e for e in entries if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)),
                          key=lambda e: e.name)
    except OSError:
        return []


def is_trial(folder: str) -> bool:
    """A Harbor trial dir: a result.json beside an agent/ or verifier/ folder."""
    return signature(os.path.join(folder, TRIAL_RESULT)) is not None and any(
        os.path.isdir(os.path.join(folder, part)) and not os.path.islink(os.path.join(folder, part))
        for part in ("agent", "verifier"))


def _has_file(folder: Path, name: str) -> bool:
    return signature(folder / name) is not None


def classify(folder: Path) -> RunKind | None:
    """What kind of run `folder` is, or None when it is none."""
    if _has_file(folder, RESULTS) or _has_file(folder, EVAL_CONFIG):
        return "eval"
    children = subdirs(folder)
    tasks = [Path(e.path) for e in children if _has_file(Path(e.path), TRAJECTORY) or _has_file(Path(e.path), ATTEMPTS)]
    if not tasks:
        return "harbor" if any(is_trial(e.path) for e in children) else None
    if _has_file(folder, SPEND):
        return "explore"
    state = TrialReader(tasks[0]).json(ATTEMPTS, SMALL_FILE_MAX)
    return "explore" if isinstance(state, dict) and "state" in state else "spark"


def discover(roots: list[Path]) -> list[Run]:
    """Every run in or below the served folders (at most `MAX_DEPTH` levels; a run's own folders are not searched)."""
    found: dict[Path, Run] = {}

    def visit(folder: Path, depth: int) -> None:
        kind = classify(folder)
        if kind is not None:
            found.setdefault(folder, Run(id=run_id(folder), kind=kind, name=folder.name, path=folder))
            return
        if depth < MAX_DEPTH:
            for entry in subdirs(folder):
                if entry.name not in SKIP_DIRS:
                    visit(Path(entry.path), depth + 1)

    for root in roots:
        visit(root, 0)
    return sorted(found.values(), key=lambda r: str(r.path))


class TaskRow(BaseModel):
    """One task of an explore run, as the run page's table shows it."""

    task: str
    status: str
    attempts: int
    max_attempts: int | None
    reward: float | None
    rewards: list[float | None]
    statuses: list[str]
    pdi_snapshots: int
    pdi_level: str | None
    skill: bool
    cancel_requested: bool
    reason: str
    tokens: int
    changed: int  # newest mtime (ns) of the task's files: the live stream's cursor


def _records(tail: JsonlTail, kind: str) -> list[dict[str, Any]]:
    return [line.digest for line in tail.lines if line.digest.get("type") == kind]


def _executions(tail: JsonlTail) -> list[dict[str, Any]]:
    """One execution record per attempt (the last written, as after a resume)."""
    by_attempt: dict[Any, dict[str, Any]] = {}
    for record in _records(tail, "execution_result"):
        by_attempt[record.get("attempt")] = record
    return list(by_attempt.values())


class ExploreReader(CachedListing[TaskRow]):
    """Task rows and task pages of one explore (or original SPARK) run folder."""

    def __init__(self, run: Run, tails: TailCache):
        super().__init__()
        self.run = run
        self.tails = tails
        self.root = str(run.path)
        self._rows: dict[str, tuple[tuple, TaskRow | None]] = {}
        self._state: dict[str, tuple[tuple | None, dict[str, Any]]] = {}
        from skillspark.explore.loop import CANCEL_FILE  # imported here: the loop's imports take a second

        self.cancel_file = CANCEL_FILE

    def task_dir(self, name: str) -> Path | None:
        """The folder of task `name`, only when it is one of the run's listed (non-link) task folders."""
        if "/" in name or name in ("", ".", "..") or name.startswith("."):
            return None
        folder = self.run.path / name
        try:
            real = folder.is_dir() and not folder.is_symlink()
        except OSError:
            return None
        return folder if real and (_has_file(folder, TRAJECTORY) or _has_file(folder, ATTEMPTS)) else None

    def _list(self) -> list[TaskRow]:
        rows = (self.row(entry.name) for entry in subdirs(self.run.path))
        return [row for row in rows if row is not None]

    def tail(self, name: str) -> JsonlTail:
        return self.tails.get(self.run.path / name / TRAJECTORY, record_digest)

    def state(self, name: str) -> dict[str, Any]:
        """attempts.json of a task (parsed again only when it changed); {} when absent or unreadable."""
        sig = signature(self.run.path / name / ATTEMPTS)
        cached = self._state.get(name)
        if cached is not None and cached[0] == sig:
            return cached[1]
        data = TrialReader(self.run.path / name).json(ATTEMPTS, SMALL_FILE_MAX) if sig else None
        state = data if isinstance(data, dict) else {}
        self._state[name] = (sig, state)
        return state

    def row(self, name: str) -> TaskRow | None:
        """The row of task folder `name`; None when it holds no log and no attempts.json.

        Two stats decide whether the cached row still holds: the folder's own (a file created, removed or
        renamed into it: attempts.json, SKILL.md, a cancel request) and the log's (a line appended).
        """
        folder = f"{self.root}/{name}"  # not os.path.join: this runs for every task every second
        quick = (signature(folder, regular=False), signature(f"{folder}/{TRAJECTORY}"))
        cached = self._rows.get(name)
        if cached is not None and cached[0] == quick:
            return cached[1]
        sigs = (quick[1], *(signature(os.path.join(folder, f)) for f in (ATTEMPTS, SKILL_FILE, self.cancel_file)))
        row = self._build_row(name, sigs) if sigs[0] is not None or sigs[1] is not None else None
        self._rows[name] = (quick, row)
        return row

    def _build_row(self, name: str, sigs: tuple) -> TaskRow:
        tail = self.tail(name)
        state = self.state(name)
        executions = _executions(tail)
        snapshots = _records(tail, "pdi_snapshot")
        summaries = _records(tail, "task_summary")
        status = state.get("state") if isinstance(state.get("state"), str) else None
        if status is None and summaries:
            status = "solved" if summaries[-1].get("success") else "exhausted"
        status = status or ("running" if tail.lines else "waiting")
        committed = state.get("attempts") if isinstance(state.get("attempts"), list) else []
        rewards = [e.get("reward") for e in executions]
        max_attempts = state.get("max_retries")
        if not isinstance(max_attempts, int) and summaries:
            config = summaries[-1].get("exploration_config") or {}
            max_attempts = config.get("max_retries") if isinstance(config, dict) else None
        last_level = snapshots[-1].get("level") if snapshots and snapshots[-1].get("triggered") else None
        tokens = sum(int(r.get("input_tokens") or 0) + int(r.get("output_tokens") or 0)
                     for r in committed if isinstance(r, dict))
        return TaskRow(
            task=name, status=status, attempts=max(len(executions), len(committed)),
            max_attempts=max_attempts if isinstance(max_attempts, int) else None,
            reward=rewards[-1] if rewards else None, rewards=rewards,
            statuses=[str(e.get("status")) for e in executions], pdi_snapshots=len(snapshots), pdi_level=last_level,
            skill=sigs[2] is not None, cancel_requested=sigs[3] is not None,
            reason=clip(state.get("reason") or "", 500), tokens=tokens,
            changed=max((s[0] for s in sigs if s is not None), default=0),
        )

    def detail(self, name: str) -> dict[str, Any]:
        """Everything the task page draws: attempts, memo versions, PDI snapshots, interventions, skill, evidence."""
        tail = self.tail(name)
        row = self.row(name)
        memos: list[dict[str, Any]] = []
        for record in _records(tail, "reflect_call"):
            text = record.get("memo_after") or ""
            if record.get("ok") and text and (not memos or memos[-1]["text"] != text):
                memos.append({"version": len(memos) + 1, "attempt": record.get("attempt"), "text": text})
        executions = _executions(tail)
        skill_calls = _records(tail, "skill_gen_call")
        summaries = _records(tail, "task_summary")
        reader = TrialReader(self.run.path / name)
        skill_text = reader.text(SKILL_FILE, SMALL_FILE_MAX) if row.skill else None
        line_of = {id(line.digest): i for i, line in enumerate(tail.lines)}
        return {
            "run": self.run.id, "task": name, "row": row.model_dump(),
            "attempts": [e | {"line": line_of.get(id(e)), "trial": self.trial_path(e.get("trial_dir"))}
                         for e in executions],
            "memos": memos,
            "snapshots": _records(tail, "pdi_snapshot"),
            "interventions": [{"attempt": e.get("attempt"), "level": e.get("intervention"),
                               "text": e.get("retry_injection")} for e in executions if e.get("intervention")],
            "evidence": skill_calls[-1].get("evidence", []) if skill_calls else [],
            "skill": None if skill_text is None else {"text": clip(skill_text, LONG), "problems": self.skill_problems(name)},
            "summary": summaries[-1] if summaries else None,
            "records": len(tail.lines),
        }

    def request_cancel(self, name: str) -> None:
        """Ask the explore loop to stop task `name` after its attempt in flight (it removes the file then)."""
        write_atomic(self.run.path / name / self.cancel_file, json.dumps({"requested_at": time.time()}))
        self.expire()  # the next listing shows the request

    def trial_path(self, trial_dir: Any) -> str | None:
        """A trial dir as a path relative to the run folder; None when it lies elsewhere."""
        if not isinstance(trial_dir, str) or not trial_dir:
            return None
        path = Path(trial_dir)
        try:
            return str(path.relative_to(self.run.path)) if path.is_absolute() else None
        except ValueError:
            return None

    def skill_problems(self, name: str) -> list[str]:
        return [f"{p.field}: {p.message}" for p in Skill(path=self.run.path / name).problems()]

    def spent_usd(self) -> float | None:
        data = TrialReader(self.run.path).json(SPEND, 2**20)
        value = data.get("spent_usd") if isinstance(data, dict) else None
        return float(value) if isinstance(value, int | float) else None


def explore_status(rows: list[TaskRow], now_ns: int) -> str:
    """finished when every task ended; running when one is unfinished and the run wrote lately; else stopped."""
    open_rows = [r for r in rows if r.status not in TERMINAL_STATES]
    if not open_rows:
        return "finished" if rows else "empty"
    newest = max((r.changed for r in rows), default=0)
    return "running" if (now_ns - newest) / 1e9 < STALE_S else "stopped"
