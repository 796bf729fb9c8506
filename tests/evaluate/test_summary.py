"""summary.json from hand-built results records, every number computed by hand."""

from __future__ import annotations

import json
import math

import pytest

from skillspark.evaluate import stats
from skillspark.evaluate.summary import build_summary

ARM_KEYS = {
    "model",
    "condition",
    "n_tasks",
    "n_trials",
    "passes",
    "pass_rate",
    "wilson95",
    "ci95",
    "pass_at_k",
    "pass_hat_k",
    "tokens",
    "cost_usd",
    "cost_per_solve_usd",
    "infra_errors",
    "skill_read_rate",
}
COMPARISON_KEYS = {
    "model",
    "baseline",
    "condition",
    "n_tasks",
    "delta",
    "ci95",
    "p_value",
    "test",
    "normalized_gain",
    "improved",
    "degraded",
    "unchanged",
    "mde",
    "outcome",
    "coverage_note",
}

MISSING_SKILL_KEYS = {"missing_skill_tasks", "n_missing_skill_tasks", "n_tasks_all", "delta_all_tasks", "ci95_all_tasks"}


def record(task, condition, trial, passed, *, model="m", status=None, skill_read=False, cost=0.01):
    status = status or ("pass" if passed else "fail")
    return {
        "task": task,
        "condition": condition,
        "model": model,
        "trial": trial,
        "reward": float(passed),
        "passed": passed,
        "status": status,
        "tokens_in": 100,
        "tokens_out": 10,
        "cost_usd": cost,
        "duration_s": 1.0,
        "skill_sha256": None,
        "skill_read": skill_read,
        "trial_dir": f"t/{task}/{trial}",
    }


def three_tasks():
    """none: A 0/2, B 1/2, C 2/2. generated: 2/2 each, plus one infra error on C; 5 of 6 trials read the skill."""
    rows = [
        record("A", "none", 0, False),
        record("A", "none", 1, False),
        record("B", "none", 0, True),
        record("B", "none", 1, False),
        record("C", "none", 0, True),
        record("C", "none", 1, True),
    ]
    for task in "ABC":
        rows += [
            record(task, "generated", 0, True, skill_read=True),
            record(task, "generated", 1, True, skill_read=task != "C"),
        ]
    rows.append(record("C", "generated", 1, False, status="infra_error"))
    return rows


def test_keys_are_exactly_the_issues_and_json_clean():
    summary = build_summary(three_tasks(), k=2, resamples=2000)
    assert {"k", "n_tasks", "models", "conditions", "arms", "comparisons"} <= set(summary)
    for arm in summary["arms"]:
        assert set(arm) == ARM_KEYS
    for comparison in summary["comparisons"]:
        assert set(comparison) - {"excluded_tasks", "verdict"} == COMPARISON_KEYS | MISSING_SKILL_KEYS
    json.dumps(summary, allow_nan=False)


def test_arms_by_hand():
    summary = build_summary(three_tasks(), k=2, resamples=2000)
    assert (summary["k"], summary["n_tasks"], summary["models"]) == (2, 3, ["m"])
    assert summary["conditions"] == ["none", "generated"]  # baseline first
    none, generated = summary["arms"]
    assert none["condition"] == "none"
    assert (none["n_tasks"], none["n_trials"], none["passes"]) == (3, 6, 3)
    assert none["pass_rate"] == pytest.approx(0.5)  # mean(0, 0.5, 1)
    assert none["wilson95"] == pytest.approx(list(stats.wilson(3, 6)))
    assert none["pass_at_k"] == pytest.approx(2 / 3)  # B and C passed at least once
    assert none["pass_hat_k"] == pytest.approx(1 / 3)  # only C passed every trial
    assert none["ci95"] == [0.0, 1.0]  # t-interval: .5 ± 4.302653 * .5 / sqrt(3) = .5 ± 1.242, clipped
    assert (none["tokens"], none["infra_errors"], none["skill_read_rate"]) == (660, 0, 0.0)
    assert none["cost_usd"] == pytest.approx(0.06) and none["cost_per_solve_usd"] == pytest.approx(0.02)

    assert (generated["n_trials"], generated["passes"], generated["infra_errors"]) == (6, 6, 1)
    assert generated["pass_rate"] == 1.0 and generated["ci95"] == [1.0, 1.0]
    assert generated["pass_at_k"] == 1.0 and generated["pass_hat_k"] == 1.0
    assert generated["tokens"] == 770  # the infra error was paid for: 7 records
    assert generated["cost_per_solve_usd"] == pytest.approx(0.07 / 6)
    assert generated["skill_read_rate"] == pytest.approx(5 / 6)  # infra error not scored


