"""The online PDI proxy: after each reflect step, is exploration grounded or stagnating?

One step per memo rewrite of a task, with M the new memo, M' the memo it replaced ("" before the
first), C the attempt's commands, F its failed tests and F' those of the attempt just before it:

    k      = number of steps so far, this one included, whose M' was not empty
    exec_k = ψ(C → Verified Facts of M)                    0 when M has no facts (coverage for token_overlap)
    plan_k = ψ(Next Strategy of M', Next Strategy of M)     0 when M' is empty
    oss_k  = ½·ψ(Verified Facts of M', Verified Facts of M) + ½·ψ(F', F)     0 when M' is empty
             ψ(F', F): Jaccard of the two sets (token_overlap), ψ over the words of the joined ids
             (js_divergence); 0 when both sets are empty
    raw_k  = z(exec_k) − z(plan_k) − z(oss_k)     z over this task's values so far, this one included
           = exec_k − plan_k − oss_k              while there is only one value
    w_k    = min(1, k / W),  d_k = w_k · raw_k
    triggered_k = enabled ∧ k ≥ 1 ∧ w_k > 0 ∧ d_k < τ;  "strong" if the previous step triggered, else "soft"

This is SPARK's `PDITracker.compute` as its pipeline calls it: k is the length of its memo history
after the rewrite (a memo that replaced an empty one does not advance it), F' belongs to the attempt
immediately before, whatever its status (an INFRA_ERROR one has none: `memo.attempt_failures`), and z
uses the population std (std 0 gives z = 0).

Field semantics of `PdiSnapshot` (as in the SPARK `pdi_snapshot` records): `triggered` and `level` say
what the metric decided, also in observe-only mode; `intervene` (ours) says whether the agent is
actually shown an intervention, i.e. triggered and not observe-only. `level` is None when not triggered.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel

from skillspark.pdi.memo import section
from skillspark.pdi.text import Method, similarity, tokenize

Level = Literal["soft", "strong"]
TAU = -0.5
WARMUP = 2
SNAPSHOT_VALUES = ("proxy_exec", "proxy_plan", "proxy_oss", "raw_pdi", "weight", "weighted_pdi")


class PdiSnapshot(BaseModel):
    """The proxy after one reflect step (field names of SPARK's `pdi_snapshot` records, plus `intervene`)."""

    attempt: int
    step: int
    proxy_exec: float
    proxy_plan: float
    proxy_oss: float
    raw_pdi: float
    weight: float
    weighted_pdi: float
    triggered: bool
    level: Level | None = None
    intervene: bool = False

    def rounded(self, places: int = 4) -> PdiSnapshot:
        """A copy with the float fields rounded, as SPARK writes them to its logs."""
        return self.model_copy(update={k: round(getattr(self, k), places) for k in SNAPSHOT_VALUES})


def zscore(x: float, values: Sequence[float]) -> float:
    """(x − mean) / std over `values` (population std); 0 when the std is 0."""
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return (x - mean) / std if std > 0 else 0.0


class ProxyTracker:
    """Stateful proxy for one task: call `step` after every memo rewrite, in order."""

    def __init__(
        self,
        method: Method = "token_overlap",
        enabled: bool = True,
        observe_only: bool = False,
        tau: float = TAU,
        warmup: int = WARMUP,
    ) -> None:
        if warmup < 1:
            raise ValueError("PDI warm-up W must be at least 1")
        self.method: Method = method
        self.enabled = enabled
        self.observe_only = observe_only
        self.tau = tau
        self.warmup = warmup
        self.history: list[PdiSnapshot] = []
        self.values: dict[str, list[float]] = {"exec": [], "plan": [], "oss": []}
        self.k = 0

    def _psi(self, a: str, b: str, coverage: bool = False) -> float:
        return similarity(self.method, tokenize(a), tokenize(b), coverage=coverage)

    def _failed_similarity(self, before: Sequence[str], now: Sequence[str]) -> float:
        a, b = set(before), set(now)
        if not a and not b:
            return 0.0
        if self.method == "token_overlap":
            return len(a & b) / len(a | b)
        return self._psi(" ".join(a), " ".join(b))

    def step(
        self,
        memo_before: str,
        memo_after: str,
        commands: str,
        failed_tests: Sequence[str],
        previous_failed_tests: Sequence[str],
        *,
        attempt: int,
    ) -> PdiSnapshot:
        """Score the rewrite memo_before → memo_after of `attempt` (see the module docstring)."""
        self.k += bool(memo_before)
        k = self.k
        facts = section(memo_after, "Verified Facts")
        exec_ = self._psi(commands, facts, coverage=True) if facts else 0.0
        if memo_before:
            plan = self._psi(section(memo_before, "Next Strategy"), section(memo_after, "Next Strategy"))
            oss = 0.5 * self._psi(section(memo_before, "Verified Facts"), facts)
            oss += 0.5 * self._failed_similarity(previous_failed_tests, failed_tests)
        else:
            plan = oss = 0.0

        for name, value in (("exec", exec_), ("plan", plan), ("oss", oss)):
            self.values[name].append(value)
        v = self.values
        if len(v["exec"]) == 1:
            raw = exec_ - plan - oss
        else:
            raw = zscore(exec_, v["exec"]) - zscore(plan, v["plan"]) - zscore(oss, v["oss"])
        weight = min(1.0, k / self.warmup)
        weighted = weight * raw
        triggered = self.enabled and k >= 1 and weight > 0 and weighted < self.tau
        level: Level | None = None
        if triggered:
            level = "strong" if self.history and self.history[-1].triggered else "soft"
        snap = PdiSnapshot(
            attempt=attempt,
            step=k,
            proxy_exec=exec_,
            proxy_plan=plan,
            proxy_oss=oss,
            raw_pdi=raw,
            weight=weight,
            weighted_pdi=weighted,
            triggered=triggered,
            level=level,
            intervene=triggered and not self.observe_only,
        )
        self.history.append(snap)
        return snap
