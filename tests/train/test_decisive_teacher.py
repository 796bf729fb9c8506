"""fake:codeword through the trainer's own prompts and teacher check: the teacher (the policy with the skill
before "Your action:") wins, the student is at chance.

Fast: a scripted policy on tiny-random's tokenizer stands in for the model. It answers as SmolLM2 was seen to
(docs/training-decisive.md): it copies the action a skill in the last user message states, and otherwise takes
the first listed action. Slow: the embedded SmolLM2-135M itself, greedy, on held-out rules.
"""

from __future__ import annotations

import re

import pytest
import torch

from skillspark.train.config import TrainConfig
from skillspark.train.envs.codeword import write_codeword_skills
from skillspark.train.envs.registry import parse_env_spec
from skillspark.train.model import load_policy, resolve_model
from skillspark.train.teacher_check import measure

ENV = "fake:codeword?options=4&rules=8&held_out=8"


class CopiesTheSkillElseTheFirstAction(torch.nn.Module):
    """`generate` like a causal LM: reads each prompt's last user message and appends its answer's tokens."""

    device = torch.device("cpu")

    def __init__(self, tokenizer) -> None:
        super().__init__()
        self.tokenizer = tokenizer

    def answer(self, prompt: str) -> str:
        last = prompt.rsplit("<|im_start|>user", 1)[1]
        stated = re.search(r"your action is: (.+)", last)
        return stated.group(1).strip() if stated else re.search(r"\n1\. (.+)", last).group(1).strip()

    def generate(self, input_ids, attention_mask, **_) -> torch.Tensor:
        rows = []
        for ids, mask in zip(input_ids.tolist(), attention_mask.tolist()):
            prompt = self.tokenizer.decode([t for t, m in zip(ids, mask) if m])
            rows.append(self.tokenizer.encode(self.answer(prompt), add_special_tokens=False) + [self.tokenizer.eos_token_id])
        width = max(map(len, rows))
        new = [row + [self.tokenizer.pad_token_id] * (width - len(row)) for row in rows]
        return torch.cat([input_ids, torch.tensor(new)], dim=1)


def _config(tmp_path) -> TrainConfig:
    skills = tmp_path / "skills"
    write_codeword_skills(parse_env_spec(ENV), skills)
    return TrainConfig(game=ENV, skills=skills, retrieval="keyword", max_turns=2, max_new_tokens=8, output=tmp_path / "run")


def test_a_policy_that_copies_the_skill_passes_the_check_and_without_it_is_at_chance(tmp_path) -> None:
    _, tokenizer = load_policy(resolve_model("tiny-random"))
    check = measure(CopiesTheSkillElseTheFirstAction(tokenizer), tokenizer, _config(tmp_path), games=40)
    assert check.teacher.wins == 40  # every game's skill (keyword retrieval on its held-out password) was read
    assert 0.1 <= check.student.rate <= 0.45  # the first listed door: right with chance 1/4 (Wilson 95% at 40 games)
    assert check.passed


@pytest.mark.slow
def test_the_embedded_model_follows_the_skill_and_without_it_is_at_chance(tmp_path) -> None:
    model, tokenizer = load_policy(resolve_model("local/smollm2"))
    check = measure(model, tokenizer, _config(tmp_path), games=24)
    assert check.teacher.wilson_95[0] >= 0.6 and check.teacher.rate >= 0.8, check.summary()
    assert check.student.wilson_95[0] <= 0.25 <= check.student.wilson_95[1], check.summary()  # chance is 1/4
    assert check.passed, check.summary()
