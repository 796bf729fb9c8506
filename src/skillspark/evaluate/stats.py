"""Statistics of a skill A/B evaluation, each formula written next to its code.

Why these: an eval has few tasks (tens) and few trials per task (k = 1..5), so intervals built on the
normal approximation over trials lie (Bowyer et al. 2025). Tasks are the unit that is sampled, so
uncertainty comes from the spread over tasks (tasks as clusters, Miller 2024) with Student's t for their
small number, the arms are compared on the same tasks (paired), and significance is an exact permutation
test of the tasks' differences, never a z-test. Which of these hold their stated error rates was measured
by simulation: benchmarks/eval_calibration.py and docs/evaluation-statistics.md.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from fractions import Fraction

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


def t_cdf(t: float, df: int) -> float:
    """Student's t distribution function for an integer df, in closed form (Abramowitz & Stegun 26.7.3/4).

    With θ = atan(|t|/√df), P(|T| ≤ |t|) is
        odd df:  (2/π)·(θ + sinθ·(cosθ + (2/3)cos³θ + (2·4)/(3·5)cos⁵θ + … up to cos^(df−2)θ))
        even df: sinθ·(1 + (1/2)cos²θ + (1·3)/(2·4)cos⁴θ + … up to cos^(df−2)θ)
    Exact finite sums, so no special-function library is needed.
    """
    if df < 1:
        raise ValueError(f"the t distribution needs df >= 1, got {df}")
    theta = math.atan(abs(t) / math.sqrt(df))
    sin, cos2 = math.sin(theta), math.cos(theta) ** 2
    if df % 2:
        term = math.cos(theta)  # the cos^(2j+1) term, coefficient ∏ 2i/(2i+1)
        series = term if df > 1 else 0.0
        for j in range(1, (df - 1) // 2):
            term *= cos2 * (2 * j) / (2 * j + 1)
            series += term
        central = 2 / math.pi * (theta + sin * series)
    else:
        term = series = 1.0  # the cos^(2j) term, coefficient ∏ (2i−1)/(2i)
        for j in range(1, df // 2):
            term *= cos2 * (2 * j - 1) / (2 * j)
            series += term
        central = sin * series
    return 0.5 + math.copysign(min(central, 1.0) / 2, t)


def t_quantile(q: float, df: int) -> float:
    """The q-quantile of Student's t with df degrees of freedom, by bisection on `t_cdf`."""
    if not 0 < q < 1:
        raise ValueError(f"a quantile needs 0 < q < 1, got {q}")
    if q < 0.5:
        return -t_quantile(1 - q, df)
    if df > 1000:  # A&S 26.7.5: z plus terms in 1/df, error < 1e-10 here, and no df/2-term sums to bisect
        z = statistics.NormalDist().inv_cdf(q)
        return (z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
                + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3))
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < q:
        lo, hi = hi, 2 * hi
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if t_cdf(mid, df) < q else (lo, mid)
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return (lo + hi) / 2


def mean_interval(
    per_task_values: Sequence[float], level: float = 0.95, bounds: tuple[float, float] = (0.0, 1.0)
) -> tuple[float, float]:
    """t-interval of the mean over tasks, the tasks being the sampled units (clusters of trials).

        mean ± t_{(1+level)/2, n−1} · sd / √n,   clipped to `bounds` (the range the mean can take)
    Why not a percentile bootstrap: with 6–10 tasks it covers 84–91% instead of 95% (it uses the plug-in
    sd and normal-width quantiles); the t quantile with n−1 df is what restores the coverage
    (docs/evaluation-statistics.md has the calibration). One task gives no spread: the whole range.
    """
    n = len(per_task_values)
    if n == 0:
        raise ValueError("an interval over tasks needs at least one task")
    if n == 1:
        return bounds
    mean = statistics.fmean(per_task_values)
    half = t_quantile((1 + level) / 2, n - 1) * statistics.stdev(per_task_values) / math.sqrt(n)
    return (max(bounds[0], mean - half), min(bounds[1], mean + half))


def paired_delta(pairs: Sequence[tuple[float, float]], level: float = 0.95) -> tuple[float, float, float]:
    """(Δ, lo, hi) for pairs (baseline p_t, condition p_t) of the same tasks: d_t = cond − base, Δ = mean d_t.

    The interval is over the per-task differences, so each task's two arms stay together (paired design).
    """
    diffs = [condition - base for base, condition in pairs]
    lo, hi = mean_interval(diffs, level, bounds=(-1.0, 1.0))
    return (statistics.fmean(diffs), lo, hi)


MANY_MOVED_TASKS = 1000


