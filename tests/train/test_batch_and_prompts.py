"""The token layout (only response tokens carry gradient) and the prompts (only the teacher sees the skill)."""

import pytest
import torch

from skillspark.errors import UserError
from skillspark.train.batch import collate, response_logits, token_logprobs
from skillspark.train.model import load_policy, tiny_random_model_dir
from skillspark.train.envs.base import Demonstration
from skillspark.train.prompts import TEACHER_HEADER, Turn, build_turn_prompt

SKILL = "Always press the star when the lamp glows yellow."


@pytest.fixture(scope="module")
def tiny():
    return load_policy(tiny_random_model_dir(), seed=0)


def test_collate_left_pads_and_right_aligns_the_responses():
    batch = collate([[5, 6, 7], [8]], [[9], [10, 11, 12]], pad_id=0)
    assert batch.input_ids.tolist() == [[5, 6, 7, 9], [8, 10, 11, 12]]
    assert batch.targets.tolist() == [[6, 7, 9], [10, 11, 12]]
    assert batch.response_mask.tolist() == [[0, 0, 1], [1, 1, 1]]
    padded = collate([[5], [8, 9]], [[1], [2]], pad_id=0)
    assert padded.attention_mask.tolist() == [[0, 1, 1], [1, 1, 1]]
    assert padded.position_ids.tolist() == [[0, 0, 1], [0, 1, 2]]


def test_only_response_tokens_get_gradient_and_logprobs_match_a_plain_forward(tiny):
    model, _ = tiny
    prompts, responses = [[11, 12, 13, 14], [21, 22]], [[31, 32], [41, 42, 43]]
    batch = collate(prompts, responses, pad_id=0)
    embeddings = model.get_input_embeddings()
    captured = {}

    def keep_grad(_module, _inputs, output):
        output.retain_grad()
        captured["embeddings"] = output

    handle = embeddings.register_forward_hook(keep_grad)
    logp = token_logprobs(response_logits(model, batch), batch.targets)
    handle.remove()
    (logp * batch.response_mask).sum().backward()
    grad = captured["embeddings"].grad.abs().sum(-1)  # (B, L): which input positions influence the loss
    # the last response token of each row predicts nothing: its input position gets no gradient
    assert grad[0, -1].item() == 0.0 and grad[1, -1].item() == 0.0
    assert grad[1, 0].item() == 0.0  # row 1's padding
    assert grad[0, 0].item() > 0.0  # row 0's first prompt token conditions its response
    assert batch.response_mask[0].tolist() == [0, 1, 1]  # row 0's first window position is a prompt token
    plain = torch.log_softmax(model(input_ids=torch.tensor([prompts[1] + responses[1]])).logits[0, :-1].float(), -1)
    expected = [plain[i, tok].item() for i, tok in zip(range(1, 4), responses[1])]
    assert logp[1].tolist() == pytest.approx(expected, abs=1e-4)
    model.zero_grad()


def _prompt(tokenizer, skill, limit=1024, history=(), demonstration=None):
    return build_turn_prompt(
        tokenizer, objective="Open the vault.", history=list(history), observation="The lamp glows yellow.",
        admissible=["press star", "press moon"], history_turns=2, skill=skill, max_prompt_tokens=limit,
        demonstration=demonstration,
    )


def test_the_teacher_prompt_is_the_student_prompt_with_the_skill_right_before_your_action(tiny):
    _, tokenizer = tiny
    prompt = _prompt(tokenizer, SKILL)
    student, teacher = tokenizer.decode(prompt.student_ids), tokenizer.decode(prompt.teacher_ids)
    assert SKILL not in student and "Privileged" not in student
    block = f"{TEACHER_HEADER}{SKILL}\n\n"
    assert teacher.replace(block, "") == student  # nothing else differs
    assert teacher.index("2. press moon") < teacher.index(block) < teacher.index("Your action:")
    assert "1. press star" in student
    assert _prompt(tokenizer, None).teacher_ids is None


def test_a_demonstration_turn_comes_first_and_is_the_same_for_student_and_teacher(tiny):
    _, tokenizer = tiny
    toy = Demonstration(objective="Open the vault.", observation="The lamp glows gold.", admissible=["press sun", "press key"],
                        skill="Gold lamp: press key", action="press key")
    prompt = _prompt(tokenizer, SKILL, demonstration=toy)
    student, teacher = tokenizer.decode(prompt.student_ids), tokenizer.decode(prompt.teacher_ids)
    for text in (student, teacher):
        assert text.index("The lamp glows gold.") < text.index("press key<|im_end|>") < text.index("The lamp glows yellow.")
        assert text.count(TEACHER_HEADER) == 1 + (text is teacher)  # the toy skill in both, the real one in the teacher's only
    assert teacher.replace(f"{TEACHER_HEADER}{SKILL}\n\n", "") == student


def test_the_teacher_prompt_is_left_truncated_and_the_student_prompt_never_depends_on_the_skill(tiny):
    _, tokenizer = tiny
    history = [Turn(f"room {i} " + "dust " * 30, "go north") for i in range(3)]
    full = _prompt(tokenizer, SKILL, history=history)
    assert not full.teacher_truncated
    limit = len(full.teacher_ids) - 5  # the student prompt fits, the teacher's does not
    cut = _prompt(tokenizer, SKILL, limit=limit, history=history)
    assert cut.student_ids == full.student_ids == _prompt(tokenizer, None, limit=limit, history=history).student_ids
    assert cut.teacher_ids == full.teacher_ids[5:]  # the reference's rule: keep the last `limit` tokens
    assert cut.teacher_truncated and len(cut.teacher_ids) == limit


def test_history_is_shortened_for_the_students_own_budget_only_and_a_bare_prompt_too_long_is_an_error(tiny):
    _, tokenizer = tiny
    history = [Turn(f"room {i} " + "dust " * 30, "go north") for i in range(3)]
    full = _prompt(tokenizer, None, history=history)
    shorter = _prompt(tokenizer, SKILL, limit=len(full.student_ids) - 5, history=history)
    assert "room 1" not in tokenizer.decode(shorter.student_ids)  # the oldest kept turn went first
    assert "room 2" in tokenizer.decode(shorter.student_ids)
    with pytest.raises(UserError, match="raise --max-prompt-tokens"):
        _prompt(tokenizer, SKILL, limit=20)
