"""The arms of `skillspark eval`: parse `--condition` and say which skill folders an arm gives each task.

Why one place: fairness between arms starts here. Every arm runs the same stripped copy of a task (its
bundled skills removed, as `--no-task-skills` does), and differs only in the skill folders staged for the
agent: none, the SKILL.md that `skillspark explore` distilled for the task, the task's own bundled skills,
one fixed unrelated skill (placebo), or one shared library.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from skillspark.agents.skills import TASK_SKILLS_DIR
from skillspark.core.skill import SKILL_FILE, find_skills, holds_skill
from skillspark.core.skillspec import MAX_NAME
from skillspark.errors import UserError
from skillspark.explore.distill import skill_name
from skillspark.explore.folders import DIGEST_CHARS

ConditionKind = Literal["none", "generated", "curated", "placebo", "library"]
KINDS: tuple[str, ...] = ("none", "generated", "curated", "placebo", "library")
NEEDS_DIR = ("generated", "library")
PLACEBO_DIR = Path(__file__).parent / "placebo"
EXPLORE_SPEND_FILE = "spend.json"  # what an explore run spent (its teacher cost), see explore.spend


class Condition(BaseModel):
    """One arm: its kind, the label results carry, and the folder it reads (generated, library)."""

    kind: ConditionKind
    label: str
    source: Path | None = None

    @property
    def has_skills(self) -> bool:
        return self.kind != "none"


def parse_conditions(values: list[str]) -> list[Condition]:
    """`none | generated=RUNS_DIR | curated | placebo | library=DIR`, any subset, any order, each once.

    Two arms of one kind (two explore runs compared) are labelled `kind:<folder name>`.
    """
    if not values:
        raise UserError("--condition: none given; pass e.g. --condition none --condition generated=RUNS_DIR")
    parsed = [_parse_one(value) for value in values]
    kinds = [c.kind for c in parsed]
    out = []
    for condition in parsed:
        if kinds.count(condition.kind) > 1:
            if condition.source is None:
                raise UserError(f"--condition {condition.kind}: given twice; pass each condition once")
            condition = condition.model_copy(update={"label": f"{condition.kind}:{condition.source.name}"})
        out.append(condition)
    labels = [c.label for c in out]
    if len(set(labels)) != len(labels):
        raise UserError(f"--condition: two arms would both be labelled {_first_duplicate(labels)}; "
                        "give their folders different names")
    return out


def _parse_one(value: str) -> Condition:
    kind, sep, arg = value.partition("=")
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise UserError(f"--condition {value}: unknown condition; use one of none, generated=RUNS_DIR, "
                        "curated, placebo, library=DIR")
    if kind in NEEDS_DIR and not arg:
        raise UserError(f"--condition {value}: {kind} needs a folder; write --condition {kind}=DIR")
    if kind not in NEEDS_DIR and sep:
        raise UserError(f"--condition {value}: {kind} takes no folder; write --condition {kind}")
    source = Path(arg).expanduser().resolve() if arg else None
    if source is not None and not source.is_dir():
        raise UserError(f"--condition {value}: {source} is not a directory; pass an existing folder")
    if kind == "library" and source is not None:
        _library_folders(source)  # refuse an empty library before anything runs
    return Condition(kind=kind, label=kind, source=source)  # type: ignore[arg-type]


def _first_duplicate(labels: list[str]) -> str:
    return next(label for label in labels if labels.count(label) > 1)


def skill_sources(condition: Condition, task_name: str, task_path: Path) -> list[Path] | None:
    """The skill folders (each holding a SKILL.md) this arm gives the task; None when the task has none.

    None (reported separately, never run) happens for `generated` when explore distilled no skill for the
    task and for `curated` when the task bundles no skill.
    """
    if condition.kind == "none":
        return []
    if condition.kind == "placebo":
        return _skill_dirs(PLACEBO_DIR)
    if condition.kind == "library":
        return _library_folders(condition.source)  # type: ignore[arg-type]
    if condition.kind == "curated":
        return _skill_dirs(task_path / "environment" / TASK_SKILLS_DIR) or None
    folder = generated_folder(condition.source, task_name, task_path)  # type: ignore[arg-type]
    return [folder] if folder is not None else None


def generated_folder(runs_dir: Path, task_name: str, task_path: Path) -> Path | None:
    """The explore output folder of the task holding its SKILL.md, named as `explore.folders` names it.

    Explore uses the task name as a skill name, and adds `-<sha256(task path)[:8]>` when names collided.
    """
    plain = skill_name(task_name)
    digest = hashlib.sha256(str(task_path.resolve()).encode()).hexdigest()[:DIGEST_CHARS]
    suffixed = f"{plain[: MAX_NAME - DIGEST_CHARS - 1].rstrip('-')}-{digest}"
    for name in (plain, suffixed):
        if holds_skill(runs_dir / name):
            return runs_dir / name
    return None


def explore_cost_usd(condition: Condition) -> float | None:
    """What the explore run behind a `generated` arm spent (its `spend.json`), for the amortized cost."""
    if condition.kind != "generated" or condition.source is None:
        return None
    import json

    try:
        return float(json.loads((condition.source / EXPLORE_SPEND_FILE).read_text(encoding="utf-8"))["spent_usd"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _skill_dirs(root: Path) -> list[Path]:
    return [skill.path for skill in find_skills(root)]


def _library_folders(root: Path) -> list[Path]:
    folders = _skill_dirs(root)
    if not folders:
        raise UserError(f"--condition library={root}: no sub-folder holds a {SKILL_FILE}; "
                        f"expected {root}/<name>/{SKILL_FILE}")
    return folders
