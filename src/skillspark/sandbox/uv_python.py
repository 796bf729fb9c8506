"""uv's managed-Python downloads, answered from the CPythons the host already has.

`uv python install 3.12`, `uv run --python 3.13`, `uv venv -p 3.12` and `uvx --python 3.12` download a
python-build-standalone archive when no interpreter of that version is found, from a host the
sandbox cannot reach (releases.astral.sh, github.com). uv reads the list of downloads from
`UV_PYTHON_DOWNLOADS_JSON_URL` when it is set (a local path): this module makes, once per host, a
layer holding one archive per host CPython (pyenv's, uv's own, /usr/local, the distribution's;
newest patch per minor version, 3.8 and later), laid out as uv expects (`python/bin/python3.X`,
`python/lib/...`), and that list. The uv the sandbox serves (installers.py) sets the variable, so
uv "downloads" the host's interpreter from a `file://` path, checked against its sha256.

Only when uv would download anyway: an interpreter uv finds on PATH is still used as in Docker, and
nothing is registered as installed until a command installs it. A version the host lacks is not
listed: uv says "No download found", and the served uv adds the offline-unreachable line.
The layer lives in the user's cache beside the wheelhouse (it holds only copies of host files
every user may read), so every sandbox cache dir shares it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from skillspark.config import get_settings
from skillspark.sandbox.hostfs import build_once, ensure_layer_shape
from skillspark.sandbox.installers import UV_PYTHON_DIR
from skillspark.sandbox.interpreters import host_interpreters, relocatable

LAYER_VERSION = "1"
OLDEST_MINOR = (3, 8)  # the oldest Python uv runs
_log = logging.getLogger(__name__)
_failed: set[Path] = set()  # layers that could not be made in this process (not retried per sandbox)


def served_interpreters() -> dict[str, Path]:
    """The host CPythons uv can "download" in the sandbox: minor version -> prefix."""
    return {minor: prefix for minor, prefix in host_interpreters().items()
            if tuple(int(part) for part in minor.split(".")) >= OLDEST_MINOR}


def _compressor() -> tuple[list[str], str]:
    """zstd when the host has it (5x faster than gzip here, and uv reads both), else gzip."""
    if shutil.which("zstd"):
        return ["zstd", "-1", "-q", "-T0", "-c"], ".tar.zst"
    return ["gzip", "-1", "-c"], ".tar.gz"


def _stdlib_filter(minor: str):
    """What a python-build-standalone `install_only` archive leaves out too: the test suites, static
    libraries, and installed packages other than pip."""
    stdlib = f"python/lib/python{minor}/"

    def keep(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
        name = member.name + ("/" if member.isdir() else "")
        inside = name[len(stdlib):] if name.startswith(stdlib) else None
        if inside is not None and (inside.startswith("test/") or inside.startswith("site-packages/")
                                   and not inside.split("/")[1].startswith("pip")):
            return None
        if "/idle_test/" in name or name.endswith(".a"):
            return None
        member.uid = member.gid = 0
        member.uname = member.gname = "root"
        return member

    return keep


def _write_archive(prefix: Path, minor: str, target: Path) -> None:
    """`prefix` as `python/...` (bin/python3.X made relocatable, python3 and python links), compressed."""
    command, _ = _compressor()
    with tempfile.TemporaryDirectory() as scratch, open(target, "wb") as out:
        binary = Path(scratch) / f"python{minor}"
        shutil.copy2(prefix / "bin" / f"python{minor}", binary)
        relocatable(binary, prefix)
        squeeze = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=out)
        try:
            with tarfile.open(fileobj=squeeze.stdin, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                keep = _stdlib_filter(minor)
                tar.add(binary, arcname=f"python/bin/python{minor}", filter=keep)
                for name in ("python3", "python"):
                    link = tarfile.TarInfo(f"python/bin/{name}")
                    link.type, link.linkname, link.mode = tarfile.SYMTYPE, f"python{minor}", 0o777
                    tar.addfile(keep(link))
                for lib in sorted((prefix / "lib").glob(f"libpython{minor}*.so*")):
                    tar.add(lib, arcname=f"python/lib/{lib.name}", filter=keep)
                tar.add(prefix / "lib" / f"python{minor}", arcname=f"python/lib/python{minor}", filter=keep)
                if (prefix / "include" / f"python{minor}").is_dir():
                    tar.add(prefix / "include" / f"python{minor}", arcname=f"python/include/python{minor}", filter=keep)
        finally:
            squeeze.stdin.close()
            if squeeze.wait() != 0:
                raise OSError(f"{command[0]} failed on {prefix}")


def _version(prefix: Path, minor: str) -> tuple[int, int, int] | None:
    """The interpreter's own (major, minor, patch); None for a pre-release or one that does not run."""
    probe = "import sys; v = sys.version_info; print(v.major, v.minor, v.micro, v.releaselevel)"
    try:
        done = subprocess.run([str(prefix / "bin" / f"python{minor}"), "-I", "-S", "-c", probe],
                              capture_output=True, text=True, timeout=60)
        major, minor_, patch, level = done.stdout.split()
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    return (int(major), int(minor_), int(patch)) if level == "final" else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_entry(version: tuple[int, int, int], url: str, sha256: str) -> tuple[str, dict]:
    """One entry of uv's download list (the format of its own `download-metadata.json`)."""
    machine = platform.machine()
    key = f"cpython-{version[0]}.{version[1]}.{version[2]}-linux-{machine}-gnu"
    return key, {"name": "cpython", "arch": {"family": machine, "variant": None}, "os": "linux", "libc": "gnu",
                 "major": version[0], "minor": version[1], "patch": version[2], "prerelease": "",
                 "url": url, "sha256": sha256, "variant": None, "build": "skillspark-host"}


