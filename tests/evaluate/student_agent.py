"""A scripted student for the eval tests: follows a staged SKILL.md if it finds one, otherwise gives up.

It lists /skills (not a read), reads the first skill's SKILL.md, and runs the first ```bash block in it;
every command goes into an ATIF trajectory, so `skill_read` is measured the way it is for real agents.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from pathlib import Path

from harbor.agents.base import BaseAgent
from harbor.environments.base import BaseEnvironment
from harbor.models.agent.context import AgentContext

from skillspark.agents.skills import PRIMARY_SKILLS_DIR, inject_skills
from skillspark.agents.trajectory import TrajectoryRecorder

BASH_BLOCK = re.compile(r"```bash\n(.*?)```", re.DOTALL)
HOLD_DIR = "SKILLSPARK_TEST_STUDENT_HOLD"  # env: a folder; trials past HOLD_AFTER started ones wait forever
HOLD_AFTER = 2
COST_USD = 0.01  # what one trial "spends", so the tests can check accounting and --max-cost


class StudentAgent(BaseAgent):
    @staticmethod
    def name() -> str:
        return "skillspark-test-student"

    def version(self) -> str:
        return "1"

    async def setup(self, environment: BaseEnvironment) -> None:
        if self.skills_dir:
            await inject_skills(environment, self.skills_dir)

    async def run(self, instruction: str, environment: BaseEnvironment, context: AgentContext) -> None:
        recorder = TrajectoryRecorder(self.logs_dir / "trajectory.json", agent_name=self.name(), version="1",
                                      model_name=self.model_name, session_id=None)
        recorder.message("user", instruction)
        context.n_input_tokens, context.n_output_tokens, context.cost_usd = 100, 20, COST_USD
        await _maybe_hold()

        async def sh(command: str) -> str:
            result = await environment.exec(command)
            output = (result.stdout or "") + (result.stderr or "")
            recorder.agent_step("", command=command, submit=False, observation=output,
                                prompt_tokens=10, completion_tokens=5, cost_usd=0.0)
            return output

        names = (await sh(f"ls -1 {PRIMARY_SKILLS_DIR} 2>/dev/null")).split()
        if not names:
            recorder.agent_step("no skill: giving up", command=None, submit=True, observation=None,
                                prompt_tokens=10, completion_tokens=5, cost_usd=0.0)
            return
        skill = await sh(f"cat {PRIMARY_SKILLS_DIR}/{names[0]}/SKILL.md")
        if block := BASH_BLOCK.search(skill):
            await sh(block.group(1).strip())


async def _maybe_hold() -> None:
    """For the kill -9 test: let the first HOLD_AFTER trials run, hold the rest until the process dies."""
    folder = os.environ.get(HOLD_DIR)
    if not folder:
        return
    marker = Path(folder) / f"started-{uuid.uuid4().hex}"
    marker.write_text("")
    if len(list(Path(folder).glob("started-*"))) > HOLD_AFTER:
        await asyncio.Event().wait()
