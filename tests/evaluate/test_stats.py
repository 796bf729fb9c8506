"""Eval statistics against values computed by hand (the issue's golden values among them)."""

from __future__ import annotations

import math

import pytest

from skillspark.evaluate import stats


def test_wilson_golden_values():
    lo, hi = stats.wilson(7, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.3968, 0.8922)
    assert stats.wilson(0, 10)[0] == 0.0
    assert round(stats.wilson(0, 10)[1], 4) == 0.2775
    assert round(stats.wilson(10, 10)[0], 4) == round(1 - 0.2775, 4)  # symmetric in passes <-> fails
    assert stats.wilson(0, 0) == (0.0, 1.0)


def test_wilson_13_of_30_matches_the_papers_table_note():
    lo, hi = stats.wilson(13, 30)
    assert (round(lo, 2), round(hi, 2)) == (0.27, 0.61)


def test_pass_at_k_and_pass_hat_k_golden_values():
    assert stats.pass_at_k(5, 2, 1) == pytest.approx(0.4)
    assert stats.pass_at_k(5, 2, 3) == pytest.approx(0.9)  # 1 - C(3,3)/C(5,3) = 1 - 1/10
    assert stats.pass_hat_k(5, 2, 2) == pytest.approx(0.1)  # C(2,2)/C(5,2) = 1/10
    assert stats.pass_at_k(5, 0, 5) == 0.0 and stats.pass_at_k(5, 1, 5) == 1.0
    assert stats.pass_hat_k(5, 4, 5) == 0.0 and stats.pass_hat_k(5, 5, 5) == 1.0
    with pytest.raises(ValueError):
        stats.pass_at_k(2, 1, 3)


def test_mcnemar_golden_and_edge_values():
    """With one trial per task every moved task has |d| = 1: the permutation test is McNemar's exact test."""
    assert stats.sign_flip_test([1.0] * 8 + [-1.0]) == 0.0390625  # b=8, c=1: 2 * (1 + 9) / 2^9
    assert stats.sign_flip_test([-1.0] * 8 + [1.0] + [0.0] * 3) == 0.0390625  # ties drop out
    assert stats.sign_flip_test([]) == 1.0 and stats.sign_flip_test([0.0, 0.0]) == 1.0
    assert stats.sign_flip_test([1.0, 1.0, 1.0, -1.0, -1.0, -1.0]) == 1.0
    assert stats.sign_flip_test([1.0] * 6) == 2 / 64
    assert stats.sign_flip_test([1.0] * 5) == 2 / 32
    assert stats.significance_test_name(1) == "mcnemar_exact"
    assert stats.significance_test_name(5) == "paired_permutation_exact"


def test_mcnemar_matches_the_comb_sum_formula():
    for b, c in [(0, 7), (2, 9), (13, 11), (40, 25), (150, 180)]:
        n = b + c
        expected = min(1.0, 2 * sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2**n)
        assert stats.sign_flip_test([1.0] * b + [-1.0] * c) == pytest.approx(expected, rel=1e-9)


def test_permutation_test_weighs_how_far_tasks_moved_by_hand():
    # in thirds: sizes 1,2,3,3,1,1,1 (total 12), observed sum 10. |S| >= 10 needs the positive part >= 11 (all
    # positive, or one size-1 task negative: 1 + 4 sign vectors) or <= 1 (the mirror image): 10 / 2^7
    assert stats.sign_flip_test([1 / 3, 2 / 3, 1, 1, 1 / 3, 1 / 3, -1 / 3]) == pytest.approx(10 / 128)
    # the sign test would count 6 up, 1 down: p = 2 * 8 / 128 = 0.125; the sizes make the difference


def test_permutation_test_samples_when_the_grid_is_too_fine():
    """Uneven trial counts can make the exact grid huge: seeded sign vectors estimate the same p."""
    diffs = [1 / 997, 1 / 991, 1 / 983, 1 / 977, 1 / 971, 1 / 967]  # exact: all six positive, p = 2/64
    p = stats.sign_flip_test(diffs, seed=1, resamples=20_000)
    assert p == stats.sign_flip_test(diffs, seed=1, resamples=20_000)
    assert p == pytest.approx(2 / 64, abs=0.005)


def test_t_distribution_against_tables():
    # Cauchy (df 1) and df 2 have closed forms: F(1) = 3/4; F(t) = 1/2 + t / (2·sqrt(t² + 2))
    assert stats.t_cdf(1.0, 1) == pytest.approx(0.75)
    assert stats.t_cdf(2.0, 2) == pytest.approx(0.5 + 2 / (2 * math.sqrt(6)))
    assert stats.t_cdf(0.0, 7) == 0.5 and stats.t_cdf(-2.0, 2) == pytest.approx(0.5 - 2 / (2 * math.sqrt(6)))
    table = {  # (q, df): printed t tables
        (0.975, 1): 12.706205,
        (0.975, 2): 4.302653,
        (0.975, 3): 3.182446,
        (0.975, 5): 2.570582,
        (0.975, 10): 2.228139,
        (0.975, 30): 2.042272,
        (0.8, 7): 0.896030,
        (0.8, 11): 0.875530,
    }
    for (q, df), value in table.items():
        assert stats.t_quantile(q, df) == pytest.approx(value, abs=2e-6)
        assert stats.t_quantile(1 - q, df) == pytest.approx(-value, abs=2e-6)
    with pytest.raises(ValueError):
        stats.t_quantile(1.0, 3)


