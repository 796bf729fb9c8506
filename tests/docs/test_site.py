"""The documentation site builds in strict mode: every page in the nav, every link and anchor resolves,
every API reference renders, and nothing is loaded from another host."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .snippets import DOCS, REPO

MKDOCS = Path(sys.executable).with_name("mkdocs")
# What a browser fetches by itself: sources of scripts, images, frames, and <link> targets (styles, fonts,
# preconnects). Plain <a href> links to other sites are fine: nothing is fetched until a reader clicks.
FOREIGN = re.compile(r"""<link\b[^>]*\bhref=["'](?:https?:)?//[^"']*|\bsrc=["'](?:https?:)?//[^"']*""")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([str(MKDOCS), "build", "--strict", "--config-file", str(REPO / "mkdocs.yml"),
                           "--site-dir", str(out)], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stderr[-4000:]}"
    return out


def test_every_page_is_built(site):
    for page in DOCS.rglob("*.md"):
        built = site / page.relative_to(DOCS).with_suffix(".html")
        assert built.is_file(), f"{page.name} was not built"


def test_the_api_sections_render_docstrings(site):
    html = (site / "pdi.html").read_text(encoding="utf-8")
    assert "skillspark.pdi.text.text_similarity" in html and "Token-level similarity" in html


def test_nothing_is_loaded_from_another_host(site):
    """No web fonts, analytics or CDN scripts: the site works offline (links to other sites are fine)."""
    for page in site.rglob("*.html"):
        loads = FOREIGN.findall(page.read_text(encoding="utf-8"))
        assert not loads, f"{page.relative_to(site)} loads {loads}"
    styles = " ".join(p.read_text(encoding="utf-8") for p in site.rglob("*.css"))
    assert "fonts.googleapis" not in styles and "@import url(http" not in styles


def test_the_command_reference_lists_every_command_and_option(site):
    """docs/cli.md is generated from the command tree by docs/hooks/cli_reference.py at build time."""
    from ..cli_tree import leaf_commands

    html = (site / "cli.html").read_text(encoding="utf-8")
    commands = list(leaf_commands())
    assert len(commands) >= 20
    for path, command in commands:
        assert f'id="{"-".join(path)}"' in html, f"no section for skillspark {' '.join(path)}"
        for param in command.params:
            if param.param_type_name == "option" and not getattr(param, "hidden", False):
                assert all(f"<code>{name}</code>" in html for name in param.opts), f"{path}: {param.opts}"
