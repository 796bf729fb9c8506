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
    algorithm has no teacher or the episode was given no skill (its distillation terms are then masked
    out). `teacher_truncated`: that prompt was left-truncated to the prompt budget, as the reference
    does, so the teacher saw only the end of its skill. Samples of one group (G episodes of the same
    game) share `group_id`. `skill` is that privileged text itself (the planted teacher reads the action
    it states: planted.py).
    """

    prompt_ids: list[int]
    response_ids: list[int]
    reward: float
    group_id: str
    episode_id: str
    teacher_prompt_ids: list[int] | None = None
    teacher_truncated: bool = False
    skill: str | None = None


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


def response_logits(model, batch: TokenBatch, temperature: float = 1.0) -> torch.Tensor:
    """Logits predicting each token of the response window, (B, R, V), in float32, divided by the
    sampling temperature: the log-probs are then those of the distribution the tokens were drawn from
    (the reference divides by it too). Greedy decoding (temperature 0) is scored at temperature 1."""
    device = next(model.parameters()).device
    output = model(
        input_ids=batch.input_ids.to(device),
        attention_mask=batch.attention_mask.to(device),
        position_ids=batch.position_ids.to(device),
        logits_to_keep=batch.response_window + 1,
        use_cache=False,
    )
    logits = output.logits[:, :-1].float()
    return logits / temperature if temperature > 0 and temperature != 1.0 else logits


def token_logprobs(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """log π(token) of each target token, (B, R)."""
    return torch.log_softmax(logits, dim=-1).gather(-1, targets.to(logits.device).unsqueeze(-1)).squeeze(-1)


def response_rows(values: list[torch.Tensor], window: int) -> torch.Tensor:
    """Per-sample response vectors (each as long as its response) laid out as a (B, window) batch, right-
    aligned like `collate`'s response window; log-probs computed once per batch re-enter any micro-batch."""
    rows = torch.zeros((len(values), window), dtype=torch.float32)
    for row, value in enumerate(values):
        rows[row, window - value.shape[0] :] = value
    return rows


def response_values(rows: torch.Tensor, responses: list[list[int]]) -> list[torch.Tensor]:
    """The inverse of `response_rows`: each sample's own response positions of a (B, window) tensor."""
    window = rows.shape[1]
    return [rows[row, window - len(response) :].detach().cpu() for row, response in enumerate(responses)]
