"""`eval --skills-mode`: every arm is shown its skills the same way, and the mode is recorded.

The placebo is the control of a skill arm: in inline mode its prompt must differ from the skill arm's only
where the skill text is, or a difference in results could come from the prompt's shape instead.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import shutil
from pathlib import Path

import pytest

from skillspark import config as _config  # noqa: F401  (offline litellm before anything imports it)
from skillspark.agents.skill_context import SkillsMode
from skillspark.errors import UserError
from skillspark.evaluate.conditions import PLACEBO_DIR, parse_conditions
from skillspark.evaluate.runner import EvalRequest, plan_eval, run_eval
from skillspark.harbor.tasks import load_task

pytestmark = pytest.mark.timeout(600)
REPO = Path(__file__).resolve().parents[2]
TASK = REPO / "examples" / "decisive-tasks" / "deploy-codeword"
SKILL_BLOCK = re.compile(r'<skill name="[^"]+">\n.*?\n</skill>\n', re.S)


def answer_from_the_prompt(request) -> str:
    """A student that runs the first bash block of a skill in its system prompt, else writes a guess."""
    if any(m.get("role") == "assistant" for m in request.messages[5:]):
        return "Done.\n```bash\nsubmit\n```"
    task = str(request.messages[5]["content"])
    found = re.search(r"```bash\n(echo [^\n]+)\n```\n</skill>", task)
    command = found.group(1) if found else "echo guess > /app/answer.txt"
    return f"Following the skill.\n```bash\n{command}\n```"


def test_placebo_prompt_differs_from_the_skill_arms_only_in_the_skill_text(scripted_llm, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-inline")
    scripted_llm.responder = answer_from_the_prompt
    task = shutil.copytree(TASK, tmp_path / "tasks" / TASK.name)
    req = EvalRequest(models=[scripted_llm.model], api_base=scripted_llm.base_url, k=1, output=tmp_path / "out",
                      conditions=parse_conditions(["none", "curated", "placebo"]), skills_mode=SkillsMode.inline,
                      max_steps=3)
    plan = plan_eval(req, [load_task(task)])
    results = asyncio.run(run_eval(req, plan))

    assert {r.condition: r.status for r in results} == {"none": "fail", "curated": "pass", "placebo": "fail"}
    assert {r.skills_mode for r in results} == {"inline"}
    firsts = {}
    for request in scripted_llm.requests:
        if len(request.messages) == 6:  # system, the demonstration's four turns, the task
            task = request.messages[5]["content"]
            arm = "curated" if "quokka" in task else "placebo" if "<skill" in task else "none"
            firsts[arm] = request.messages
    assert set(firsts) == {"none", "curated", "placebo"}
    curated, placebo = firsts["curated"], firsts["placebo"]
    assert [m["role"] for m in curated] == [m["role"] for m in placebo]
    assert curated[:5] == placebo[:5] == firsts["none"][:5]  # system message and demonstration, word for word
    skill_texts = [SKILL_BLOCK.findall(m[5]["content"]) for m in (curated, placebo)]
    assert skill_texts[0] != skill_texts[1] and all(len(t) == 1 for t in skill_texts)
    assert "morse" in skill_texts[1][0].lower() and (PLACEBO_DIR / "morse-code" / "SKILL.md").is_file()
    assert SKILL_BLOCK.sub("", curated[5]["content"]) == SKILL_BLOCK.sub("", placebo[5]["content"])
    assert "<skill" not in firsts["none"][5]["content"]


def test_mode_is_in_the_fingerprint_results_and_summary(tmp_path):
    from rich.console import Console

    from skillspark.evaluate.results import EvalResult, append_result, write_config
    from skillspark.evaluate.service import write_outputs

    req = EvalRequest(models=["openai/gpt-4o-mini"], conditions=parse_conditions(["none", "placebo"]),
                      output=tmp_path / "out", skills_mode=SkillsMode.inline, api_base="http://127.0.0.1:9/v1")
    from skillspark.evaluate.runner import agent_spec

    assert agent_spec(req, "openai/gpt-4o-mini", tmp_path, None, None).kwargs["skills_mode"] == "inline"
    write_config(req.output, {"fingerprint": {"k": 1, "skills_mode": "inline"}})
    for arm, passed in (("none", False), ("placebo", True)):
        append_result(req.output, EvalResult(
            task="t", condition=arm, model="m", trial=0, reward=float(passed), passed=passed,
            status="pass" if passed else "fail", tokens_in=1, tokens_out=1, cost_usd=None, duration_s=1.0,
            skill_sha256=None, skill_read=False, trial_dir="d", skills_mode="inline"))
    write_outputs(req.output, console=Console(file=io.StringIO()))
    assert json.loads((req.output / "summary.json").read_text())["skills_mode"] == "inline"
    old_line = json.loads((req.output / "results.jsonl").read_text().splitlines()[0])
    del old_line["skills_mode"]  # a line written before the flag existed still reads, as pointer mode
    assert EvalResult.model_validate(old_line).skills_mode == "pointer"


def test_inline_mode_with_another_agent_is_refused(tmp_path):
    req = EvalRequest(models=["m"], conditions=parse_conditions(["none"]), output=tmp_path / "out",
                      agent="tests.evaluate.student_agent:StudentAgent", skills_mode=SkillsMode.inline)
    with pytest.raises(UserError, match="--skills-mode inline with --agent"):
        plan_eval(req, [])