def test_mean_interval_by_hand():
    # mean .5, sd = sqrt(0.2 / 3) = .258199, half = 3.182446 * .258199 / 2 = .410852
    lo, hi = stats.mean_interval([0.2, 0.4, 0.6, 0.8])
    assert (lo, hi) == pytest.approx((0.089148, 0.910852), abs=1e-6)
    assert stats.mean_interval([0.0, 0.5, 1.0]) == (0.0, 1.0)  # half 1.242: clipped to what a rate can be
    assert stats.mean_interval([0.5, 0.5, 0.5]) == (0.5, 0.5)
    assert stats.mean_interval([0.3]) == (0.0, 1.0)  # one task: no spread to measure
    with pytest.raises(ValueError):
        stats.mean_interval([])


def test_paired_delta_by_hand():
    # d = .5, .5, 0, .25: mean .3125, sd = sqrt(.171875 / 3) = .239357, half = 3.182446 * .239357 / 2 = .380870
    delta, lo, hi = stats.paired_delta([(0.0, 0.5), (0.5, 1.0), (0.5, 0.5), (0.25, 0.5)])
    assert delta == pytest.approx(0.3125)
    assert (lo, hi) == pytest.approx((-0.068370, 0.693370), abs=1e-6)
    assert stats.paired_delta([(0.2, 0.2), (1.0, 1.0), (0.0, 0.0), (0.6, 0.6)]) == (0.0, 0.0, 0.0)
    assert stats.paired_delta([(0.0, 1.0), (0.0, 1.0), (1.0, 0.0)])[1:] == (-1.0, 1.0)  # clipped to ±1


def test_minimum_detectable_effect_formula_and_fallbacks():
    diffs = [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0]  # sd = sqrt(2/7)
    t = 2.364624 + 0.896030  # t_{.975, 7} + t_{.80, 7}
    assert stats.minimum_detectable_effect(diffs) == pytest.approx(t * math.sqrt(2 / 7) / math.sqrt(8), rel=1e-6)
    t99 = 1.984217 + 0.845267  # t_{.975, 99} + t_{.80, 99}
    assert stats.minimum_detectable_effect([0.0] * 100) == pytest.approx(t99 * 0.5 / 10, rel=1e-6)  # sd 0 -> 0.5
    assert stats.minimum_detectable_effect([0.0, 1.0, 0.0, 1.0, 0.0]) is None  # 5 tasks: no p < 0.05
    assert stats.minimum_detectable_effect([-1.0, 1.0] * 3) == 1.0  # capped


def test_ranks_average_ties():
    assert stats.ranks([10, 20, 20, 5]) == [2.0, 3.5, 3.5, 1.0]


def test_spearman_by_hand():
    # ranks equal values; d = (0, 1, 1, 0): rho = 1 - 6*2 / (4*15) = 0.8
    assert stats.spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert stats.spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert stats.spearman([1, 2, 3], [5, 5, 5]) is None


def test_spearman_interval_by_hand():
    pairs = [(0.1, 0.0), (0.5, 0.2), (0.3, 0.4), (0.9, 1.0), (0.7, 0.6), (0.2, 0.1)]
    rho, lo, hi = stats.spearman_interval(pairs)
    assert rho == pytest.approx(1 - 6 * 2 / (6 * 35))  # ranks x: 1 4 3 6 5 2, y: 1 3 4 6 5 2 -> 0.942857
    # z = atanh(.942857) = 1.763180, se = sqrt((1 + .942857²/2) / 3) = .693900, half = 1.959964 * se = 1.360018
    assert (lo, hi) == pytest.approx((math.tanh(1.763180 - 1.360018), math.tanh(1.763180 + 1.360018)), abs=1e-5)
    assert stats.spearman_interval([(1.0, 1.0), (2.0, 1.0), (3.0, 1.0), (4.0, 1.0)]) == (None, None, None)
    assert stats.spearman_interval([(1.0, 1.0), (2.0, 2.0), (3.0, 3.0)]) == (pytest.approx(1.0), None, None)
    perfect = stats.spearman_interval([(float(i), float(i)) for i in range(8)])
    assert perfect[0] == pytest.approx(1.0) and 0.99 < perfect[1] < perfect[2] < 1.0  # finite, not [1, 1]


def test_many_moved_tasks_use_the_normal_law_of_the_sum():
    """Past 1,000 moved tasks: continuity-corrected normal against the exact binomial sum (McNemar, k = 1)."""
    better, worse = 530, 471
    n = better + worse
    exact = 2 * sum(math.comb(n, i) for i in range(worse + 1)) / 2**n
    assert stats.sign_flip_test([1.0] * better + [-1.0] * worse) == pytest.approx(exact, rel=0.01)


def test_t_quantile_for_many_degrees_of_freedom():
    for df in (1001, 5000):
        for q in (0.8, 0.975):
            assert stats.t_cdf(stats.t_quantile(q, df), df) == pytest.approx(q, abs=1e-10)
