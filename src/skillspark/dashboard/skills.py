"""The distilled skills of the served runs: spec validation, trajectory-level PDI, and what evals measured.

Why here and not per request: PDI z-scores a skill against the other skills of its run, so one score
needs every skill's evidence; it is computed once per run and kept until a SKILL.md or a trajectory of
that run changes (`pdi.evidence.load_evidence` and `pdi.trajectory.score_skills` do the work).
"""

from __future__ import annotations

import threading
from typing import Any

from skillspark.core.skill import SKILL_FILE
from skillspark.core.skillspec import split_frontmatter
from skillspark.dashboard.evalview import EvalReader
from skillspark.dashboard.runs import TRAJECTORY, ExploreReader
from skillspark.dashboard.tail import signature
from skillspark.errors import UserError


class SkillScores:
    """Trajectory-level PDI of every skill of one explore run, by task folder name."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[tuple, dict[str, dict[str, Any]]]] = {}
        self._lock = threading.Lock()

    def of_run(self, reader: ExploreReader) -> dict[str, dict[str, Any]]:
        names = [r.task for r in reader.rows() if r.skill]
        key = tuple((n, signature(reader.run.path / n / SKILL_FILE), signature(reader.run.path / n / TRAJECTORY))
                    for n in names)
        with self._lock:
            cached = self._cache.get(reader.run.id)
            if cached is not None and cached[0] == key:
                return cached[1]
        scores = _score(reader, [n for n, skill, log in key if skill and log])
        with self._lock:
            self._cache[reader.run.id] = (key, scores)
        return scores


def _score(reader: ExploreReader, names: list[str]) -> dict[str, dict[str, Any]]:
    from skillspark.pdi.evidence import load_evidence
    from skillspark.pdi.trajectory import score_skills

    evidence = []
    for name in names:
        try:
            found = load_evidence(reader.run.path / name)
        except UserError:
            continue  # a malformed log or SKILL.md: no score for this one, the others still get theirs
        if found is not None:
            evidence.append(found)
    return {s.task: s.model_dump() for s in score_skills(evidence)} if evidence else {}


def skill_summary(reader: ExploreReader, task: str, text: str, scores: dict[str, dict[str, Any]]) -> dict[str, Any]:
    fields, _, problem = split_frontmatter(text)
    fields = fields or {}
    return {
        "run": reader.run.id, "run_name": reader.run.name, "task": task,
        "name": str(fields.get("name") or task), "description": str(fields.get("description") or "")[:1024],
        "frontmatter_problem": problem, "pdi": scores.get(task),
    }


def eval_uses(evals: list[EvalReader], explore_path: str, task: str) -> list[dict[str, Any]]:
    """Per eval arm that staged this run's skills: the task's pass rate there and in the baseline."""
    uses = []
    for reader in evals:
        config = reader.config()
        labels = [c.get("label") for c in config.get("conditions") or []
                  if isinstance(c, dict) and c.get("kind") == "generated" and c.get("source") == explore_path]
        if not labels:
            continue
        view = reader.view()
        row = next((g for g in view["grid"] if g["task"] == task), None)
        if row is None:
            continue
        for arm, cell in zip(view["arms"], row["cells"], strict=True):
            if arm["condition"] in (*labels, "none"):
                uses.append({"eval": reader.run.id, "eval_name": reader.run.name, "model": arm["model"],
                             "condition": arm["condition"], "passes": cell["passes"], "trials": cell["trials"]})
    return uses