def _populate(layer: Path, served: dict[str, Path]) -> None:
    ensure_layer_shape(layer)
    folder = layer / UV_PYTHON_DIR.lstrip("/")
    folder.mkdir(parents=True)
    _, suffix = _compressor()
    downloads = {}
    for minor, prefix in served.items():
        version = _version(prefix, minor)
        if version is None:
            continue
        name = f"cpython-{'.'.join(map(str, version))}-host{suffix}"
        _write_archive(prefix, minor, folder / name)
        key, entry = download_entry(version, f"file://{UV_PYTHON_DIR}/{name}", _sha256(folder / name))
        downloads[key] = entry
    (folder / "downloads.json").write_text(json.dumps(downloads, indent=1) + "\n")


def _layer_key(served: dict[str, Path]) -> str:
    """Changes when a host CPython is added, removed or replaced (its binary's mtime)."""
    parts = [LAYER_VERSION, platform.machine(), _compressor()[1]]
    for minor, prefix in served.items():
        binary = prefix / "bin" / f"python{minor}"
        parts.append(f"{minor}={prefix}@{binary.stat().st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def default_root() -> Path:
    return get_settings().cache_dir / "uv-python"


def uv_python_layer(root: Path | None = None) -> Path | None:
    """The layer with the host's CPythons as uv downloads (built once per set of them), or None when the
    host has none or the layer cannot be made (said once in the log: uv then downloads as usual)."""
    served = served_interpreters()
    if not served:
        return None
    layer = (root or default_root()) / f"layer-{_layer_key(served)}"
    if layer in _failed:
        return None
    try:
        layer.parent.mkdir(parents=True, exist_ok=True)
        return build_once(layer, lambda staging: _populate(staging, served))
    except (OSError, subprocess.SubprocessError, tarfile.TarError) as exc:
        _failed.add(layer)
        _log.warning("skillspark sandbox: cannot serve the host's CPythons to uv (%s); uv downloads as usual", exc)
        return None


def uv_env() -> dict[str, str]:
    """What points every uv in a sandbox at the host's CPythons: the served one sets this itself, but a uv
    the task installs another way (`pip install uv`, a release binary) reads it from the environment."""
    return {"UV_PYTHON_DOWNLOADS_JSON_URL": f"{UV_PYTHON_DIR}/downloads.json"} if uv_python_layer() else {}
