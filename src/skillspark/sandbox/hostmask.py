"""Hide the host's private files from a sandbox whose root looks root-owned through idmapped mounts.

Inside an idmapped sandbox, host root's files appear as the sandbox root's own (so apt, pip and
`chown` work as in an image), which would also let it read /etc/shadow, TLS private keys, a
database's files under /var or an operator's 0600 secrets under /opt or /usr/local. A Docker image
holds none of those. So, below every sandbox's own layers, a mask layer covers each entry of every
host tree the sandbox sees (`hostfs.system_dirs()`: /usr, /etc, /opt, /var, ...) that the host keeps
from ordinary users (not world-readable): a file becomes an overlay whiteout (absent), a directory an
empty opaque one with the same owner and mode (programs that expect it still find it), and the
password databases become copies with every password hash replaced by `*` (useradd and passwd keep
working).

Which entries are private is known from privatefiles.py: one walk per process, then inotify events,
so a private file made since the last sandbox start is covered too, at the cost of one read when
nothing changed. The layer is rebuilt only when the covered set changes.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from skillspark.sandbox import privatefiles
from skillspark.sandbox.hostfs import ROOT, base_layer, build_once, ensure_layer_shape, system_dirs
from skillspark.sandbox.idmap import sandbox_mapping
from skillspark.sandbox.interpreters import interpreter_layer
from skillspark.sandbox.uv_python import uv_python_layer

PASSWORD_DATABASES = {"etc/shadow", "etc/shadow-", "etc/gshadow", "etc/gshadow-"}
_OPAQUE_XATTR = "user.overlay.opaque"  # the overlays are mounted with `userxattr`


def private_entries(root: Path = Path("/"), trees: list[str] | None = None) -> list[tuple[str, os.stat_result]]:
    """(path relative to root, lstat) of every private entry under the exposed trees; their
    contents are not descended into (the mask hides them whole)."""
    return privatefiles.private_entries(root, trees if trees is not None else system_dirs())


def scrub_passwords(text: str) -> str:
    """/etc/shadow or gshadow with every password field (the second) set to `*` (no login)."""
    lines = []
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) > 1 and fields[1] not in ("", "*", "!", "!*"):
            fields[1] = "*"
        lines.append(":".join(fields))
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def _layer_key(entries: list[tuple[str, os.stat_result]], root: Path) -> str:
    digest = hashlib.sha256(b"hostmask-v2\0")
    for rel, st in entries:
        digest.update(f"{rel}\0{st.st_mode}\0{st.st_uid}\0{st.st_gid}\0".encode())
        if rel in PASSWORD_DATABASES:
            digest.update(scrub_passwords((root / rel).read_text(errors="replace")).encode())
    return digest.hexdigest()[:24]


def _populate(layer: Path, entries: list[tuple[str, os.stat_result]], root: Path) -> None:
    ensure_layer_shape(layer)
    for rel, st in entries:
        target = layer / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if rel in PASSWORD_DATABASES:
            target.write_text(scrub_passwords((root / rel).read_text(errors="replace")))
        elif stat.S_ISDIR(st.st_mode):
            target.mkdir()
            os.setxattr(target, _OPAQUE_XATTR, b"y")
        else:
            os.mknod(target, stat.S_IFCHR | 0o000, os.makedev(0, 0))  # an overlay whiteout
            continue
        os.chown(target, st.st_uid, st.st_gid)
        os.chmod(target, stat.S_IMODE(st.st_mode))


def mask_layer(cache_dir: Path, root: Path = Path("/"), trees: list[str] | None = None) -> Path:
    """The mask layer for this host's current private entries (built once per content)."""
    entries = private_entries(root, trees)

    def populate(staging: Path) -> None:
        _populate(staging, entries, root)
        (staging / ROOT).mkdir(exist_ok=True)

    return build_once(cache_dir / f"hostmask-{_layer_key(entries, root)}", populate)


def system_layers(cache_dir: Path, base_image: str = "") -> list[Path]:
    """The layers every sandbox has below its own (top first): the base image's own Python where the
    host's is another version (interpreters.py), our base layer, the host's CPythons as uv downloads
    (uv_python.py), then (idmapped only) the mask."""
    interpreter, uv_pythons = interpreter_layer(cache_dir, base_image), uv_python_layer()
    layers = [*([interpreter] if interpreter else []), base_layer(cache_dir), *([uv_pythons] if uv_pythons else [])]
    if sandbox_mapping().idmapped:
        layers.append(mask_layer(cache_dir))
    return layers
