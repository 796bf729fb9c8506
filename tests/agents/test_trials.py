"""The one trial runner (`agents.trials`): order, parallelism, the budget, a refused key, infra retries.

Trials here are coroutines that return a recorded `TrialOutcome`, so each rule is checked on its own;
the real Harbor trials behind them run in test_run_command.py, tests/evaluate and tests/explore.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from skillspark.agents import trials
from skillspark.harbor.trials import TrialOutcome
from skillspark.llm.budget import Budget
from skillspark.llm.errors import AuthenticationFailed


def outcome(name: str, cost: float | None = 0.0, status: str = "ok", refused: bool = False) -> TrialOutcome:
    return TrialOutcome(task_name=name, trial_dir=Path("/nowhere") / name, status=status, cost_usd=cost,
                        exception_type="AuthenticationFailed" if refused else None,
                        exception_message="bad key" if refused else None)


def test_results_keep_the_units_order_whatever_order_trials_end_in():
    async def trial(unit: int, left: float | None) -> TrialOutcome:
        await asyncio.sleep(0.01 * (5 - unit))  # the last unit ends first
        return outcome(str(unit))

    seen: list[int] = []
    done = asyncio.run(trials.run_batch(range(5), trial, budget=Budget(None), parallelism=5,
                                        on_result=lambda unit, _: seen.append(unit)))
    assert [unit for unit, _ in done] == [0, 1, 2, 3, 4]
    assert seen == [4, 3, 2, 1, 0]


def test_no_trial_starts_once_the_budget_is_spent_and_each_gets_what_is_left():
    offered: list[float | None] = []

    async def trial(unit: int, left: float | None) -> TrialOutcome:
        offered.append(left)
        return outcome(str(unit), cost=0.4)

    budget = Budget(1.0, spent_usd=0.1)
    done = asyncio.run(trials.run_batch(range(5), trial, budget=budget))
    assert len(done) == 3  # 0.1 + 0.4 + 0.4 < 1.0 starts a third; 1.3 stops the rest
    assert offered == pytest.approx([0.9, 0.5, 0.1])
    assert budget.spent_usd == pytest.approx(1.3) and budget.calls == 3


def test_a_refused_key_stops_the_batch_after_the_running_trials_and_is_not_reported():
    started: list[int] = []

    async def trial(unit: int, left: float | None) -> TrialOutcome:
        started.append(unit)
        await asyncio.sleep(0.05 if unit == 1 else 0.0)
        return outcome(str(unit), refused=unit == 0)

    reported: list[int] = []
    with pytest.raises(AuthenticationFailed, match="bad key"):
        asyncio.run(trials.run_batch(range(6), trial, budget=Budget(None), parallelism=2,
                                     on_result=lambda unit, _: reported.append(unit)))
    assert started == [0, 1]  # unit 1 was running when 0 was refused: it ends, nothing else starts
    assert reported == [1]


def test_settle_charges_then_raises_for_a_refused_key():
    budget = Budget(None)
    trials.settle(budget, 0.25, None, None)
    with pytest.raises(AuthenticationFailed):
        trials.settle(budget, None, "AuthenticationFailed", "401")
    assert budget.spent_usd == 0.25 and budget.calls == 2


def test_infra_failures_are_retried_a_bounded_number_of_times(monkeypatch, tmp_path):
    from skillspark.harbor import trials as harbor_trials

    statuses = iter(["infra_error", "infra_error", "ok", "ok"])
    calls: list[str] = []

    async def fake_run_trial(task_dir, **kwargs):
        calls.append(kwargs["env"])
        return outcome("t", status=next(statuses))

    monkeypatch.setattr(harbor_trials, "run_trial", fake_run_trial)
    spec = harbor_trials.AgentSpec(name="nop")
    got = asyncio.run(trials.run_trial_retrying(tmp_path, spec, env="local", trials_dir=tmp_path, infra_retries=2))
    assert got.status == "ok" and len(calls) == 3
    statuses = iter(["infra_error"] * 5)
    calls.clear()
    got = asyncio.run(trials.run_trial_retrying(tmp_path, spec, env="local", trials_dir=tmp_path, infra_retries=1))
    assert got.status == "infra_error" and len(calls) == 2


def test_a_remote_model_or_a_model_free_agent_needs_no_embedded_server():
    async def base(model: str, api_base: str | None, agent: str | None) -> str | None:
        async with trials.model_endpoint(model, api_base, agent) as url:
            return url

    assert asyncio.run(base("openai/gpt-4o-mini", None, None)) is None
    assert asyncio.run(base("local/smollm2", "http://127.0.0.1:9/v1", None)) == "http://127.0.0.1:9/v1"
    assert asyncio.run(base("local/smollm2", None, "oracle")) is None
