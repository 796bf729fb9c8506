"""Serve the verifier's `pip install` from a local wheel cache instead of the registry.

Test scripts commonly start with `pip install pytest==8.4.1 pytest-json-ctrf==0.3.5`: a round trip
to the registry per package and a download on every verification (seconds, and a failure when the
registry is slow). The host reads the pip requirements that the task's `tests/` scripts name,
downloads their wheels once per (Python version, requirement set) with its own pip into the user's
cache (`~/.cache/skillspark/wheelhouse/py3.X-<hash>/`, shared by every sandbox cache dir, since it
holds only public wheels the host fetched itself; one builder at a time), and the sandbox sees that
folder read-only at `/run/skillspark-wheels`. During verification, pip gets `PIP_FIND_LINKS`
pointing there, `PIP_COMPILE=0` (no byte-compiling of what it installs; see `verifier_pip_env`) and, when every
`pip install` in `tests/` was understood and fully downloaded, `PIP_NO_INDEX=1`: no network at all.
Anything not understood (a `-r` file, a variable, a pip call from Python) keeps the registry in
play, so a verifier never fails for lack of a wheel. The wheels come from the host's pip, never
from inside a sandbox, so one task cannot plant a package in another task's verifier.
"""

from __future__ import annotations

import hashlib
import logging
import platform
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from skillspark.config import get_settings
from skillspark.files import build_dir_atomically
from skillspark.sandbox.interpreters import host_interpreter

WHEELS_MOUNT = "/run/skillspark-wheels"
WHEELHOUSE_VERSION = "2"  # 2: downloaded by the pip of the same minor version (markers)
HOST_PIP = ["/usr/bin/python3", "-m", "pip"]
_INSTALL = re.compile(r"(?:^|[\s;&|(])(?:uv\s+)?(?:python3?(?:\.\d+)?\s+-m\s+)?pip3?(?:\.\d+)?\s+install\s+(.*)")
_REQUIREMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?((===?|~=|!=|<=?|>=?)[A-Za-z0-9.*+!_-]+(,(===?|~=|!=|<=?|>=?)[A-Za-z0-9.*+!_-]+)*)?$")
_FLAGS_WITH_VALUE = {"--target", "-t", "--timeout", "--retries", "--cache-dir", "--prefix", "--root",
                     "--progress-bar", "--log", "--python", "-p"}
_FLAGS = {"--quiet", "-q", "-qq", "--disable-pip-version-check", "--no-cache-dir", "--break-system-packages",
          "--user", "-U", "--upgrade", "--no-warn-script-location", "--system", "--no-input", "--ignore-installed",
          "-I", "--force-reinstall", "--no-deps", "--root-user-action=ignore", "--prefer-binary"}
_SEPARATORS = {"&&", "||", ";", "|", "&"}
_TIMEOUT_S = 300
_log = logging.getLogger(__name__)
_failed: set[Path] = set()


@dataclass(frozen=True)
class VerifierRequirements:
    requirements: tuple[str, ...]
    complete: bool  # every pip install in tests/ was understood (so the registry is not needed)


def _install_args(line: str) -> list[str] | None:
    """The words after `pip install` up to the end of that shell command; None if it cannot be split."""
    match = _INSTALL.search(line)
    if not match:
        return []
    try:
        words = shlex.split(match.group(1), comments=True)
    except ValueError:
        return None
    for index, word in enumerate(words):
        if word in _SEPARATORS or word.startswith((">", "2>", "<")) or word[:1].isdigit() and ">" in word:
            return words[:index]
    return words


def _requirements_of(args: list[str]) -> tuple[list[str], bool]:
    """(requirement specs, whether every word was understood)."""
    found, understood, skip_next = [], True, False
    for word in args:
        if skip_next:
            skip_next = False
        elif word in _FLAGS_WITH_VALUE:
            skip_next = True
        elif word.split("=", 1)[0] in _FLAGS_WITH_VALUE or word in _FLAGS:
            continue
        elif _REQUIREMENT.match(word):
            found.append(word)
        else:  # -r file, a URL, a path, a variable, an index option: the registry stays in play
            understood = False
    return found, understood


