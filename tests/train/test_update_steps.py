"""The update as the reference makes it, on a model whose log-probs are known by hand.

`BiasModel`'s next-token logits are one learnable vector, the same at every position, so with plain SGD
every optimizer step, ratio and clip below can be worked out on paper.
"""

import math
from types import SimpleNamespace

import pytest
import torch

from skillspark.train.algorithms import AlgoConfig
from skillspark.train.batch import TurnSample, collate, response_logits, token_logprobs
from skillspark.train.teacher import TeacherWeights
from skillspark.train.update import update_step

A = 0.5 / (math.sqrt(0.5) + 1e-6)  # GRPO advantage of rewards [1, 0] in one group: ±0.5 / (unbiased std + ε)


class BiasModel(torch.nn.Module):
    def __init__(self, bias=(0.0, 0.0)) -> None:
        super().__init__()
        self.bias = torch.nn.Parameter(torch.tensor(bias))
        self.calls = 0

    def forward(self, input_ids, attention_mask=None, position_ids=None, logits_to_keep=0, use_cache=False):
        self.calls += 1
        rows, length = input_ids.shape
        return SimpleNamespace(logits=self.bias.expand(rows, logits_to_keep or length, -1))


def _cfg(**overrides):
    values = dict(algo="grpo", entropy_coef=0.0, kl_coef=0.0, max_grad_norm=100.0)
    return AlgoConfig(**(values | overrides))


def _pair(skill_for_first=None, skill_for_second=None):
    """Token 0 earned reward 1, token 1 reward 0, one group."""
    return [
        TurnSample([1], [0], 1.0, "g", "e0", teacher_prompt_ids=skill_for_first),
        TurnSample([1], [1], 0.0, "g", "e1", teacher_prompt_ids=skill_for_second),
    ]


def test_the_second_minibatch_step_compares_with_rollout_logprobs_and_its_clip_binds():
    model = BiasModel()
    optimizer = torch.optim.SGD(model.parameters(), lr=2.0)
    stats = update_step(model, optimizer, _pair(), _cfg(ppo_mini_batch=1, micro_batch_size=1), pad_id=0)
    # step 1 (token 0, advantage +A, ratio 1): ∂(−A·log p0)/∂bias = −A·([1, 0] − [½, ½]); SGD lr 2 -> bias [A, −A]
    # step 2 (token 1, advantage −A): S = log σ(−2A) against O = log ½ fixed at rollout: ratio 2σ(−2A) = 0.391 < 0.8,
    # so −A·r < −A·0.8 and the clipped term −A·clip(r) = 0.8·A is chosen: no gradient, the bias stays
    ratio = 2 / (1 + math.exp(2 * A))
    assert ratio == pytest.approx(0.39115, abs=1e-5)
    assert model.bias.tolist() == pytest.approx([A, -A], abs=1e-6)
    assert stats["optimizer_steps"] == 2.0
    assert stats["clip_frac"] == pytest.approx(0.5)  # step 1: none, step 2: its one token
    assert stats["pg_loss"] == pytest.approx((-A + 0.8 * A) / 2, abs=1e-6)
    assert stats["ppo_kl"] == pytest.approx((0.0 + math.log(0.5) - math.log(ratio / 2)) / 2, abs=1e-5)


def test_a_second_epoch_sees_the_ratio_move_and_one_step_needs_no_old_logprob_forward():
    model = BiasModel()
    update_step(model, torch.optim.SGD(model.parameters(), lr=2.0), _pair(), _cfg(micro_batch_size=2), pad_id=0)
    assert model.calls == 1  # one mini-batch, one epoch: O is the live log-probs, no extra forward
    model = BiasModel()
    stats = update_step(model, torch.optim.SGD(model.parameters(), lr=2.0), _pair(), _cfg(micro_batch_size=2, ppo_epochs=2), pad_id=0)
    assert model.calls == 3  # O once, then one forward per epoch
    assert stats["optimizer_steps"] == 2.0
    # epoch 1: ∂/∂bias of the token mean = −½(A·[½,−½] − A·[−½,½]) = [−A/2, A/2]; lr 2 -> bias [A, −A];
    # epoch 2: both ratios leave [0.8, 1.2] in the direction of their advantages, so both clip: no gradient
    assert model.bias.tolist() == pytest.approx([A, -A], abs=1e-6)
    assert stats["clip_frac"] == pytest.approx(0.5)


