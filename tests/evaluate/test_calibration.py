"""A small calibration run: the eval's real statistics stay quiet on a planted null and cover a planted Δ,
and a deliberately broken method (every trial independent, tasks ignored) is caught by the same bounds."""

from __future__ import annotations

import math

import numpy
import pytest

from skillspark.evaluate.calibration import (
    Cell,
    TaskPopulation,
    pooled_trials_method,
    run_cell,
    simulate_records,
    summary_method,
)

N_EVALS = 200
FALSE_POSITIVE_GOAL = 0.05
COVERAGE_FLOOR = 0.90  # the 95% goal less 3 Monte-Carlo SEs of 400 evals (1.1 pp each) less 1.7 pp of slack
# A skill decisive on some tasks and useless on others (per-task gains near 0 or 1): the spread over tasks
# that a pooled-trials interval leaves out.
SPREAD_GAINS = TaskPopulation(gain_concentration=0.5)
METHODS = {"summary": summary_method, "pooled trials": pooled_trials_method}


@pytest.fixture(scope="module")
def results():
    cells = [Cell(n_tasks=10, k=3, delta=0.0), Cell(n_tasks=20, k=5, delta=0.3), Cell(n_tasks=6, k=5, delta=0.3)]
    by_method: dict[str, list] = {name: [] for name in METHODS}
    for cell in cells:
        for result in run_cell(cell, N_EVALS, seed=17, methods=METHODS, population=SPREAD_GAINS):
            by_method[result.method].append(result)
    return by_method


def false_positive_bound() -> float:
    return FALSE_POSITIVE_GOAL + 3 * math.sqrt(FALSE_POSITIVE_GOAL * (1 - FALSE_POSITIVE_GOAL) / N_EVALS)


def planted_coverage(cell_results) -> float:
    planted = [r for r in cell_results if r.cell.delta > 0]
    return sum(r.covered for r in planted) / sum(r.n_evals for r in planted)


def test_the_real_statistics_pass_both_bounds(results):
    null, *planted = results["summary"]
    assert null.cell.delta == 0 and null.called_rate <= false_positive_bound()
    assert planted_coverage(results["summary"]) >= COVERAGE_FLOOR
    assert null.coverage >= COVERAGE_FLOOR
    assert planted[0].power > 0.5  # 20 tasks, Δ = 0.3: the planted effect is found


def test_the_pooled_trials_interval_fails_the_coverage_bound(results):
    null, *_ = results["pooled trials"]
    assert null.called_rate <= false_positive_bound()  # under a sharp null it is merely conservative ...
    assert planted_coverage(results["pooled trials"]) < COVERAGE_FLOOR  # ... but misses the population Δ


def test_the_planted_delta_is_the_population_delta():
    population, rng = TaskPopulation(), numpy.random.default_rng(0)
    base = population.draw(rng, 400_000)
    assert base.mean() == pytest.approx(population.mean(), abs=0.002)
    assert population.mean() == pytest.approx(0.35 * 0.3 / 6.3 + 0.2 * 6 / 6.3 + 0.45 * 0.5)
    for delta in (0.1, 0.3):
        assert (population.planted(rng, base, delta) - base).mean() == pytest.approx(delta, abs=0.002)
    assert (population.planted(rng, base[:10], 0.0) == base[:10]).all()
    with pytest.raises(ValueError):
        population.planted(rng, base[:10], 0.9)  # more than 1 − E[p] cannot be planted


def test_pooled_trials_method_by_hand():
    """Baseline 0/2 and 2/2 (2 of 4 trials), condition 4 of 4: Δ = .5, half = 1.96·sqrt(.5·.5/4 + 0) = .49."""
    records = simulate_records(numpy.array([0.0, 1.0]), numpy.array([1.0, 1.0]), 2, numpy.random.default_rng(0))
    found = pooled_trials_method(records, 2, 0)
    assert found.delta == pytest.approx(0.5)
    assert (found.lo, found.hi) == pytest.approx((0.01, 0.99))
    assert found.outcome == "better"  # two tasks, one of which moved: the real method cannot call this
    real = summary_method(records, 2, 0)
    assert real.delta == pytest.approx(0.5) and real.outcome == "no difference shown"
