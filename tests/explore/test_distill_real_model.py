"""The embedded SmolLM2 model as the distiller of hello-greeting's skill, through the real local server.

The 135M model echoes its prompt or writes plausible text naming things the run never touched (measured:
both answers of a run rejected, the skill assembled from the evidence). Whatever it writes, the SKILL.md
that comes out must quote the command that solved the task and name nothing the evidence lacks.
"""

from pathlib import Path

import pytest

from skillspark.core.skillspec import check_skill_text, split_frontmatter
from skillspark.explore import evidence
from skillspark.explore.distill import distill
from skillspark.explore.grounding import Corpus, gate
from skillspark.explore.loop import SKILL_MAX_TOKENS
from skillspark.explore.settings import ExploreSettings
from skillspark.explore.records import Attempt
from skillspark.llm.client import LLMClient
from skillspark.llm.local_server import local_model_endpoint

TASK = Path(__file__).resolve().parents[2] / "examples" / "tasks" / "hello-greeting"
COMMAND = "echo hello > /app/greeting.txt"


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_embedded_model_skill_quotes_the_command_that_worked(tmp_path):
    instruction = (TASK / "instruction.md").read_text()
    commands = ["ls /app", COMMAND, "cat /app/greeting.txt"]
    bundle = evidence.collect(instruction=instruction, task_dir=TASK, commands=commands, reward=1.0,
                              passed_tests=["test_outputs.py::test_greeting_says_hello"],
                              attempts=[Attempt(attempt=0, status="PASS", reward=1.0)], memo="", output_tail="hello")
    limits = ExploreSettings(model="local/smollm2").llm_limits("local/smollm2")
    async with local_model_endpoint() as base:
        async with LLMClient("local/smollm2", api_base=base, max_tokens=SKILL_MAX_TOKENS, **limits) as client:
            result = await distill(client, name="hello-greeting", evidence=bundle, instruction=instruction,
                                   constants={"hello"}, test_names=["test_outputs.py::test_greeting_says_hello"],
                                   success_commands="\n".join(commands), steps=[], pdi_method="js_divergence")

    (tmp_path / "SKILL.md").write_text(result.text)  # kept for a look when the test fails
    assert result.tries >= 1 and result.output_tokens > 0  # the model did answer
    assert COMMAND in result.text
    assert check_skill_text(result.text, "hello-greeting") == []
    assert gate(result.text, Corpus(bundle.render() + instruction), [COMMAND]).removed == []
    meta = split_frontmatter(result.text)[0]["metadata"]
    assert meta["grounding"] in ("model", "deterministic") and float(meta["pdi-phi-exec"]) > 0
    print(f"\ngrounding: {meta['grounding']} ({meta['grounding-note']}); tries {result.tries}\n{result.response[:1500]}")
