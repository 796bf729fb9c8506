"""The Python a `FROM python:3.X` image promises, from a CPython the host already has, offline.

The host's system Python (Debian 12: 3.11) stands in for every python:3.x image, so a task whose image
is `python:3.12-slim` gets the wrong interpreter and its pinned packages (a wheel only built for
3.12, `numpy==2.3` ...) fail to install. Many hosts already have other CPythons (pyenv's
`~/.pyenv/versions/3.12.1`, uv's `~/.local/share/uv/python/cpython-3.12.*`); the sandbox cannot see
them there (its `/root` is empty), so for such an image an *interpreter layer* puts one where the
image has it: `/usr/local/bin/python3.X` (and `python3`, `python`, `pip`, `pip3`), the standard
library in `/usr/local/lib/python3.X` with an empty site-packages plus pip (from `ensurepip`, offline),
and `libpython3.X.so` in `/usr/local/lib`. It is made once per version and cached like the base layer.
An ubuntu/debian image whose release's own `python3` is another version (ubuntu:24.04: 3.12) gets
only the versioned `python3.X` (see `interpreter_layer`). When the version is the host's own Python,
or the host has no CPython of that minor version, nothing changes (the latter is logged: the task
runs on the host's Python).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from skillspark.sandbox.hostfs import build_once, ensure_layer_shape
from skillspark.sandbox.installers import pip_shim

INTERPRETER_LAYER_VERSION = "2"
_TAG = re.compile(r"(?:^|/)python:(3\.\d+)")
_log = logging.getLogger(__name__)
_warned: set[str] = set()  # versions already warned about, once per process


# The Python a distribution image's `apt-get install python3` brings, by release.
_DISTRO_PYTHON = {
    "ubuntu": {"20.04": "3.8", "focal": "3.8", "22.04": "3.10", "jammy": "3.10", "24.04": "3.12", "noble": "3.12",
               "24.10": "3.12", "oracular": "3.12", "25.04": "3.13", "plucky": "3.13"},
    "debian": {"11": "3.9", "bullseye": "3.9", "12": "3.11", "bookworm": "3.11", "13": "3.13", "trixie": "3.13"},
}


def requested_minor(image: str) -> str | None:
    """`3.12` for `python:3.12.8-slim`; None for other images and for `python:3` (any 3.x will do)."""
    match = _TAG.search(image.split("@")[0])
    return match.group(1) if match else None


def distro_minor(image: str) -> str | None:
    """The Python version of an ubuntu/debian release's own `python3` (`ubuntu:24.04` -> 3.12)."""
    name, _, tag = image.split("@")[0].rpartition("/")[2].partition(":")
    release = tag.split("-")[0] if name == "ubuntu" else tag.split("-")[0].split(".")[0]
    return _DISTRO_PYTHON.get(name, {}).get(release)


def system_minor() -> str | None:
    """The minor version of the host's `/usr/bin/python3`, the sandbox's default interpreter."""
    try:
        target = os.path.realpath("/usr/bin/python3")
    except OSError:
        return None
    match = re.search(r"python(3\.\d+)$", target)
    return match.group(1) if match else None


def _search_roots() -> list[Path]:
    """Where CPythons live on a host: pyenv's versions, uv's managed pythons, a source-built /usr/local,
    and the distribution's own (/usr, last: its prefix names no version, so any other copy wins)."""
    home = Path(os.environ.get("HOME") or Path.home())
    pyenv = Path(os.environ.get("PYENV_ROOT") or home / ".pyenv") / "versions"
    uv = Path(os.environ.get("UV_PYTHON_INSTALL_DIR") or home / ".local/share/uv/python")
    roots = [path for parent in (pyenv, uv) if parent.is_dir() for path in sorted(parent.iterdir())]
    return [*roots, Path("/usr/local"), Path(sys.base_prefix), Path("/usr")]


def _patch(prefix: Path) -> tuple[int, ...]:
    """(3, 12, 1) from a prefix named like pyenv's `3.12.1` or uv's `cpython-3.12.1-linux-...`."""
    match = re.search(r"3\.\d+\.(\d+)", prefix.name)
    return (int(match.group(1)),) if match else (-1,)


def _has_cpython(root: Path, minor: str) -> bool:
    return (root / "bin" / f"python{minor}").is_file() and (root / "lib" / f"python{minor}" / "os.py").is_file()


def host_interpreter(minor: str) -> Path | None:
    """The prefix of a host CPython `minor` (newest patch first): `bin/python3.X` beside its stdlib."""
    return max((root for root in _search_roots() if _has_cpython(root, minor)), key=_patch, default=None)


