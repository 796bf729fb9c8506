"""A task idea: what `tasks generate --prompt-file` reads.

Two shapes, one model. The original SPARK PromptSpec JSON (`prompt`, `task_name_hint`, `available_tools`,
`environment_hints`, `constraints`, plus its `output_dir` / layered-template keys, which are ignored)
is read unchanged, so existing idea files keep working. Our richer form adds `name`, `difficulty`,
`category`, `needs_internet`, `output_paths` and `notes`. Any other key is a typo and refused, naming it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from skillspark.errors import UserError

# keys of the original PromptSpec that describe its own output layout, not the task: accepted, unused
_ORIGINAL_IGNORED = {"output_dir", "structure_template", "content_overrides"}
_ALIASES = {"task_name_hint": "name", "available_tools": "tools"}


def slugify(text: str) -> str:
    """A Harbor-friendly task name: lowercase letters, digits and single hyphens, at most 48 chars."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48].strip("-")
    return slug or "task"


class TaskIdea(BaseModel, extra="forbid"):
    """A prompt-level description of a task to build."""

    prompt: str = Field(min_length=1)
    name: str | None = None
    tools: list[str] = Field(default_factory=list)
    environment_hints: list[str] = Field(default_factory=list)
    constraints: list[str] = Field(default_factory=list)
    difficulty: Literal["easy", "medium", "hard"] | None = None
    category: str | None = None
    needs_internet: bool = False
    output_paths: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @property
    def slug(self) -> str:
        if self.name:
            return slugify(self.name)
        return slugify(self.prompt.strip().splitlines()[0][:80])

    def as_prompt_text(self) -> str:
        """The idea as the model reads it (a stable JSON block: same idea, same prompt)."""
        return json.dumps(self.model_dump(exclude_defaults=True), indent=2, ensure_ascii=False)

    def search_text(self) -> str:
        """What the task library is searched with."""
        return " ".join([self.prompt, *self.tools, *self.environment_hints, *self.constraints, self.category or ""])


def load_idea(path: Path) -> TaskIdea:
    """Read an idea file; every problem is one `UserError` naming the file, the key and the fix."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"--prompt-file {path}: no such file; pass an idea JSON file (see examples/ideas/)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"--prompt-file {path}: cannot read it ({type(exc).__name__}); pass a UTF-8 JSON file") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"--prompt-file {path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                        "fix the file") from None
    if not isinstance(raw, dict):
        raise UserError(f"--prompt-file {path}: expected a JSON object with a \"prompt\" key, got {type(raw).__name__}")
    data = {_ALIASES.get(k, k): v for k, v in raw.items() if k not in _ORIGINAL_IGNORED}
    try:
        return TaskIdea.model_validate(data)
    except ValidationError as exc:
        first = min(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")  # a typo explains a missing key
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        problem = "unknown key (a typo?)" if first["type"] == "extra_forbidden" else first["msg"]
        raise UserError(f"--prompt-file {path}: key {where!r}: {problem}; fix the idea file "
                        f"({exc.error_count()} problem(s) in all)") from None
