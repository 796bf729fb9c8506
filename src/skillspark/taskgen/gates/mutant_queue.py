"""The mutants of one audit, shared by its two oracle trials so that they are verified two at a time.

Why: each mutant is one verifier run (pip, then pytest: seconds), and the probe trial ran them one
after another while the determinism gate's second oracle trial, which reaches the same state, sat
idle after its oracle. The probe publishes its mutants here with a fingerprint of its final state;
the second trial joins only if its own final state has the same fingerprint and passes the
verifier in the same network mode, then takes mutants off the same list. Every mutant is verified
once, by one of the two; one that the helper took and could not finish goes back on the list, and
the probe waits for the helper's runs before it reports. Both trials run in this process (Harbor
loads agents by import path into the caller's event loop); a queue is found by the key that the
runner gives both probes.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from skillspark.taskgen.gates.mutants import MutantKind, MutantOutcome


@dataclass(frozen=True)
class MutantJob:
    index: int  # position in the probe's list: outcomes are reported in this order
    path: str
    kind: MutantKind
    content: bytes


@dataclass(frozen=True)
class Published:
    fingerprint: dict[str, str]  # path -> sha256 of the probe's files after the oracle
    outputs: tuple[str, ...]  # the files it mutates (a helper restores its own copies of them)
    offline: bool  # the mutants run with the network off


class MutantQueue:
    def __init__(self) -> None:
        self._changed = asyncio.Condition()
        self._published: Published | None = None
        self._closed = False
        self._pending: list[MutantJob] = []
        self._in_flight = 0
        self._outcomes: dict[int, MutantOutcome] = {}

    async def publish(self, published: Published, jobs: list[MutantJob]) -> None:
        async with self._changed:
            self._published = published
            self._pending = list(jobs)
            self._changed.notify_all()

    async def close(self) -> None:
        """Nothing more will be published (the probe is done, or failed before publishing)."""
        async with self._changed:
            self._closed = True
            self._changed.notify_all()

    async def published(self) -> Published | None:
        """What the probe published, once it has; None if it closed the queue without publishing."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._published is not None or self._closed)
            return self._published

    def remaining(self) -> int:
        return len(self._pending)

    def take(self) -> MutantJob | None:
        if not self._pending:
            return None
        self._in_flight += 1
        return self._pending.pop(0)

    async def finish(self, job: MutantJob, outcome: MutantOutcome) -> None:
        async with self._changed:
            self._outcomes[job.index] = outcome
            self._in_flight -= 1
            self._changed.notify_all()

    async def give_back(self, job: MutantJob) -> None:
        """A taker that cannot finish `job` returns it; someone else verifies it."""
        async with self._changed:
            self._pending.insert(0, job)
            self._in_flight -= 1
            self._changed.notify_all()

    async def more_to_take(self) -> bool:
        """Wait until a job is given back (True) or none is in flight any more (False: all done)."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._pending or not self._in_flight)
            return bool(self._pending)

    def outcomes(self) -> list[MutantOutcome]:
        return [self._outcomes[index] for index in sorted(self._outcomes)]


_QUEUES: dict[str, MutantQueue] = {}


def open_queue() -> str:
    key = uuid.uuid4().hex
    _QUEUES[key] = MutantQueue()
    return key


def queue_for(key: str | None) -> MutantQueue | None:
    return _QUEUES.get(key) if key else None


async def discard(key: str) -> None:
    """Close and forget a queue (its audit is over)."""
    queue = _QUEUES.pop(key, None)
    if queue is not None:
        await queue.close()
