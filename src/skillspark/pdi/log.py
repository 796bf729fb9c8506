"""Reading a SPARK `trajectory.jsonl` as a stream of PDI-relevant events (pure: records in, events out).

Per attempt k a log holds an `execution_result`, then (for failures that were reflected on) a
`pdi_snapshot` and a `reflect_call` with `memo_before`/`memo_after`; a `task_summary` ends the task.
Each `reflect_call` is one proxy step, fed by the `execution_result` just before it (its
`agent_commands` as they are, the ✗ lines of its `test_summary`) and by the failed tests of the
execution before that one, whatever its status (SPARK passes `attempts[-2].test_summary`).
Attempts that were never reflected on (INFRA_ERROR, an ERROR without a memo rewrite, the final PASS)
are no proxy steps, but they are still "the attempt before" for the next one. Other record types
(`skill_gen_call`, ...) are skipped, and so is a `task_summary` with `state: "cancelled"` (skillspark
writes one on Ctrl-C and `--resume` continues the same task in the same log). Attempt numbers that
start again (a second run appended to the same file) begin a new task run, as a `task_summary` does.
Callers pass (line number, record) pairs so that a bad record can be named by its line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from skillspark.pdi.memo import attempt_failures
from skillspark.pdi.proxy import PdiSnapshot


class RecordError(ValueError):
    """A record that cannot be read; `line` is its line number in the file."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Execution(_In):
    attempt: int
    status: str = ""
    success: bool = False
    agent_commands: str = ""
    test_summary: str = ""


class _Reflect(_In):
    attempt: int
    memo_before: str = ""
    memo_after: str
    ok: bool | None = None  # skillspark's: False when the rewrite failed and the memo was kept
    response: str = ""


class _TaskSummary(_In):
    task_name: str | None = None
    state: str | None = None


class ReflectStep(BaseModel):
    """The inputs of one proxy step, as logged."""

    attempt: int
    memo_before: str
    memo_after: str
    commands: str
    failed_tests: list[str]
    previous_failed_tests: list[str] = []
    ok: bool | None = None  # None: the log does not say (SPARK's logs)
    response: str = ""


class LoggedSnapshot(PdiSnapshot):
    """A `pdi_snapshot` as some run logged it (other implementations' extra keys are ignored)."""

    model_config = ConfigDict(extra="ignore")


class PassedAttempt(BaseModel):
    """A successful attempt: its commands are the evidence a skill should be grounded in."""

    attempt: int
    commands: str


class TaskEnd(BaseModel):
    """A `task_summary`: the proxy state of the task ends here."""

    task_name: str | None = None


Event = ReflectStep | LoggedSnapshot | PassedAttempt | TaskEnd


def _parse[M: BaseModel](model: type[M], line: int, kind: str, record: dict[str, Any]) -> M:
    try:
        return model.model_validate(record)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "record"
        raise RecordError(line, f"{kind} record: field {field!r}: {err['msg']}") from None


def read_events(records: Iterable[tuple[int, Any]]) -> Iterator[Event]:
    """Turn (line, record) pairs into events, pairing each reflect_call with the execution_result before it."""
    last: _Execution | None = None  # the latest attempt of this task run
    before_last: list[str] = []  # failed tests of the attempt before it
    for line, record in records:
        if not isinstance(record, dict) or not isinstance(record.get("type"), str):
            raise RecordError(line, "not a trajectory record (expected a JSON object with a 'type' field)")
        kind = record["type"]
        if kind == "execution_result":
            ex = _parse(_Execution, line, kind, record)
            if last is not None and ex.attempt <= last.attempt:  # a new run of the task in the same file
                last, before_last = None, []
                yield TaskEnd()
            if last is not None:
                before_last = attempt_failures(last.status, last.test_summary)
            last = ex
            if ex.status == "PASS" or ex.success:
                yield PassedAttempt(attempt=ex.attempt, commands=ex.agent_commands)
        elif kind == "reflect_call":
            rf = _parse(_Reflect, line, kind, record)
            if last is None or last.attempt != rf.attempt:
                raise RecordError(line, f"reflect_call for attempt {rf.attempt} has no execution_result before it")
            yield ReflectStep(
                attempt=rf.attempt,
                memo_before=rf.memo_before,
                memo_after=rf.memo_after,
                commands=last.agent_commands,
                failed_tests=attempt_failures(last.status, last.test_summary),
                previous_failed_tests=before_last,
                ok=rf.ok,
                response=rf.response,
            )
        elif kind == "pdi_snapshot":
            yield _parse(LoggedSnapshot, line, kind, record)
        elif kind == "task_summary":
            summary = _parse(_TaskSummary, line, kind, record)
            if summary.state != "cancelled":  # a cancelled task goes on in the same log after --resume
                last, before_last = None, []
                yield TaskEnd(task_name=summary.task_name)