def test_comparison_by_hand():
    (comparison,) = build_summary(three_tasks(), k=2, resamples=2000)["comparisons"]
    assert (comparison["baseline"], comparison["condition"], comparison["n_tasks"]) == ("none", "generated", 3)
    assert comparison["delta"] == pytest.approx(0.5)  # mean(1, 0.5, 0)
    assert (comparison["improved"], comparison["degraded"], comparison["unchanged"]) == (2, 0, 1)
    # in halves the moved tasks are 2 and 1, sum 3 = the largest: only ++ and −− reach |3|, p = 2/4
    assert comparison["p_value"] == 0.5 and comparison["test"] == "paired_permutation_exact"
    assert comparison["normalized_gain"] == pytest.approx(1.0)  # 0.5 / (1 - 0.5)
    assert comparison["ci95"] == [pytest.approx(0.5 - 4.302653 * 0.5 / math.sqrt(3), abs=1e-6), 1.0]
    assert comparison["outcome"] == "no difference shown"
    assert "3 tasks" in comparison["coverage_note"] and "fewer were not simulated" in comparison["coverage_note"]
    assert comparison["mde"] is None and comparison["excluded_tasks"] == []
    assert comparison["missing_skill_tasks"] == [] and comparison["n_missing_skill_tasks"] == 0
    assert comparison["delta_all_tasks"] == comparison["delta"] and comparison["n_tasks_all"] == 3
    assert "not shown to differ" in comparison["verdict"] and "too few" in comparison["verdict"]


def test_mcnemar_design_k1():
    """12 tasks, k = 1: 8 gained, 1 lost, 3 passed in both -> b = 8, c = 1."""
    rows = []
    for i in range(12):
        before, after = (False, True) if i < 8 else (True, False) if i == 8 else (True, True)
        rows += [record(f"t{i}", "none", 0, before), record(f"t{i}", "curated", 0, after)]
    (comparison,) = build_summary(rows, k=1, resamples=4000)["comparisons"]
    assert comparison["p_value"] == 0.0390625 and comparison["test"] == "mcnemar_exact"
    assert comparison["delta"] == pytest.approx(7 / 12)
    assert comparison["normalized_gain"] == pytest.approx((7 / 12) / (1 - 4 / 12))
    sd = math.sqrt(59 / 132)  # sum d^2 = 9, mean 7/12: (9 - 12 * 49/144) / 11
    t = 2.200985 + 0.875530  # t_{.975, 11} + t_{.80, 11}
    assert comparison["mde"] == pytest.approx(t * sd / math.sqrt(12), rel=1e-6)
    assert comparison["ci95"][0] == pytest.approx(7 / 12 - 2.200985 * sd / math.sqrt(12), abs=1e-6)  # .1585
    assert comparison["outcome"] == "better" and "12 tasks (fewer than 20)" in comparison["coverage_note"]
    assert "as few as 91%" in comparison["coverage_note"]
    assert "does better" in comparison["verdict"] and "CI excludes 0 and p < 0.05" in comparison["verdict"]


def test_identical_arms_delta_zero_p_one():
    rows = []
    for i, passed in enumerate([True, False, True, True, False, False, True]):
        rows += [record(f"t{i}", "none", 0, passed), record(f"t{i}", "placebo", 0, passed)]
    (comparison,) = build_summary(rows, k=1, resamples=500)["comparisons"]
    assert comparison["delta"] == 0.0 and comparison["p_value"] == 1.0 and comparison["ci95"] == [0.0, 0.0]
    assert comparison["outcome"] == "no difference shown"
    assert comparison["unchanged"] == 7
    assert "not shown to differ" in comparison["verdict"]


