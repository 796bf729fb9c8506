"""Shingled Jaccard similarity, against values computed by hand."""

from pathlib import Path

import pytest

from skillspark.taskgen.gates.dedup import dedup_gate, jaccard, shingles, task_text

EXAMPLES = Path(__file__).parents[3] / "examples" / "tasks"
BAD = Path(__file__).parents[1] / "bad_tasks"


def test_shingles_are_lowercased_word_trigrams():
    assert shingles("The cat, the CAT sat") == {("the", "cat", "the"), ("cat", "the", "cat"), ("the", "cat", "sat")}
    assert shingles("two words") == {("two", "words")}
    assert shingles("  ") == set()


def test_jaccard_by_hand():
    # a b c d -> {abc, bcd}; a b c e -> {abc, bce}: 1 shared of 3
    assert jaccard(shingles("a b c d"), shingles("a b c e")) == pytest.approx(1 / 3)
    assert jaccard(shingles("a b c d"), shingles("a b c d")) == 1.0
    assert jaccard(set(), set()) == 0.0
    # 6 words -> 4 shingles each; changing the last word changes 1 of them: 3 / (4 + 4 - 3)
    assert jaccard(shingles("w1 w2 w3 w4 w5 w6"), shingles("w1 w2 w3 w4 w5 w7")) == pytest.approx(3 / 5)


def test_task_text_leaves_out_runner_scaffolding():
    text = task_text(EXAMPLES / "hello-greeting")
    assert "greeting.txt" in text and "def test_greeting_says_hello" in text
    assert "pytest-json-ctrf" not in text  # test.sh is shared by every example; not part of the task


def test_gate_threshold(tmp_path):
    near = dedup_gate(BAD / "near-duplicate", [EXAMPLES / "hello-greeting", EXAMPLES / "log-error-summary"])
    assert not near.ok and "hello-greeting" in near.detail
    far = dedup_gate(EXAMPLES / "log-error-summary", [EXAMPLES / "hello-greeting"])
    assert far.ok and "highest similarity 0.0" in far.detail
    assert dedup_gate(EXAMPLES / "hello-greeting", [EXAMPLES / "hello-greeting"]).detail == "no other task to compare with"