def verifier_requirements(tests_dir: Path) -> VerifierRequirements:
    """The pip requirements a task's verifier scripts install (see module docstring)."""
    requirements: set[str] = set()
    complete = True
    for path in sorted(p for p in tests_dir.rglob("*") if p.is_file() and not p.is_symlink()):
        try:
            text = path.read_text(errors="replace").replace("\\\n", " ")
        except OSError:
            continue
        if "pip" not in text:
            continue
        if path.suffix not in ("", ".sh", ".bash"):
            complete = complete and not re.search(r"pip3?\s+install|-m\s+pip", text)  # a pip call from Python
            continue
        for line in text.splitlines():
            args = _install_args(line)
            if args is None:
                complete = False
                continue
            found, understood = _requirements_of(args)
            requirements.update(found)
            complete = complete and understood and (bool(found) or not args)
    return VerifierRequirements(tuple(sorted(requirements)), complete and bool(requirements))


def _platforms() -> list[str]:
    machine = platform.machine()
    return [f"manylinux_2_{minor}_{machine}" for minor in range(36, 16, -1)] + [f"manylinux2014_{machine}", f"linux_{machine}"]


def _pip_for(minor: str) -> list[str]:
    """The pip of a host CPython `minor` when there is one: pip resolves environment markers with its own
    interpreter whatever `--python-version` says, so the host's 3.11 pip leaves out pytest's
    `exceptiongroup; python_version < "3.11"` for a 3.10 image, and the offline install then fails."""
    prefix = host_interpreter(minor)
    python = prefix / "bin" / f"python{minor}" if prefix else None
    return [str(python), "-m", "pip"] if python and (prefix / "lib" / f"python{minor}" / "site-packages" / "pip").is_dir() \
        else HOST_PIP


def _download(folder: Path, minor: str, requirements: tuple[str, ...]) -> None:
    platforms = [arg for tag in _platforms() for arg in ("--platform", tag)]
    command = [*_pip_for(minor), "download", "--quiet", "--disable-pip-version-check", "--retries", "1", "--timeout", "15",
               "--only-binary=:all:",
               "--python-version", minor, "--implementation", "cp", *platforms, "--dest", str(folder), *requirements]
    done = subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT_S)
    if done.returncode != 0:
        raise OSError((done.stderr or done.stdout).strip().splitlines()[-1:] or ["pip download failed"])


def default_root() -> Path:
    return get_settings().cache_dir / "wheelhouse"


def ensure_wheelhouse(root: Path, minor: str, wanted: VerifierRequirements) -> Path | None:
    """The folder under `root` holding wheels for `wanted` on Python `minor`, downloaded once; None if it
    cannot be made."""
    if not wanted.requirements:
        return None
    key = hashlib.sha256("\n".join([WHEELHOUSE_VERSION, minor, platform.machine(), *wanted.requirements]).encode())
    folder = root / f"py{minor}-{key.hexdigest()[:16]}"
    if folder.is_dir():
        return folder
    if folder in _failed:  # tried in this process already: the registry serves this verifier
        return None
    try:
        return build_dir_atomically(folder, lambda staging: _download(staging, minor, wanted.requirements), durable=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        _failed.add(folder)
        _log.warning("skillspark sandbox: no local wheels for the verifier's %s (%s); it installs from the registry",
                     " ".join(wanted.requirements), exc)
        return None


def verifier_pip_env(wanted: VerifierRequirements) -> dict[str, str]:
    """What the verifier's commands see when the wheelhouse is mounted.

    `PIP_COMPILE=0`: byte-compiling all that was just installed (all of pygments for pytest) was
    half of the install's time, and a verifier imports a fraction of it. Not `PIP_NO_COMPILE=1`:
    pip reads a `PIP_NO_*` variable as the value of the option's destination, so that spelling
    turned compiling *on*. `PIP_NO_WARN_CONFLICTS=0` (same reading: no conflict check, which only
    prints a warning) and `PIP_DISABLE_PIP_VERSION_CHECK=1` leave out work that never changes what
    is installed.
    """
    return {"PIP_FIND_LINKS": WHEELS_MOUNT, "PIP_COMPILE": "0", "PIP_NO_WARN_CONFLICTS": "0",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1", **({"PIP_NO_INDEX": "1"} if wanted.complete else {})}
