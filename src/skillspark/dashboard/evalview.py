"""An eval run as the dashboard shows it: the arm × task grid and the statistics, live from results.jsonl.

Why `evaluate.summary.build_summary`: the page must show the same pass rates, intervals and paired Δ as
`summary.json` and the HTML report, so it calls the eval's own code on the lines written so far
(recomputed only when a line was added).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from skillspark.dashboard.runs import EVAL_CONFIG, RESULTS, SMALL_FILE_MAX, STALE_S, Run
from skillspark.dashboard.tail import JsonlTail, TailCache
from skillspark.harbor.safe_read import TrialReader

LIVE_RESAMPLES = 1000


def result_digest(record: dict[str, Any]) -> dict[str, Any]:
    """A results.jsonl line as an EvalResult dict; a foreign or torn line is marked unreadable."""
    from skillspark.evaluate.results import EvalResult

    try:
        return {"type": "result"} | EvalResult.model_validate(record).model_dump(mode="json")
    except ValidationError:
        return {"type": "unreadable"}


class EvalReader:
    def __init__(self, run: Run, tails: TailCache):
        self.run = run
        self.tails = tails
        self._view: tuple[tuple[int, int], dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def tail(self) -> JsonlTail:
        return self.tails.get(self.run.path / RESULTS, result_digest)

    def results(self) -> list[dict[str, Any]]:
        return [line.digest for line in self.tail().lines if line.digest.get("type") == "result"]

    def config(self) -> dict[str, Any]:
        data = TrialReader(self.run.path).json(EVAL_CONFIG, SMALL_FILE_MAX)
        return data if isinstance(data, dict) else {}

    def trial_path(self, trial_dir: str) -> str | None:
        try:
            return str(Path(trial_dir).relative_to(self.run.path))
        except ValueError:
            return None

    def view(self) -> dict[str, Any]:
        """Grid, summary and progress; recomputed only when results.jsonl or eval.json changed."""
        tail = self.tail()
        config = self.config()
        key = (tail.end, hash(str(config.get("updated"))))
        with self._lock:
            if self._view is not None and self._view[0] == key:
                return self._view[1]
            view = self._compute(self.results(), config)
            self._view = (key, view)
            return view

    def _compute(self, records: list[dict[str, Any]], config: dict[str, Any]) -> dict[str, Any]:
        from skillspark.evaluate.summary import build_summary, ordered_conditions

        fingerprint = config.get("fingerprint") if isinstance(config.get("fingerprint"), dict) else {}
        k = int(fingerprint.get("k") or max((r["trial"] for r in records), default=0) + 1)
        teacher = {c["label"]: c["teacher_cost_usd"] for c in config.get("conditions") or []
                   if isinstance(c, dict) and c.get("teacher_cost_usd") is not None}
        summary = build_summary(records, k=k, seed=int(fingerprint.get("seed") or 0), resamples=LIVE_RESAMPLES,
                                teacher_cost_usd=teacher, missing_skills=config.get("missing_skills")) if records else None
        models = sorted({r["model"] for r in records})
        labels = [c.get("label") for c in config.get("conditions") or [] if isinstance(c, dict)]
        conditions = ordered_conditions([*labels, *(r["condition"] for r in records)], "none")
        tasks = sorted({r["task"] for r in records} | {t.get("task") for t in config.get("tasks") or []
                                                        if isinstance(t, dict) and isinstance(t.get("task"), str)})
        arms = [{"model": m, "condition": c} for m in (models or fingerprint.get("models") or []) for c in conditions]
        cells: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for r in records:
            cells.setdefault((r["task"], r["model"], r["condition"]), []).append(
                {"trial": r["trial"], "status": r["status"], "passed": r["passed"], "reward": r["reward"],
                 "cost_usd": r["cost_usd"], "trial_path": self.trial_path(r["trial_dir"])})
        grid = [{"task": t, "cells": [_cell(cells.get((t, a["model"], a["condition"]), [])) for a in arms]}
                for t in tasks]
        return {
            "run": self.run.id, "k": k, "arms": arms, "grid": grid, "summary": summary,
            "done": len(records), "total": config.get("total_trials"),
            "cost_usd": sum(r["cost_usd"] or 0.0 for r in records),
            "missing_skills": config.get("missing_skills") or {},
        }

    def status(self) -> str:
        view = self.view()
        total = view.get("total")
        if isinstance(total, int) and view["done"] >= total:
            return "finished"
        tail = self.tail()
        recent = tail.mtime_ns and (time.time_ns() - tail.mtime_ns) / 1e9 < STALE_S
        return "running" if recent else "stopped"


def _cell(trials: list[dict[str, Any]]) -> dict[str, Any]:
    scored = [t for t in trials if t["status"] != "infra_error"]
    return {"passes": sum(t["passed"] for t in scored), "trials": len(scored),
            "infra_errors": len(trials) - len(scored), "runs": sorted(trials, key=lambda t: t["trial"])}
