"""skillspark.core: the ground floor, the nouns every area shares; it imports no area of skillspark.

- `skill`: a skill folder: `SKILL_FILE`, `Skill`, `find_skills` (the one way to find skill folders),
  reading a SKILL.md and staging a skill's own files without following links.
- `skillspec`: the Agent Skills spec as text rules: split, write and check a SKILL.md's frontmatter.
- `redact`: keep secrets out of everything written or shown; `one_line`, the shape of every error text.

Beside it on the same floor, kept at their old paths because nearly every module imports them:
`skillspark.errors` (one-line user errors), `skillspark.files` (atomic writes, fsynced logs),
`skillspark.limits`, `skillspark.params`, `skillspark.config`. docs/architecture.md has the layers.
"""
