"""The privileged context of the teacher: the SKILL.md files under `--skills`, all of them (full retrieval).

Part 1 gives the teacher every skill it is handed; retrieval strategies (keyword, random, UCB) belong to
part 2. Only SKILL.md files are read, so `--skills` may point at an explore output without handing the
teacher its trajectories or verifier output.
"""

from __future__ import annotations

from pathlib import Path

from skillspark.errors import UserError
from skillspark.explore.skillspec import skill_dirs, split_frontmatter


def load_skill_text(root: Path) -> str:
    """Every skill under `root` as "## name\\ndescription\\n\\nbody", in folder order."""
    parts = []
    for folder in skill_dirs(root):
        fields, body, _ = split_frontmatter((folder / "SKILL.md").read_text(encoding="utf-8", errors="replace"))
        fields = fields or {}
        name = str(fields.get("name") or folder.name)
        description = str(fields.get("description") or "").strip()
        parts.append(f"## {name}\n{description}\n\n{body.strip()}".strip())
    text = "\n\n".join(parts).strip()
    if not text:
        raise UserError(f"--skills {root}: the SKILL.md files there are empty; the teacher needs skill text")
    return text
