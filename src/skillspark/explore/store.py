"""The files of one task's exploration, written so that a crash loses at most the attempt in flight.

Layout under `<output>/<task>/`: `trajectory.jsonl` (appended, fsynced per record), `attempts.json`
(rewritten whole through a temp file and a rename), `memos/memo_v{N}.md` (every memo version), and
`SKILL.md` files under `skills/<name>/`. `attempts.json` is the commit point of an attempt: on resume,
log records of an attempt it does not list are dropped, so nothing is repeated or counted twice.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from skillspark.errors import UserError
from skillspark.explore.records import AttemptsFile
from skillspark.files import append_line, write_atomic


class TaskStore:
    """Reads and writes the output folder of one task."""

    def __init__(self, root: Path):
        self.root = root
        self.trajectory = root / "trajectory.jsonl"
        self.attempts_path = root / "attempts.json"
        self.memos_dir = root / "memos"
        self.jobs_dir = root / "jobs"

    def append(self, record: BaseModel) -> None:
        """Append one record as a JSON line (redacted, fsynced: a kill keeps every finished line)."""
        append_line(self.trajectory, json.dumps(record.model_dump(mode="json"), ensure_ascii=False))

    def save_state(self, state: AttemptsFile) -> None:
        write_atomic(self.attempts_path, state.model_dump_json(indent=2), make_parents=True)

    def save_memo(self, version: int, memo: str) -> Path:
        path = self.memos_dir / f"memo_v{version}.md"
        write_atomic(path, memo, make_parents=True)
        return path

    def load_state(self) -> AttemptsFile | None:
        if not self.attempts_path.exists():
            return None
        try:
            return AttemptsFile.model_validate_json(self.attempts_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise UserError(
                f"{self.attempts_path} is not a valid attempts file ({type(exc).__name__}); "
                "remove the task's output folder or run without --resume"
            ) from None

    def reset(self) -> None:
        """Start this task afresh: remove the log and state of a previous run (memos are overwritten)."""
        for path in (self.trajectory, self.attempts_path):
            path.unlink(missing_ok=True)
        if self.memos_dir.exists():
            for memo in self.memos_dir.glob("memo_v*.md"):
                memo.unlink()

    def trim_log(self, n_committed: int, *, keep_skill: bool) -> int:
        """Keep only records of the first `n_committed` attempts; return how many lines were dropped.

        Drops the records of an attempt that was in flight when the run stopped (it is not in
        attempts.json), any earlier `task_summary`, and a `skill_gen_call` whose skill was not
        committed (`keep_skill` False), so a resumed log reads like an unbroken one. A torn last line
        (kill during a write) is dropped too.
        """
        if not self.trajectory.exists():
            return 0
        kept: list[str] = []
        dropped = 0
        for line in self.trajectory.read_text(encoding="utf-8").splitlines():
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                dropped += 1
                continue
            attempt = data.get("attempt")
            kind = data.get("type")
            wanted = kind != "task_summary" and (keep_skill or kind != "skill_gen_call")
            if wanted and isinstance(attempt, int) and attempt < n_committed:
                kept.append(line)
            else:
                dropped += 1
        write_atomic(self.trajectory, "".join(f"{line}\n" for line in kept), make_parents=True)
        return dropped
