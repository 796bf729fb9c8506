"""The teacher check: the rule by hand, `require` refusing in one line, and the record a run keeps."""

from __future__ import annotations

import json

import pytest

from skillspark.train.envs.codeword import write_codeword_skills
from skillspark.train.envs.registry import parse_env_spec
from skillspark.train.teacher_check import judge
from tests.train.test_train_cli import run_cli

ENV = "fake:codeword?options=2&rules=2&held_out=2"


def test_the_teacher_is_better_only_when_the_wilson_intervals_separate() -> None:
    # 14/16: centre (0.875 + 1.96²/32) / (1 + 1.96²/16) = 0.80239, half 0.16263 → low 0.6398
    # 4/16: centre 0.29840, half 0.19659 → high 0.4950
    check = judge("fake:codeword", "m", "keyword", teacher_wins=14, student_wins=4, games=16)
    assert check.teacher.wilson_95[0] == pytest.approx(0.6398, abs=1e-3)
    assert check.student.wilson_95[1] == pytest.approx(0.4950, abs=1e-3)
    assert check.passed and "the teacher is better" in check.summary()
    assert not judge("e", "m", "keyword", teacher_wins=8, student_wins=4, games=16).passed  # 0.25 apart: noise
    assert not judge("e", "m", "keyword", teacher_wins=4, student_wins=4, games=16).passed


def test_require_refuses_a_teacher_that_is_no_better_and_keeps_the_record(tmp_path, monkeypatch, capsys) -> None:
    skills = tmp_path / "skills"
    write_codeword_skills(parse_env_spec(ENV), skills)
    out_dir = tmp_path / "run"
    args = [
        "train", "run", "--algo", "sdar", "--model", "tiny-random", "--game", ENV, "--skills", str(skills),
        "--retrieval", "keyword", "--steps", "1", "--games", "1", "--group-size", "2", "--max-turns", "1",
        "--max-new-tokens", "3", "--teacher-check-games", "4", "--output", str(out_dir),
    ]
    code, out, err = run_cli([*args, "--teacher-check", "require"], monkeypatch, capsys)
    last = err.strip().splitlines()[-1]  # (transformers draws its weight-loading bar on stderr before it)
    assert code == 2 and "Traceback" not in err and err.count("error:") == 1
    assert last.startswith("error: --teacher-check require: teacher check on 4 validation games of")
    record = json.loads((out_dir / "teacher_check.json").read_text())
    assert record["passed"] is False and record["mode"] == "require" and record["teacher"]["games"] == 4
    assert not (out_dir / "metrics.jsonl").exists()  # nothing trained

    code, out, err = run_cli([*args, "--teacher-check", "warn", "--output", str(tmp_path / "warned")], monkeypatch, capsys)
    assert code == 0 and "teacher check on 4 validation games" in out and "\nwarning: teacher check" in err
    assert (tmp_path / "warned" / "metrics.jsonl").is_file()

    code, out, err = run_cli([*args, "--algo", "grpo", "--teacher-check", "require", "--output", str(tmp_path / "grpo")], monkeypatch, capsys)
    assert code == 0 and not (tmp_path / "grpo" / "teacher_check.json").exists()  # GRPO has no teacher to check
