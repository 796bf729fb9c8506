"""`train compare` on the fake environment with the tiny model: table, curves and verdict agree with the runs."""

import json

import pytest

from skillspark.errors import UserError
from skillspark.train.compare import mean_ci, parse_algos, render_table, run_compare, verdict
from skillspark.train.config import TrainConfig
from skillspark.train.curves import read_metrics
from skillspark.train.envs.fake import write_fake_skill


def test_mean_ci_is_the_t_interval_over_seeds():
    mean, half = mean_ci([0.2, 0.4, 0.6])  # sd 0.2, t(2) = 4.303: 4.303 * 0.2 / sqrt(3)
    assert mean == pytest.approx(0.4)
    assert half == pytest.approx(0.496868, abs=1e-6)


def test_a_verdict_is_called_only_when_the_interval_excludes_zero():
    assert verdict("grpo", "sdar", [0.3, 0.31, 0.29])["verdict"] == "sdar beat grpo"
    assert verdict("grpo", "sdar", [-0.3, -0.31, -0.29])["verdict"] == "grpo beat sdar"
    assert verdict("grpo", "sdar", [0.5, -0.1, 0.2])["verdict"].startswith("no difference")
    assert verdict("grpo", "sdar", [0.5])["verdict"].startswith("no difference")  # one seed proves nothing


def test_bad_algorithm_lists_are_one_line_errors():
    for text in ("grpo", "grpo,grpo", "grpo,ppo", "grpo,sdar:x", "grpo,sdar:-1", "sdar:0.1,sdar:0.1"):
        with pytest.raises(UserError, match="--algos"):
            parse_algos(text)


def test_compare_writes_a_table_curves_and_verdicts_that_agree_with_the_runs(tmp_path):
    skills = tmp_path / "skills"
    write_fake_skill("choice", skills)
    base = TrainConfig(
        game="fake:choice?turns=1&options=2", model="tiny-random", steps=2, games=1, group_size=2, max_turns=1,
        max_new_tokens=3, skills=skills, save_every=2, output=tmp_path / "unused", teacher_check="off",
    )
    summary = run_compare(base, ["grpo", "sdar"], seeds=2, eval_episodes=4, output=tmp_path / "cmp")
    saved = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert saved["rows"][0]["variant"] == "grpo" and saved["rows"][1]["seeds"] == 2
    assert (tmp_path / "cmp" / "compare.png").stat().st_size > 1000
    assert (tmp_path / "cmp" / "compare.md").read_text().strip() == render_table(summary)
    assert "| algo | seeds | final success |" in render_table(summary)  # the header names what was varied
    for run in summary["runs"]:
        rows = read_metrics(tmp_path / "cmp" / "runs" / f"{run['variant']}-s{run['seed']}" / "metrics.jsonl")
        assert [r["step"] for r in rows] == [0, 1]
        assert run["train_success_last"] == rows[-1]["success_rate"]
        assert (run["gate_mean_last"] is None) == (run["variant"] == "grpo")
    grpo = [r["final_success"] for r in summary["runs"] if r["variant"] == "grpo"]
    assert summary["rows"][0]["final_success_mean"] == pytest.approx(sum(grpo) / 2)
    assert summary["verdicts"][0]["baseline"] == "grpo"
