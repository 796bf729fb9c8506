"""Prompt templates of task generation, one text file each; `$name` placeholders (string.Template).

Why files: the wording is tuned by reading it, and diffs of a prompt should not be diffs of Python.
"""

from __future__ import annotations

from importlib import resources
from string import Template


def fill(name: str, **values: str) -> str:
    """The template `name`.md with every placeholder filled (a missing value is a KeyError: a bug)."""
    text = resources.files(__package__).joinpath(f"{name}.md").read_text(encoding="utf-8")
    return Template(text).substitute(values)
