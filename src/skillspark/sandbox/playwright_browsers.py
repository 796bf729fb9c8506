"""Playwright's browser downloads, answered from the host's Chromium.

`playwright install [--with-deps] chromium` (Python's `playwright` command, `python -m playwright`,
`npx playwright`) downloads Chrome for Testing, its headless shell and an ffmpeg build from
cdn.playwright.dev, which a host that reaches only the package registries cannot reach. Every one of
those commands is Playwright's own `cli.js` run by Node, whatever Node it is (Python's package bundles
one), so the sandbox hands Node a preload through `NODE_OPTIONS` (set for every build step and
command, as uv's download list is; a task's own `NODE_OPTIONS` wins). The preload does nothing unless
the process is Playwright's `cli.js install`. Then it asks that same Playwright where it would install
each browser (`install --dry-run`: the directory of the revision the installed version pins) and puts
the host's browser binary there under the names Playwright's Linux builds have, with the
`INSTALLATION_COMPLETE` file by which Playwright knows a browser is downloaded already. Playwright then
downloads nothing and launches the host's Chromium (new headless mode serves as the headless shell).

The host's browser is reached through the sandbox's read-only view of the host's `/usr` and `/opt`
(only links are written, into the sandbox's own writable layer), with the libraries its distribution
package installed beside it: `--with-deps` is dropped when every browser asked for is served, since
its apt install would only add what the host already has (and fails offline). Playwright's ffmpeg
(recorded videos) is the host's `ffmpeg` when it has one, else a stand-in that fails with the
offline-unreachable line when a video is recorded. A browser that is not served (Firefox, WebKit, or
Chromium on a host without one) is downloaded as usual; when that fails the command ends with the
offline-unreachable line and the URL Playwright named.
"""

from __future__ import annotations

import json
from pathlib import Path

from skillspark.sandbox.installers import LIB_DIR, MARKER

SCRIPTS_DIR = f"{LIB_DIR}/playwright"  # inside the sandbox, in the base layer
PRELOAD = f"{SCRIPTS_DIR}/preload.js"  # loaded by every Node; loads serve-browsers.js beside it for an install

# Where a distribution puts the browser binary itself (not a launcher script): Debian's `chromium`,
# Google's `google-chrome-stable`. The first present inside the sandbox is served.
HOST_BROWSERS = ("/usr/lib/chromium/chromium", "/opt/google/chrome/chrome")
HOST_FFMPEG = ("/usr/bin/ffmpeg",)

# The executable's path inside each browser directory, as Playwright's Linux archives unpack it
# (chrome-linux64 and chrome-headless-shell-linux64 since Chrome for Testing builds; chrome-linux before).
LAYOUTS = {
    "chromium": ("chrome-linux64/chrome", "chrome-linux-arm64/chrome", "chrome-linux/chrome"),
    "chromium_headless_shell": ("chrome-headless-shell-linux64/chrome-headless-shell",
                                "chrome-headless-shell-linux-arm64/chrome-headless-shell", "chrome-linux/headless_shell"),
    "ffmpeg": ("ffmpeg-linux",),
}

# Every Node process loads this; it stays this small so that they pay for no more than reading it.
_PRELOAD_JS = """// Playwright's browser downloads served from the host (skillspark/sandbox/playwright_browsers.py).
"use strict";
const args = process.argv.slice(2);
if (args.find((arg) => !arg.startsWith("-")) === "install" && !args.includes("--dry-run")) require("./serve-browsers.js");
"""

