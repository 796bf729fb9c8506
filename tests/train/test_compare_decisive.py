"""`train compare` on the decisive game: λ variants, one teacher check for all runs, validation curves."""

from __future__ import annotations

import json

import pytest

from skillspark.train.compare import parse_algos, render_table, run_compare, variant_fields
from skillspark.train.config import TrainConfig
from skillspark.train.envs.codeword import write_codeword_skills
from skillspark.train.envs.registry import parse_env_spec

ENV = "fake:codeword?options=2&rules=2&held_out=2"


def test_a_variant_may_carry_its_distillation_weight() -> None:
    assert parse_algos("grpo, sdar:0.1,sdar:1") == ["grpo", "sdar:0.1", "sdar:1"]
    assert variant_fields("sdar:0.1") == {"algo": "sdar", "distill_coef": 0.1}
    assert variant_fields("rlsd") == {"algo": "rlsd"}


def test_compare_checks_the_teacher_once_and_draws_validation_curves(tmp_path) -> None:
    skills = tmp_path / "skills"
    write_codeword_skills(parse_env_spec(ENV), skills)
    base = TrainConfig(
        game=ENV, model="tiny-random", steps=2, games=1, group_size=2, max_turns=1, max_new_tokens=3, skills=skills,
        retrieval="keyword", save_every=2, teacher_check_games=4, val_every=1, val_games=4, output=tmp_path / "unused",
    )
    out = tmp_path / "cmp"
    summary = run_compare(base, ["grpo", "sdar:0.1"], seeds=1, eval_episodes=4, output=out)

    check = json.loads((out / "teacher_check.json").read_text())
    assert check["teacher"]["games"] == 4 and check["mode"] == "warn" and check["retrieval"] == "keyword"
    run_dir = out / "runs" / "sdar-l0.1-s0"
    config = json.loads((run_dir / "config.json").read_text())
    assert (config["algo"], config["distill_coef"], config["teacher_check"]) == ("sdar", 0.1, "off")
    assert not (run_dir / "teacher_check.json").exists()  # checked once, for every run, above

    for run in summary["runs"]:
        assert [step for step, _ in run["val_curve"]] == [0, 1, 2]
        assert run["val_curve"][0][1] == summary["runs"][0]["val_curve"][0][1]  # step 0: the same untrained model
    sdar = next(r for r in summary["rows"] if r["variant"] == "sdar:0.1")
    assert "gate_mean" in sdar["diagnostics"] and "gate_mean" not in summary["rows"][0]["diagnostics"]
    point = sdar["val_curve"][1]
    assert point["seeds"] == 1 and point["wilson_95"][0] <= point["mean"] <= point["wilson_95"][1]
    table = render_table(summary)
    assert "| sdar:0.1 |" in table and "Validation success by step" in table and "distill_pg_ratio" in table
    assert (out / "validation_curves.png").stat().st_size > 1000
    assert sdar["val_curve"][0]["mean"] == pytest.approx(summary["runs"][0]["val_curve"][0][1])
