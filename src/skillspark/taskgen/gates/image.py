"""The files of a local-sandbox built layer, by the path they have inside the image."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from skillspark.sandbox.hostfs import ROOT

# Written by package managers and interpreters as a side effect; never the task's data.
_NOISE = ("/var/cache/", "/var/log/", "/var/lib/apt/lists/", "/var/lib/dpkg/", "/root/.cache/", "/tmp/")


def layer_files(layer_dir: Path) -> Iterator[tuple[str, Path]]:
    """(image path, host path) of every regular file or link in the layer, in path order."""
    for path in sorted(layer_dir.rglob("*")):
        if path.is_dir() and not path.is_symlink():
            continue
        parts = path.relative_to(layer_dir).parts
        inside = parts[1:] if parts[0] == ROOT else parts
        if inside:
            yield "/" + "/".join(inside), path


def layer_digest(layer_dir: Path) -> dict[str, str]:
    """Image path -> sha256 of the content (a link: of its target), leaving out caches, logs and bytecode."""
    digest: dict[str, str] = {}
    for image_path, path in layer_files(layer_dir):
        if image_path.startswith(_NOISE) or "/__pycache__/" in image_path or image_path.endswith(".pyc"):
            continue
        data = str(path.readlink()).encode() if path.is_symlink() else path.read_bytes()
        digest[image_path] = hashlib.sha256(data).hexdigest()
    return digest