def test_infra_only_task_and_one_sided_task_are_excluded_and_counted():
    rows = [
        record("A", "none", 0, True),
        record("A", "generated", 0, True),
        record("B", "none", 0, False),  # B has no generated skill: baseline only
        record("C", "none", 0, False),
        record("C", "generated", 0, False, status="infra_error", cost=None),
    ]
    summary = build_summary(rows, k=1, resamples=200)
    none, generated = summary["arms"]
    assert (none["n_tasks"], generated["n_tasks"], generated["infra_errors"]) == (3, 1, 1)
    assert generated["cost_usd"] == pytest.approx(0.01)  # the unknown cost is not counted as 0 or as a value
    (comparison,) = summary["comparisons"]
    assert comparison["n_tasks"] == 1 and comparison["excluded_tasks"] == ["B", "C"]


def test_two_models_and_missing_cost():
    rows = [
        record("A", c, 0, c == "curated", model=m, cost=None)
        for m in ("b-model", "a-model")
        for c in ("curated", "none")
    ]
    summary = build_summary(rows, k=1, resamples=100)
    assert summary["models"] == ["a-model", "b-model"]
    assert [(a["model"], a["condition"]) for a in summary["arms"]] == [
        ("a-model", "none"),
        ("a-model", "curated"),
        ("b-model", "none"),
        ("b-model", "curated"),
    ]
    assert all(a["cost_usd"] is None and a["cost_per_solve_usd"] is None for a in summary["arms"])
    assert [c["model"] for c in summary["comparisons"]] == ["a-model", "b-model"]
    assert all(c["delta"] == 1.0 for c in summary["comparisons"])


def test_ci_excluding_zero_without_the_exact_test_is_not_called_better():
    """Δ_t = 1, 1, 1, .5, 1: the t-interval is .9 ± 2.776445 * sqrt(.05) / sqrt(5) = [.622, 1], but five tasks
    that all moved up give the exact test only p = 2/32 = 0.0625."""
    rows = []
    for task, (before, after) in {"a": (0, 2), "b": (0, 2), "c": (0, 2), "d": (1, 2), "e": (0, 2)}.items():
        rows += [record(task, "none", i, i < before) for i in range(2)]
        rows += [record(task, "generated", i, i < after) for i in range(2)]
    (comparison,) = build_summary(rows, k=2, resamples=2000)["comparisons"]
    assert comparison["ci95"][0] == pytest.approx(0.9 - 2.776445 * math.sqrt(0.05) / math.sqrt(5), abs=1e-6)
    assert comparison["p_value"] == 2 / 32 and comparison["outcome"] == "no difference shown"
    assert "not shown to differ" in comparison["verdict"] and "exact test does not reach" in comparison["verdict"]


def test_teacher_cost_break_even_by_hand():
    """Baseline: 6 trials at $0.05, 3 solves -> $0.10 a solve. Skill: 6 trials at $0.03, 6 solves -> $0.03.

    Teacher $2.10 over 3 tasks = $0.70 a task; saving $0.07 a solve -> pays for itself after 10 solves.
    """
    rows = [
        dict(r, cost_usd=0.05 if r["condition"] == "none" else 0.03)
        for r in three_tasks()
        if r["status"] != "infra_error"
    ]
    summary = build_summary(rows, k=2, resamples=100, teacher_cost_usd={"generated": 2.10})
    (comparison,) = summary["comparisons"]
    block = comparison["teacher_cost"]
    assert block["teacher_cost_usd"] == 2.10
    assert block["teacher_cost_per_task_usd"] == pytest.approx(0.70)
    assert block["break_even_solves"] == pytest.approx(10.0)
    assert block["amortized_over_tasks"] == 3
    assert block["break_even_runs"] == pytest.approx(10.0)  # every run solves: runs = solves
    dearer = build_summary(
        [dict(r, cost_usd=0.5 if r["condition"] == "generated" else 0.01) for r in rows],
        k=2,
        resamples=100,
        teacher_cost_usd={"generated": 1.0},
    )
    assert dearer["comparisons"][0]["teacher_cost"]["break_even_solves"] is None  # a solve costs more with the skill
    assert "teacher_cost" not in build_summary(rows, k=2, resamples=100)["comparisons"][0]


