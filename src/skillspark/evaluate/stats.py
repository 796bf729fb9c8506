"""Statistics of a skill A/B evaluation, each formula written next to its code.

Why these: an eval has few tasks (tens) and few trials per task (k = 1..5), so intervals built on the
normal approximation lie (Bowyer et al. 2025). Tasks are the unit that is sampled, so uncertainty comes
from resampling tasks (a cluster bootstrap, Miller 2024), the arms are compared on the same tasks (paired),
and significance is an exact binomial count of tasks that moved, never a z-test. Standard library only.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter
from collections.abc import Sequence

ALPHA = 0.05
POWER = 0.8


def wilson(passes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a pooled pass rate; (0, 1) when there are no trials.

    centre = (p̂ + z²/2m) / (1 + z²/m),  half = z·√(p̂(1−p̂)/m + z²/4m²) / (1 + z²/m)
    """
    if trials <= 0:
        return (0.0, 1.0)
    m, p = trials, passes / trials
    denominator = 1 + z * z / m
    centre = (p + z * z / (2 * m)) / denominator
    half = z * math.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def pass_at_k(n: int, c: int, k: int) -> float:
    """Chen et al. 2021: chance that at least one of k trials drawn from n (c passing) passes.

    pass@k = 1 − C(n−c, k) / C(n, k)
    """
    if not 0 < k <= n or not 0 <= c <= n:
        raise ValueError(f"pass@k needs 0 < k <= n and 0 <= c <= n, got n={n} c={c} k={k}")
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """τ-bench's pass^k: chance that all of k trials drawn from n (c passing) pass.

    pass^k = C(c, k) / C(n, k)
    """
    if not 0 < k <= n or not 0 <= c <= n:
        raise ValueError(f"pass^k needs 0 < k <= n and 0 <= c <= n, got n={n} c={c} k={k}")
    return math.comb(c, k) / math.comb(n, k)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default): position q·(N−1)."""
    position = q * (len(sorted_values) - 1)
    lo = math.floor(position)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (position - lo)


def _resampled_means(values: Sequence[float], rng: random.Random, resamples: int) -> list[float]:
    """Means of `resamples` draws of len(values) items with replacement.

    A resample matters only through how often each distinct value is drawn, which is
    Multinomial(n, share of each value): one draw per distinct value instead of one per task (p_t takes
    at most k+1 values), and numpy draws the counts of all resamples at once, so 10,000 resamples of
    thousands of tasks take milliseconds. With mostly distinct values the plain draw is used.
    """
    n = len(values)
    counts = sorted(Counter(values).items())
    if len(counts) * 4 >= n:
        return [math.fsum(rng.choices(values, k=n)) / n for _ in range(resamples)]
    import numpy  # only here: one vectorized multinomial draw is ~50x faster than 10,000 binomial chains

    generator = numpy.random.default_rng(rng.getrandbits(64))  # still seeded by `rng`
    distinct = numpy.array([value for value, _ in counts], dtype=float)
    shares = numpy.array([count for _, count in counts], dtype=float) / n
    drawn = generator.multinomial(n, shares, size=resamples)  # resamples x distinct values
    return ((drawn @ distinct) / n).tolist()


def cluster_bootstrap_mean(
    per_task_values: Sequence[float], seed: int, resamples: int = 10_000, level: float = 0.95
) -> tuple[float, float]:
    """Percentile CI of the mean over tasks, resampling whole tasks (the clusters) with replacement.

    Seeded, so the same inputs give the same interval.
    """
    if not per_task_values:
        raise ValueError("a bootstrap needs at least one task")
    means = sorted(_resampled_means(list(per_task_values), random.Random(seed), resamples))
    tail = (1 - level) / 2
    return (percentile(means, tail), percentile(means, 1 - tail))


def paired_bootstrap_delta(
    pairs: Sequence[tuple[float, float]], seed: int, resamples: int = 10_000, level: float = 0.95
) -> tuple[float, float, float]:
    """(Δ, lo, hi) for pairs (baseline p_t, condition p_t) of the same tasks: d_t = cond − base, Δ = mean d_t.

    Resampling tasks keeps each task's two arms together, so the CI reflects the paired design.
    """
    diffs = [condition - base for base, condition in pairs]
    lo, hi = cluster_bootstrap_mean(diffs, seed, resamples, level)
    return (statistics.fmean(diffs), lo, hi)


def sign_test(better: int, worse: int) -> float:
    """Exact two-sided binomial test on the tasks that moved (ties dropped), H0: up and down equally likely.

        p = min(1, 2·Σ_{i ≤ min(b,c)} C(b+c, i) / 2^(b+c))
    With k = 1 trial per task this is McNemar's exact test. No moved task gives p = 1.
    """
    n = better + worse
    term = tail = 1  # C(n, 0); exact integers, each next term C(n, i+1) = C(n, i)·(n−i)/(i+1)
    for i in range(min(better, worse)):
        term = term * (n - i) // (i + 1)
        tail += term
    return min(1.0, 2 * tail / 2**n)


def significance_test_name(k: int) -> str:
    """Which test `sign_test` is for this design: McNemar's exact test at k = 1, the sign test otherwise."""
    return "mcnemar_exact" if k == 1 else "sign_test"