def sign_flip_test(diffs: Sequence[float], seed: int = 0, resamples: int = 10_000) -> float:
    """Exact two-sided paired permutation test (Fisher–Pitman) of the per-task differences d_t.

    Under "the skill changes nothing" a task's two arms are exchangeable, so each d_t is as likely to
    have either sign: p = P(|Σ s_t·|d_t|| ≥ |Σ d_t|) over the 2^n sign vectors s. Exact (a false-positive
    rate at most α) and, unlike the sign test, it weighs how much each task moved. With one trial per task
    every |d_t| is 1 and this is McNemar's exact test. The distribution of the sum is built by convolution
    on the grid of multiples of 1/L (L: the common denominator of the d_t, e.g. k); when that grid would
    be too fine (uneven trial counts), `resamples` seeded sign vectors estimate p instead, counted with the
    observed one so the estimate stays valid. Past 1,000 moved tasks the sum is normal to within a
    fraction of a percent of p (continuity-corrected), and exact sums would cost seconds.
    """
    moved = [Fraction(d).limit_denominator(1000) for d in diffs if d != 0]
    if not moved:
        return 1.0
    grid = math.lcm(*(f.denominator for f in moved))
    sizes = [abs(int(f * grid)) for f in moved]
    observed = abs(sum(int(f * grid) for f in moved))
    total = sum(sizes)
    if len(sizes) > MANY_MOVED_TASKS:  # the sum's null law is normal here (CLT), sd √Σ size², lattice step 2·gcd
        step = math.gcd(*sizes)
        z = max(0, observed - step) / math.sqrt(sum(size * size for size in sizes))
        return min(1.0, 2 * (1 - statistics.NormalDist().cdf(z)))
    import numpy  # only here: the convolution (or the drawn signs) in one vectorised pass

    if total <= 1_000_000 and len(sizes) * total <= 300_000_000:
        positive = numpy.zeros(total + 1)  # P(sum of the sizes given a + sign = j); sum = 2j − total
        positive[0] = 1.0
        for size in sizes:
            positive[size:] = 0.5 * positive[size:] + 0.5 * positive[:-size].copy()
            positive[:size] *= 0.5
        sums = numpy.abs(2 * numpy.arange(total + 1) - total)
        return min(1.0, float(positive[sums >= observed].sum()))
    rng, weights, extreme = numpy.random.default_rng(seed), numpy.array(sizes, dtype=float), 0
    rows = max(1, 2_000_000 // len(sizes))  # sign vectors per block: memory stays near 16 MB for any n
    for start in range(0, resamples, rows):
        signs = rng.choice((-1.0, 1.0), size=(min(rows, resamples - start), len(sizes)))
        extreme += int((numpy.abs(signs @ weights) >= observed).sum())
    return (1 + extreme) / (1 + resamples)


def significance_test_name(k: int) -> str:
    """The name of `sign_flip_test` for this design: McNemar's exact test at k = 1 (the same numbers)."""
    return "mcnemar_exact" if k == 1 else "paired_permutation_exact"


# With n tasks the smallest two-sided exact p is 2/2^n, below 0.05 only from n = 6 on.
MIN_TASKS_FOR_SIGNIFICANCE = 6
# Below this many tasks the 95% interval of Δ covered the true Δ in as few as 91% (10–19 tasks) and 83%
# (6–9 tasks) of simulated evals (benchmarks/eval_calibration.py: tasks stuck at pass rate 0 or 1 leave
# few that can move, and per-task gains spread out skew the differences).
MIN_TASKS_FOR_COVERAGE = 20


def minimum_detectable_effect(diffs: Sequence[float], alpha: float = ALPHA, power: float = POWER) -> float | None:
    """Smallest |Δ| a paired design over these tasks detects with the given power (two-sided α).

        MDE = (t_{1−α/2, n−1} + t_{power, n−1}) · sd(d) / √n      (≈ 2.80 · sd(d)/√n for many tasks)
    the t-test's power formula, matching the t-interval the verdict reads. sd is the sample standard
    deviation of the per-task differences d_t. Fallbacks: sd = 0 (every task moved alike, so the sample
    says nothing about spread) uses sd = 0.5, the largest spread of a single pass/fail outcome, as a
    planning value; fewer than 6 tasks gives None, since the exact test cannot reach p < 0.05 at all
    there. Capped at 1, the largest possible change of a pass rate.
    """
    n = len(diffs)
    if n < MIN_TASKS_FOR_SIGNIFICANCE:
        return None
    t = t_quantile(1 - alpha / 2, n - 1) + t_quantile(power, n - 1)
    sd = statistics.stdev(diffs) or 0.5
    return min(1.0, t * sd / math.sqrt(n))


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


def spearman_interval(
    pairs: Sequence[tuple[float, float]], level: float = 0.95
) -> tuple[float | None, float | None, float | None]:
    """(ρ, lo, hi): Spearman ρ of the pairs and its CI by Fisher's z with the Bonett–Wright (2000) variance.

        z = atanh(ρ),  se = √((1 + ρ²/2) / (n − 3)),  CI = tanh(z ± z_{(1+level)/2} · se)
    Why: a percentile bootstrap of ρ over a few tasks is too narrow, and Δ per task takes few values
    (multiples of 1/k), so resamples often have a constant side; this closed form held its coverage in
    simulation (tests/evaluate/test_pdi_correlation.py). Needs 4 pairs: (ρ, None, None) below that or
    when ρ is undefined. |ρ| = 1 is pulled to 0.9999 so the interval stays finite.
    """
    rho = spearman([x for x, _ in pairs], [y for _, y in pairs])
    n = len(pairs)
    if rho is None or n < 4:
        return (rho, None, None)
    r = max(-0.9999, min(0.9999, rho))
    half = statistics.NormalDist().inv_cdf((1 + level) / 2) * math.sqrt((1 + r * r / 2) / (n - 3))
    return (rho, math.tanh(math.atanh(r) - half), math.tanh(math.atanh(r) + half))
