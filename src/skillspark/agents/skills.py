"""Skills in the task environment: injecting a skills folder, and stripping the skills a task bundles.

Why both here: they are the two sides of the skill A/B comparison. Injection puts the skills where common
agents look for them (Claude Code, Codex, the generic `.agents` folder, and a neutral `/skills`);
stripping makes the no-skill baseline of a task that ships its own skills.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from skillspark.core.skill import SKILL_FILE, find_skills
from skillspark.errors import UserError
from skillspark.harbor.dockerfile import Instruction, arguments, parse_instructions

if TYPE_CHECKING:
    from harbor.environments.base import BaseEnvironment

PRIMARY_SKILLS_DIR = "/skills"
SKILLS_DIRS = (PRIMARY_SKILLS_DIR, "/root/.claude/skills", "/root/.codex/skills", "/root/.agents/skills")
TASK_SKILLS_DIR = "skills"  # inside a task's environment/ folder


def skill_folders(skills_dir: Path) -> list[Path]:
    """The skill folders in `skills_dir` (`core.skill.find_skills`), which is uploaded whole as /skills.

    UserError when there are none, or when `skills_dir` is one skill itself (its SKILL.md would land in
    /skills instead of /skills/<name>).
    """
    if not skills_dir.is_dir():
        raise UserError(f"--skills {skills_dir}: not a directory; pass a folder of skill folders each holding a "
                        f"{SKILL_FILE}")
    found = find_skills(skills_dir)
    if [skill.path for skill in found] == [skills_dir]:
        raise UserError(f"--skills {skills_dir}: this is one skill folder; pass the folder that holds it "
                        f"({skills_dir.parent}), or copy it into a folder of its own")
    if not found:
        raise UserError(f"--skills {skills_dir}: no sub-folder holds a {SKILL_FILE}; "
                        f"expected {skills_dir}/<name>/{SKILL_FILE}")
    return [skill.path for skill in found]


async def inject_skills(environment: BaseEnvironment, source: str) -> None:
    """Place the skill folders of `source` in every path of SKILLS_DIRS inside the environment.

    `source` is a host folder (uploaded), or else a folder already inside the environment (Harbor passes
    `skills_dir` that way when a task declares `environment.skills_dir`), which is copied from there.
    """
    await _exec_checked(environment, f"mkdir -p {' '.join(SKILLS_DIRS)}")
    if Path(source).is_dir():
        await environment.upload_dir(source_dir=source, target_dir=PRIMARY_SKILLS_DIR)
    elif PurePosixPath(source) != PurePosixPath(PRIMARY_SKILLS_DIR):
        await _exec_checked(environment, f"cp -a {shlex.quote(source)}/. {PRIMARY_SKILLS_DIR}/")
    copies = [f"cp -a {PRIMARY_SKILLS_DIR}/. {target}/" for target in SKILLS_DIRS[1:]]
    await _exec_checked(environment, " && ".join([*copies, f"chmod -R a+rX {' '.join(SKILLS_DIRS)}"]))


async def _exec_checked(environment: BaseEnvironment, command: str) -> None:
    result = await environment.exec(command, user="root", timeout_sec=120)
    if result.return_code != 0:
        detail = (result.stderr or result.stdout or "").strip()[-500:]
        raise RuntimeError(f"skill injection failed ({command!r} exited {result.return_code}): {detail}")


def strip_task_skills(task_dir: Path, dest_root: Path) -> Path:
    """Copy `task_dir` under `dest_root` without its bundled skills; return the copy's path.

    Removes `environment/skills/`, the Dockerfile COPY/ADD sources that point into it (a line whose only
    source was the skills folder goes), and a `skills_dir` setting in task.toml.
    """
    copy = dest_root / task_dir.name
    shutil.copytree(task_dir, copy, symlinks=True)
    shutil.rmtree(copy / "environment" / TASK_SKILLS_DIR, ignore_errors=True)
    dockerfile = copy / "environment" / "Dockerfile"
    if dockerfile.is_file():
        dockerfile.write_text(strip_skill_copies(dockerfile.read_text()))
    task_toml = copy / "task.toml"
    if task_toml.is_file():
        lines = task_toml.read_text().splitlines(keepends=True)
        task_toml.write_text("".join(line for line in lines if not re.match(r"\s*skills_dir\s*=", line)))
    return copy


def strip_skill_copies(dockerfile: str) -> str:
    """Dockerfile text without the COPY/ADD sources that come from the task's `skills/` folder.

    Read with the project's one Dockerfile tokenizer; instructions are written back one per line
    (continuations joined, comments dropped: the copy is only ever built, never read by a person).
    """
    out = [kept for inst in parse_instructions(dockerfile) if (kept := _without_skill_sources(inst)) is not None]
    return "\n".join(out) + "\n"


def _without_skill_sources(inst: Instruction) -> str | None:
    """The instruction as text, rewritten without skill sources; None when nothing is left to copy."""
    text = f"{inst.keyword} {inst.value}"
    if inst.keyword not in ("COPY", "ADD") or inst.heredocs:
        return text
    args = arguments(inst.value)
    if len(args.words) < 2 or "from" in args.flags:
        return text
    sources, dest = args.words[:-1], args.words[-1]
    kept = [source for source in sources if not _is_skill_source(source)]
    if len(kept) == len(sources):
        return text
    if not kept:
        return None
    flags = [f"--{name}={value}" if value else f"--{name}" for name, value in args.flags.items()]
    paths = json.dumps([*kept, dest]) if args.exec_form else " ".join(shlex.quote(a) for a in [*kept, dest])
    return " ".join([inst.keyword, *flags, paths])


def _is_skill_source(source: str) -> bool:
    parts = PurePosixPath(source).parts
    parts = tuple(p for p in parts if p not in (".", ""))
    return bool(parts) and parts[0] == TASK_SKILLS_DIR
