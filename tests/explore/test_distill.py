"""Distillation against the scripted OpenAI endpoint: invented URLs, paths and commands never reach
SKILL.md, the command that worked always does, and metadata says how the skill was grounded."""

import os
import subprocess
import sys
from pathlib import Path

from skillspark.core.skillspec import check_skill_text, split_frontmatter
from skillspark.explore import evidence
from skillspark.explore.distill import distill, hidden_values, strip_wrapper
from skillspark.explore.grounding import Corpus, gate
from skillspark.explore.records import Attempt
from skillspark.llm.client import LLMClient
from skillspark.pdi.log import ReflectStep

TASK = Path(__file__).resolve().parents[2] / "examples" / "tasks" / "hello-greeting"
INSTRUCTION = (TASK / "instruction.md").read_text()
COMMAND = "echo hello > /app/greeting.txt"
RUN = ["ls /app", COMMAND, "cat /app/greeting.txt"]
TEST = "test_outputs.py::test_greeting_says_hello"

INVENTED = f"""---
name: hello-greeting
description: Greet people. See https://greetings.example.org/docs for the full API.
---
# Greeting files
1. Read https://greetings.example.org/docs and https://pypi.org/project/greetlib first.
2. Install the helper: `pip install greetlib==2.1`
3. Put the template in /etc/greetings/template.txt.
```bash
greetlib render --lang en > /app/greeting.txt
```
```python
def greet(name):
    return "Hello, " + name
```
4. Write the file with `{COMMAND}`.
"""
ECHOED = f"""```
# Evidence
### Task Pattern
Create the file `/app/greeting.txt` containing the single word "hello".

### Execution Chain
1. [edit] {COMMAND}
2. [test_greeting_file_exists] if (not exist) {{
#   unittest.py:1045963278
```"""  # what the embedded model answered in a real run: the prompt echoed, no frontmatter
MOSTLY_GROUNDED = f"""---
name: hello-greeting
description: Write a given word into a file. Use when a task asks for a file holding one word.
---
# Write a word to a file
## Procedure
1. Write the word with a redirect:
```bash
{COMMAND}
```
2. The file is /app/greeting.txt; the format is described at https://greetings.example.org/spec.
## Verification
Read `/app/greeting.txt` back before finishing.
"""
NO_COMMAND = """---
name: hello-greeting
description: Write a given word into a file. Use when a task asks for a file holding one word.
---
# Write a word to a file
1. Write the word the task names into /app/greeting.txt with a shell redirect.
2. Read the file back.
"""
GROUNDED = f"---\nname: hello-greeting\ndescription: Write a word to a file.\n---\n# Steps\n```bash\n{COMMAND}\n```\n"
MEMO = ("## Exploration Memo (1 failed attempts)\n\n### Attempts Log\n- #1: wrote hi\n\n"
        "### Commands From Last Attempt\necho hi > /app/greeting.txt\n\n### Verified Facts\n- the file is read\n\n"
        "### Current Error Pattern\nwrong word\n\n### Next Strategy\n- write hello with echo\n")


def bundle(commands=RUN):
    return evidence.collect(instruction=INSTRUCTION, task_dir=TASK, commands=list(commands), reward=1.0,
                            passed_tests=[TEST], attempts=[Attempt(attempt=0, status="PASS", reward=1.0)], memo="",
                            output_tail="wrote /app/greeting.txt")


async def run(server, *, commands=RUN, constants=frozenset({"hello"}), instruction=INSTRUCTION, steps=(), tries=2):
    client = LLMClient(server.model, api_base=server.base_url, max_retries=0)
    return await distill(client, name="hello-greeting", evidence=bundle(commands), instruction=instruction,
                         constants=set(constants), test_names=[TEST], success_commands="\n".join(commands),
                         steps=list(steps), pdi_method="token_overlap", max_tries=tries)


def metadata(text):
    data, _, _ = split_frontmatter(text)
    return data["metadata"]


