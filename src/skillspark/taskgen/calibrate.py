"""Optional gate `calibrate` (`--calibrate MODEL`): a reference agent's pass rate over k trials lies in a band.

Why: a task every intended student solves teaches nothing and one none solves measures nothing, so
generation can demand that a reference agent (ours with MODEL, or a Harbor agent) passes some but not
all of k trials. It runs after every other gate accepted (k agent runs on a broken task are waste), and
its cost is charged to the run's `--max-cost` budget.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, model_validator

from skillspark.errors import UserError
from skillspark.taskgen.audit_result import GateOutcome

GATE = "calibrate"


class Calibration(BaseModel):
    model: str
    agent: str | None = None  # a Harbor agent name or import path instead of the skillspark agent
    k: int = Field(default=3, ge=1)
    low: float = Field(default=0.1, ge=0.0, le=1.0)
    high: float = Field(default=0.9, ge=0.0, le=1.0)
    env: str = "local"
    api_base: str | None = None

    @model_validator(mode="after")
    def _band(self) -> Calibration:
        if self.low > self.high:
            raise ValueError("the band's low end is above its high end")
        return self


def parse_band(text: str) -> tuple[float, float]:
    """`--calibrate-band 0.1,0.9` -> (0.1, 0.9); anything else is one UserError line."""
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise UserError(f"--calibrate-band {text!r}: give two pass rates LOW,HIGH such as 0.1,0.9") from None
    if not 0.0 <= low <= high <= 1.0:
        raise UserError(f"--calibrate-band {text!r}: need 0 <= LOW <= HIGH <= 1")
    return low, high


def judge(passed: int, k: int, low: float, high: float) -> GateOutcome:
    """The gate's verdict from `passed` of `k` trials."""
    rate = passed / k
    where = "too hard" if rate < low else "too easy" if rate > high else "within"
    detail = f"reference agent passed {passed} of {k} ({rate:.2f}); band [{low:g}, {high:g}]"
    return GateOutcome(ok=where == "within", detail=detail if where == "within" else f"{where}: {detail}")


async def calibrate(task_dir: Path, calibration: Calibration, work_dir: Path,
                    max_cost_usd: float | None) -> tuple[GateOutcome, float]:
    """Run the k trials; the gate's outcome and what the agents spent."""
    from skillspark.agents.runner import RunRequest, run_tasks

    request = RunRequest(tasks=[task_dir], model=calibration.model, agent=calibration.agent, k=calibration.k,
                         env=calibration.env, api_base=calibration.api_base, max_cost_usd=max_cost_usd)
    outcomes = await run_tasks(request, trials_dir=work_dir)
    passed = sum(o.passed for o in outcomes)
    spent = sum(o.cost_usd or 0.0 for o in outcomes)
    outcome = judge(passed, calibration.k, calibration.low, calibration.high)
    if len(outcomes) < calibration.k:  # the budget ran out before every trial started
        outcome = GateOutcome(ok=False, detail=f"only {len(outcomes)} of {calibration.k} trials ran (--max-cost)")
    return outcome, spent
