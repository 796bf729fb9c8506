"""Per-call records and results: what a call cost and how it went, for logs and dashboards.

Records never contain messages or keys: only metadata, and error text that went through `redact()`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from skillspark.files import append_line


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class CallRecord(BaseModel):
    """One `LLMClient.chat` call, including all of its retries."""

    model: str
    started_at: str = Field(default_factory=_now)
    ok: bool
    error: str | None = None
    attempts: int = 1
    latency_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    finish_reason: str | None = None
    route: str | None = None  # how a JSON answer was asked for: schema | grammar | json_object | tolerant
    route_fallback: bool = False  # the endpoint refused the schema and the call was made again without it


class ChatResult(BaseModel):
    """A completion. `ok` is False (with `error`) for empty or malformed output; `text` is then ""."""

    text: str = ""
    ok: bool
    error: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    latency_s: float = 0.0
    attempts: int = 1
    model: str
    route: str | None = None  # see CallRecord.route
    route_fallback: bool = False


def jsonl_recorder(path: Path) -> Callable[[CallRecord], None]:
    """An `on_record` callback appending each record as one JSON line, fsynced and redacted per record."""

    def write(record: CallRecord) -> None:
        append_line(path, record.model_dump_json())

    return write
