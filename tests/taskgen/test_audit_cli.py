"""`skillspark tasks audit` through the real entry point: flags, exit codes, the JSON shape, the table."""

import json
import sys
from pathlib import Path

import pytest

from skillspark import cli

pytestmark = pytest.mark.timeout(900)

BAD = Path(__file__).parent / "bad_tasks"
EXAMPLES = Path(__file__).parents[2] / "examples" / "tasks"


def run_cli(args: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["skillspark", *args])
    monkeypatch.setenv("COLUMNS", "250")
    with pytest.raises(SystemExit) as info:
        cli.main()
    out, err = capsys.readouterr()
    return info.value.code or 0, out, err


def test_unknown_gate_is_one_line_and_exit_2(monkeypatch, capsys, tmp_path):
    code, out, err = run_cli(["tasks", "audit", str(BAD / "weak-tests"), "--gates", "schema", "--gates", "speed",
                              "--trials-dir", str(tmp_path)], monkeypatch, capsys)
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        "error: --gates: unknown gate(s) speed; repeat --gates with any of "
        "schema, lint, oracle, nop, mutants, leak, determinism, offline, dedup"]


def test_json_has_exactly_the_documented_shape(monkeypatch, capsys, tmp_path):
    report = tmp_path / "audit.json"
    code, out, _ = run_cli(["tasks", "audit", str(BAD / "one-asserting-test"), str(BAD / "wrong-output-path"),
                            "--gates", "dedup", "--gates", "schema", "--gates", "lint", "--json", str(report),
                            "--trials-dir", str(tmp_path / "t")],
                           monkeypatch, capsys)
    assert code == 1
    data = json.loads(report.read_text())
    assert list(data) == ["tasks"]
    first, second = data["tasks"]
    assert list(first) == ["task", "verdict", "failed_gates", "gates"]
    assert (first["task"], first["verdict"], first["failed_gates"]) == ("one-asserting-test", "rejected", ["schema"])
    assert list(first["gates"]) == ["schema", "lint", "dedup"]  # run order, whatever order --gates gave
    assert all(list(g) == ["ok", "detail"] for g in first["gates"].values())
    assert second["failed_gates"] == ["lint"]
    assert first["gates"]["dedup"] == {"ok": True, "detail": "no other task to compare with"}
    # compared with the task before it: same instruction but one word, other test file (Jaccard 0.49)
    assert second["gates"]["dedup"] == {"ok": True, "detail": "highest similarity 0.49 (one-asserting-test) of 1 task(s)"}
    assert "one-asserting-test: schema: 2 test function(s), 1 with an assertion" in out
    assert "2 task(s): 0 accepted, 2 rejected" in out


def test_static_gates_accept_the_examples(monkeypatch, capsys, tmp_path):
    code, out, _ = run_cli(["tasks", "audit", str(EXAMPLES), "--gates", "schema", "--gates", "lint", "--gates", "dedup",
                            "--trials-dir", str(tmp_path)], monkeypatch, capsys)
    assert code == 0, out
    assert "7 task(s): 7 accepted, 0 rejected" in out


@pytest.mark.slow
def test_example_tasks_are_accepted_by_every_gate(monkeypatch, capsys, tmp_path):
    report = tmp_path / "audit.json"
    code, out, _ = run_cli(["tasks", "audit", str(EXAMPLES), "-p", "2", "--json", str(report),
                            "--trials-dir", str(tmp_path / "t")], monkeypatch, capsys)
    data = json.loads(report.read_text())
    rejected = {t["task"]: {g: r["detail"] for g, r in t["gates"].items() if not r["ok"]}
                for t in data["tasks"] if t["verdict"] != "accepted"}
    assert (code, rejected) == (0, {})
    assert len(data["tasks"]) == 7 and all(len(t["gates"]) == 9 for t in data["tasks"])
