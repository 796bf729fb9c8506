"""A real Debian root filesystem per base-image family, to stand in for the image instead of the host.

The host's own root (Debian 12 here) is a poor stand-in for `ubuntu:24.04`: tasks install packages by
their 24.04-era names (`libasound2t64`, ...) that bookworm lacks. Debian's registry is reachable, so
`mmdebstrap` can make a minimal root of the Debian suite closest to the image (trixie for 24.04-era
bases, bookworm for older ones) once per suite, cached under the cache dir like build layers. The
tree it returns has the top-level layout of a Debian system (`usr`, `etc`, `var`, usrmerge links),
to serve as the lowest, read-only layer where the host's dirs serve today.
"""

from __future__ import annotations

import fcntl
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from skillspark.errors import UserError

ROOTFS_VERSION = "1"  # bumped when the package set or the way a rootfs is made changes
MIRROR = "http://deb.debian.org/debian"
# What the sandbox itself needs inside (init runs on python3; `USER` goes through setpriv, in util-linux)
# and what a python:3.x image gives (pip, venv); apt and bash come with every minbase root.
PACKAGES = ("python3", "python3-pip", "python3-venv", "ca-certificates", "util-linux")
_SUITE_OF_TAG = {
    "noble": "trixie", "24.04": "trixie", "oracular": "trixie", "plucky": "trixie", "25.04": "trixie",
    "24.10": "trixie", "latest": "trixie", "rolling": "trixie", "stable": "trixie", "jammy": "bookworm", "22.04": "bookworm",
    "focal": "bullseye", "20.04": "bullseye",
    "13": "trixie", "trixie": "trixie", "12": "bookworm", "bookworm": "bookworm", "11": "bullseye",
    "bullseye": "bullseye",
}


def suite_for(image: str) -> str:
    """The Debian suite closest to a supported base image (python:3.x images are Debian-based)."""
    name, _, tag = image.split("@")[0].rpartition("/")[2].partition(":")
    if name == "python":  # python:3.12-slim-bookworm names its suite; other tags are today's (trixie)
        named = re.search(r"trixie|bookworm|bullseye", tag)
        return named.group(0) if named else "trixie"
    key = (tag or "latest").split("-")[0]
    if name == "debian":
        key = key.split(".")[0]  # debian:12.5 -> 12
    return _SUITE_OF_TAG.get(key, "trixie")


def _mmdebstrap() -> str:
    tool = shutil.which("mmdebstrap")
    if not tool:
        raise UserError("a Debian root filesystem needs `mmdebstrap` on this host; install it "
                        "(apt-get install mmdebstrap) or keep the host's root as the stand-in")
    return tool


def ensure_rootfs(cache_dir: Path, suite: str, *, timeout_sec: float = 1800.0) -> Path:
    """The cached root of `suite` under `cache_dir/rootfs/`, made once (under a lock) if missing."""
    root = cache_dir / "rootfs"
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"{suite}-v{ROOTFS_VERSION}"
    with open(root / f"{suite}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (final / "etc/os-release").exists():
            return final
        tool = _mmdebstrap()
        staging = Path(tempfile.mkdtemp(prefix=f".{suite}-", dir=root))
        started = time.monotonic()
        command = [tool, "--variant=minbase", f"--include={','.join(PACKAGES)}", suite, str(staging), MIRROR]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_sec, check=False)
        except subprocess.TimeoutExpired:
            done = None
        if done is None or done.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            tail = (done.stderr.strip().splitlines() or ["timed out"])[-1] if done else f"timed out after {timeout_sec:.0f} s"
            raise UserError(f"making the {suite} root filesystem failed ({tail}); check that {MIRROR} is "
                            "reachable, or keep the host's root as the stand-in")
        (staging / ".skillspark-rootfs").write_text(f"{suite} {time.monotonic() - started:.1f}s\n")
        shutil.rmtree(final, ignore_errors=True)
        staging.rename(final)
        return final
