"""Positive and negative controls for the eval statistics: simulated students with known pass probabilities.

Why: a verdict or an interval is only worth reading once it has stayed quiet where nothing differs and
covered the true effect as often as it claims. Here the truth is planted: tasks are drawn from a
population of difficulties (a Beta mixture with many tasks nearly always failed or passed, like
SkillsBench's), each arm's trials are Bernoulli draws, and every simulated eval goes through the real
`build_summary` (records in, summary.json out), so the figures describe the code users run.

What "true Δ" is: the population Δ, E[p_B − p_A] over the task population, because an interval over
tasks claims to say how a skill does on tasks of this kind, not only on the ones drawn. The planted
effect moves each task's baseline probability p_A to p_B = p_A + g·(1 − p_A) with a per-task gain
g ~ Beta(m·c, (1 − m)·c), independent of p_A, so Δ = m·(1 − E[p_A]) exactly: m is solved from Δ. With
c = 2 the gains are spread (a skill is decisive on some tasks, useless on others), which is what makes
ignoring the tasks dangerous. The sample Δ (mean of p_B − p_A over the drawn tasks) is reported too.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy
from pydantic import BaseModel

from skillspark.evaluate.summary import build_summary

BASELINE, CONDITION, MODEL = "none", "skill", "student"


class TaskPopulation(BaseModel):
    """Per-task baseline pass probabilities: a mixture of Beta(alpha_i, beta_i) with the given weights."""

    weights: tuple[float, ...] = (0.35, 0.20, 0.45)  # nearly always failed, nearly always passed, in between
    alphas: tuple[float, ...] = (0.3, 6.0, 1.5)
    betas: tuple[float, ...] = (6.0, 0.3, 1.5)
    gain_concentration: float = 2.0  # c of the per-task gain's Beta: small = a few tasks gain a lot

    def mean(self) -> float:
        return math.fsum(w * a / (a + b) for w, a, b in zip(self.weights, self.alphas, self.betas, strict=True))

    def draw(self, rng: numpy.random.Generator, n: int) -> numpy.ndarray:
        component = rng.choice(len(self.weights), size=n, p=numpy.array(self.weights) / sum(self.weights))
        return rng.beta(numpy.array(self.alphas)[component], numpy.array(self.betas)[component])

    def planted(self, rng: numpy.random.Generator, p_base: numpy.ndarray, delta: float) -> numpy.ndarray:
        """The condition's probabilities for a population Δ of `delta` (≥ 0).

        p + g·(1 − p) with E[g] = Δ / (1 − E[p]), g drawn apart from p.
        """
        if delta == 0:
            return p_base.copy()
        m = delta / (1 - self.mean())
        if not 0 < m < 1:
            raise ValueError(f"a planted Δ of {delta} needs a mean gain in (0, 1), got {m:.3f}")
        c = self.gain_concentration
        return p_base + rng.beta(m * c, (1 - m) * c, size=p_base.shape) * (1 - p_base)


SKILLSBENCH_LIKE = TaskPopulation()


class Cell(BaseModel):
    """One design: tasks, trials per task and arm, and the planted population Δ (0: the null)."""

    n_tasks: int
    k: int
    delta: float


class Finding(BaseModel):
    """What a method concluded from one simulated eval."""

    delta: float
    lo: float
    hi: float
    outcome: str  # "better", "worse" or anything else (no call)
    mde: float | None = None


class CellResult(BaseModel):
    """One method over one cell's simulated evals: how often it called a difference and covered the truth."""

    cell: Cell
    method: str
    n_evals: int
    better: int
    worse: int
    covered: int  # the 95% CI contained the population Δ
    covered_sample: int  # ... the mean of p_B − p_A over the drawn tasks
    median_mde: float | None

    @property
    def called_rate(self) -> float:
        """Share of evals called better or worse: the false-positive rate under the null."""
        return (self.better + self.worse) / self.n_evals

    @property
    def power(self) -> float:
        """Share of evals called better: the power under a planted Δ > 0."""
        return self.better / self.n_evals

    @property
    def coverage(self) -> float:
        return self.covered / self.n_evals

    @property
    def coverage_sample(self) -> float:
        return self.covered_sample / self.n_evals


Method = Callable[[list[dict], int, int], Finding]  # (records, k, seed) -> Finding


def summary_method(records: list[dict], k: int, seed: int) -> Finding:
    """The method users get: summary.json's comparison of the condition with the baseline."""
    (comparison,) = build_summary(records, k=k, baseline=BASELINE, seed=seed)["comparisons"]
    lo, hi = comparison["ci95"]
    return Finding(delta=comparison["delta"], lo=lo, hi=hi, outcome=comparison["outcome"], mde=comparison["mde"])


