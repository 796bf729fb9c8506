"""The Agent Skills spec (agentskills.io) as text rules: read, write and check a SKILL.md's frontmatter.

Pure text in, text or problems out; the folder side (finding, reading without following links, staging)
is `core.skill`. A SKILL.md is YAML frontmatter between `---` lines, then a Markdown body.
Required: `name` (1-64 chars of lowercase letters, digits and single hyphens, not at either end, equal to
the folder's name) and `description` (1-1024 chars: what the skill does and when to use it).
Optional: `license`, `compatibility` (<= 500 chars), `metadata` (string to string map),
`allowed-tools` (space-separated string). The body must stay under 500 lines.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_NAME = 64
MAX_DESCRIPTION = 1024
MAX_COMPATIBILITY = 500
MAX_BODY_LINES = 500
ALLOWED_KEYS = {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
_FRONTMATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)


def split_frontmatter(text: str) -> tuple[dict[str, Any] | None, str, str | None]:
    """(frontmatter mapping or None, body, why the frontmatter could not be read or None)."""
    match = _FRONTMATTER.match(text.lstrip("\ufeff"))
    if match is None:
        return None, text, "no YAML frontmatter between '---' lines at the top"
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        return None, text[match.end():], f"frontmatter is not valid YAML ({type(exc).__name__})"
    if not isinstance(data, dict):
        return None, text[match.end():], "frontmatter is not a mapping of keys to values"
    return data, text[match.end():], None


def compose(fields: dict[str, Any], body: str) -> str:
    """A SKILL.md from frontmatter fields (in their order) and a body."""
    head = yaml.safe_dump(fields, sort_keys=False, allow_unicode=True, width=10_000).strip()
    return f"---\n{head}\n---\n{body}"


def set_frontmatter(text: str, fields: dict[str, Any]) -> str:
    """`text` with `fields` set in its frontmatter. New keys are appended as YAML lines so that the
    author's own lines stay byte for byte; replacing a key (or a missing frontmatter) rewrites it."""
    text = text.lstrip("\ufeff")
    data, body, _ = split_frontmatter(text)
    match = _FRONTMATTER.match(text)
    if data is not None and match is not None and not set(fields) & set(data):
        extra = yaml.safe_dump(fields, sort_keys=False, allow_unicode=True, width=10_000).rstrip("\n")
        return f"{text[: match.end(1)]}\n{extra}{text[match.end(1):]}"
    return compose({**(data or {}), **fields}, body)


def check_name(name: Any) -> str | None:
    """Why `name` breaks the spec's naming rule, or None when it is fine."""
    if not isinstance(name, str) or not name:
        return "missing or empty"
    if len(name) > MAX_NAME:
        return f"{len(name)} chars, at most {MAX_NAME} allowed"
    if not NAME_RE.match(name):
        return "use lowercase letters, digits and single hyphens, not at the start or end"
    return None


def check_skill_text(text: str, folder_name: str) -> list[tuple[str, str]]:
    """(field, message) problems of one SKILL.md's text placed in a folder named `folder_name`."""
    data, body, why = split_frontmatter(text)
    if data is None:
        return [("frontmatter", why or "unreadable")]
    problems: list[tuple[str, str]] = []
    if (why_name := check_name(data.get("name"))) is not None:
        problems.append(("name", why_name))
    elif data["name"] != folder_name:
        problems.append(("name", f"'{data['name']}' differs from its folder name '{folder_name}'"))
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        problems.append(("description", "missing or empty: say what the skill does and when to use it"))
    elif len(description) > MAX_DESCRIPTION:
        problems.append(("description", f"{len(description)} chars, at most {MAX_DESCRIPTION} allowed"))
    compatibility = data.get("compatibility")
    if compatibility is not None and (not isinstance(compatibility, str) or len(compatibility) > MAX_COMPATIBILITY):
        problems.append(("compatibility", f"must be a string of at most {MAX_COMPATIBILITY} chars"))
    if "license" in data and not isinstance(data["license"], str):
        problems.append(("license", "must be a string"))
    metadata = data.get("metadata")
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
    ):
        problems.append(("metadata", "must map strings to strings"))
    if "allowed-tools" in data and not isinstance(data["allowed-tools"], str):
        problems.append(("allowed-tools", "must be a space-separated string"))
    for key in sorted(set(data) - ALLOWED_KEYS, key=str):
        problems.append((str(key), "not a field of the spec (allowed: " + ", ".join(sorted(ALLOWED_KEYS)) + ")"))
    n_lines = len(body.splitlines())
    if n_lines >= MAX_BODY_LINES:
        problems.append(("body", f"{n_lines} lines, keep it under {MAX_BODY_LINES}"))
    if not body.strip():
        problems.append(("body", "empty: write the instructions below the frontmatter"))
    return problems
