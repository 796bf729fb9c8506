"""The UCB reward for skills only the teacher sees: hand-computed agreement, UCB driven by it, the trainer's use."""

from __future__ import annotations

import math

import pytest

from skillspark.train.batch import TurnSample
from skillspark.train.retrieval import TeacherSkill, make_retriever
from skillspark.train.skill_reward import agreement, teacher_agreement


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_agreement_is_the_outcome_signed_gate_by_hand() -> None:
    # Δ = [0.2, −0.1], β = 5: won → (σ(1) + σ(−0.5)) / 2; lost → (σ(−1) + σ(0.5)) / 2
    assert agreement([0.2, -0.1], True, 5.0) == pytest.approx((0.7310586 + 0.3775407) / 2, abs=1e-6)
    assert agreement([0.2, -0.1], False, 5.0) == pytest.approx((0.2689414 + 0.6224593) / 2, abs=1e-6)
    assert agreement([], True, 5.0) == 0.5  # no tokens: no information
    assert agreement([3.0, 0.0], False, 0.0) == 0.5  # β = 0: the gate is ½ whatever the teacher says


def test_ucb_learns_from_the_teacher_reward_by_hand() -> None:
    skills = [TeacherSkill(name=n, description=n, body=n, keywords=[], general=False) for n in ("a", "b")]
    ucb = make_retriever("ucb", skills, seed=0, ucb_c=1.0)
    assert [s.name for s in ucb.select("e1", "")] == ["a"]  # untried first, in list order
    assert [s.name for s in ucb.select("e2", "")] == ["b"]
    ucb.update("e1", 0.8)
    ucb.update("e2", 0.3)
    # N = 2: a = 0.8 + √(ln 2 / 1) = 1.632555, b = 0.3 + 0.832555 = 1.132555
    assert ucb.index("a", 2) == pytest.approx(1.632555, abs=1e-6)
    assert [s.name for s in ucb.select("e3", "")] == ["a"]
    ucb.update("e3", 0.2)
    # N = 3: a = mean(0.8, 0.2) + √(ln 3 / 2) = 1.241152; b = 0.3 + √(ln 3) = 1.348147 → b
    assert ucb.mean_reward("a") == pytest.approx(0.5)
    assert ucb.index("a", 3) == pytest.approx(1.241152, abs=1e-6)
    assert ucb.index("b", 3) == pytest.approx(1.348147, abs=1e-6)
    assert [s.name for s in ucb.select("e4", "")] == ["b"]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ucb.update("e4", 1.5)


def test_teacher_agreement_on_a_real_model_is_half_when_the_skill_changes_nothing() -> None:
    from skillspark.train.model import load_policy, resolve_model

    model, tokenizer = load_policy(resolve_model("tiny-random"))
    prompt = tokenizer.encode("Task: open the door. Your action:", add_special_tokens=False)
    skill = tokenizer.encode("[Privileged Skill Information]\nopen the red door\n\n", add_special_tokens=False) + prompt
    response = tokenizer.encode("open red door", add_special_tokens=False)
    samples = [
        TurnSample(prompt, response, 10.0, "g", "same", teacher_prompt_ids=list(prompt)),  # teacher prompt = student's
        TurnSample(prompt, response, 10.0, "g", "skilled", teacher_prompt_ids=skill),
        TurnSample(prompt, response, 0.0, "g", "no-skill"),  # no teacher prompt: not rewarded at all
    ]
    won = {"same": True, "skilled": True, "no-skill": False}
    rewards = teacher_agreement(model, samples, won, pad_id=tokenizer.pad_token_id, beta=5.0)
    assert set(rewards) == {"same", "skilled"}
    assert rewards["same"] == pytest.approx(0.5, abs=1e-5)
    assert 0.0 < rewards["skilled"] < 1.0 and rewards["skilled"] != pytest.approx(0.5, abs=1e-6)
    lost = teacher_agreement(model, samples[1:2], {"skilled": False}, pad_id=tokenizer.pad_token_id, beta=5.0)
    assert lost["skilled"] == pytest.approx(1.0 - rewards["skilled"], abs=1e-6)  # σ(−x) = 1 − σ(x) per token


def test_a_teacher_side_run_rewards_ucb_with_the_teachers_agreement_not_success(tmp_path) -> None:
    from skillspark.train.config import TrainConfig
    from skillspark.train.curves import read_metrics
    from skillspark.train.envs.codeword import write_codeword_skills
    from skillspark.train.envs.registry import parse_env_spec
    from skillspark.train.trainer import train

    env = "fake:codeword?options=2&rules=2&held_out=1"
    write_codeword_skills(parse_env_spec(env), tmp_path / "skills")
    config = TrainConfig(
        algo="sdar", game=env, model="tiny-random", steps=1, games=1, group_size=2, max_turns=1, max_new_tokens=3,
        skills=tmp_path / "skills", retrieval="ucb", teacher_check="off", output=tmp_path / "run",
    )
    row = read_metrics(train(config) / "metrics.jsonl")[0]
    rewarded = {k: v for k, v in row.items() if k.startswith("mean_reward/") and row[k.replace("mean_reward", "pulls")] > 0}
    assert row["success_rate"] == 0.0 and rewarded  # tiny-random never wins: success would credit 0.0
    assert all(0.3 < value < 0.7 and value != 0.5 for value in rewarded.values())  # the agreement: near ½, T ≈ S
