"""The README stays a short overview whose two commands are the ones CI and the demo use."""

from __future__ import annotations

import re

from .snippets import DOCS, REPO

README = REPO / "README.md"
DEMO = "bash scripts/setup.sh && .venv/bin/skillspark demo"
SUITE = "bash scripts/setup.sh && .venv/bin/pytest"


def test_readme_is_at_most_12_kb():
    assert README.stat().st_size <= 12 * 1024, f"README.md is {README.stat().st_size} bytes: move detail to docs/"


def test_the_two_commands_are_the_ones_that_run():
    lines = [line.split("#")[0].strip() for line in README.read_text(encoding="utf-8").splitlines()]
    assert DEMO in lines and SUITE in lines
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert ci[-1].strip() == SUITE, ".ci/run no longer runs the README's test command"


def test_readme_links_point_at_pages_that_exist():
    targets = re.findall(r"\]\((docs/[^)#]*)", README.read_text(encoding="utf-8"))
    assert len(targets) >= 10
    missing = [t for t in targets if not (REPO / t).exists()]
    assert not missing, f"README links to missing pages: {missing}"
    assert all((DOCS / name).exists() for name in ("index.md", "concepts.md", "benchmarks.md", "decisions.md"))
