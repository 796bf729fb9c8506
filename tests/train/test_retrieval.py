"""Skill retrieval for the teacher: loading SKILL.md files, keyword/full/random/UCB1 choices, statistics."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from skillspark.errors import UserError
from skillspark.train.retrieval import TeacherSkill, keywords_of, load_skills, make_retriever, render_skills


def write_skill(root: Path, name: str, description: str, body: str, metadata: str = "") -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    extra = f"metadata:\n{metadata}" if metadata else ""
    (folder / "SKILL.md").write_text(f"---\nname: {name}\ndescription: {description}\n{extra}---\n{body}\n")
    return folder


def skill(name: str, keywords: list[str], general: bool = False) -> TeacherSkill:
    return TeacherSkill(name=name, description=f"about {name}", body=f"do {name}", keywords=keywords, general=general)


def test_load_skills_reads_general_flags_and_keywords(tmp_path: Path) -> None:
    write_skill(tmp_path, "general-moves", "Move around rooms", "- look first")
    write_skill(tmp_path, "house-rules", "Rules for any game", "- read the goal", "  general: true\n")
    write_skill(tmp_path, "open-chest", "Open a locked chest", "- take the key", "  keywords: Chest, KEY padlock\n")
    write_skill(tmp_path, "cook-meal", "Use when the recipe asks to cook a meal in the kitchen", "- read the cookbook")
    by_name = {s.name: s for s in load_skills(tmp_path)}
    assert [n for n, s in by_name.items() if s.general] == ["general-moves", "house-rules"]
    assert by_name["open-chest"].keywords == ["chest", "key", "padlock"]
    # no metadata keywords: content words of name + description ("use", "when", "the", "to", "a", "in" dropped)
    assert by_name["cook-meal"].keywords == ["cook", "meal", "recipe", "asks", "kitchen"]
    assert by_name["open-chest"].body == "- take the key"


def test_keywords_of_drops_stopwords_numbers_and_short_words() -> None:
    assert keywords_of("Go to the 2nd room, take 12 apples; use the Apples") == ["2nd", "room", "take", "apples"]


def test_an_explore_output_contributes_only_its_skill_md_files(tmp_path: Path) -> None:
    task = tmp_path / "out" / "fix-config"
    write_skill(tmp_path / "out", "fix-config", "Fix a broken config file", "- validate with the parser")
    (task / "trajectory.jsonl").write_text(json.dumps({"type": "reflect_call", "memo": "TRAJECTORYWORD"}) + "\n")
    (task / "attempts.json").write_text(json.dumps({"attempts": [{"agent_commands": "ATTEMPTWORD"}]}))
    (task / "memos").mkdir()
    (task / "memos" / "memo_v1.md").write_text("## Exploration Memo\nMEMOWORD\n")
    verifier = task / "jobs" / "job-1" / "trial-1" / "verifier"
    verifier.mkdir(parents=True)
    (verifier / "reward.txt").write_text("1.0 REWARDWORD\n")
    (verifier / "test-stdout.txt").write_text("PASSED test_expected_value VERIFIERWORD\n")
    (tmp_path / "out" / "summary.json").write_text('{"note": "SUMMARYWORD"}')

    skills = load_skills(tmp_path / "out")

    assert [s.name for s in skills] == ["fix-config"]
    text = render_skills(skills)
    assert text == "## fix-config\nFix a broken config file\n\n- validate with the parser"
    for word in ("TRAJECTORYWORD", "ATTEMPTWORD", "MEMOWORD", "REWARDWORD", "VERIFIERWORD", "SUMMARYWORD"):
        assert word.lower() not in text.lower() and all(word.lower() not in s.keywords for s in skills)


def test_render_skills_joins_skills_with_blank_lines() -> None:
    text = render_skills([skill("a", []), skill("b", [])])
    assert text == "## a\nabout a\n\ndo a\n\n## b\nabout b\n\ndo b"


def test_empty_skill_files_are_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "blank").mkdir()
    (tmp_path / "blank" / "SKILL.md").write_text("---\nname: blank\n---\n\n")
    with pytest.raises(UserError, match="empty"):
        load_skills(tmp_path)


SKILLS = [
    skill("general-look", ["look"], general=True),
    skill("open-door", ["door", "key"]),
    skill("cook-meal", ["recipe", "meal"]),
    skill("find-coin", ["coin"]),
]


def names(chosen: list[TeacherSkill]) -> list[str]:
    return [s.name for s in chosen]


def test_keyword_gives_general_plus_whole_word_matches_deterministically() -> None:
    text = "Objective: unlock the DOOR, then read the Recipe.\nYou see a doorway and a coinage."
    first = make_retriever("keyword", SKILLS, seed=0)
    again = make_retriever("keyword", SKILLS, seed=99)
    assert names(first.select("g/0", text)) == ["general-look", "open-door", "cook-meal"]
    assert names(first.select("g/1", text)) == names(again.select("g/0", text))
    assert names(first.select("g/2", "nothing relevant here")) == ["general-look"]


def test_full_gives_every_skill() -> None:
    assert names(make_retriever("full", SKILLS, seed=0).select("g/0", "")) == [s.name for s in SKILLS]


def test_random_is_seeded_by_run_seed_and_episode() -> None:
    keys = [f"game-{g}/ep-{e}" for g in range(5) for e in range(4)]
    draw = lambda seed, order: {k: names(make_retriever("random", SKILLS, seed).select(k, "")) for k in order}  # noqa: E731
    same = draw(7, keys)
    assert same == draw(7, keys) == draw(7, keys[::-1])  # neither the run nor the call order changes a draw
    assert all(chosen[0] == "general-look" and len(chosen) == 2 for chosen in same.values())
    assert {chosen[1] for chosen in same.values()} == {"open-door", "cook-meal", "find-coin"}
    assert same != draw(8, keys)


def test_ucb_tries_every_skill_then_follows_hand_computed_indices() -> None:
    ucb = make_retriever("ucb", SKILLS, seed=0)
    c = math.sqrt(2)
    outcomes = {"open-door": True, "cook-meal": False, "find-coin": False}
    for step, expected in enumerate(["open-door", "cook-meal", "find-coin"]):  # untried first, in list order
        assert names(ucb.select(f"e{step}", "")) == ["general-look", expected]
        ucb.update(f"e{step}", outcomes[expected])
    # N=3, n=1 each, μ=(1,0,0): open-door 1 + √2·√(ln 3) = 2.48230 > 1.48230
    assert ucb.index("open-door", 3) == pytest.approx(1 + c * math.sqrt(math.log(3))) == pytest.approx(2.482304)
    assert names(ucb.select("e3", ""))[1] == "open-door"
    ucb.update("e3", False)
    # N=4: open-door μ=1/2, n=2: 0.5 + √2·√(ln4/2) = 1.677410 > the others' √2·√(ln 4) = 1.665109
    assert ucb.index("open-door", 4) == pytest.approx(1.677410, abs=1e-6)
    assert ucb.index("cook-meal", 4) == pytest.approx(1.665109, abs=1e-6)
    assert names(ucb.select("e4", ""))[1] == "open-door"
    ucb.update("e4", False)
    # N=5: open-door μ=1/3, n=3: 1/3 + √2·√(ln5/3) = 1.369170 < cook-meal √2·√(ln 5) = 1.794123
    assert ucb.index("open-door", 5) == pytest.approx(1.369170, abs=1e-6)
    assert names(ucb.select("e5", ""))[1] == "cook-meal"
    ucb.update("e5", True)
    stats = ucb.stats()
    assert stats["ucb_c"] == pytest.approx(c)
    assert (stats["pulls/open-door"], stats["pulls/cook-meal"], stats["pulls/find-coin"]) == (3.0, 2.0, 1.0)
    assert stats["pulls/general-look"] == 6.0
    assert stats["mean_reward/open-door"] == pytest.approx(1 / 3) and stats["mean_reward/cook-meal"] == 0.5


def test_ucb_spreads_one_batch_over_untried_skills_and_then_favours_the_better_record() -> None:
    ucb = make_retriever("ucb", SKILLS, seed=0)
    batch = [names(ucb.select(f"b0/{i}", ""))[1] for i in range(3)]
    assert batch == ["open-door", "cook-meal", "find-coin"]
    for i, chosen in enumerate(batch):
        ucb.update(f"b0/{i}", chosen == "find-coin")
    for step in range(60):
        chosen = names(ucb.select(f"s{step}", ""))[1]
        ucb.update(f"s{step}", chosen == "find-coin")
    pulls = ucb.stats()
    assert pulls["pulls/find-coin"] > 3 * max(pulls["pulls/open-door"], pulls["pulls/cook-meal"])
    assert pulls["mean_reward/find-coin"] == 1.0 and pulls["mean_reward/open-door"] == 0.0


def test_ucb_state_dict_resumes_statistics_and_new_skills_start_untried() -> None:
    ucb = make_retriever("ucb", SKILLS, seed=0)
    for step in range(5):
        chosen = names(ucb.select(f"s{step}", ""))[1]
        ucb.update(f"s{step}", chosen == "cook-meal")
    resumed = make_retriever("ucb", SKILLS, seed=0)
    resumed.load_state_dict(json.loads(json.dumps(ucb.state_dict())))  # as saved with a checkpoint
    assert resumed.stats() == ucb.stats()
    assert names(resumed.select("next", "")) == names(ucb.select("next", ""))
    grown = make_retriever("ucb", [*SKILLS, skill("read-map", ["map"])], seed=0)
    grown.load_state_dict(ucb.state_dict())
    assert names(grown.select("after", ""))[1] == "read-map"


def test_only_general_skills_are_always_given() -> None:
    general = [skill("general-look", [], general=True)]
    for strategy in ("keyword", "full", "random", "ucb"):
        assert names(make_retriever(strategy, general, seed=0).select("k", "door")) == ["general-look"]


def test_update_without_a_selection_is_a_caller_bug() -> None:
    retriever = make_retriever("full", SKILLS, seed=0)
    retriever.select("k", "")
    retriever.update("k", True)
    with pytest.raises(ValueError, match="'k'"):
        retriever.update("k", True)
    assert retriever.stats()["mean_reward/open-door"] == 1.0


def test_bad_strategy_empty_list_and_repeated_names_are_user_errors() -> None:
    with pytest.raises(UserError, match="--retrieval best: unknown strategy; choose one of keyword, full, random, ucb"):
        make_retriever("best", SKILLS, seed=0)
    with pytest.raises(UserError, match="no skills"):
        make_retriever("ucb", [], seed=0)
    with pytest.raises(UserError, match="several skills are named open-door"):
        make_retriever("full", [*SKILLS, skill("open-door", [])], seed=0)


def test_a_linked_skill_md_is_refused_not_followed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("---\nname: leak\ndescription: root-only text\n---\nthe host's secret\n")
    (tmp_path / "skills" / "leak").mkdir(parents=True)
    (tmp_path / "skills" / "leak" / "SKILL.md").symlink_to(secret)
    with pytest.raises(UserError, match=r"leak/SKILL.md is missing, a link or not a regular file"):
        load_skills(tmp_path / "skills")
