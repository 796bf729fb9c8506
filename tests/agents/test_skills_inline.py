"""`--skills-mode inline` in real trials (local sandbox, scripted model): the SKILL.md text is in the task message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillspark import config as _config  # noqa: F401  (offline litellm before anything imports it)
from skillspark.agents.prompts import DEMONSTRATION, skill_demonstration
from skillspark.agents.skills import SKILLS_DIRS
from skillspark.harbor.trials import AgentSpec, run_trial

AGENT = "skillspark.agents.bash_agent:SkillsparkAgent"
SKILL = "---\nname: greet\ndescription: Write the greeting.\n---\n# Greet\n```bash\necho hello > /app/greeting.txt\n```\n"
WRITE = "The skill says how.\n```bash\necho hello > /app/greeting.txt\n```"
SUBMIT = "Done.\n```bash\nsubmit\n```"

pytestmark = pytest.mark.timeout(300)


def skills_folder(root: Path) -> Path:
    (root / "greet").mkdir(parents=True)
    (root / "greet" / "SKILL.md").write_text(SKILL)
    return root


async def trial(task: Path, server, tmp_path: Path, **kwargs):
    server.push(WRITE)
    server.push(SUBMIT)
    spec = AgentSpec(import_path=AGENT, model=server.model, kwargs={"api_base": server.base_url} | kwargs)
    return await run_trial(task, agent=spec, trials_dir=tmp_path / "trials")


async def test_inline_puts_the_skill_text_before_the_task_and_records_it(greet_task, scripted_llm, tmp_path):
    skills = skills_folder(tmp_path / "skills")
    outcome = await trial(greet_task, scripted_llm, tmp_path, skills_dir=str(skills), skills_mode="inline")

    assert outcome.reward == 1.0
    first = scripted_llm.requests[0].messages
    task = first[-1]["content"]
    assert task.index(f'<skill name="greet">\n{SKILL.strip()}\n</skill>') < task.index("Task:\nCreate the file")
    assert "read the relevant SKILL.md first" not in task  # no pointer line besides
    assert "<skill" not in first[0]["content"]
    assert first[1:5] == [{"role": r, "content": t} for r, t in skill_demonstration("/skills", SKILLS_DIRS[1:])]
    assert '<skill name="name-file">' in first[1]["content"]  # the toy skill, shown as real ones are
    extra = json.loads(outcome.trajectory_path.read_text())["extra"]
    assert extra["skills_mode"] == "inline"
    assert extra["skills_inline"]["skills"] == [
        {"name": "greet", "chars": len(SKILL.strip()), "bytes": len(SKILL), "shown_chars": len(SKILL.strip()),
         "truncated": False}]


async def test_pointer_mode_keeps_the_one_line_hint_and_no_skill_text(greet_task, scripted_llm, tmp_path):
    skills = skills_folder(tmp_path / "skills")
    outcome = await trial(greet_task, scripted_llm, tmp_path, skills_dir=str(skills))

    assert outcome.reward == 1.0
    first = scripted_llm.requests[0].messages
    assert not any("<skill" in m["content"] for m in first)
    assert first[1:5] == [{"role": r, "content": t} for r, t in DEMONSTRATION]
    assert "read the relevant SKILL.md first" in first[-1]["content"]
    assert json.loads(outcome.trajectory_path.read_text())["extra"]["skills_mode"] == "pointer"


async def test_inline_reads_skills_that_are_only_inside_the_environment(greet_task, scripted_llm, tmp_path):
    """Harbor passes a task's `skills_dir` as a path inside the environment: the text is read from there."""
    (greet_task / "environment" / "skills" / "greet").mkdir(parents=True)
    (greet_task / "environment" / "skills" / "greet" / "SKILL.md").write_text(SKILL)
    dockerfile = greet_task / "environment" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "COPY skills /opt/task-skills\n")
    outcome = await trial(greet_task, scripted_llm, tmp_path, skills_dir="/opt/task-skills", skills_mode="inline",
                          inline_max_skill_chars=40)

    assert outcome.reward == 1.0
    task = scripted_llm.requests[0].messages[-1]["content"]
    assert SKILL.strip()[:40] in task and "cut here; read it whole in /skills/greet/SKILL.md" in task
    record = json.loads(outcome.trajectory_path.read_text())["extra"]["skills_inline"]
    assert [(s["name"], s["bytes"], s["shown_chars"], s["truncated"]) for s in record["skills"]] == [
        ("greet", len(SKILL), 40, True)]
