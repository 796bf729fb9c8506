"""The throughput benchmark's equality check, fast, on tiny-random: our update's loss and gradient norm
equal a straightforward per-sequence computation of the same GRPO loss, and TRL's when TRL is installed
(the `bench` group); padding, masking and the token-mean all have to be right for the numbers to agree."""

import importlib.util

import pytest
import torch

from benchmarks.train_throughput import ours_loss_and_grad_norm, parity_samples, trl_loss_and_grad_norm
from skillspark.train.model import load_policy, tiny_random_model_dir

PROMPTS = [[1, 17, 40, 99, 7], [1, 23, 5]]  # different lengths: left padding in a shared batch
COMPLETIONS = [[88, 12, 301], [450, 6], [77, 77, 91, 2000], [15]]  # different lengths: masked positions
ADVANTAGES = [0.8, -0.3, 1.5, -0.6]  # not summing to zero, so the loss value itself is not 0


@pytest.fixture(scope="module")
def tiny():
    return load_policy(tiny_random_model_dir(), seed=0)


def _trl_style_batch(pad_id: int) -> dict:
    """The batch as TRL's `_generate_and_score_completions` returns it: left-padded prompts, right-padded
    completions, one advantage per sequence, the completion-token count as the dapo normalizer."""
    prompts = [PROMPTS[i // 2] for i in range(4)]
    width, length = max(map(len, prompts)), max(map(len, COMPLETIONS))
    return {
        "prompt_ids": torch.tensor([[pad_id] * (width - len(p)) + p for p in prompts]),
        "prompt_mask": torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts]),
        "completion_ids": torch.tensor([c + [pad_id] * (length - len(c)) for c in COMPLETIONS]),
        "completion_mask": torch.tensor([[1] * len(c) + [0] * (length - len(c)) for c in COMPLETIONS]),
        "advantages": torch.tensor(ADVANTAGES),
        "num_items_in_batch": torch.tensor(float(sum(map(len, COMPLETIONS)))),
    }


def _straightforward(model) -> tuple[float, float]:
    """GRPO at ratio 1, written out: each sequence alone (no padding), −A·exp(S − sg(S)) per completion
    token, summed over all tokens and divided by their number."""
    total, terms = sum(map(len, COMPLETIONS)), []
    for index, completion in enumerate(COMPLETIONS):
        prompt = PROMPTS[index // 2]
        logits = model(input_ids=torch.tensor([prompt + completion])).logits[0, len(prompt) - 1 : -1].float()
        logp = torch.log_softmax(logits, -1).gather(-1, torch.tensor(completion).unsqueeze(-1)).squeeze(-1)
        terms.append((-ADVANTAGES[index] * torch.exp(logp - logp.detach())).sum())
    loss = torch.stack(terms).sum() / total
    loss.backward()
    norm = torch.nn.utils.get_total_norm([p.grad for p in model.parameters() if p.grad is not None])
    model.zero_grad(set_to_none=True)
    return loss.item(), float(norm)


def test_our_loss_and_gradient_norm_equal_the_straightforward_ones_and_trls(tiny, tmp_path):
    model, tokenizer = tiny
    batch = _trl_style_batch(tokenizer.pad_token_id)
    samples = parity_samples(batch)
    assert [s.response_ids for s in samples] == COMPLETIONS and samples[1].prompt_ids == PROMPTS[0]
    ours = ours_loss_and_grad_norm(model, samples, tokenizer.pad_token_id)
    expected_loss = -sum(a * len(c) for a, c in zip(ADVANTAGES, COMPLETIONS)) / 10  # ratio 1: −Σ A·n / N
    assert ours[0] == pytest.approx(expected_loss / (1 + 1e-6), rel=1e-6)
    straightforward = _straightforward(model)
    assert ours == pytest.approx(straightforward, rel=1e-5)
    if importlib.util.find_spec("trl") is not None:  # the bench group is installed: TRL's own code agrees too
        from benchmarks.train_throughput import make_trl_trainer

        class Args:
            prompts, group_size, completion, seed = 2, 2, 4, 0

        trainer = make_trl_trainer(tiny_random_model_dir(), ["a", "b"], Args, str(tmp_path))
        assert trl_loss_and_grad_norm(trainer, batch) == pytest.approx(ours, rel=1e-5)
