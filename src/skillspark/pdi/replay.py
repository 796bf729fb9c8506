"""Replay the online PDI proxy over a logged run and compare with the snapshots the run logged.

A logged snapshot belongs to the reflect step of the same attempt, whether it was written before the
`reflect_call` (SPARK does that) or after it. A replayed snapshot matches its logged one when exec,
plan, oss, raw and weighted PDI agree within 1e-3 and `triggered` and `level` are the same. A logged
snapshot with no reflect step to compare with is a row without a replayed snapshot, and never a match.

The memo guard is skillspark's one deliberate difference from SPARK: a memo rewrite that failed
(`ok: false` in our logs) or produced no valid memo (error text, an empty reply) is no proxy step,
and the previous memo stays. SPARK takes whatever the summarizer returned as the new memo. By
default each record is replayed as it was written (guard on for our records, which carry `ok`; off
for SPARK's); `memo_guard=True/False` replays every record one way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel

from skillspark.pdi.log import LoggedSnapshot, ReflectStep, TaskEnd, read_events
from skillspark.pdi.memo import is_valid_memo
from skillspark.pdi.proxy import PdiSnapshot, ProxyTracker
from skillspark.pdi.text import Method

TOLERANCE = 1e-3
COMPARED = ("proxy_exec", "proxy_plan", "proxy_oss", "raw_pdi", "weighted_pdi")


class ReplayRow(BaseModel):
    """One replayed step with the snapshot the log holds for it, or a logged snapshot without a step."""

    snapshot: PdiSnapshot | None
    logged: LoggedSnapshot | None = None

    @property
    def matched(self) -> bool | None:
        """None without a logged snapshot, else whether the replay reproduces it."""
        if self.logged is None:
            return None
        s, g = self.snapshot, self.logged
        if s is None:
            return False
        close = all(abs(getattr(s, k) - getattr(g, k)) <= TOLERANCE for k in COMPARED)
        return close and s.triggered == g.triggered and s.level == g.level


class MemoTrail:
    """Which memo each logged rewrite really replaced and produced, under a memo-guard policy (one task run)."""

    def __init__(self, memo_guard: bool | None = None) -> None:
        self.memo_guard = memo_guard
        self.current: str | None = None  # the memo now in force when it differs from what the log says

    def resolve(self, step: ReflectStep) -> ReflectStep | None:
        """The step with the memos the proxy should see, or None when the guard rejects the rewrite."""
        guard = self.memo_guard if self.memo_guard is not None else step.ok is not None
        before = step.memo_before if self.current is None else self.current
        if guard and (step.ok is False or not is_valid_memo(step.memo_after)):
            self.current = before  # the previous memo stays
            return None
        after = step.response if step.ok is False else step.memo_after  # unguarded: the reply becomes the memo
        self.current = None if after == step.memo_after else after
        return step.model_copy(update={"memo_before": before, "memo_after": after})


def replay(
    records: Iterable[tuple[int, Any]],
    method: Method = "token_overlap",
    memo_guard: bool | None = None,
    **tracker_kwargs: Any,
) -> Iterator[ReplayRow]:
    """Recompute the proxy step by step; a fresh tracker per task run (`TaskEnd` ends one)."""
    tracker, trail = ProxyTracker(method, **tracker_kwargs), MemoTrail(memo_guard)
    pending: ReplayRow | None = None
    early: dict[int, LoggedSnapshot] = {}  # snapshots logged before their reflect_call
    for event in read_events(records):
        if isinstance(event, LoggedSnapshot):
            if pending is not None and pending.snapshot.attempt == event.attempt and pending.logged is None:
                pending.logged = event
            elif event.attempt in early:  # two snapshots for one attempt: the first has no step
                yield ReplayRow(snapshot=None, logged=early.pop(event.attempt))
                early[event.attempt] = event
            else:
                early[event.attempt] = event
            continue
        if pending is not None:
            yield pending
            pending = None
        if isinstance(event, ReflectStep):
            step = trail.resolve(event)
            if step is not None:
                snap = tracker.step(step.memo_before, step.memo_after, step.commands, step.failed_tests,
                                    step.previous_failed_tests, attempt=step.attempt)  # fmt: skip
                pending = ReplayRow(snapshot=snap, logged=early.pop(step.attempt, None))
        elif isinstance(event, TaskEnd):
            yield from (ReplayRow(snapshot=None, logged=s) for s in early.values())
            early.clear()
            tracker, trail = ProxyTracker(method, **tracker_kwargs), MemoTrail(memo_guard)
    if pending is not None:
        yield pending
    yield from (ReplayRow(snapshot=None, logged=s) for s in early.values())