# With n tasks the smallest two-sided sign-test p is 2/2^n, below 0.05 only from n = 6 on.
MIN_TASKS_FOR_SIGNIFICANCE = 6


def minimum_detectable_effect(diffs: Sequence[float], alpha: float = ALPHA, power: float = POWER) -> float | None:
    """Smallest |Δ| a paired design over these tasks detects with the given power (two-sided α).

        MDE = (z_{1−α/2} + z_{power}) · sd(d) / √n      (≈ 2.80 · sd(d)/√n at α = 0.05, power 0.8)
    sd is the sample standard deviation of the per-task differences d_t. Fallbacks: sd = 0 (every task
    moved alike, so the sample says nothing about spread) uses sd = 0.5, the largest spread of a single
    pass/fail outcome, as a planning value; fewer than 6 tasks gives None, since the exact sign test
    cannot reach p < 0.05 at all there. Capped at 1, the largest possible change of a pass rate.
    """
    n = len(diffs)
    if n < MIN_TASKS_FOR_SIGNIFICANCE:
        return None
    normal = statistics.NormalDist()
    z = normal.inv_cdf(1 - alpha / 2) + normal.inv_cdf(power)
    sd = statistics.stdev(diffs) or 0.5
    return min(1.0, z * sd / math.sqrt(n))


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, tied values sharing the mean of their positions."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            result[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return result


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's ρ: Pearson correlation of the ranks (ties averaged); None when either side is constant."""
    if len(xs) != len(ys) or len(xs) < 2:
        return None
    rx, ry = ranks(xs), ranks(ys)
    if len(set(rx)) < 2 or len(set(ry)) < 2:
        return None
    return statistics.correlation(rx, ry)


def bootstrap_spearman(
    pairs: Sequence[tuple[float, float]], seed: int, resamples: int = 10_000, level: float = 0.95
) -> tuple[float | None, float | None, float | None]:
    """(ρ, lo, hi): Spearman ρ of the pairs and a percentile CI from resampling pairs (tasks).

    Resamples where one side is constant have no ρ and are skipped; (ρ, None, None) if all are.
    """
    rho = spearman([x for x, _ in pairs], [y for _, y in pairs])
    rng = random.Random(seed)
    draws: list[float] = []
    for _ in range(resamples if rho is not None else 0):
        sample = rng.choices(pairs, k=len(pairs))
        value = spearman([x for x, _ in sample], [y for _, y in sample])
        if value is not None:
            draws.append(value)
    if not draws:
        return (rho, None, None)
    draws.sort()
    tail = (1 - level) / 2
    return (rho, percentile(draws, tail), percentile(draws, 1 - tail))
