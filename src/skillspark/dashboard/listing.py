"""A listing of rows rebuilt from disk at most every `ROWS_TTL_S`, shared by every request of a run.

Why: rebuilding a 1,000-task list costs about 2,000 `lstat` calls (40–60 ms, more on a busy machine), and
fifty open pages ask for it every second. So the list is rebuilt by one thread at a time while the others
get the previous one at once, and `fresh()` lets the event loop answer from memory without a thread hop:
within `ROWS_TTL_S` it returns the list; up to `STALE_MAX_S` it returns the previous list and starts one
rebuild in the background (so a change shows within about `ROWS_TTL_S` plus one rebuild while the page
is being watched); older than that, the caller must rebuild (`rows()` in a worker thread).
"""

from __future__ import annotations

import threading
import time
from typing import Generic, TypeVar

ROWS_TTL_S = 1.0  # a status change reaches the page within this plus a poll (the issue allows 2 s)
STALE_MAX_S = 2 * ROWS_TTL_S  # never serve a listing older than this without rebuilding it first

Row = TypeVar("Row")


class CachedListing(Generic[Row]):
    """Subclasses say how to list (`_list`); this decides when, and makes concurrent rebuilds one."""

    def __init__(self) -> None:
        self._listed: list[Row] = []
        self._listed_at = 0.0
        self._lock = threading.Lock()

    def _list(self) -> list[Row]:
        """Every row, each the same object as last time when its files did not change."""
        raise NotImplementedError

    def rows(self) -> list[Row]:
        """All rows; rebuilt when older than ROWS_TTL_S (blocks only the very first time).

        The list is replaced, never changed in place, so a caller may cache what it built from one list
        (`is` tells it apart). While one thread rebuilds, the others get the previous list at once.
        """
        if time.monotonic() - self._listed_at < ROWS_TTL_S:
            return self._listed
        if not self._lock.acquire(blocking=self._listed_at == 0.0):
            return self._listed
        try:
            self._rebuild_if_due()
        finally:
            self._lock.release()
        return self._listed

    def fresh(self) -> list[Row] | None:
        """The rows without touching the disk, or None when the caller must call `rows()` (in a thread)."""
        age = time.monotonic() - self._listed_at
        if age < ROWS_TTL_S:
            return self._listed
        if age >= STALE_MAX_S:
            return None
        previous = self._listed
        if self._lock.acquire(blocking=False):  # one background rebuild; the others get the previous list
            threading.Thread(target=self._rebuild_and_release, name="dashboard-listing", daemon=True).start()
        return previous

    def expire(self) -> None:
        """The next call rebuilds (after an action of this dashboard changed the folder)."""
        self._listed_at = 0.0

    def _rebuild_and_release(self) -> None:
        try:
            self._rebuild_if_due()
        finally:
            self._lock.release()

    def _rebuild_if_due(self) -> None:
        if time.monotonic() - self._listed_at >= ROWS_TTL_S:
            rows = self._list()
            if len(rows) != len(self._listed) or any(a is not b for a, b in zip(rows, self._listed, strict=True)):
                self._listed = rows  # kept as is when every row is the same object: pages built from it stay valid
            self._listed_at = time.monotonic()
