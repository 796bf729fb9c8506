"""`--skills-mode inline`: which skill texts reach the system prompt, within which bounds, and the record."""

from __future__ import annotations

from pathlib import Path

from skillspark.agents.prompts import instance_prompt
from skillspark.agents.skill_context import SkillText, inline_skills, read_host_skills


def skill(name: str, text: str) -> SkillText:
    return SkillText(name=name, size=len(text.encode()), text=text)


def test_each_skill_is_shown_whole_in_name_order_within_the_caps():
    block = inline_skills([skill("b-two", "second body"), skill("a-one", "first body")], path="/skills",
                          others=["/root/.claude/skills"])
    assert block.text.index('<skill name="a-one">\nfirst body\n</skill>') < block.text.index('<skill name="b-two">')
    assert "/skills" in block.text and "/root/.claude/skills" in block.text
    assert [(s.name, s.chars, s.shown_chars, s.truncated) for s in block.skills] == [
        ("a-one", 10, 10, False), ("b-two", 11, 11, False)]
    assert block.left_out == [] and "cut here" not in block.text
    assert instance_prompt("Do it.", [block.text]).startswith(block.text.strip())


def test_a_long_skill_is_cut_at_its_cap_with_a_marker_naming_the_whole_file():
    block = inline_skills([skill("long", "x" * 50)], path="/skills", others=[], max_skill_chars=20)
    assert "x" * 20 + "\n[... the rest of this SKILL.md is cut here; read it whole in /skills/long/SKILL.md ...]" \
        in block.text
    assert "x" * 21 not in block.text
    [record] = block.skills
    assert (record.chars, record.shown_chars, record.truncated) == (50, 20, True)


def test_the_total_budget_cuts_the_last_skill_and_leaves_out_the_rest_by_name():
    skills = [skill(name, "y" * 30) for name in ("a", "b", "c")]
    block = inline_skills(skills, path="/skills", others=[], max_skill_chars=30, max_total_chars=45)
    assert [(s.name, s.shown_chars, s.truncated) for s in block.skills] == [("a", 30, False), ("b", 15, True)]
    assert block.left_out == ["c"]
    assert "More skills, not shown here (the prompt's budget is spent): /skills/c/SKILL.md" in block.text
    assert block.record()["left_out"] == ["c"] and "text" not in block.record()


def test_a_file_longer_than_what_was_read_counts_as_cut():
    """Only the head of a huge SKILL.md is read; the record must still say it was cut."""
    block = inline_skills([SkillText(name="huge", size=10**9, text="head")], path="/skills", others=[])
    assert block.skills[0].truncated and "cut here" in block.text


def test_host_reading_skips_links_and_reads_only_the_head(tmp_path: Path):
    (tmp_path / "secret.txt").write_text("root-only secret")
    (tmp_path / "skills" / "linked").mkdir(parents=True)
    (tmp_path / "skills" / "linked" / "SKILL.md").symlink_to(tmp_path / "secret.txt")
    (tmp_path / "skills" / "folder-link").symlink_to(tmp_path / "skills" / "real")
    (tmp_path / "skills" / "real").mkdir()
    (tmp_path / "skills" / "real" / "SKILL.md").write_text("z" * 1000)
    found = read_host_skills(tmp_path / "skills", max_chars=10)
    assert [(s.name, s.size) for s in found] == [("real", 1000)]
    assert len(found[0].text) < 1000


class LocalShell:
    """The one call `read_environment_skills` makes of an environment, run by this host's bash."""

    async def exec(self, command: str, user: str, timeout_sec: int):
        import subprocess
        from types import SimpleNamespace

        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=timeout_sec)
        return SimpleNamespace(stdout=done.stdout, return_code=done.returncode)


def test_environment_reading_lists_skills_as_the_host_does(tmp_path: Path):
    """Inside the environment the same skills are read as on the host: links to folders or files left out."""
    import asyncio

    from skillspark.agents.skill_context import read_environment_skills

    (tmp_path / "secret.txt").write_text("root-only secret")
    skills = tmp_path / "skills"
    (skills / "linked").mkdir(parents=True)
    (skills / "linked" / "SKILL.md").symlink_to(tmp_path / "secret.txt")
    (skills / "real").mkdir()
    (skills / "real" / "SKILL.md").write_text("z" * 1000)
    (skills / "folder-link").symlink_to(skills / "real")
    (skills / "notes").mkdir()
    inside = asyncio.run(read_environment_skills(LocalShell(), str(skills), max_chars=10))
    host = read_host_skills(skills, max_chars=10)
    assert [(s.name, s.size) for s in inside] == [(s.name, s.size) for s in host] == [("real", 1000)]
    assert inside[0].text == host[0].text == "z" * 44  # the same byte cap on both sides


def test_run_refuses_inline_mode_with_another_agent():
    import pytest

    from skillspark.agents.runner import RunRequest, agent_spec, check_request
    from skillspark.agents.skill_context import SkillsMode
    from skillspark.errors import UserError

    with pytest.raises(UserError, match="--skills-mode inline with --agent oracle: only the skillspark agent"):
        check_request(RunRequest(tasks=[], agent="oracle", skills_mode=SkillsMode.inline))
    ours = agent_spec(RunRequest(tasks=[], skills_mode=SkillsMode.inline), api_base=None, max_cost_usd=None)
    assert ours.kwargs["skills_mode"] == "inline"


def test_the_agent_refuses_an_unknown_mode(tmp_path: Path):
    import pytest

    from skillspark.agents.bash_agent import SkillsparkAgent

    with pytest.raises(ValueError, match="skills_mode='verbatim': use one of pointer, inline"):
        SkillsparkAgent(logs_dir=tmp_path, model_name="m", skills_mode="verbatim")
