"""The planted teacher (train/planted.py): its log-probs differ from the student's exactly as documented."""

from __future__ import annotations

import math

import pytest
import torch

from skillspark.train.batch import TurnSample, collate, response_logits, token_logprobs
from skillspark.train.model import load_policy, resolve_model
from skillspark.train.planted import NO_BOOST, PlantedTeacher, boost_targets, planted_logprobs, stated_action


def test_stated_action_is_read_from_the_skill() -> None:
    skill = "## codeword-karedlo\nWhat it means.\n\nThe guard's password karedlo means your action is: open red door\nThe password hides..."
    assert stated_action(skill) == "open red door"
    assert stated_action("no action here") is None
    assert stated_action(None) is None


def test_boost_follows_the_action_only_while_the_response_does() -> None:
    action = [7, 8, 9]
    assert boost_targets([7, 8, 9], action) == [7, 8, 9]
    assert boost_targets([7, 5, 9], action) == [7, 8, NO_BOOST]  # off the path after the wrong second token
    assert boost_targets([5, 8], action) == [7, NO_BOOST]
    assert boost_targets([7, 8, 9, 2], action) == [7, 8, 9, NO_BOOST]  # past the action's end


def test_planted_logprobs_by_hand() -> None:
    # uniform student over 4 tokens; boost b = 2 on token 1 at position 0, nothing at position 1
    logits = torch.zeros(1, 2, 4)
    boosted = torch.tensor([[1, NO_BOOST]])
    b = 2.0
    z = 3 + math.exp(2.0)  # 10.389056
    on = planted_logprobs(logits, torch.tensor([[1, 1]]), boosted, b)
    off = planted_logprobs(logits, torch.tensor([[0, 0]]), boosted, b)
    assert on[0, 0].item() == pytest.approx(2.0 - math.log(z), abs=1e-6)  # −0.340760: the boosted token gains
    assert off[0, 0].item() == pytest.approx(-math.log(z), abs=1e-6)  # −2.340760: every other token loses
    assert on[0, 1].item() == pytest.approx(-math.log(4), abs=1e-6)  # no boost: T = S = −1.386294
    assert off[0, 1].item() == pytest.approx(-math.log(4), abs=1e-6)


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return load_policy(resolve_model("tiny-random"))


def _sample(tokenizer, skill: str, response: str) -> TurnSample:
    prompt = tokenizer.encode("Task: open the door the password names.\nYour action:", add_special_tokens=False)
    response_ids = tokenizer.encode(response, add_special_tokens=False) + [tokenizer.eos_token_id]
    return TurnSample(prompt, response_ids, 0.0, "g", "g/e0", teacher_prompt_ids=prompt, skill=skill)


def test_planted_teacher_on_a_model_is_the_student_plus_the_boost(tiny) -> None:
    model, tokenizer = tiny
    skill = "The guard's password karedlo means your action is: open red door"
    right, wrong = _sample(tokenizer, skill, "open red door"), _sample(tokenizer, skill, "open blue door")
    batch = collate([right.prompt_ids, wrong.prompt_ids], [right.response_ids, wrong.response_ids], tokenizer.pad_token_id)
    with torch.no_grad():
        logits = response_logits(model, batch)
    student = token_logprobs(logits, batch.targets)
    red = tokenizer.encode("open red door", add_special_tokens=False)[1]
    p_red = torch.softmax(logits[:, 1], dim=-1)[:, red]  # the student's probability of the right colour
    for b in (3.0, 0.0):
        teacher = PlantedTeacher(tokenizer, b).score(model, [right, wrong], tokenizer.pad_token_id, 8, 1.0)
        gain = torch.log1p(p_red * (math.exp(b) - 1))  # log of the boosted softmax's normaliser at the colour
        # "open": boosted on both; the colour: +b − gain on the right one, −gain on the wrong one; after a
        # wrong colour nothing is boosted, after the right one "door" and EOS are
        assert teacher[1][1].item() == pytest.approx(student[1, 1].item() - gain[1].item(), abs=1e-5)
        assert teacher[0][1].item() == pytest.approx(student[0, 1].item() + b - gain[0].item(), abs=1e-5)
        assert torch.equal(teacher[1][2:], student[1, 2:])  # off the action's path: no boost, T = S
        if b == 0.0:  # the planted null: exactly the student
            assert torch.equal(teacher[0], student[0]) and torch.equal(teacher[1], student[1])
        else:
            assert teacher[0][1] > student[0, 1] and teacher[1][1] < student[1, 1]


def test_a_skill_without_an_action_is_refused(tiny) -> None:
    model, tokenizer = tiny
    with pytest.raises(ValueError, match="states no action"):
        PlantedTeacher(tokenizer, 1.0).score(model, [_sample(tokenizer, "be careful", "open red door")], tokenizer.pad_token_id, 8, 1.0)
