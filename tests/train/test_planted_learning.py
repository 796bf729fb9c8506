"""Short learning checks that could fail: does the planted teacher's knowledge reach the update, and in which
direction does each term move a sampled token? (docs/training-control.md)

The student is tiny-random after a few format warm-up steps on fake:codeword (it writes "open COLOUR door"
with every colour about equally likely). Each check runs a few update steps on one fixed batch of one group
whose episodes all lost (every GRPO advantage 0: the case where only a teacher-side term can act).
"""

from __future__ import annotations

import copy

import pytest
import torch

from skillspark.train.algorithms import AlgoConfig
from skillspark.train.batch import TurnSample, collate, response_logits
from skillspark.train.envs.registry import make_env
from skillspark.train.format_warmup import warm_up_format
from skillspark.train.model import load_policy, resolve_model
from skillspark.train.planted import PlantedTeacher
from skillspark.train.prompts import build_turn_prompt
from skillspark.train.update import update_step

GAME = "fake:codeword?options=8&rules=1&held_out=0"
SKILL = "The guard's password X means your action is: open {colour} door"


@pytest.fixture(scope="module")
def warmed():
    torch.manual_seed(0)
    model, tokenizer = load_policy(resolve_model("tiny-random"))
    losses = warm_up_format(model, tokenizer, GAME, steps=60, batch_size=8, lr=5e-3)
    assert losses[-1] < losses[0] / 3  # the format is learnt: "open", "door" and EOS become near certain
    game = make_env(GAME, 5)
    first = game.reset()
    prompt = build_turn_prompt(
        tokenizer, objective=first.objective, history=[], observation=first.text, admissible=first.admissible,
        history_turns=2, skill=None, max_prompt_tokens=1024, demonstration=first.demonstration,
    ).student_ids
    return model, tokenizer, prompt, game.colour, [a.split()[1] for a in first.admissible]


def colour_logprobs(model, tokenizer, prompt: list[int], colours: list[str]) -> dict[str, float]:
    """log π(colour | prompt, "open") for each colour."""
    open_id, *_ = tokenizer.encode("open red door", add_special_tokens=False)
    batch = collate([prompt], [[open_id, open_id]], tokenizer.pad_token_id)
    with torch.no_grad():
        logp = torch.log_softmax(response_logits(model, batch)[0, 1], dim=-1)
    return {c: logp[tokenizer.encode(f"open {c} door", add_special_tokens=False)[1]].item() for c in colours}


def train_on(warmed, responses: list[str], algo: str, boost: float | None, steps: int = 3, coef: float = 1.0) -> dict[str, float]:
    """Change in log π(colour) after `steps` updates on one all-lost group answering `responses`."""
    model, tokenizer, prompt, right, colours = warmed
    model = copy.deepcopy(model)
    before = colour_logprobs(model, tokenizer, prompt, colours)
    samples = [
        TurnSample(prompt, tokenizer.encode(text, add_special_tokens=False) + [tokenizer.eos_token_id], 0.0, "g", f"g/e{i}",
                   teacher_prompt_ids=prompt, skill=SKILL.format(colour=right))
        for i, text in enumerate(responses)
    ]
    cfg = AlgoConfig(algo=algo, distill_coef=coef, entropy_coef=0.0, kl_coef=0.0, ppo_mini_batch=len(samples))
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3, weight_decay=0.0)
    planted = PlantedTeacher(tokenizer, boost) if boost is not None else None
    for step in range(steps):
        update_step(model, optimizer, samples, cfg, pad_id=tokenizer.pad_token_id, planted=planted, step=step)
    after = colour_logprobs(model, tokenizer, prompt, colours)
    return {c: after[c] - before[c] for c in colours}


def test_the_warmed_student_is_near_chance(warmed) -> None:
    model, tokenizer, prompt, _, colours = warmed
    probs = [torch.tensor(v).exp().item() for v in colour_logprobs(model, tokenizer, prompt, colours).values()]
    assert sum(probs) > 0.8  # it answers with one of the listed doors
    assert max(probs) < 0.6  # and prefers none of them strongly


def test_on_an_all_lost_batch_only_the_planted_teacher_moves_the_right_door_up(warmed) -> None:
    _, _, _, right, colours = warmed
    wrong = next(c for c in colours if c != right)
    # lost episodes that still chose the right door at this gate (they lost at a later one), and wrong ones
    responses = [f"open {right} door", f"open {right} door", f"open {wrong} door", f"open {wrong} door"]
    grpo = train_on(warmed, responses, "grpo", None)
    planted = train_on(warmed, responses, "sdar", 3.0)
    null = train_on(warmed, responses, "sdar", 0.0)
    assert all(change == 0.0 for change in grpo.values())  # every advantage is 0: GRPO has nothing to learn from
    # the planted teacher gates the right door open (g ≈ 1) and the wrong one shut (g ≈ 0); the null raises both alike
    assert planted[right] > 0.05
    assert planted[right] - planted[wrong] > null[right] - null[wrong] + 0.05


def test_sdar_raises_a_wrong_sampled_door_that_skillsd_lowers(warmed) -> None:
    """The teacher sets the size of SDAR's push, never its direction: on wrong samples alone SDAR still raises
    them (by a small gate), while Skill-SD's reverse KL pushes them down towards the teacher."""
    _, _, _, right, colours = warmed
    wrong = next(c for c in colours if c != right)
    responses = [f"open {wrong} door"] * 4
    sdar = train_on(warmed, responses, "sdar", 3.0)
    skillsd = train_on(warmed, responses, "skillsd", 3.0)
    assert sdar[wrong] > 0 and sdar[wrong] > sdar[right]  # the wrong door gains, on its own and against the right one
    assert skillsd[wrong] < 0 and skillsd[wrong] < skillsd[right]  # the wrong door loses (its mass goes everywhere)