def without_metadata(text):
    lines = text.splitlines(keepends=True)
    start = lines.index("metadata:\n")
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("  "))
    return "".join(lines[:start] + lines[end:])


async def test_an_inventing_model_is_reasked_once_then_the_skill_is_assembled_from_evidence(scripted_llm, tmp_path):
    scripted_llm.push(INVENTED)
    scripted_llm.push(INVENTED)
    result = await run(scripted_llm)

    assert len(scripted_llm.requests) == 2 and result.tries == 2  # bounded: one re-ask
    reask = scripted_llm.requests[1].last_user_text
    for item in ("https://pypi.org/project/greetlib", "pip install greetlib==2.1", "/etc/greetings/template.txt",
                 "greetlib render --lang en > /app/greeting.txt", "def greet(name):"):
        assert item in reask, item
    text = result.text
    for invented in ("example.org", "pypi.org", "greetlib", "/etc/greetings", "def greet", "Hello, "):
        assert invented not in text, invented
    assert result.grounding == "deterministic" and f"```bash\n{COMMAND}\n```" in text
    meta = metadata(text)
    assert meta["grounding"] == "deterministic" and meta["grounding-note"].startswith("7 of 8 URLs, paths and commands")
    assert (meta["grounding-invented-urls"], meta["grounding-invented-paths"], meta["grounding-invented-commands"],
            meta["grounding-invented-code-blocks"], meta["grounding-commands-added"]) == ("3", "1", "2", "1", "0")
    # assembled from the blocks, and itself grounded in them
    for heading in ("## When to use", "## Commands that worked", "## Verification", "## Lessons", "## Environment"):
        assert heading in text
    assert "python:3.11-slim-bookworm" in text and "reward 1 with 1 check(s) passing" in text
    assert "test_greeting_says_hello" not in text
    assert gate(text, Corpus(bundle().render() + INSTRUCTION), [COMMAND]).removed == []
    folder = tmp_path / "hello-greeting"
    folder.mkdir()
    (folder / "SKILL.md").write_text(text)
    cli = [sys.executable, "-c", "from skillspark.cli import main; main()", "skills", "validate", str(folder)]
    done = subprocess.run(cli, capture_output=True, text=True, check=False, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0 and "1 skill(s) valid" in done.stdout


async def test_an_answer_without_frontmatter_even_when_told_is_replaced_by_the_assembled_skill(scripted_llm):
    scripted_llm.push(ECHOED)
    scripted_llm.push(ECHOED)
    result = await run(scripted_llm)

    assert "spec: frontmatter: no YAML frontmatter" in scripted_llm.requests[1].last_user_text
    assert result.grounding == "deterministic" and "unittest" not in result.text and "# Evidence" not in result.text
    meta = metadata(result.text)
    assert meta["grounding-note"] == "the model's answer is no SKILL.md (no readable frontmatter, even when told)"
    assert meta["grounding-invented-paths"] == "1" and f"```bash\n{COMMAND}\n```" in result.text


async def test_a_few_invented_items_are_removed_from_the_models_skill(scripted_llm):
    scripted_llm.push(MOSTLY_GROUNDED)
    scripted_llm.push(MOSTLY_GROUNDED)
    result = await run(scripted_llm)

    assert len(scripted_llm.requests) == 2
    reask = scripted_llm.requests[1].last_user_text
    assert "not in the evidence, remove it: url `https://greetings.example.org/spec`" in reask
    assert result.grounding == "model" and result.repaired
    assert without_metadata(result.text) == MOSTLY_GROUNDED.replace(
        "2. The file is /app/greeting.txt; the format is described at https://greetings.example.org/spec.\n", "")
    meta = metadata(result.text)
    assert meta["grounding"] == "model" and meta["grounding-invented-urls"] == "1"
    assert meta["grounding-invented-commands"] == meta["grounding-commands-added"] == "0"


async def test_a_model_that_omits_the_command_that_worked_gets_it_added(scripted_llm):
    scripted_llm.push(NO_COMMAND)
    scripted_llm.push(NO_COMMAND)
    result = await run(scripted_llm)

    assert f"quote this command that worked, verbatim: `{COMMAND}`" in scripted_llm.requests[1].last_user_text
    assert result.grounding == "model"
    assert without_metadata(result.text) == NO_COMMAND + (
        "\n## Commands that worked\nThe successful attempt ran these commands, in this order:\n\n"
        f"```bash\n{COMMAND}\n```\n")
    assert metadata(result.text)["grounding-commands-added"] == "1"
    assert check_skill_text(result.text, "hello-greeting") == []


async def test_a_grounded_answer_passes_unchanged_but_for_metadata_with_phis_by_hand(scripted_llm):
    scripted_llm.push(GROUNDED)
    step = ReflectStep(attempt=0, memo_before="", memo_after=MEMO, commands="echo hi > /app/greeting.txt",
                       failed_tests=[TEST])
    result = await run(scripted_llm, steps=[step])

    assert len(scripted_llm.requests) == 1 and result.problems == [] and not result.repaired
    assert without_metadata(result.text) == GROUNDED
    # the skill's word types: name hello greeting description write a word to file steps bash echo app txt (14)
    # φ_exec: their coverage by the commands `ls /app; echo hello > ...; cat ...` = {app echo hello greeting txt}: 5/14
    # φ_plan: Jaccard with "write hello with echo" = 3 / 15;  φ_oss: one reflect step -> 0
    assert metadata(result.text) == {
        "grounding": "model", "grounding-note": "the model's skill, unchanged",
        "grounding-invented-urls": "0", "grounding-invented-paths": "0", "grounding-invented-commands": "0",
        "grounding-invented-code-blocks": "0", "grounding-commands-added": "0",
        "pdi-method": "token_overlap", "pdi-phi-exec": "0.3571", "pdi-phi-plan": "0.2000", "pdi-phi-oss": "0.0000",
    }


async def test_unavailable_distiller_gives_the_assembled_skill_without_hidden_answers(scripted_llm):
    scripted_llm.push(status=503, error="overloaded")
    commands = ["echo 42 > /app/answer.txt"]
    result = await run(scripted_llm, commands=commands, constants={"42"}, tries=3,
                       instruction="Write the answer to /app/answer.txt.")

    assert len(scripted_llm.requests) == 1 and result.grounding == "deterministic"
    assert "echo <value> > /app/answer.txt" in result.text and "42" not in without_metadata(result.text)
    assert metadata(result.text)["grounding-note"] == "distiller unavailable (LLMUnavailable)"
    assert check_skill_text(result.text, "hello-greeting") == []


def test_wrappers_are_stripped_but_a_closing_code_fence_stays():
    assert strip_wrapper(f"<think>plan it</think>\n```markdown\n{GROUNDED}```\n") == GROUNDED
    assert strip_wrapper(f"```markdown\n{GROUNDED}") == GROUNDED  # closing wrapper missing: the block's fence stays
    assert strip_wrapper(GROUNDED) == GROUNDED


def test_hidden_values_are_the_ones_the_instruction_does_not_state():
    assert hidden_values({"hello", "1234.5", "hell"}, "Write `hello` to /app/greeting.txt") == {"1234.5", "hell"}


def test_reflect_steps_pair_each_memo_with_the_one_it_replaced():
    attempts = [Attempt(attempt=0, status="FAIL", reward=0, agent_commands="a", failed_tests=["t1"],
                        memo_version=1),
                Attempt(attempt=1, status="INFRA_ERROR", reward=0),
                Attempt(attempt=2, status="FAIL", reward=0, agent_commands="b", memo_version=2),
                Attempt(attempt=3, status="PASS", reward=1)]
    steps = evidence.reflect_steps(attempts, ["m1", "m2"])
    assert [(s.attempt, s.memo_before, s.memo_after, s.commands, s.failed_tests) for s in steps] == [
        (0, "", "m1", "a", ["t1"]), (2, "m1", "m2", "b", [])]