def test_an_episode_without_a_skill_is_masked_out_of_the_distillation_term_and_counted():
    model = BiasModel()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    samples = _pair(skill_for_first=[1, 1])  # only the first sample's episode was given a skill
    stats = update_step(model, optimizer, samples, _cfg(algo="opsd", distill_coef=1.0), pad_id=0)
    # the teacher (same logits) gives T = S: Δ = 0, g = ½; the term's gradient −λ·g·∇log p0 over ONE skill token
    # = −½·([1, 0] − [½, ½]) = [−¼, ¼]; unmasked, the skill-less token 1 would cancel it to [0, 0]
    assert model.bias.tolist() == pytest.approx([0.25, -0.25], abs=1e-6)
    assert stats["skillless_episodes"] == 1.0 and stats["skillless_samples"] == 1.0
    assert stats["gate_mean"] == pytest.approx(0.5)
    assert stats["teacher_grad_abs"] == pytest.approx(0.5)  # λ·g on the skill token
    assert stats["advantage_abs"] == pytest.approx(A, abs=1e-6)  # |A| on the same token
    assert stats["aux_loss"] == pytest.approx(0.0)


def test_logprobs_are_those_of_the_temperature_scaled_distribution():
    model = BiasModel((2.0, 0.0))
    batch = collate([[1]], [[0]], pad_id=0)
    assert token_logprobs(response_logits(model, batch), batch.targets).item() == pytest.approx(2 - math.log(math.e**2 + 1))
    # T = 2: logits [1, 0]: log p0 = 1 − log(e + 1) = −0.313262
    tempered = token_logprobs(response_logits(model, batch, temperature=2.0), batch.targets).item()
    assert tempered == pytest.approx(-0.313262, abs=1e-6)


def test_no_reference_forward_runs_when_the_kl_weight_is_zero_unless_it_is_logged():
    model = BiasModel()
    stats = update_step(model, torch.optim.SGD(model.parameters(), lr=0.0), _pair(), _cfg(micro_batch_size=2), pad_id=0)
    assert model.calls == 1 and "kl" not in stats
    model = BiasModel()
    reference = TeacherWeights(model, "frozen")
    stats = update_step(model, torch.optim.SGD(model.parameters(), lr=0.0), _pair(), _cfg(micro_batch_size=2, log_kl=True), pad_id=0, reference=reference)
    assert model.calls == 2 and stats["kl"] == pytest.approx(0.0)


def test_the_kl_pulls_towards_the_frozen_starting_weights():
    model = BiasModel((1.0, 0.0))
    reference = TeacherWeights(model, "frozen")
    with torch.no_grad():
        model.bias.copy_(torch.tensor([0.0, 0.0]))
    samples = [TurnSample([1], [0], 1.0, "g", "e0"), TurnSample([1], [0], 1.0, "g", "e1")]  # equal rewards: A = 0
    stats = update_step(model, torch.optim.SGD(model.parameters(), lr=1.0), samples, _cfg(kl_coef=1.0, micro_batch_size=2), pad_id=0, reference=reference)
    # k3 with r = ref − logp = log σ(1) − log ½: e^r − r − 1
    r = math.log(1 / (1 + math.exp(-1))) - math.log(0.5)
    assert stats["kl"] == pytest.approx(math.exp(r) - r - 1, abs=1e-6)
    # ∂k3/∂logp = 1 − e^r < 0 (π_ref likes token 0 more): SGD raises log p0, i.e. bias[0] − bias[1] grows
    assert model.bias[0].item() > model.bias[1].item()


def test_a_sdar_run_with_the_defaults_logs_the_update_diagnostics(tmp_path):
    from skillspark.train.config import TrainConfig
    from skillspark.train.curves import read_metrics
    from skillspark.train.envs.fake import write_fake_skill
    from skillspark.train.trainer import train

    write_fake_skill("choice", tmp_path / "skills")
    config = TrainConfig(
        algo="sdar", game="fake:choice?turns=2&options=3", steps=1, games=2, group_size=3, max_turns=2, max_new_tokens=4,
        skills=tmp_path / "skills", output=tmp_path / "run", ppo_mini_batch=4, teacher_check="off",
    )
    row = read_metrics(train(config) / "metrics.jsonl")[0]
    assert row["optimizer_steps"] == math.ceil(row["samples"] / 4)
    assert row["kl"] >= 0.0  # kl_coef 0.01 by default: full weights compare with a frozen copy of the start
    assert 0.0 <= row["clip_frac"] <= 1.0 and "ppo_kl" in row
    assert row["teacher_grad_abs"] == pytest.approx(0.01 * row["gate_mean"], rel=1e-6)  # SDAR: λ·g on each token
    assert row["skillless_episodes"] == 0.0 and row["teacher_truncated"] == 0.0
    assert ("distill_pg_ratio" in row) == (row["advantage_abs"] > 0)
