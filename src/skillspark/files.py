"""Writing the files skillspark keeps: whole files atomically, logs one fsynced line at a time, all redacted.

Why one module: these are the only two ways our outputs (trajectories, memos, skills, attempts, reports)
reach disk, so the two guarantees every output needs live here once. A reader (or a crash) sees the old
content or the new, never half of it; and no configured secret is ever persisted (`llm.redact`), even
when a model echoed the key it was sent.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from skillspark.llm.redact import redact


def write_atomic(path: Path, text: str, *, make_parents: bool = False) -> None:
    """Write redacted `text` to a temp file beside `path`, fsync, then rename over it; the temp never lingers.

    A missing parent folder is an error (a user's `--csv`/`--json` path) unless `make_parents`.
    """
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    text = redact(text)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def append_line(path: Path, line: str) -> None:
    """Append one redacted line (a JSONL record) and fsync, so a kill keeps every finished line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(redact(line) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