def host_interpreters() -> dict[str, Path]:
    """Every minor version of CPython 3 this host has, each with its newest prefix (`host_interpreter`)."""
    minors = {match.group(1) for root in _search_roots() if (root / "lib").is_dir()
              for path in (root / "lib").glob("python3.*") if (match := re.fullmatch(r"python(3\.\d+)", path.name))}
    found = {minor: host_interpreter(minor) for minor in minors}
    return {minor: prefix for minor, prefix in sorted(found.items(), key=lambda item: _minor_key(item[0])) if prefix}


def _minor_key(minor: str) -> tuple[int, int]:
    major, _, rest = minor.partition(".")
    return int(major), int(rest)


def relocatable(binary: Path, prefix: Path) -> None:
    """Point a binary's RUNPATH at `$ORIGIN/../lib` instead of the host prefix it was built for.

    pyenv builds link libpython with `-rpath <prefix>/lib`, a path that does not exist inside the
    sandbox; the new string is shorter, so it is written in place (NUL-padded) without moving anything.
    """
    old, new = str(prefix / "lib").encode(), b"$ORIGIN/../lib"
    data = binary.read_bytes()
    needle = b"\0" + old + b"\0"
    if needle not in data or len(new) > len(old):
        return
    binary.write_bytes(data.replace(needle, b"\0" + new + b"\0" * (len(old) - len(new) + 1)))


def _left_out(stdlib: Path, folder: Path, names: list[str]) -> list[str]:
    """What a python:3.X-slim image drops too: the test suites and static libpython; and the host's
    installed packages (the image's site-packages starts empty)."""
    if folder == stdlib:
        return [name for name in names if name in ("site-packages", "test")]
    return [name for name in names if name == "idle_test" or name.endswith(".a")]


def _populate(layer: Path, prefix: Path, minor: str, default: bool) -> None:
    ensure_layer_shape(layer)
    local = layer / "usr/local"
    (local / "bin").mkdir(parents=True, exist_ok=True)
    stdlib = prefix / "lib" / f"python{minor}"
    shutil.copytree(stdlib, local / "lib" / f"python{minor}", symlinks=True,
                    ignore=lambda folder, names: _left_out(stdlib, Path(folder), names))
    for lib in (prefix / "lib").glob(f"libpython{minor}*.so*"):
        shutil.copy2(lib, local / "lib" / lib.name, follow_symlinks=False)
    if (prefix / "include" / f"python{minor}").is_dir():
        shutil.copytree(prefix / "include" / f"python{minor}", local / "include" / f"python{minor}", symlinks=True)
    binary = local / "bin" / f"python{minor}"
    shutil.copy2(prefix / "bin" / f"python{minor}", binary)
    relocatable(binary, prefix)
    subprocess.run([str(binary), "-I", "-m", "ensurepip", "--default-pip"], check=True, capture_output=True,
                   timeout=300, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"})
    for name in ("pip", "pip3", f"pip{minor}"):  # ensurepip's scripts name the host path in their #! line
        (local / "bin" / name).unlink(missing_ok=True)
    if not default:
        return
    for name in ("python3", "python"):
        (local / "bin" / name).symlink_to(f"python{minor}")
    for name in ("pip", "pip3", f"pip{minor}"):
        (local / "bin" / name).write_text(pip_shim(f"/usr/local/bin/python{minor}"))
        (local / "bin" / name).chmod(0o755)


def interpreter_layer(cache_dir: Path, image: str) -> Path | None:
    """The layer that gives an image the Python it promises, or None when the host's Python will do.

    `python:3.X` makes 3.X *the* Python (`python3`, `python`, `pip`). An ubuntu/debian release whose
    own python3 is another version gets only the versioned `python3.X`, so that tools asking for that
    version by name (`uv init --python 3.12` on ubuntu:24.04) find it instead of downloading one, while
    `python3` stays the host's, which the host's `python3-*` packages (`apt-get install`) belong to.
    """
    minor, default = requested_minor(image), True
    if minor is None:
        minor, default = distro_minor(image), False
    if minor is None or minor == system_minor():
        return None
    prefix = host_interpreter(minor)
    if prefix is None:
        if minor not in _warned:
            _warned.add(minor)
            _log.warning("skillspark sandbox: %s asks for Python %s and this host has no CPython %s "
                         "(pyenv or uv); the task runs on the host's Python %s", image, minor, minor, system_minor())
        return None
    name = f"python{minor}-{prefix.name}{'' if default else '-versioned'}-v{INTERPRETER_LAYER_VERSION}"
    return build_once(cache_dir / name, lambda staging: _populate(staging, prefix, minor, default))
