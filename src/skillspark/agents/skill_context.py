"""Skills in the prompt (`--skills-mode inline`): the staged SKILL.md texts, bounded, as one prompt block.

Why: a pointer line ("skills are in /skills, read them") only helps an agent that acts on it, and the
embedded 135M model never does; harnesses with few skills put the skill text into the context instead.
Where: in the task message, just before the task, and the demonstration shows a toy skill there (see
`prompts.skill_demonstration`). In the system message the embedded model used the skill's fact in 1 of 8
first commands of the decisive suite; next to the task, 4 of 6 (docs/skills-in-context.md).
Why bounded: a skill folder can hold anything, and every character is paid for on every model call and
must fit a small context window. Each SKILL.md is cut at `max_skill_chars` (its head kept, then a marker
saying where the whole file is), and skills stop being added once `max_total_chars` is spent (the ones
left out are named, with their path). What was shown and cut is returned as a record for the trajectory.
Every arm of an eval (placebo included) goes through this same code, so arms differ only in the skill text."""

from __future__ import annotations

import shlex
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from skillspark.core.skill import SKILL_FILE, SkillText, byte_cap, find_skills
from skillspark.errors import UserError

if TYPE_CHECKING:
    from harbor.environments.base import BaseEnvironment


class SkillsMode(StrEnum):
    """How the skillspark agent shows skills: a line naming /skills (`pointer`), or their text (`inline`)."""

    pointer = "pointer"
    inline = "inline"


SKILLS_MODES: tuple[str, ...] = tuple(mode.value for mode in SkillsMode)


def check_skills_mode(skills_mode: SkillsMode, agent: str | None) -> None:
    """UserError for skills in the prompt with another agent: only ours puts them there (run and eval alike)."""
    if skills_mode != SkillsMode.pointer and agent is not None:
        raise UserError(f"--skills-mode {skills_mode} with --agent {agent}: only the skillspark agent "
                        "puts skills into its prompt; drop --agent, or use --skills-mode pointer")
INLINE_SKILL_MAX_CHARS = 4_000  # one SKILL.md: ~1,000 tokens
INLINE_TOTAL_MAX_CHARS = 12_000  # all skills together: ~3,000 of the embedded model's 8,192-token context


class InlinedSkill(BaseModel):
    """One skill as the prompt shows it: its size, what was kept, whether it was cut."""

    name: str
    chars: int  # of the whole SKILL.md as far as it was read (a file longer than the cap reads as cap + a few)
    bytes: int  # the file's size on disk
    shown_chars: int
    truncated: bool


class InlineSkills(BaseModel):
    """The system-prompt block and the record of what it holds."""

    text: str
    max_skill_chars: int
    max_total_chars: int
    skills: list[InlinedSkill] = Field(default_factory=list)
    left_out: list[str] = Field(default_factory=list)  # skills not shown: the total budget was spent

    def record(self) -> dict:
        return self.model_dump(exclude={"text"})


def read_host_skills(root: Path, max_chars: int) -> list[SkillText]:
    """The SKILL.md of each skill folder of `root`, links left out, each read only up to the cap."""
    return [text for skill in find_skills(root) if (text := skill.read(max_chars)) is not None]


async def read_environment_skills(environment: BaseEnvironment, root: str, max_chars: int) -> list[SkillText]:
    """The same, read inside the environment (skills that are only there: a task's `skills_dir`).

    Listed as `core.skill.find_skills` lists them: sub-folders that are no links, holding a SKILL.md that is
    a regular file and no link.
    """
    listing = await environment.exec(
        f"cd {shlex.quote(root)} && for d in */; do [ ! -L \"${{d%/}}\" ] && [ -f \"${{d}}{SKILL_FILE}\" ] "
        f"&& [ ! -L \"${{d}}{SKILL_FILE}\" ] && printf '%s\\n' \"${{d%/}}\"; done", user="root", timeout_sec=60)
    found = []
    for name in sorted((listing.stdout or "").split()):
        path = shlex.quote(f"{root}/{name}/{SKILL_FILE}")
        result = await environment.exec(f"wc -c < {path} && head -c {byte_cap(max_chars)} {path}",
                                         user="root", timeout_sec=60)
        size, _, text = (result.stdout or "").partition("\n")
        if result.return_code == 0 and size.strip().isdigit():
            found.append(SkillText(name=name, size=int(size), text=text))
    return found


def inline_skills(skills: list[SkillText], *, path: str, others: list[str],
                  max_skill_chars: int = INLINE_SKILL_MAX_CHARS,
                  max_total_chars: int = INLINE_TOTAL_MAX_CHARS) -> InlineSkills:
    """The block for the system prompt: each skill's text (cut at the caps), in name order."""
    from skillspark.agents import prompts

    shown, record, left_out, spent = [], [], [], 0
    for skill in sorted(skills, key=lambda s: s.name):
        budget = min(max_skill_chars, max_total_chars - spent)
        if budget <= 0:
            left_out.append(skill.name)
            continue
        text = skill.text.strip()
        cut = len(text) > budget or skill.size > len(skill.text.encode())
        body = text[:budget]
        if cut:
            body += "\n" + prompts.skill_cut_marker(f"{path}/{skill.name}/{SKILL_FILE}")
        spent += min(len(text), budget)
        shown.append(prompts.inline_skill(skill.name, body))
        record.append(InlinedSkill(name=skill.name, chars=len(text), bytes=skill.size,
                                   shown_chars=min(len(text), budget), truncated=cut))
    text = prompts.inline_skills_block(path, others, shown, [f"{path}/{n}/{SKILL_FILE}" for n in left_out])
    return InlineSkills(text=text, max_skill_chars=max_skill_chars, max_total_chars=max_total_chars,
                        skills=record, left_out=left_out)
