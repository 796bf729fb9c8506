"""Checks for outbox-handoff: the outbox holds one file, named by the convention, saying ready."""

from pathlib import Path

OUTBOX = Path("/app/outbox")
NAME = "hx7.flag"


def test_outbox_holds_only_the_handoff_file():
    names = sorted(p.name for p in OUTBOX.iterdir()) if OUTBOX.is_dir() else []
    assert names == [NAME], f"the outbox holds {names}, not the one handoff file"


def test_handoff_file_says_ready():
    text = (OUTBOX / NAME).read_text()
    assert text in ("ready", "ready\n"), f"the handoff file holds {text[:80]!r}"
