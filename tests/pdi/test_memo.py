"""Memo sections, memo validity, and failed tests of a test summary."""

from skillspark.pdi.memo import (
    attempt_failures,
    failed_tests,
    is_valid_memo,
    parse_memo,
    section,
    without_next_strategy,
)

MEMO = """## Exploration Memo (2 failed attempts)

### Attempts Log
- #1: wrote solve.py, wrong output path
- #2: fixed path, float format wrong

### Commands From Last Attempt
```
## this bash comment is not a heading of the memo
python solve.py --out /app/out.csv
```

### Verified Facts
- output goes to /app/out.csv
- pandas is installed

### Current Error Pattern
Values differ in the 4th decimal.

### Next Strategy
1. Round to 6 decimals
"""


def test_parse_memo_sections():
    m = parse_memo(MEMO)
    assert m.failed_attempts == 2
    assert m.attempts_log.startswith("- #1: wrote solve.py")
    assert "## this bash comment" in m.commands and m.commands.endswith("```")
    assert m.verified_facts == "- output goes to /app/out.csv\n- pandas is installed"
    assert m.error_pattern == "Values differ in the 4th decimal."
    assert m.next_strategy == "1. Round to 6 decimals"


def test_text_without_sections_parses_empty():
    m = parse_memo("[LLM ERROR] litellm.BadGatewayError: 502 Bad Gateway")
    assert m.failed_attempts is None
    assert (m.attempts_log, m.commands, m.verified_facts, m.error_pattern, m.next_strategy) == ("",) * 5
    assert parse_memo("").next_strategy == ""


def test_is_valid_memo():
    assert is_valid_memo(MEMO)
    assert not is_valid_memo("[LLM ERROR] 502 Bad Gateway")
    assert not is_valid_memo(MEMO.replace("### Current Error Pattern", "### Error"))
    assert not is_valid_memo(MEMO.replace("## Exploration Memo (2 failed attempts)", "## Notes"))


def test_without_next_strategy():
    shown = without_next_strategy(MEMO)
    assert "Next Strategy" not in shown and "Round to 6" not in shown
    assert parse_memo(shown).verified_facts == parse_memo(MEMO).verified_facts
    assert without_next_strategy("no sections here") == "no sections here"


def test_section_ends_at_any_level_3_heading_or_the_end():
    text = "### Verified Facts\nfact one\n## not an end\n### Notes\nnot a fact\n### Next Strategy\nto the end\n"
    assert section(text, "Verified Facts") == "fact one\n## not an end"
    assert section(text, "Next Strategy") == "to the end"
    assert section(text, "Attempts Log") == ""
    # the heading must be the exact title followed by a newline, as SPARK reads it
    assert section("### Verified Facts  \nx", "Verified Facts") == ""
    assert section("### Verified Facts", "Verified Facts") == ""
    # SPARK's reading, kept: a heading right under an empty heading line does not end the section
    assert section("### Verified Facts\n### Next Strategy\nx", "Verified Facts") == "### Next Strategy\nx"
    assert section("### Verified Facts\n\n### Next Strategy\nx", "Verified Facts") == ""


def test_failed_tests_are_whole_lines_after_the_cross():
    summary = (
        "PASSED (do NOT change logic for these):\n"
        "  ✓ test_outputs.py::test_exists\n"
        "FAILED (fix these):\n"
        "  ✗ test_outputs.py::test_values - AssertionError: 1 != 2\n"
        "  ✗ test_outputs.py::test_format\n"
    )
    assert failed_tests(summary) == [
        "test_outputs.py::test_values - AssertionError: 1 != 2",
        "test_outputs.py::test_format",
    ]
    assert failed_tests("Execution failed: Harbor process timed out after 1800s") == []


def test_an_infra_error_has_no_failed_tests_for_the_proxy():
    assert attempt_failures("INFRA_ERROR", "  ✗ test_outputs.py::test_values") == []
    assert attempt_failures("ERROR", "  ✗ test_outputs.py::test_values") == ["test_outputs.py::test_values"]
