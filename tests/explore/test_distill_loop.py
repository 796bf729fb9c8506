"""The explore loop hands distillation what happened: the passing attempt's commands, the reflect steps
(for φ_plan), the instruction; an inventing distiller leaves a SKILL.md quoting the command that worked."""

import json

from skillspark.core.skillspec import check_skill_text, split_frontmatter
from skillspark.explore.loop import TaskExplorer
from skillspark.explore.settings import ExploreSettings
from skillspark.explore.runner import AttemptOutcome
from skillspark.llm.client import LLMClient
from tests.explore.test_distill import COMMAND, INSTRUCTION, INVENTED, MEMO, TASK

FAILED = "FAILED test_outputs.py::test_greeting_says_hello - AssertionError"


class TwoAttempts:
    """Attempt 0 writes the wrong word, attempt 1 the right one."""

    async def run(self, task_dir, *, attempt, extra_prompt, jobs_dir, **_):
        if attempt == 0:
            return AttemptOutcome(reward=0.0, verifier_stdout=FAILED, commands=["echo hi > /app/greeting.txt"])
        return AttemptOutcome(reward=1.0, commands=["ls /app", COMMAND], agent_output="done")


async def test_explore_writes_a_grounded_skill_with_phis_from_its_reflect_steps(scripted_llm, tmp_path):
    scripted_llm.push(MEMO)
    scripted_llm.push(INVENTED)
    scripted_llm.push(INVENTED)
    settings = ExploreSettings(model=scripted_llm.model, api_base=scripted_llm.base_url, output=tmp_path,
                               max_retries=2)
    client = LLMClient(scripted_llm.model, api_base=scripted_llm.base_url, max_retries=0)
    summary = await TaskExplorer(TASK, "hello-greeting", INSTRUCTION, settings, TwoAttempts(), client, client).run()

    assert summary.state == "solved" and summary.reason == "passed at attempt 2 (skill assembled from the evidence)"
    skill = (tmp_path / "hello-greeting" / "SKILL.md").read_text()
    assert check_skill_text(skill, "hello-greeting") == []
    assert f"```bash\n{COMMAND}\n```" in skill and "greetlib" not in skill and "example.org" not in skill
    assert "- attempt 1: FAIL, reward 0, 1 failing check(s)" in skill  # the lessons block
    meta = split_frontmatter(skill)[0]["metadata"]
    # the memo's Next Strategy "write hello with echo" shares words with the skill: the reflect step arrived
    assert meta["grounding"] == "deterministic" and float(meta["pdi-phi-plan"]) > 0
    gen = [r for r in map(json.loads, (tmp_path / "hello-greeting" / "trajectory.jsonl").read_text().splitlines())
           if r["type"] == "skill_gen_call"]
    assert len(gen) == 1 and gen[0]["tries"] == 2 and gen[0]["repaired"]
    assert any("pip install greetlib==2.1" in p for p in gen[0]["problems"])
    assert "Execution Chain\n1. [edit] echo hello > /app/greeting.txt" in gen[0]["user_prompt"]