_SERVE_JS = """// Playwright's browser downloads served from the host (skillspark/sandbox/playwright_browsers.py).
"use strict";
(function serveBrowsers() {
  const args = process.argv.slice(2);
  const fs = require("fs"), path = require("path"), childProcess = require("child_process");
  const MARKER = @MARKER@, BROWSERS = @BROWSERS@, FFMPEG = @FFMPEG@, LAYOUTS = @LAYOUTS@;
  const PACKAGES = ["playwright", "playwright-core", "@playwright/test"];
  const say = (line) => fs.writeSync(2, "skillspark sandbox: " + line + "\\n");
  let cli;
  try {
    cli = fs.realpathSync(process.argv[1]);
    const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(cli), "package.json"), "utf8"));
    if (path.basename(cli) !== "cli.js" || !PACKAGES.includes(pkg.name)) return;
  } catch (error) {
    return;  // not a file beside a package.json: not Playwright's command line
  }
  // Where this Playwright installs what it was asked for, and from which URL.
  const asked = args.filter((arg) => arg !== "--with-deps" && arg !== "--force");
  const dryRun = childProcess.spawnSync(process.execPath, [cli, ...asked, "--dry-run"], { encoding: "utf8" });
  const wanted = [];
  for (const line of (dryRun.stdout || "").split("\\n")) {
    const location = line.match(/Install location:\\s+(.+?)\\s*$/), url = line.match(/Download url:\\s+(\\S+)/);
    if (location) wanted.push({ dir: location[1], url: null, served: false });
    else if (url && wanted.length && !wanted[wanted.length - 1].url) wanted[wanted.length - 1].url = url[1];
  }
  const present = (candidates) => candidates.find((file) => fs.existsSync(file));
  const browser = present(BROWSERS), ffmpeg = present(FFMPEG);
  for (const item of wanted) {
    const kind = (path.basename(item.dir).match(/^(chromium|chromium_headless_shell|ffmpeg)-\\d+$/) || [])[1];
    const complete = path.join(item.dir, "INSTALLATION_COMPLETE");
    // ffmpeg without the host's: a stand-in, so that the served browser is not held up by a download
    const source = kind === "ffmpeg" ? ffmpeg : browser, standIn = kind === "ffmpeg" && !ffmpeg && browser;
    if (!kind || !(source || standIn) || fs.existsSync(complete)) continue;
    try {
      for (const name of LAYOUTS[kind]) {
        const file = path.join(item.dir, name);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.rmSync(file, { force: true });
        if (source) fs.symlinkSync(source, file);
        else fs.writeFileSync(file, "#!/bin/sh\\necho \\"skillspark sandbox: Playwright's ffmpeg (recorded videos) " +
          "is not served: the host has no ffmpeg\\" >&2\\necho \\"" + MARKER + " " + item.url + "\\" >&2\\nexit 1\\n",
          { mode: 0o755 });
      }
      fs.writeFileSync(complete, "");
      item.served = true;
      say("served " + path.basename(item.dir) + " offline (" + (source ? "the host's " + source :
        "a stand-in that fails when a video is recorded") + ") at " + item.dir);
    } catch (error) {
      say("cannot serve " + item.dir + " from the host (" + error.message + "); Playwright downloads it");
    }
  }
  const unserved = wanted.filter((item) => !item.served && !fs.existsSync(path.join(item.dir, "INSTALLATION_COMPLETE")));
  const withDeps = process.argv.indexOf("--with-deps");
  if (withDeps >= 0 && wanted.length && !unserved.length) {
    process.argv.splice(withDeps, 1);
    say("--with-deps skipped: the served browser is the host's, and the host has its libraries");
  }
  process.on("exit", (code) => {
    const missing = unserved.find((item) => !fs.existsSync(path.join(item.dir, "INSTALLATION_COMPLETE")));
    if ((code || process.exitCode) && missing) fs.writeSync(2, MARKER + " " + (missing.url || "https://cdn.playwright.dev") + "\\n");
  });
})();
"""


def write_scripts(folder: Path) -> Path:
    """The preload and the script it loads for an install, filled in, written into `folder`; the preload's path."""
    serve = _SERVE_JS
    for placeholder, value in {"@MARKER@": MARKER, "@BROWSERS@": HOST_BROWSERS, "@FFMPEG@": HOST_FFMPEG,
                               "@LAYOUTS@": LAYOUTS}.items():
        serve = serve.replace(placeholder, json.dumps(value))
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in {"preload.js": _PRELOAD_JS, "serve-browsers.js": serve}.items():
        (folder / name).write_text(text)
        (folder / name).chmod(0o644)
    return folder / "preload.js"


def install_into(layer_root: Path) -> None:
    """Put both scripts into a layer (the base layer: every sandbox has them)."""
    write_scripts(layer_root / SCRIPTS_DIR.lstrip("/"))


def playwright_env() -> dict[str, str]:
    """What makes every Node in a sandbox load the preload (it stays idle unless Playwright installs)."""
    return {"NODE_OPTIONS": f"--require={PRELOAD}"}
