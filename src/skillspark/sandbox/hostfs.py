"""The host filesystem as the sandbox sees it: which top-level dirs are overlaid, and the base layer.

Kernel overlayfs refuses one overlay over `/` as a whole from a user namespace, so the root is an
overlay of a small skeleton and every real system directory (`/usr`, `/etc`, ...) gets its own
overlay on top of it. Nothing else of the host (its `/root`, `/home`, `/work`, ...) is visible.

The base layer is the lowest layer above the host. It holds the skeleton root and a few files that
make the host a better stand-in for a `python:3.x` image: `python`/`pip` on PATH, pip allowed to
install system-wide (writes land in the overlay, never on the host), apt usable as root,
`curl`/`wget` wrappers that serve well-known installer scripts offline (installers.py), and the Node
preload that serves Playwright's browsers from the host's Chromium (playwright_browsers.py).
"""

from __future__ import annotations

import os
from pathlib import Path

from skillspark.files import build_dir_atomically
from skillspark.sandbox.installers import install_into as install_offline_installers, pip_shim
from skillspark.sandbox.playwright_browsers import install_into as install_browser_preload

# Bumped whenever the base layer's content changes, so old caches are not reused.
BASE_LAYER_VERSION = "11"
ROOT = "_root"  # the layer subdir that holds the root overlay's files
_CANDIDATES = ("usr", "etc", "opt", "var", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
SKELETON_DIRS = {
    "root": 0o700, "home": 0o755, "tmp": 0o1777, "run": 0o755, "srv": 0o755, "mnt": 0o755,
    "media": 0o755, "proc": 0o555, "sys": 0o555, "dev": 0o755, "logs": 0o755,
    "logs/agent": 0o777, "logs/verifier": 0o777, "logs/artifacts": 0o777, "logs/user-agent": 0o777,
    "run/skillspark-context": 0o755,
}
CONTEXT_MOUNT = "/run/skillspark-context"  # where the build context is bound read-only during a build
_PIP_CONF = "[global]\nbreak-system-packages = true\nroot-user-action = ignore\ndisable-pip-version-check = true\n"
_APT_CONF = 'APT::Sandbox::User "root";\n'


def system_dirs() -> list[str]:
    """Top-level host directories that get their own overlay (real dirs, not usrmerge symlinks)."""
    return [name for name in _CANDIDATES if os.path.isdir(f"/{name}") and not os.path.islink(f"/{name}")]


def layer_dirs() -> list[str]:
    """Subdirectories every layer has: the root plus one per overlaid system dir."""
    return [ROOT, *system_dirs()]


def ensure_layer_shape(layer: Path) -> None:
    """Give a layer an (empty) subdir for every overlay so it can serve as a lowerdir."""
    for name in layer_dirs():
        (layer / name).mkdir(parents=True, exist_ok=True)


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def _populate_base(layer: Path) -> None:
    root = layer / ROOT
    for name, mode in SKELETON_DIRS.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        (root / name).chmod(mode)
    for name in _CANDIDATES:
        host = Path("/") / name
        if host.is_symlink():
            (root / name).symlink_to(os.readlink(host))
        elif host.is_dir():
            (root / name).mkdir(exist_ok=True)
    ensure_layer_shape(layer)
    local_bin = layer / "usr/local/bin"
    if Path("/usr/bin/python3").exists() and not Path("/usr/bin/python").exists():
        local_bin.mkdir(parents=True, exist_ok=True)
        (local_bin / "python").symlink_to("/usr/bin/python3")
    if Path("/usr/bin/python3").exists() and not Path("/usr/bin/pip").exists():
        for name in ("pip", "pip3"):
            _write(local_bin / name, pip_shim("/usr/bin/python3"), 0o755)
    _write(layer / "etc/pip.conf", _PIP_CONF)
    if Path("/etc/apt").is_dir():
        _write(layer / "etc/apt/apt.conf.d/99skillspark-sandbox", _APT_CONF)
    install_offline_installers(layer)
    install_browser_preload(layer)


def build_once(final: Path, populate) -> Path:
    """`final`, made by `populate(staging dir)` aside and renamed into place unless it already exists.

    One builder at a time, across threads and processes (`files.build_dir_atomically`): the others
    wait, then use its layer, so nobody ever sees (or copies from) a half-made one.
    """
    if final.is_dir():
        return final
    return build_dir_atomically(final, populate)


def base_layer(cache_dir: Path) -> Path:
    """Return the base layer under `cache_dir`, creating it once (atomically) if needed."""
    return build_once(cache_dir / f"base-v{BASE_LAYER_VERSION}", _populate_base)
