"""Hide the host's private files from a sandbox whose root looks root-owned through idmapped mounts.

Inside an idmapped sandbox, host root's files appear as the sandbox root's own (so apt, pip and
`chown` work as in an image), which would also let it read /etc/shadow, TLS private keys or a
database's files under /var. A Docker image holds none of those. So, below every sandbox's own
layers, a mask layer covers each entry of /etc and /var that the host keeps from ordinary users
(not world-readable): a file becomes an overlay whiteout (absent), a directory an empty opaque one
with the same owner and mode (programs that expect it still find it), and the password databases
become copies with every password hash replaced by `*` (useradd and passwd keep working).
/usr and /opt hold package files, world-readable by design; they are not scanned (3 s here).

The scan runs at every sandbox start (about 0.1 s for /etc and /var here), so a private file made
since the last sandbox is covered too; the layer is rebuilt only when the covered set changes.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from skillspark.sandbox.hostfs import ROOT, base_layer, build_once, ensure_layer_shape
from skillspark.sandbox.idmap import sandbox_mapping
from skillspark.sandbox.interpreters import interpreter_layer

SCANNED = ("etc", "var")
PASSWORD_DATABASES = {"etc/shadow", "etc/shadow-", "etc/gshadow", "etc/gshadow-"}
_OPAQUE_XATTR = "user.overlay.opaque"  # the overlays are mounted with `userxattr`


def _private(st: os.stat_result) -> bool:
    """Whether an ordinary user is kept out: a file not world-readable, a dir not world-searchable."""
    if stat.S_ISDIR(st.st_mode):
        return not (st.st_mode & stat.S_IROTH and st.st_mode & stat.S_IXOTH)
    return not st.st_mode & stat.S_IROTH


def private_entries(root: Path = Path("/")) -> list[tuple[str, os.stat_result]]:
    """(path relative to root, lstat) of every private entry under the scanned dirs; their
    contents are not descended into (the mask hides them whole)."""
    found: list[tuple[str, os.stat_result]] = []
    pending = [root / name for name in SCANNED]
    while pending:
        folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode):
                continue
            if _private(st):
                found.append((Path(entry.path).relative_to(root).as_posix(), st))
            elif stat.S_ISDIR(st.st_mode):
                pending.append(Path(entry.path))
    return sorted(found, key=lambda item: item[0])


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
    digest = hashlib.sha256(b"hostmask-v1\0")
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


def mask_layer(cache_dir: Path, root: Path = Path("/")) -> Path:
    """The mask layer for this host's current private entries (built once per content)."""
    entries = private_entries(root)

    def populate(staging: Path) -> None:
        _populate(staging, entries, root)
        (staging / ROOT).mkdir(exist_ok=True)

    return build_once(cache_dir / f"hostmask-{_layer_key(entries, root)}", populate)


def system_layers(cache_dir: Path, base_image: str = "") -> list[Path]:
    """The layers every sandbox has below its own (top first): the base image's own Python where the
    host's is another version (interpreters.py), our base layer, then (idmapped only) the mask."""
    interpreter = interpreter_layer(cache_dir, base_image)
    layers = [*([interpreter] if interpreter else []), base_layer(cache_dir)]
    if sandbox_mapping().idmapped:
        layers.append(mask_layer(cache_dir))
    return layers
