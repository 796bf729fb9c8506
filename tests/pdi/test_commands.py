"""`skillspark pdi replay` and `skillspark pdi score` end to end, including bad input."""

import csv
import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from skillspark.errors import UserError
from skillspark.pdi.commands import app

from .helpers import execution, memo, reflect, write_jsonl
from .scenarios import CORNERS_LOG, FLIP_LOG

runner = CliRunner()
SKILLSPARK = Path(sys.executable).parent / "skillspark"


def cli(*args: str) -> subprocess.CompletedProcess:
    """The real entry point, where a UserError becomes one line and exit code 2."""
    return subprocess.run([str(SKILLSPARK), *args], capture_output=True, text=True, timeout=120, check=False)


def test_replay_prints_table_and_match_counts(golden_dir):
    files = [
        str(golden_dir / t / "trajectory.jsonl")
        for t in ("find-topk-similiar-chemicals", "quantum-numerical-simulation")
    ]
    result = runner.invoke(app, ["replay", *files])
    assert result.exit_code == 0, result.output
    assert f"{files[0]}: matched 3/3 logged snapshots" in result.output
    assert f"{files[1]}: matched 8/8 logged snapshots" in result.output
    assert "strong" in result.output and "DIFF" not in result.output


def test_replay_json_lines(golden_dir):
    path = str(golden_dir / "quantum-numerical-simulation" / "trajectory.jsonl")
    result = runner.invoke(app, ["replay", "--json", "-", path])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert len(rows) == 8
    keys = ["proxy_exec", "proxy_plan", "proxy_oss", "raw_pdi", "weight", "weighted_pdi", "triggered", "level"]
    assert list(rows[0]) == ["file", "attempt", "step", *keys, "logged"]
    assert set(rows[0]["logged"]) == {"attempt", "step", *keys}
    assert rows[1]["file"] == path and rows[1]["attempt"] == 2 and rows[1]["step"] == 1
    assert rows[1]["level"] == rows[1]["logged"]["level"] == "soft"
    assert rows[1]["raw_pdi"] == pytest.approx(-3.0)


def test_replay_without_logged_snapshots_has_null_logged(tmp_path):
    log = write_jsonl(tmp_path / "t.jsonl", [execution(0, "alpha"), reflect(0, "", memo("alpha beta", "go"))])
    result = runner.invoke(app, ["replay", "--json", "-", str(log)])
    row = json.loads(result.output)
    assert row["logged"] is None and row["proxy_exec"] == pytest.approx(0.5)
    table = runner.invoke(app, ["replay", str(log)])
    assert "matched 0/0 logged snapshots" in table.output


