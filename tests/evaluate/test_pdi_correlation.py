"""`eval report --pdi` finds a planted PDI–Δ correlation and stays quiet (CI covers 0 about 95% of the time)
on skills whose PDI has nothing to do with their effect."""

from __future__ import annotations

import io
import json
import math

import numpy
import pytest
from rich.console import Console

from skillspark.evaluate import service
from skillspark.evaluate.calibration import simulate_pdi_eval
from skillspark.evaluate.report import pdi_correlations
from skillspark.evaluate.results import EvalResult, append_result, write_config
from skillspark.evaluate.summary import build_summary

REPETITIONS = 200


def write_eval(out, records, pdi_rows, k):
    """results.jsonl, eval.json and a `pdi score`-style CSV, as `eval` and `pdi score` write them."""
    for r in records:
        append_result(out, EvalResult(**r, reward=float(r["passed"]), tokens_in=0, tokens_out=0, cost_usd=None,
                                      duration_s=0.0, skill_sha256=None, skill_read=True, trial_dir="-"))
    write_config(out, {"fingerprint": {"k": k, "seed": 0}})
    csv = out / "pdi.csv"
    lines = ["task,phi_exec,phi_plan,phi_oss,pdi,quadrant"]
    lines += [f"{row['task']},0.5,0.5,0.5,{row['pdi']},{row['quadrant']}" for row in pdi_rows]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return csv


@pytest.mark.parametrize("linked", [True, False])
def test_eval_report_pdi_on_planted_and_independent_skills(tmp_path, linked):
    records, rows = simulate_pdi_eval(30, 5, 0.3, linked, numpy.random.default_rng(4))
    csv = write_eval(tmp_path, records, rows, k=5)
    service.write_outputs(tmp_path, pdi_csv=csv, console=Console(file=io.StringIO()))
    (found,) = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))["pdi_correlation"]
    assert found["n_tasks"] == 30 and found["interval"].startswith("Fisher z")
    lo, hi = found["ci95"]
    assert lo < found["spearman_rho"] < hi
    if linked:
        assert lo > 0  # the planted correlation is found
    else:
        assert lo < 0 < hi
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert f"ρ = {found['spearman_rho']:+.3f}" in page and f"{lo:+.3f} to {hi:+.3f}" in page


def test_spearman_ci_covers_zero_about_95_percent_of_the_time_when_pdi_is_independent():
    rng = numpy.random.default_rng(11)
    covered = 0
    for _ in range(REPETITIONS):
        records, rows = simulate_pdi_eval(20, 3, 0.2, False, rng)
        (found,) = pdi_correlations(build_summary(records, k=3), records, rows)
        lo, hi = found["ci95"]
        covered += lo <= 0 <= hi
    se = math.sqrt(0.95 * 0.05 / REPETITIONS)
    assert 0.95 - 3 * se <= covered / REPETITIONS <= 0.95 + 3 * se


def test_planted_correlation_is_found_most_of_the_time():
    rng = numpy.random.default_rng(12)
    found_rho = [
        pdi_correlations(build_summary(records, k=5), records, rows)[0]["ci95"][0] > 0
        for records, rows in (simulate_pdi_eval(30, 5, 0.3, True, rng) for _ in range(50))
    ]
    assert sum(found_rho) >= 40  # power: the link shows in at least 80% of evals of 30 tasks (about 97% simulated)
