"""Server-sent events: each stream polls the shared tails and row caches and sends what is new since its cursor.

Why cursors that come from the files: an event id is a byte offset in a log (`record`, `result`) or a file
mtime (`row`), so a client that reconnects with `Last-Event-ID` gets exactly what it missed, even from a
restarted dashboard. A comment line every `heartbeat_s` keeps proxies and the browser from timing out.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from skillspark.core.redact import redact

Event = tuple[str, dict[str, Any], str | None]  # (event name, data, id: the cursor just after this event)
# given the cursor sent by the client (or None), the events since and the new cursor
Source = Callable[[str | None], tuple[list[Event], str | None]]


def frame(event: str, data: dict[str, Any], event_id: str | None) -> bytes:
    lines = ([f"id: {event_id}"] if event_id is not None else []) + [f"event: {event}",
                                                                      f"data: {redact(json.dumps(data))}"]
    return ("\n".join(lines) + "\n\n").encode()


async def stream(source: Source, cursor: str | None, *, poll_s: float, heartbeat_s: float,
                 disconnected: Callable[[], Awaitable[bool]]) -> AsyncIterator[bytes]:
    """The SSE byte stream of `source` from `cursor` on, until the client goes away."""
    yield b"retry: 2000\n\n"
    loop = asyncio.get_running_loop()
    quiet_since = loop.time()
    while not await disconnected():
        events, cursor = await asyncio.to_thread(source, cursor)
        for name, data, event_id in events:
            yield frame(name, data, event_id)
        if events:
            quiet_since = loop.time()
        elif loop.time() - quiet_since >= heartbeat_s:
            yield b": heartbeat\n\n"
            quiet_since = loop.time()
        await asyncio.sleep(poll_s)


def int_cursor(cursor: str | None, default: int = 0) -> int:
    try:
        return int(cursor) if cursor is not None else default
    except ValueError:
        return default


def pair_cursor(cursor: str | None) -> tuple[int, int]:
    """`offset:mtime` of a task stream; (0, 0) for none or garbage."""
    first, _, second = (cursor or "").partition(":")
    return int_cursor(first), int_cursor(second)
