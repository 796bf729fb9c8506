"""One training sample per active turn, and the token layout that scores many of them in one forward.

Layout: prompt + response are left-padded to a common length, so every response ends at the last
position; the last R positions (R = the longest response) hold all response tokens, and `logits_to_keep`
lets the model compute logits for those positions only. Prompt, observation and padding tokens sit
outside the response mask, so they never enter a loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class TurnSample:
    """What the policy saw (prompt), what it wrote (response) and what its episode earned (reward).

    `teacher_prompt_ids` is the same prompt with the privileged skill text prepended; None when the
    algorithm has no teacher. Samples of one group (G episodes of the same game) share `group_id`.
    """

    prompt_ids: list[int]
    response_ids: list[int]
    reward: float
    group_id: str
    episode_id: str
    teacher_prompt_ids: list[int] | None = None


@dataclass(frozen=True)
class TokenBatch:
    input_ids: torch.Tensor  # (B, L), left-padded prompt + response
    attention_mask: torch.Tensor  # (B, L)
    position_ids: torch.Tensor  # (B, L): positions count real tokens only
    targets: torch.Tensor  # (B, R): the last R tokens, the ones whose log-probs we need
    response_mask: torch.Tensor  # (B, R): 1 on response tokens

    @property
    def response_window(self) -> int:
        return self.targets.shape[1]


def collate(prompts: list[list[int]], responses: list[list[int]], pad_id: int) -> TokenBatch:
    """Left-pad prompt+response pairs; the response window is the last max(len(response)) positions."""
    sequences = [p + r for p, r in zip(prompts, responses, strict=True)]
    length = max(len(s) for s in sequences)
    window = max(len(r) for r in responses)
    if any(len(p) == 0 for p in prompts) or window == 0:
        raise ValueError("every sample needs a non-empty prompt and at least one response token in the batch")
    input_ids = torch.full((len(sequences), length), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(sequences), length), dtype=torch.long)
    response_mask = torch.zeros((len(sequences), window), dtype=torch.float32)
    for row, (sequence, response) in enumerate(zip(sequences, responses)):
        input_ids[row, length - len(sequence) :] = torch.tensor(sequence, dtype=torch.long)
        attention_mask[row, length - len(sequence) :] = 1
        if response:
            response_mask[row, window - len(response) :] = 1.0
    position_ids = (attention_mask.cumsum(dim=1) - 1).clamp_min(0)
    return TokenBatch(input_ids, attention_mask, position_ids, input_ids[:, length - window :], response_mask)


def response_logits(model, batch: TokenBatch) -> torch.Tensor:
    """Logits predicting each token of the response window, (B, R, V), in float32."""
    output = model(
        input_ids=batch.input_ids,
        attention_mask=batch.attention_mask,
        position_ids=batch.position_ids,
        logits_to_keep=batch.response_window + 1,
        use_cache=False,
    )
    return output.logits[:, :-1].float()


def token_logprobs(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """log π(token) of each target token, (B, R)."""
    return torch.log_softmax(logits, dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
