"""The exploration memo's sections and the failed tests of a judged attempt, as plain data.

The memo is markdown written by the summarizer LLM. A section is found as SPARK finds it: its body
starts after the first `### <Title>` heading line and runs to the next line that starts with `### `
(any heading of that level, known or not) or to the end of the text; `## ` lines (a bash comment in a
command block, say) do not end it. Text without the headings (an error string that slipped through)
parses to empty sections, which the PDI proxy scores as "no facts, no strategy" rather than failing.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

MEMO_TITLE = re.compile(r"^##[ \t]+Exploration Memo[ \t]*\((\d+)[ \t]+failed attempts?\)[ \t]*$", re.MULTILINE)

# heading text -> MemoSections field, in the order the memo writes them
SECTIONS: dict[str, str] = {
    "Attempts Log": "attempts_log",
    "Commands From Last Attempt": "commands",
    "Verified Facts": "verified_facts",
    "Current Error Pattern": "error_pattern",
    "Next Strategy": "next_strategy",
}


class MemoSections(BaseModel):
    """The five sections of an exploration memo (empty strings for missing ones)."""

    failed_attempts: int | None = None
    attempts_log: str = ""
    commands: str = ""
    verified_facts: str = ""
    error_pattern: str = ""
    next_strategy: str = ""


def _span(text: str, title: str, start: int = 0) -> tuple[int, int, int] | None:
    """(heading start, body start, body end) of the first `### title` section at or after `start`."""
    head = text.find(f"### {title}\n", start)
    if head < 0:
        return None
    body = head + len(f"### {title}\n")
    end = text.find("\n### ", body)
    return head, body, len(text) if end < 0 else end


def section(text: str, title: str) -> str:
    """The stripped body of the section `title` ("" when the memo has none)."""
    span = _span(text, title)
    return text[span[1] : span[2]].strip() if span else ""


def parse_memo(text: str) -> MemoSections:
    """Split a memo into its sections (the first occurrence of each heading wins)."""
    title = MEMO_TITLE.search(text)
    found = {field: section(text, name) for name, field in SECTIONS.items()}
    return MemoSections(failed_attempts=int(title.group(1)) if title else None, **found)


def is_valid_memo(text: str) -> bool:
    """True when the text has the memo title and all five section headings (summarizer output check)."""
    return MEMO_TITLE.search(text) is not None and all(_span(text, name) for name in SECTIONS)


def without_next_strategy(text: str) -> str:
    """The memo with its Next Strategy section(s) removed (what a strong intervention shows the agent)."""
    out, pos = [], 0
    while (span := _span(text, "Next Strategy", pos)) is not None:
        out.append(text[pos : span[0]])
        pos = span[2]
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out).rstrip() + "\n"


def failed_tests(test_summary: str) -> list[str]:
    """The text after `✗` on each line of a test summary, in order.

    As in SPARK, a failed test is the whole line (`name: message` or `name - reason` included), so
    the same test failing for a new reason counts as a different failure.
    """
    return [line[1:].strip() for line in map(str.strip, test_summary.splitlines()) if line.startswith("✗")]


def attempt_failures(status: str, test_summary: str) -> list[str]:
    """The failed tests the proxy compares for one attempt of any status.

    None for an INFRA_ERROR: SPARK keeps "Infrastructure error: …" as such an attempt's summary, so
    the next attempt is compared with an empty set.
    """
    return [] if status == "INFRA_ERROR" else failed_tests(test_summary)
