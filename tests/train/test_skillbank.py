"""The skill bank of Skill-SD: skills summarized from rollouts, seeded by SPARK skills, deduplicated, on disk."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from skillspark.core.skill import Skill
from skillspark.train.retrieval import TeacherSkill, load_skills
from skillspark.train.skillbank import EpisodeSummary, Rejected, SkillBank, llm_summarizer, parse_answer
from tests.fakes.scripted_openai import ScriptedOpenAIServer

CHEST = "Open the chest in the attic and take the golden coin"
DOOR = "Unlock the front door of the house"
STOVE = "Cook the soup on the stove"
ANSWER = "Title: Open a locked chest\n- take the key from the table\n- unlock the chest with the key\n- open the chest and take the coin"
NEAR_DUPLICATE = ANSWER.replace("table", "shelf")  # 10 shared words of 12: Jaccard 0.8333
DIFFERENT = NEAR_DUPLICATE.replace("coin", "gem")  # 9 shared words of 13: Jaccard 0.6923


def episode(objective: str, actions: list[str], won: bool) -> EpisodeSummary:
    return EpisodeSummary(objective=objective, actions=actions, won=won, final_observation="You see a room.")


def scripted(*answers: str | Exception) -> tuple[Callable[[str], str], list[str]]:
    """A summarizer answering in order; the prompts it saw."""
    queue, prompts = list(answers), []

    def summarize(prompt: str) -> str:
        prompts.append(prompt)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return summarize, prompts


def events(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "bank.jsonl").read_text().splitlines()]


def seed(name: str, body: str, general: bool = False) -> TeacherSkill:
    return TeacherSkill(name=name, description=f"How to {name}", body=body, keywords=["seedword"], general=general)


def test_wins_and_recurring_failures_become_valid_skill_folders(tmp_path: Path) -> None:
    bank = SkillBank(tmp_path / "bank")
    summarize, prompts = scripted(ANSWER, "Skill: Do not cook raw\n- light the stove first\n- then cook the soup")
    batch = [
        episode(CHEST, ["go up", "take key", "wander", "unlock chest", "open chest"], won=True),
        episode(CHEST, ["go up", "take key", "unlock chest", "open chest"], won=True),
        episode(DOOR, ["go north"], won=False),  # one failure: not recurring, not summarized
        episode(STOVE, ["eat soup"], won=False),
        episode(STOVE, ["cook soup"], won=False),
    ]
    added = bank.add_from_episodes(batch, summarize)

    assert added == ["open-a-locked-chest", "do-not-cook-raw"]
    assert len(prompts) == 2
    assert "1. go up\n2. take key\n3. unlock chest\n4. open chest\n" in prompts[0]  # the shortest win
    assert "failed this task 2 times" in prompts[1] and "eat soup" in prompts[1] and STOVE in prompts[1]
    for name in added:
        assert Skill(path=tmp_path / "bank" / name).problems() == []
    chest, stove = sorted(bank.skills(), key=lambda s: added.index(s.name))
    assert chest.description == f"Open a locked chest. For tasks like: {CHEST}"
    assert chest.body == "- take the key from the table\n- unlock the chest with the key\n- open the chest and take the coin"
    assert chest.keywords == ["open", "chest", "attic", "take", "golden", "coin"] and not chest.general
    assert stove.description == f"Caution: Do not cook raw. For tasks like: {STOVE}"
    assert [(e["event"], e["version"], e["name"]) for e in events(tmp_path / "bank")] == [
        ("added", 1, "open-a-locked-chest"), ("added", 2, "do-not-cook-raw")]


def test_near_duplicates_are_counted_not_added(tmp_path: Path) -> None:
    bank = SkillBank(tmp_path)
    win = [episode(CHEST, ["open chest"], won=True)]
    assert bank.add_from_episodes(win, scripted(ANSWER)[0]) == ["open-a-locked-chest"]
    assert bank.add_from_episodes(win, scripted(NEAR_DUPLICATE)[0]) == []
    assert bank.add_from_episodes(win, scripted(DIFFERENT)[0]) == ["open-a-locked-chest-2"]  # same title, new name
    last = events(tmp_path)
    assert last[1] == {**last[1], "event": "deduplicated", "version": 1, "duplicate_of": "open-a-locked-chest",
                       "similarity": 0.8333, "objective": CHEST}
    assert last[2]["event"] == "added" and last[2]["version"] == 2
    assert bank.stats() == {"skillbank/skills": 2.0, "skillbank/added": 2.0, "skillbank/deduplicated": 1.0,
                            "skillbank/rejected": 0.0}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bank.jsonl", "open-a-locked-chest", "open-a-locked-chest-2"]


def test_a_restart_reloads_the_same_skills_and_considers_seeds_once(tmp_path: Path) -> None:
    seeds = [seed("general-look", "- look around first", general=True), seed("Fix Config", "- run the validator"),
             seed("fix-config-again", "- run the validator")]  # a near-duplicate of the second seed
    bank = SkillBank(tmp_path, seeds)
    bank.add_from_episodes([episode(CHEST, ["open chest"], won=True)], scripted(ANSWER)[0])
    before = (tmp_path / "bank.jsonl").read_text()

    reloaded = SkillBank(tmp_path, seeds)

    assert reloaded.skills() == bank.skills()
    assert [s.name for s in reloaded.skills()] == ["fix-config", "general-look", "open-a-locked-chest"]
    assert [s.general for s in reloaded.skills()] == [False, True, False]
    assert reloaded.skills()[0].keywords == ["seedword"]
    assert (tmp_path / "bank.jsonl").read_text() == before  # no new events for seeds already considered
    assert reloaded.stats() == {"skillbank/skills": 3.0, "skillbank/added": 3.0, "skillbank/deduplicated": 1.0,
                                "skillbank/rejected": 0.0}
    assert reloaded.add_from_episodes([episode(CHEST, ["x"], won=True)], scripted(NEAR_DUPLICATE)[0]) == []


def test_an_explore_output_seeds_the_bank_with_its_skill_md_files_only(tmp_path: Path) -> None:
    task = tmp_path / "explore" / "fix-config"
    task.mkdir(parents=True)
    (task / "SKILL.md").write_text("---\nname: fix-config\ndescription: Repair a config file\n---\n- run the validator\n")
    (task / "trajectory.jsonl").write_text('{"type": "execution_result", "stdout": "TRAJECTORYWORD"}\n')
    (task / "jobs" / "j" / "verifier").mkdir(parents=True)
    (task / "jobs" / "j" / "verifier" / "test-stdout.txt").write_text("VERIFIERWORD\n")

    SkillBank(tmp_path / "bank", load_skills(tmp_path / "explore"))

    files = sorted(str(p.relative_to(tmp_path / "bank")) for p in (tmp_path / "bank").rglob("*") if p.is_file())
    assert files == ["bank.jsonl", "fix-config/SKILL.md"]
    text = (tmp_path / "bank" / "fix-config" / "SKILL.md").read_text()
    assert "TRAJECTORYWORD" not in text and "VERIFIERWORD" not in text and "- run the validator" in text
    assert Skill(path=tmp_path / "bank" / "fix-config").problems() == []


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (RuntimeError("Error: rate limit exceeded"), "the summarizer raised RuntimeError"),
        ("", "empty answer"),
        ("Error: rate limit", "the answer reads as an error message"),
        ("429 Client Error: Too Many Requests for url", "the answer reads as an error message"),
        ("ERROR (InternalServerError): upstream\n- retry", "the answer reads as an error message"),
        ("The request hit a rate limit, try again later.\n- wait", "the answer reads as an error message"),
        ("Traceback (most recent call last):\n  File x\nValueError: rate limit", "the answer reads as an error message"),
        ("Sure! Here is a skill about chests that you may find useful.", "the answer is not a title followed by steps"),
    ],
)
def test_a_failed_summarizer_call_stores_nothing(tmp_path: Path, failure: str | Exception, reason: str) -> None:
    bank = SkillBank(tmp_path)
    assert bank.add_from_episodes([episode(CHEST, ["open chest"], won=True)], scripted(failure)[0]) == []
    assert bank.skills() == [] and [p.name for p in tmp_path.iterdir()] == ["bank.jsonl"]
    assert events(tmp_path) == [{**events(tmp_path)[0], "event": "rejected", "version": 0, "source": "rollouts",
                                 "objective": CHEST, "reason": reason}]
    assert "rate limit" not in (tmp_path / "bank.jsonl").read_text().lower()


def test_parse_answer_tolerates_fences_thinking_and_template_lines() -> None:
    answer = "<think>plan it</think>```\n## Title: Find the key\n- <one step or rule>\n- look under the mat\n```"
    assert parse_answer(answer) == ("Find the key", ["- look under the mat"])
    with pytest.raises(Rejected, match="not a title followed by steps"):
        parse_answer("Title: Find the key\n- <one step or rule>")
    assert parse_answer("Error handling\n- read the error line") == ("Error handling", ["- read the error line"])
    assert parse_answer("- 500 coins: sell the gem\n- then leave") == ("500 coins: sell the gem", ["- then leave"])


def test_a_task_skill_title_starting_with_general_is_not_made_general(tmp_path: Path) -> None:
    bank = SkillBank(tmp_path)
    answer = "Title: General store shopping\n- buy the lamp before leaving"
    assert bank.add_from_episodes([episode("Buy a lamp", ["buy lamp"], won=True)], scripted(answer)[0]) == [
        "task-general-store-shopping"]
    assert [s.general for s in SkillBank(tmp_path).skills()] == [False]


def test_llm_summarizer_through_a_scripted_endpoint(tmp_path: Path, scripted_llm: ScriptedOpenAIServer) -> None:
    scripted_llm.push(text=ANSWER)
    scripted_llm.push(status=400, error="Error: invalid request")  # a client error: not retried, the call fails
    scripted_llm.push(text="")  # an empty completion
    summarize = llm_summarizer(scripted_llm.model, scripted_llm.base_url)
    bank = SkillBank(tmp_path)
    try:
        assert bank.add_from_episodes([episode(CHEST, ["open chest"], won=True)], summarize) == ["open-a-locked-chest"]
        failing = [episode(DOOR, ["go north"], won=True), episode(STOVE, ["cook soup"], won=True)]
        assert bank.add_from_episodes(failing, summarize) == []
    finally:
        summarize.close()
    first = scripted_llm.requests[0]
    assert [m["role"] for m in first.messages] == ["system", "user"] and CHEST in first.last_user_text
    assert "1. open chest" in first.last_user_text
    assert [(e["event"], e.get("reason")) for e in events(tmp_path)] == [
        ("added", None), ("rejected", "the summarizer raised LLMUnavailable"),
        ("rejected", "the summarizer raised SummarizerFailed")]
    assert "invalid request" not in "".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file()).lower()
    assert summarize.client.records[0].ok and len(summarize.client.records) == 3
