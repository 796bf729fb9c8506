"""The variables by which tools in a sandbox find what the host serves them instead of a download.

Every build step and every command gets them (a task's own ENV of the same name wins): uv's list of
the host's CPythons (uv_python.py) and the Node preload that puts the host's Chromium where Playwright
installs its browser (playwright_browsers.py).
"""

from __future__ import annotations

from skillspark.sandbox.playwright_browsers import playwright_env
from skillspark.sandbox.uv_python import uv_env


def served_env() -> dict[str, str]:
    return {**uv_env(), **playwright_env()}
