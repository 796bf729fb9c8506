"""Mutation of the oracle's outputs, checked against mutants written out by hand."""

import json

from skillspark.taskgen.gates.mutants import MutantOutcome, is_code, mutants_gate, mutants_of


def by_kind(path: str, content: bytes) -> dict[str, bytes]:
    return {m.kind: m.content for m in mutants_of(path, content)}


def test_text_file_gets_all_four_mutants():
    mutants = by_kind("/app/top.txt", b"31 the\n5 and\n5 boats\n")
    assert mutants == {
        "emptied": b"",
        "truncated": b"31 the\n5 a",  # first 10 of 21 bytes
        "value_changed": b"32 the\n5 and\n5 boats\n",
        "line_dropped": b"31 the\n5 and\n",
    }


def test_value_change_skips_comment_lines_and_falls_back_to_a_word():
    assert by_kind("/app/notes.txt", b"# 2026 header\nhello\n")["value_changed"] == b"# 2026 header\nhellox\n"
    assert by_kind("/app/notes.txt", b"# header\nitem 9\n")["value_changed"] == b"# header\nitem 10\n"


def test_json_value_changed_and_key_dropped():
    content = json.dumps({"records": 260, "by_level": {"ERROR": 46}, "first": "2026-03-14"}, indent=2).encode()
    mutants = by_kind("/app/summary.json", content)
    assert json.loads(mutants["value_changed"]) == {"records": 261, "by_level": {"ERROR": 46}, "first": "2026-03-14"}
    assert json.loads(mutants["line_dropped"]) == {"records": 260, "by_level": {"ERROR": 46}}
    assert b"\n" in mutants["value_changed"]  # an indented original stays indented


def test_json_leaves_of_each_type():
    assert json.loads(by_kind("/a.json", b'[true, 1]')["value_changed"]) == [False, 1]
    assert json.loads(by_kind("/a.json", b'{"s": "v1.5"}')["value_changed"]) == {"s": "v2.5"}
    assert json.loads(by_kind("/a.json", b'{"s": "ab"}')["value_changed"]) == {"s": "abx"}
    assert json.loads(by_kind("/a.json", b'{"n": null}')["value_changed"]) == {"n": 0}
    assert json.loads(by_kind("/a.json", b'[{}, [], 7]')["value_changed"]) == [{}, [], 8]


def test_code_files_get_only_emptied_and_truncated():
    script = b"#!/bin/bash\nhead -n 10 file\n"
    assert set(by_kind("/app/run", script)) == {"emptied", "truncated"}
    assert set(by_kind("/app/fix.py", b"x = 1\ny = 2\n")) == {"emptied", "truncated"}
    assert is_code("/app/a.sh", b"") and not is_code("/app/data.csv", b"a,b\n")


def test_duplicates_and_no_ops_are_dropped():
    # One line: dropping it is the emptied mutant; "hello" truncated is "he".
    assert by_kind("/app/g.txt", b"hello\n") == {"emptied": b"", "truncated": b"hel", "value_changed": b"hellox\n"}
    assert mutants_of("/app/empty.txt", b"") == []  # every mutant equals the original


def test_binary_file_gets_one_byte_flipped():
    mutants = by_kind("/app/blob.bin", b"\xff\x00\x01\x02")
    assert mutants["value_changed"] == b"\xff\x00\xfe\x02"


def test_gate_names_the_survivors():
    outcomes = [
        MutantOutcome(path="/app/s.txt", kind="emptied", reward=0.0),
        MutantOutcome(path="/app/s.txt", kind="truncated", reward=1.0),
        MutantOutcome(path="/app/s.txt", kind="value_changed", error="RewardFileNotFoundError"),
    ]
    result = mutants_gate(outcomes, ["/app/s.txt"], [])
    assert not result.ok and "1 of 3 mutant(s)" in result.detail and "/app/s.txt truncated" in result.detail
    assert mutants_gate(outcomes[:1], ["/app/s.txt"], []).ok
    assert not mutants_gate([], [], []).ok  # no output to mutate: the tests cannot be shown to check anything
