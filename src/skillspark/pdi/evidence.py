"""The file side of `pdi`: a trajectory log read as a stream of records, and a task folder's skill evidence.

Why apart from the formulas: the rest of `pdi` is pure (records in, numbers out); this is where files
are opened, and where a bad file becomes one `error:` line naming the file and line (`UserError`).
Used by `pdi score` and by the dashboard, which scores the skills of the runs it serves.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from skillspark.core.skill import SKILL_FILE, find_skills
from skillspark.errors import UserError
from skillspark.pdi.log import PassedAttempt, RecordError, ReflectStep, read_events
from skillspark.pdi.trajectory import SkillEvidence

TRAJECTORY_FILE = "trajectory.jsonl"


def read_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed JSON) for each non-blank line, streamed."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror}); pass an existing {TRAJECTORY_FILE}") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise UserError(f"{path} line {number}: not UTF-8 text (byte {exc.start}); "
                                f"pass a {TRAJECTORY_FILE}, not a binary file") from None
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except RecursionError:
                raise UserError(f"{path} line {number}: JSON nested too deeply; fix or remove that line") from None
            except ValueError as exc:  # JSONDecodeError, or an integer too long to convert
                reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                raise UserError(f"{path} line {number}: not valid JSON ({reason}); fix or remove that line") from None


def load_evidence(task_dir: Path) -> SkillEvidence | None:
    """The evidence of one task folder, or None when it has no SKILL.md or no successful attempt.

    The SKILL.md is the folder's own or, in SPARK's layout, the one of its first skill sub-folder.
    """
    skills = find_skills(task_dir)
    if not skills:
        return None
    skill = skills[0].skill_md
    try:
        found = skills[0].read_bytes()
    except OSError as exc:
        raise UserError(f"{skill}: cannot read ({exc.strerror}); check the file's permissions") from None
    if found is None:
        return None
    try:
        skill_text = found[1].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{skill}: not UTF-8 text (byte {exc.start}); a {SKILL_FILE} must be a text file") from None
    path = task_dir / TRAJECTORY_FILE
    steps: list[ReflectStep] = []
    success: str | None = None
    try:
        for event in read_events(read_jsonl(path)):
            if isinstance(event, ReflectStep):
                steps.append(event)
            elif isinstance(event, PassedAttempt):
                success = event.commands
    except RecordError as exc:
        raise UserError(f"{path} line {exc.line}: {exc.message}; fix or remove that record") from None
    if success is None:
        return None
    return SkillEvidence(task=task_dir.name, skill_text=skill_text, success_commands=success, steps=steps)