def pooled_trials_method(records: list[dict], k: int, seed: int) -> Finding:
    """The deliberately broken control: every trial treated as an independent draw, tasks ignored.

        Δ = P_B − P_A over all trials,  CI = Δ ± 1.96·√(P_A(1−P_A)/m_A + P_B(1−P_B)/m_B)
    It leaves out how much tasks differ from each other, so it is too narrow for the population Δ
    whenever a skill helps some tasks more than others; the calibration must catch that.
    """
    tallies = {BASELINE: [0, 0], CONDITION: [0, 0]}
    for record in records:
        tally = tallies[record["condition"]]
        tally[0] += bool(record["passed"])
        tally[1] += 1
    (pass_a, m_a), (pass_b, m_b) = tallies[BASELINE], tallies[CONDITION]
    p_a, p_b = pass_a / m_a, pass_b / m_b
    delta = p_b - p_a
    half = 1.96 * math.sqrt(p_a * (1 - p_a) / m_a + p_b * (1 - p_b) / m_b)
    outcome = "better" if delta - half > 0 else "worse" if delta + half < 0 else "no difference shown"
    return Finding(delta=delta, lo=delta - half, hi=delta + half, outcome=outcome)


def simulate_records(p_base: numpy.ndarray, p_cond: numpy.ndarray, k: int, rng: numpy.random.Generator) -> list[dict]:
    """results.jsonl-shaped records: k Bernoulli trials per task in each arm."""
    records = []
    for condition, probabilities in ((BASELINE, p_base), (CONDITION, p_cond)):
        passed = rng.random((len(probabilities), k)) < probabilities[:, None]
        for task, row in enumerate(passed.tolist()):
            records += [
                {"task": f"t{task}", "condition": condition, "model": MODEL, "trial": trial, "passed": ok,
                 "status": "pass" if ok else "fail"}
                for trial, ok in enumerate(row)
            ]
    return records


def run_cell(
    cell: Cell,
    n_evals: int,
    seed: int,
    methods: dict[str, Method],
    population: TaskPopulation = SKILLSBENCH_LIKE,
) -> list[CellResult]:
    """Simulate `n_evals` evals of the cell (seeded) and score every method on the same ones."""
    rng = numpy.random.default_rng([seed, cell.n_tasks, cell.k, round(cell.delta * 1000)])
    tallies = {name: {"better": 0, "worse": 0, "covered": 0, "covered_sample": 0, "mdes": []} for name in methods}
    for index in range(n_evals):
        p_base = population.draw(rng, cell.n_tasks)
        p_cond = population.planted(rng, p_base, cell.delta)
        sample_delta = float(numpy.mean(p_cond - p_base))
        records = simulate_records(p_base, p_cond, cell.k, rng)
        for name, method in methods.items():
            found, tally = method(records, cell.k, seed + index), tallies[name]
            tally["better"] += found.outcome == "better"
            tally["worse"] += found.outcome == "worse"
            tally["covered"] += found.lo <= cell.delta <= found.hi
            tally["covered_sample"] += found.lo <= sample_delta <= found.hi
            if found.mde is not None:
                tally["mdes"].append(found.mde)
    return [
        CellResult(
            cell=cell, method=name, n_evals=n_evals, better=t["better"], worse=t["worse"], covered=t["covered"],
            covered_sample=t["covered_sample"], median_mde=float(numpy.median(t["mdes"])) if t["mdes"] else None,
        )
        for name, t in tallies.items()
    ]


def binomial_bounds(rate: float, n: int, z: float = 3.0) -> tuple[float, float]:
    """rate ± z Monte-Carlo standard errors of a share estimated from n independent evals."""
    se = math.sqrt(rate * (1 - rate) / n)
    return (rate - z * se, rate + z * se)



def simulate_pdi_eval(
    n_tasks: int,
    k: int,
    delta: float,
    linked: bool,
    rng: numpy.random.Generator,
    population: TaskPopulation = SKILLSBENCH_LIKE,
    noise: float = 0.5,
) -> tuple[list[dict], list[dict]]:
    """An eval with a planted Δ plus a `pdi score` CSV's rows for its skills.

    linked: each skill's PDI is its task's true gain p_B − p_A, standardised, plus N(0, noise²), so PDI
    and Δ are correlated by construction; otherwise PDI is N(0, 1) drawn apart from everything else.
    """
    p_base = population.draw(rng, n_tasks)
    p_cond = population.planted(rng, p_base, delta)
    gain = p_cond - p_base
    if linked:
        pdi = (gain - gain.mean()) / (gain.std() or 1.0) + rng.normal(0.0, noise, n_tasks)
    else:
        pdi = rng.normal(0.0, 1.0, n_tasks)
    rows = [
        {"task": f"t{task}", "pdi": f"{value:.6f}", "quadrant": "low plan / high exec" if value > 0 else "other"}
        for task, value in enumerate(pdi.tolist())
    ]
    return simulate_records(p_base, p_cond, k, rng), rows
