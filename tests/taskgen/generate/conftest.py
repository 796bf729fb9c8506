"""Fixtures for `tasks generate` / `tasks vary`: a role-aware script for the scripted endpoint and scripted gates."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from skillspark.taskgen.audit_result import AuditSummary, GateOutcome
from skillspark.taskgen.generate_run import GenerateSettings
from skillspark.taskgen.idea import TaskIdea
from tests.fakes.scripted_openai import Reply, ScriptedRequest

IDEA = TaskIdea(prompt="Sum the order amounts of a CSV file per region and write them as JSON.", name="region totals",
                tools=["python3"], constraints=["standard library only"])


def role(request: ScriptedRequest) -> str:
    """Which stage sent the request: blueprint, repair, critique or vary (read from the prompts)."""
    system = str(request.messages[0].get("content", "")) if request.messages else ""
    if system.startswith("You review"):
        return "critique"
    if system.startswith("You propose"):
        return "vary"
    first_user = str(request.messages[1].get("content", ""))
    return "repair" if first_user.startswith("The task below") else "blueprint"


class Script:
    """Blueprint answers served in order (a string, or a Reply); critiques answer 'no issues'."""

    def __init__(self, *blueprints: str | Reply) -> None:
        self.blueprints = list(blueprints)
        self.critique = '{"issues": []}'

    def __call__(self, request: ScriptedRequest) -> Reply:
        if role(request) == "critique":
            return Reply(text=self.critique)
        assert self.blueprints, "the pipeline asked for more blueprints than the test scripted"
        answer = self.blueprints.pop(0)
        return answer if isinstance(answer, Reply) else Reply(text=answer)


def accepted() -> AuditSummary:
    return AuditSummary(verdict="accepted", gates={"oracle": GateOutcome(ok=True)})


def rejected(gate: str, detail: str) -> AuditSummary:
    return AuditSummary(verdict="rejected", failed_gates=[gate], gates={gate: GateOutcome(ok=False, detail=detail)})


class ScriptedGates:
    """A gate runner answering from a list (or a function of the task dir); records what it was given."""

    def __init__(self, *audits: AuditSummary | Callable[[Path, Path], AuditSummary]) -> None:
        self.audits = list(audits)
        self.calls: list[dict] = []

    async def __call__(self, task_dir: Path, *, references, work_dir: Path) -> AuditSummary:
        self.calls.append({"task_dir": task_dir, "references": list(references), "work_dir": work_dir})
        audit = self.audits.pop(0) if self.audits else accepted()
        return audit(task_dir, work_dir) if callable(audit) else audit


def write_oracle_trial(work_dir: Path, output: str, failing: list[str]) -> None:
    """A trial dir as Harbor's oracle agent leaves it: agent/oracle.txt and verifier/ctrf.json."""
    trial = work_dir / "oracle" / "task__abc"
    (trial / "agent").mkdir(parents=True)
    (trial / "verifier").mkdir(parents=True)
    (trial / "agent" / "oracle.txt").write_text(output)
    tests = [{"name": name, "status": "failed"} for name in failing] + [{"name": "test_ok", "status": "passed"}]
    (trial / "verifier" / "ctrf.json").write_text(json.dumps({"results": {"tests": tests}}))


@pytest.fixture
def settings(scripted_llm) -> GenerateSettings:
    return GenerateSettings(model=scripted_llm.model, api_base=scripted_llm.base_url, llm_retries=2,
                            llm_backoff_s=0.01, llm_timeout_s=30)
