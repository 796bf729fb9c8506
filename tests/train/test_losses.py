"""Every loss and advantage of train/losses.py against values computed by hand (research/training.md)."""

import math

import pytest
import torch

from skillspark.train.losses import (
    entropy_from_logits,
    grpo_turn_advantages,
    low_var_kl,
    ppo_clip_loss,
    rlsd_advantages,
    sdar_loss,
    skillsd_loss,
    token_mean,
)

S = [[-1.0, -2.0]]
T = [[-0.5, -3.0]]
MASK = torch.ones(1, 2)


def _student(values=S):
    return torch.tensor(values, requires_grad=True)


def test_token_mean_weighs_every_response_token_of_the_batch_equally():
    values = torch.tensor([[1.0, 2.0, 9.0], [4.0, 9.0, 9.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    assert token_mean(values, mask).item() == pytest.approx((1 + 2 + 4) / 3)


def test_grpo_advantages_over_all_turns_of_a_group_use_the_unbiased_std():
    # turn rewards [10, 10, 0, 0, 0]: mean 4, squares 2·36 + 3·16 = 120, unbiased std sqrt(120/4) = 5.477226
    adv = grpo_turn_advantages([10, 10, 0, 0, 0], ["g"] * 5)
    assert adv[0].item() == pytest.approx(6 / (math.sqrt(30) + 1e-6), abs=1e-6)
    assert adv[0].item() == pytest.approx(1.0954, abs=1e-4)
    assert adv[2].item() == pytest.approx(-0.7303, abs=1e-4)


def test_grpo_groups_are_normalized_separately_and_a_singleton_keeps_its_reward_as_the_reference_does():
    adv = grpo_turn_advantages([1.0, 3.0, 7.0, 5.0, 5.0], ["a", "a", "b", "c", "c"])
    assert adv[:2].tolist() == pytest.approx([-1 / (math.sqrt(2) + 1e-6), 1 / (math.sqrt(2) + 1e-6)], abs=1e-6)
    assert adv[2].item() == pytest.approx(7.0 / (1.0 + 1e-6))  # one sample in group b: mean 0, std 1
    assert adv[3:].tolist() == [0.0, 0.0]  # equal rewards: no signal


def test_grpo_group_ids_may_be_a_tensor_or_any_hashable_and_anything_else_is_one_error():
    rewards = [1.0, 3.0, 7.0, 5.0, 5.0]
    expected = grpo_turn_advantages(rewards, ["a", "a", "b", "c", "c"])
    assert grpo_turn_advantages(rewards, torch.tensor([4, 4, 9, 2, 2])).tolist() == expected.tolist()
    assert grpo_turn_advantages(rewards, [(0, "x"), (0, "x"), 1, None, None]).tolist() == expected.tolist()
    with pytest.raises(TypeError, match=r"group_ids\[0\]: list is not hashable"):
        grpo_turn_advantages([1.0, 2.0], [[1], [1]])
    with pytest.raises(ValueError, match="one id per reward"):
        grpo_turn_advantages([1.0, 2.0], torch.tensor([1]))


def test_ppo_clip_chooses_the_clipped_term_only_where_the_ratio_left_the_band_in_the_advantages_direction():
    old = torch.zeros(1, 3)
    logp = torch.tensor([[0.5, -0.5, -0.5]], requires_grad=True)  # ratios e^0.5 = 1.6487, e^-0.5 = 0.6065 (twice)
    advantages = torch.tensor([[1.0, 1.0, -1.0]])
    loss, stats = ppo_clip_loss(logp, old, advantages, torch.ones(1, 3))
    # token 1: max(−1.6487, −1.2) = −1.2, clipped; token 2: max(−0.6065, −0.8) = −0.6065, not clipped (the
    # ratio fell against a positive advantage); token 3: max(0.6065, 0.8) = 0.8, clipped, below the dual bound 3
    assert loss.item() == pytest.approx((-1.2 - math.exp(-0.5) + 0.8) / 3, abs=1e-6)
    assert stats["clip_frac"] == pytest.approx(2 / 3)
    assert stats["ppo_kl"] == pytest.approx((-0.5 + 0.5 + 0.5) / 3)
    loss.backward()
    assert logp.grad.tolist()[0] == pytest.approx([0.0, -math.exp(-0.5) / 3, 0.0], abs=1e-6)


def test_sdar_loss_and_gradient_match_the_hand_computed_values():
    student = _student()
    loss, stats = sdar_loss(student, torch.tensor(T), MASK, beta=5.0)
    assert loss.item() == pytest.approx(0.227689, abs=1e-6)
    loss.backward()
    assert student.grad.tolist()[0] == pytest.approx([-0.462071, -0.003346], abs=1e-6)
    assert stats["gate_mean"] == pytest.approx((0.924142 + 0.006693) / 2, abs=1e-6)
    assert stats["gate_open_share"] == 0.5
    assert stats["delta_mean"] == pytest.approx((0.5 - 1.0) / 2)


def test_sdar_with_beta_zero_has_a_gradient_independent_of_the_teacher():
    grads = []
    for teacher in (T, [[-9.0, 0.0]]):
        student = _student()
        loss, stats = sdar_loss(student, torch.tensor(teacher), MASK, beta=0.0)
        loss.backward()
        grads.append(student.grad.tolist())
        assert stats["gate_mean"] == 0.5
    assert grads[0] == grads[1] == [[-0.25, -0.25]]


def test_sdar_gives_masked_tokens_no_gradient():
    student = _student([[-1.0, -2.0, -0.1]])
    loss, _ = sdar_loss(student, torch.tensor([[-0.5, -3.0, 5.0]]), torch.tensor([[1.0, 1.0, 0.0]]))
    loss.backward()
    assert student.grad[0, 2].item() == 0.0
    assert loss.item() == pytest.approx(0.227689, abs=1e-6)


def test_skillsd_loss_and_gradient_with_rho_one():
    student = _student()
    loss, stats = skillsd_loss(student, torch.tensor(T), torch.tensor(S), MASK)
    # l = S - T = [-0.5, 1]; k3 = [e^0.5 - 1.5, e^-1] = [0.148721, 0.367879]
    assert loss.item() == pytest.approx((0.148721 + 0.367879) / 2, abs=1e-6)
    loss.backward()
    # rho carries gradient: d(rho*k3)/dS = k3 + 1 - exp(-l) at rho = 1 -> [-0.5, 1.0], then / 2
    assert student.grad.tolist()[0] == pytest.approx([-0.25, 0.5], abs=1e-6)
    assert stats["rho_mean"] == pytest.approx(1.0)


def test_skillsd_rho_is_capped_at_exp_10():
    student = _student([[5.0]])
    _, stats = skillsd_loss(student, torch.tensor([[5.0]]), torch.tensor([[-20.0]]), torch.ones(1, 1))
    assert stats["rho_mean"] == pytest.approx(math.exp(10.0), rel=1e-5)


def test_rlsd_reweights_credit_without_flipping_its_sign():
    teacher_minus_old = torch.tensor([[0.5, -1.0], [0.5, -1.0]])
    old = torch.zeros(2, 2)
    weighted = rlsd_advantages(torch.tensor([1.0, -1.0]), teacher_minus_old + old, old, lam=0.5)
    assert weighted[0].tolist() == pytest.approx([1.1, 0.9])
    assert weighted[1].tolist() == pytest.approx([-0.9, -1.1])
    unchanged = rlsd_advantages(torch.tensor([2.0]), torch.tensor([[3.0]]), torch.zeros(1, 1), lam=0.0)
    assert unchanged.item() == 2.0


def test_ppo_loss_on_policy_is_minus_advantage_and_its_gradient_is_minus_advantage_over_tokens():
    logp = torch.tensor([[-1.0, -2.0], [-0.5, -0.7]], requires_grad=True)
    loss, stats = ppo_clip_loss(logp, logp.detach(), torch.tensor([2.0, -1.0]), torch.ones(2, 2))
    assert loss.item() == pytest.approx((-2 - 2 + 1 + 1) / 4)
    loss.backward()
    assert logp.grad.tolist() == [[-0.5, -0.5], [0.25, 0.25]]
    assert stats["clip_frac"] == 0.0


def test_ppo_clip_and_dual_clip_bound_the_surrogate():
    old = torch.zeros(1, 3)
    # ratios e^1 = 2.718 (clipped at 1.2 for A > 0), e^2 = 7.389 for A < 0 -> dual clip at 3
    loss_pos, _ = ppo_clip_loss(torch.tensor([[1.0, 1.0, 1.0]]), old, torch.tensor([1.0]), torch.ones(1, 3))
    assert loss_pos.item() == pytest.approx(-1.2)
    loss_neg, _ = ppo_clip_loss(torch.tensor([[2.0, 2.0, 2.0]]), old, torch.tensor([-1.0]), torch.ones(1, 3))
    assert loss_neg.item() == pytest.approx(3.0)


def test_low_var_kl_is_zero_at_the_reference_and_matches_k3():
    logp = torch.tensor([[-1.0, -2.0]])
    assert low_var_kl(logp, logp, MASK).item() == 0.0
    # ref - logp = [0.5, -1]: e^0.5 - 1.5 = 0.148721, e^-1 = 0.367879
    assert low_var_kl(logp, logp + torch.tensor([[0.5, -1.0]]), MASK).item() == pytest.approx(0.2583, abs=1e-4)


def test_entropy_of_a_uniform_distribution_is_log_v():
    assert entropy_from_logits(torch.zeros(1, 1, 4)).item() == pytest.approx(math.log(4))