def test_a_clearly_worse_condition_is_called_worse():
    rows = []
    for i in range(10):
        rows += [record(f"t{i}", "none", 0, True), record(f"t{i}", "placebo", 0, i >= 9)]
    (comparison,) = build_summary(rows, k=1, resamples=2000)["comparisons"]
    assert comparison["delta"] == pytest.approx(-0.9) and comparison["degraded"] == 9
    assert comparison["p_value"] == 2 / 2**9 and comparison["ci95"][1] < 0 and comparison["outcome"] == "worse"
    assert comparison["normalized_gain"] is None  # the baseline left no room
    assert "does worse" in comparison["verdict"]


def test_tasks_without_a_skill_counted_as_unchanged_by_hand():
    """none: A 0/2, B 1/2, C 2/2, D 1/2, E only an infra error. generated: A, B, C 2/2; no skill for D and E.

    Δ over A, B, C = mean(1, .5, 0) = .5. Counting D as unchanged: mean(1, .5, 0, 0) = .375 over 4 tasks;
    E has no baseline score, so it is listed but cannot be counted.
    """
    rows = [r for r in three_tasks() if r["status"] != "infra_error"]
    rows += [record("D", "none", 0, True), record("D", "none", 1, False)]
    rows.append(record("E", "none", 0, False, status="infra_error"))
    summary = build_summary(rows, k=2, resamples=2000, missing_skills={"generated": ["E", "D"]})
    (comparison,) = summary["comparisons"]
    assert comparison["delta"] == pytest.approx(0.5) and comparison["n_tasks"] == 3
    assert comparison["missing_skill_tasks"] == ["D", "E"] and comparison["n_missing_skill_tasks"] == 2
    assert comparison["n_tasks_all"] == 4 and comparison["delta_all_tasks"] == pytest.approx(0.375)
    # d = 1, .5, 0, 0: sd = sqrt(.6875 / 3) = .478714, half = 3.182446 * .478714 / 2 = .761740
    assert comparison["ci95_all_tasks"] == [pytest.approx(0.375 - 0.761740, abs=1e-6), 1.0]
    assert comparison["p_value"] == 0.5  # D ties: the exact test is the same
    assert comparison["excluded_tasks"] == ["D"]


def test_break_even_runs_when_not_every_run_solves():
    """Skill arm 4 of 6 trials pass at $0.03 -> $0.045 a solve; baseline $0.10 a solve; saving $0.055.

    Teacher $1.65 over 3 tasks = $0.55 a task -> 10 solves -> 10 / (4/6) = 15 runs of each task.
    """
    rows = [
        dict(r, cost_usd=0.05 if r["condition"] == "none" else 0.03)
        for r in three_tasks()
        if r["status"] != "infra_error"
    ]
    for r in rows:
        if r["condition"] == "generated" and r["task"] in "AB" and r["trial"] == 1:
            r.update(passed=False, status="fail", reward=0.0)
    (comparison,) = build_summary(rows, k=2, resamples=100, teacher_cost_usd={"generated": 1.65})["comparisons"]
    block = comparison["teacher_cost"]
    assert block["teacher_cost_per_task_usd"] == pytest.approx(0.55)
    assert block["break_even_solves"] == pytest.approx(10.0)
    assert block["break_even_runs"] == pytest.approx(15.0)


def test_no_shared_task_is_not_compared():
    rows = [record("A", "none", 0, True), record("B", "generated", 0, True)]
    (comparison,) = build_summary(rows, k=1)["comparisons"]
    assert comparison["n_tasks"] == 0 and comparison["outcome"] == "not compared"
    assert comparison["coverage_note"] is None and "nothing can be compared" in comparison["verdict"]


def test_twenty_tasks_carry_no_coverage_note():
    rows = []
    for i in range(20):
        rows += [record(f"t{i}", "none", 0, i % 2 == 0), record(f"t{i}", "curated", 0, i % 3 == 0)]
    (comparison,) = build_summary(rows, k=1)["comparisons"]
    assert comparison["n_tasks"] == 20 and comparison["coverage_note"] is None
