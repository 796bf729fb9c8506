"""Playwright's browser downloads answered from the host's Chromium (playwright_browsers.py).

Playwright here is the project's own Python package (its bundled Node and `cli.js`); in the sandbox it is
bound read-only from this venv, as a task's `pip install playwright` would have put it there.
"""

import os
import subprocess
import sys
from pathlib import Path

import playwright
import pytest

from skillspark.sandbox import playwright_browsers
from skillspark.sandbox.installers import MARKER
from skillspark.sandbox.session import task_sandbox

SITE = Path(playwright.__file__).parent.parent  # this venv's site-packages
HOST_BROWSER = next((path for path in playwright_browsers.HOST_BROWSERS if Path(path).exists()), None)


@pytest.fixture
def preload(tmp_path) -> Path:
    if HOST_BROWSER is None:
        pytest.fail("these tests need the host's Chromium (scripts/setup.sh installs Debian's chromium)")
    return playwright_browsers.write_scripts(tmp_path / "scripts")


def test_playwright_install_puts_the_hosts_chromium_where_playwright_looks(tmp_path, preload):
    """`playwright install --with-deps chromium` downloads nothing: each browser directory of the installed
    version's revision holds a link to the host's browser and Playwright's own "downloaded" file."""
    browsers = tmp_path / "browsers"
    env = {**os.environ, "PLAYWRIGHT_BROWSERS_PATH": str(browsers), "NODE_OPTIONS": f"--require={preload}"}
    done = subprocess.run([sys.executable, "-m", "playwright", "install", "--with-deps", "chromium"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    served = sorted(line.split()[3] for line in done.stderr.splitlines() if line.startswith("skillspark sandbox: served"))
    assert [name.split("-")[0] for name in served] == ["chromium", "chromium_headless_shell", "ffmpeg"], done.stderr
    assert "--with-deps skipped" in done.stderr
    for name in served[:2]:
        kind = name.split("-")[0]
        assert (browsers / name / "INSTALLATION_COMPLETE").is_file()
        for layout in playwright_browsers.LAYOUTS[kind]:
            assert os.readlink(browsers / name / layout) == HOST_BROWSER
    untouched = subprocess.run(["node", "-e", "console.log(6 * 7)"], env=env, capture_output=True, text=True, timeout=60)
    assert (untouched.returncode, untouched.stdout, untouched.stderr) == (0, "42\n", "")


LAUNCH = """
from playwright.sync_api import sync_playwright
with sync_playwright() as p:
    browser = p.chromium.launch(headless=True)
    page = browser.new_page()
    page.goto("file:///tmp/page.html")
    print(page.title(), page.inner_text("#answer"))
"""
PAGE = "<title>served</title><p id=answer></p><script>document.getElementById('answer').textContent = 6 * 7</script>"


@pytest.mark.slow  # a python:3.12 image (interpreter layer) and a headless Chromium, ~30 s here
async def test_playwright_installs_and_launches_chromium_in_an_offline_sandbox(tmp_path, cache_dir, probe_task):
    """Inside an offline sandbox: python playwright's `install --with-deps chromium` succeeds, headless Chromium
    loads a page; `npx` (the system Node) is served the same way; a browser the host lacks (Firefox) fails
    with the offline-unreachable line naming its download."""
    if HOST_BROWSER is None:
        pytest.fail("this test needs the host's Chromium (scripts/setup.sh installs Debian's chromium)")
    site = [{"type": "bind", "source": str(SITE), "target": "/opt/site", "read_only": True}]
    async with task_sandbox(probe_task(tmp_path / "task", "python:3.12-slim"), trial_dir=tmp_path / "t", cache_dir=cache_dir,
                            no_network=True, mounts=site) as env:
        py = "export PYTHONPATH=/opt/site; "
        install = await env.exec(py + "python3 -m playwright install --with-deps chromium")
        assert install.return_code == 0, install
        assert "served chromium-" in install.stderr and "--with-deps skipped" in install.stderr
        await env.exec(f"cat > /tmp/page.html <<'EOF'\n{PAGE}\nEOF\ncat > /tmp/launch.py <<'EOF'\n{LAUNCH}\nEOF")
        launched = await env.exec(py + "python3 /tmp/launch.py")
        assert launched.return_code == 0, launched
        assert launched.stdout.strip() == "served 42"
        project = ("mkdir -p /tmp/p/node_modules/.bin && cd /tmp/p && echo '{}' > package.json"
                   " && ln -s /opt/site/playwright/driver/package node_modules/playwright-core"
                   " && ln -s ../playwright-core/cli.js node_modules/.bin/playwright-core && ")
        npx = await env.exec(project + "PLAYWRIGHT_BROWSERS_PATH=/tmp/npx npx --offline playwright-core install chromium")
        assert npx.return_code == 0, npx
        assert "served chromium-" in npx.stderr
        firefox = await env.exec(py + "python3 -m playwright install firefox")
        assert firefox.return_code != 0
        last = firefox.stderr.splitlines()[-1]
        assert last.startswith(f"{MARKER} https://") and "/firefox/" in last, firefox.stderr[-2000:]
