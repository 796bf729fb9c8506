"""The live proxy inside `explore` gives the hand-computed snapshots of the flip fixture, with and
without a Ctrl-C + --resume in the middle, and `pdi replay --check` of its own log agrees."""

import asyncio
import json

import pytest
from typer.testing import CliRunner

from skillspark.explore.loop import TaskExplorer
from skillspark.explore.settings import ExploreSettings
from skillspark.explore.runner import AttemptOutcome
from skillspark.llm.client import LLMClient
from skillspark.pdi.commands import app

from .scenarios import FLIP, FLIP_EXPECTED


class FlipRunner:
    """Plays the attempts of the flip fixture; `hang_at` blocks that attempt until cancelled."""

    def __init__(self, hang_at: int | None = None):
        self.hang_at = hang_at
        self.ran: list[int] = []

    async def run(self, task_dir, *, attempt, extra_prompt, jobs_dir):
        self.ran.append(attempt)
        if attempt == self.hang_at:
            await asyncio.sleep(3600)
        a = FLIP[attempt]
        stdout = "".join(f"FAILED {t} - AssertionError\n" for t in a.failed)
        commands = [a.commands] if a.commands else []
        if a.status == "INFRA_ERROR":
            return AttemptOutcome(status="infra_error", exception_message="environment build failed",
                                  verifier_stdout=stdout)  # fmt: skip
        return AttemptOutcome(reward=0.0, verifier_stdout=stdout, commands=commands)


@pytest.fixture
def task_dir(tmp_path):
    task = tmp_path / "flip-task"
    (task / "tests").mkdir(parents=True)
    (task / "tests" / "test_outputs.py").write_text("def test_a():\n    assert True\n")
    return task


def explorer(task_dir, server, runner, tmp_path, resume=False):
    settings = ExploreSettings(model=server.model, api_base=server.base_url, output=tmp_path / "out",
                               max_retries=len(FLIP), resume=resume)  # fmt: skip
    client = LLMClient(server.model, api_base=server.base_url, max_retries=0)
    return TaskExplorer(task_dir, "flip-task", "Fix the tests.", settings, runner, client, client)


def assert_flip_snapshots(log_path):
    records = [json.loads(line) for line in log_path.read_text().splitlines()]
    snaps = [r for r in records if r["type"] == "pdi_snapshot"]
    assert [(s["attempt"], s["step"]) for s in snaps] == [(e.attempt, e.step) for e in FLIP_EXPECTED]
    for s, e in zip(snaps, FLIP_EXPECTED, strict=True):
        got = (s["proxy_exec"], s["proxy_plan"], s["proxy_oss"], s["raw_pdi"], s["weight"], s["weighted_pdi"])
        assert got == pytest.approx((e.exec_, e.plan, e.oss, e.raw, e.weight, e.weight * e.raw), abs=1e-4), e
        assert s["level"] == e.level
    replayed = CliRunner().invoke(app, ["replay", "--check", str(log_path)])
    assert replayed.exit_code == 0 and "matched 4/4 logged snapshots" in replayed.output


async def test_live_proxy_gives_the_hand_computed_flip_snapshots(task_dir, scripted_llm, tmp_path):
    for a in FLIP:
        if a.memo is not None:
            scripted_llm.push(a.memo)
    summary = await explorer(task_dir, scripted_llm, FlipRunner(), tmp_path).run()
    assert summary.status_trajectory == ["FAIL", "FAIL", "INFRA_ERROR", "FAIL", "FAIL"]
    # the intervention an attempt saw is the level of the snapshot before it (the infra error changes nothing)
    assert summary.interventions == [None, None, "soft", "soft", "strong"]
    assert_flip_snapshots(tmp_path / "out" / "flip-task" / "trajectory.jsonl")


async def test_live_proxy_after_ctrl_c_and_resume_gives_the_same_snapshots(task_dir, scripted_llm, tmp_path):
    for a in FLIP[:4]:
        if a.memo is not None:
            scripted_llm.push(a.memo)
    first = FlipRunner(hang_at=4)
    job = asyncio.create_task(explorer(task_dir, scripted_llm, first, tmp_path).run())
    while 4 not in first.ran:
        await asyncio.sleep(0.01)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job

    scripted_llm.push(FLIP[4].memo)
    second = FlipRunner()
    summary = await explorer(task_dir, scripted_llm, second, tmp_path, resume=True).run()
    assert second.ran == [4]  # the proxy state of attempts 0-3 was rebuilt, not re-run
    assert summary.interventions == [None, None, "soft", "soft", "strong"]
    assert_flip_snapshots(tmp_path / "out" / "flip-task" / "trajectory.jsonl")
