"""Eval statistics against values computed by hand (the issue's golden values among them)."""

from __future__ import annotations

import math
import random
import statistics

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


def test_sign_test_golden_and_edge_values():
    assert stats.sign_test(8, 1) == 0.0390625  # 2 * (1 + 9) / 2^9
    assert stats.sign_test(1, 8) == 0.0390625
    assert stats.sign_test(0, 0) == 1.0
    assert stats.sign_test(3, 3) == 1.0
    assert stats.sign_test(6, 0) == 2 / 64
    assert stats.sign_test(5, 0) == 2 / 32
    assert stats.significance_test_name(1) == "mcnemar_exact"
    assert stats.significance_test_name(5) == "sign_test"


def test_percentile_interpolates_like_numpy_default():
    assert stats.percentile([0.0, 10.0], 0.25) == 2.5
    assert stats.percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == 3.0
    assert stats.percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.975) == pytest.approx(4.9)


def test_cluster_bootstrap_is_seeded_and_brackets_the_mean():
    values = [0.0, 0.2, 0.4, 1.0, 1.0, 0.6, 0.0, 0.8]
    first = stats.cluster_bootstrap_mean(values, seed=3, resamples=2000)
    assert first == stats.cluster_bootstrap_mean(values, seed=3, resamples=2000)
    assert first != stats.cluster_bootstrap_mean(values, seed=4, resamples=2000)
    assert first[0] < statistics.fmean(values) < first[1]
    assert stats.cluster_bootstrap_mean([0.5, 0.5, 0.5], seed=0, resamples=100) == (0.5, 0.5)
    with pytest.raises(ValueError):
        stats.cluster_bootstrap_mean([], seed=0)


def test_bootstrap_ci_near_the_normal_approximation_for_many_tasks():
    """Both resampling paths (multinomial counts, plain draws) agree with mean ± 1.96·sd/√n."""
    rng = random.Random(0)
    few_values = [rng.choice([0.0, 0.2, 0.4, 0.6, 0.8, 1.0]) for _ in range(400)]
    distinct = [rng.random() for _ in range(400)]
    for values in (few_values, distinct):
        mean, se = statistics.fmean(values), statistics.stdev(values) / math.sqrt(len(values))
        lo, hi = stats.cluster_bootstrap_mean(values, seed=1, resamples=4000)
        assert lo == pytest.approx(mean - 1.96 * se, abs=0.25 * se)
        assert hi == pytest.approx(mean + 1.96 * se, abs=0.25 * se)


def test_identical_arms_give_delta_zero_and_p_one():
    pairs = [(0.2, 0.2), (1.0, 1.0), (0.0, 0.0), (0.6, 0.6)]
    assert stats.paired_bootstrap_delta(pairs, seed=0, resamples=500) == (0.0, 0.0, 0.0)
    assert stats.sign_test(0, 0) == 1.0


def test_paired_bootstrap_delta_is_the_mean_difference():
    pairs = [(0.0, 1.0), (0.0, 1.0), (0.5, 0.5), (1.0, 0.0)]
    delta, lo, hi = stats.paired_bootstrap_delta(pairs, seed=7, resamples=3000)
    assert delta == pytest.approx(0.25)
    assert -1.0 <= lo < delta < hi <= 1.0


def test_minimum_detectable_effect_formula_and_fallbacks():
    diffs = [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0]  # sd = sqrt(2/7)
    z = 1.959963984540054 + 0.8416212335729143
    assert stats.minimum_detectable_effect(diffs) == pytest.approx(z * math.sqrt(2 / 7) / math.sqrt(8))
    assert stats.minimum_detectable_effect([0.0] * 100) == pytest.approx(z * 0.5 / 10)  # sd 0 -> 0.5
    assert stats.minimum_detectable_effect([0.0, 1.0, 0.0, 1.0, 0.0]) is None  # 5 tasks: no p < 0.05
    assert stats.minimum_detectable_effect([-1.0, 1.0] * 3) == 1.0  # capped


def test_ranks_average_ties():
    assert stats.ranks([10, 20, 20, 5]) == [2.0, 3.5, 3.5, 1.0]


def test_spearman_by_hand():
    # ranks equal values; d = (0, 1, 1, 0): rho = 1 - 6*2 / (4*15) = 0.8
    assert stats.spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert stats.spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert stats.spearman([1, 2, 3], [5, 5, 5]) is None


def test_bootstrap_spearman_is_seeded():
    pairs = [(0.1, 0.0), (0.5, 0.2), (0.3, 0.4), (0.9, 1.0), (0.7, 0.6), (0.2, 0.1)]
    rho, lo, hi = stats.bootstrap_spearman(pairs, seed=2, resamples=1000)
    assert rho == pytest.approx(1 - 6 * 2 / (6 * 35))  # ranks x: 1 4 3 6 5 2, y: 1 3 4 6 5 2
    assert (rho, lo, hi) == stats.bootstrap_spearman(pairs, seed=2, resamples=1000)
    assert lo <= rho <= hi
    assert stats.bootstrap_spearman([(1.0, 1.0), (2.0, 1.0)], seed=0, resamples=10) == (None, None, None)


def test_sign_test_matches_the_comb_sum_formula():
    for b, c in [(0, 7), (2, 9), (13, 11), (40, 25), (150, 180)]:
        n = b + c
        expected = min(1.0, 2 * sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2**n)
        assert stats.sign_test(b, c) == expected