def test_replay_json_path_gets_the_lines_and_the_table_still_prints(golden_dir, tmp_path):
    path = str(golden_dir / "quantum-numerical-simulation" / "trajectory.jsonl")
    out = tmp_path / "replay.jsonl"
    result = runner.invoke(app, ["replay", path, "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "matched 8/8 logged snapshots" in result.output
    assert [json.loads(line)["step"] for line in out.read_text().splitlines()][:2] == [0, 1]


def test_replay_json_naming_a_log_is_refused_not_overwritten(golden_dir, tmp_path):
    log = tmp_path / "trajectory.jsonl"
    log.write_bytes((golden_dir / "quantum-numerical-simulation" / "trajectory.jsonl").read_bytes())
    before = log.read_bytes()
    proc = cli("pdi", "replay", "--json", str(log), str(log))  # the old switch's habit: --json LOG
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: --json {log}: that is a trajectory log")
    assert log.read_bytes() == before


def test_replay_bad_json_line_is_one_line_exit_2(tmp_path):
    log = tmp_path / "bad.jsonl"
    log.write_text(json.dumps(execution(0, "ls")) + "\n{not json\n", encoding="utf-8")
    proc = cli("pdi", "replay", str(log))
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: {log} line 2: not valid JSON") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr


def test_replay_check_exit_codes(tmp_path):
    good = write_jsonl(tmp_path / "good.jsonl", FLIP_LOG)
    assert runner.invoke(app, ["replay", "--check", str(good)]).exit_code == 0
    wrong = [dict(r, proxy_oss=0.3) if r["type"] == "pdi_snapshot" and r["attempt"] == 1 else r for r in FLIP_LOG]
    bad = write_jsonl(tmp_path / "wrong.jsonl", wrong)
    result = runner.invoke(app, ["replay", "--check", str(good), str(bad)])
    assert result.exit_code == 1, result.output
    assert f"{bad}: matched 3/4 logged snapshots" in result.output and "DIFF" in result.output
    assert runner.invoke(app, ["replay", str(bad)]).exit_code == 0  # without --check: a report, not a verdict


def test_replay_memo_guard_flag(tmp_path):
    log = write_jsonl(tmp_path / "corners.jsonl", CORNERS_LOG)
    assert runner.invoke(app, ["replay", "--check", str(log)]).exit_code == 0  # a SPARK log, as SPARK wrote it
    assert runner.invoke(app, ["replay", "--check", "--no-memo-guard", str(log)]).exit_code == 0
    guarded = runner.invoke(app, ["replay", "--check", "--memo-guard", str(log)])
    assert guarded.exit_code == 1 and "matched 1/3 logged snapshots" in guarded.output


BAD_LOGS = {
    "gzipped.jsonl": (gzip.compress(b'{"type": "task_summary"}\n', mtime=0), "line 1: not UTF-8 text (byte 1)"),
    "latin1.jsonl": ('{"type": "task_summary", "task_name": "caf\xe9"}\n'.encode("latin-1"), "line 1: not UTF-8 text"),
    "nested.jsonl": (b"[" * 100_000 + b"]" * 100_000 + b"\n", "line 1: JSON nested too deeply"),
    "bigint.jsonl": (b"1" * 5000 + b"\n", "line 1: not valid JSON"),
}


@pytest.mark.parametrize("name", BAD_LOGS)
def test_replay_bad_file_is_one_line_and_the_other_files_go_on(tmp_path, name):
    data, message = BAD_LOGS[name]
    (tmp_path / name).write_bytes(data)
    good = write_jsonl(tmp_path / "good.jsonl", FLIP_LOG)
    proc = cli("pdi", "replay", str(tmp_path / name), str(good))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"error: {tmp_path / name} {message}")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert f"{good}: matched 4/4 logged snapshots" in proc.stdout


def test_replay_missing_file_and_bad_record(tmp_path):
    result = runner.invoke(app, ["replay", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2 and f"error: {tmp_path / 'nope.jsonl'}: cannot read" in result.output
    log = write_jsonl(tmp_path / "t.jsonl", [reflect(0, "", "memo")])
    result = runner.invoke(app, ["replay", str(log)])
    assert result.exit_code == 2
    assert f"error: {log} line 1: reflect_call for attempt 0 has no execution_result" in result.output
    assert runner.invoke(app, ["replay", str(tmp_path)]).exit_code == 2  # a directory


def make_results(root: Path) -> Path:
    """Three solved tasks (φ by hand in test_trajectory.three_skills) and one unsolved."""
    tasks = {
        "A": [execution(0, "q", ["t1"]), reflect(0, "", memo("f", "a b c d")), execution(1, "a b c d", status="PASS")],
        "B": [execution(0, "a b", status="PASS")],
        "C": [execution(0, "y", ["t1"]), reflect(0, "", memo("f", "a b")), execution(1, "x", status="PASS")],
        "D": [execution(0, "y", ["t1"]), reflect(0, "", memo("f", "a b"))],
    }
    for name, records in tasks.items():
        (root / name).mkdir(parents=True)
        write_jsonl(root / name / "trajectory.jsonl", [*records, {"type": "task_summary", "task_name": name}])
        if name != "D":
            (root / name / "SKILL.md").write_text("a b c d\n", encoding="utf-8")
    return root


def test_score_table_and_csv(tmp_path):
    results = make_results(tmp_path / "run")
    out = tmp_path / "pdi.csv"
    result = runner.invoke(app, ["score", str(results), "--csv", str(out), "--method", "token_overlap"])
    assert result.exit_code == 0, result.output
    assert "low plan / low exec" in result.output and "no skill scored for: D" in result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["task"] for r in rows] == ["A", "B", "C"]
    assert [float(r["phi_exec"]) for r in rows] == [1.0, 0.5, 0.0]
    assert [float(r["phi_plan"]) for r in rows] == [1.0, 0.0, 0.5]
    assert [float(r["pdi"]) for r in rows] == pytest.approx([0.0, 1.224745, -1.224745], abs=1e-6)
    assert rows[0]["quadrant"] == "high plan / high exec"


def test_score_skill_in_named_subfolder_and_task_dir_argument(tmp_path):
    results = make_results(tmp_path / "run")
    skill = results / "B" / "SKILL.md"
    (results / "B" / "b-skill").mkdir()
    skill.rename(results / "B" / "b-skill" / "SKILL.md")
    result = runner.invoke(app, ["score", str(results / "B"), "--method", "token_overlap"])
    assert result.exit_code == 0, result.output
    assert "1 skills" in result.output


def test_score_binary_skill_in_one_folder_the_others_are_scored(tmp_path):
    results = make_results(tmp_path / "run")
    (results / "B" / "SKILL.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    out = tmp_path / "pdi.csv"
    proc = cli("pdi", "score", str(results), "--csv", str(out), "--method", "token_overlap")
    assert proc.returncode == 2
    skill = results / "B" / "SKILL.md"
    assert proc.stderr == f"error: {skill}: not UTF-8 text (byte 0); a SKILL.md must be a text file\n"
    assert [r["task"] for r in csv.DictReader(out.open(encoding="utf-8"))] == ["A", "C"]


def test_score_bad_trajectory_and_missing_dir_do_not_stop_the_rest(tmp_path):
    results = make_results(tmp_path / "run")
    (results / "C" / "trajectory.jsonl").write_bytes(b"[" * 100_000 + b"\n")
    proc = cli("pdi", "score", str(tmp_path / "missing"), str(results), "--method", "token_overlap")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0].startswith(f"error: {tmp_path / 'missing'}: not a directory")
    log = results / "C" / "trajectory.jsonl"
    assert lines[1] == f"error: {log} line 1: JSON nested too deeply; fix or remove that line"
    assert "2 skills" in proc.stdout


def test_score_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    proc = cli("pdi", "score", str(tmp_path / "empty"))
    assert proc.returncode == 2 and proc.stderr.startswith("error: no task folder with SKILL.md")
    result = runner.invoke(app, ["score", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "not a directory" in result.output
    results = make_results(tmp_path / "run")
    result = runner.invoke(app, ["score", str(results), "--csv", str(tmp_path / "no" / "such" / "x.csv")])
    assert isinstance(result.exception, UserError) and str(result.exception).startswith("--csv ")
