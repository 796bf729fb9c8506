"""The reward UCB retrieval learns from when the skill reaches only the teacher: the teacher's agreement.

Why not episode success: with SDAR, OPSD, Skill-SD or RLSD the chosen skill is shown to the teacher only;
the student acts without it, so its success does not depend on which skill was chosen and UCB rewarded
by success is a random choice. What the choice does change is the teacher's log-probs of the student's
tokens. A skill that knows the answer raises T over S on the actions of a winning episode and lowers it
on those of a losing one; an irrelevant skill leaves T ≈ S; a misleading one does the opposite. So:

    r = mean_t σ(β · s · Δ_t),   Δ_t = log T_t − log S_t (the student's sampled tokens, all turns),
                                 s = +1 if the episode was won, −1 if it was lost,

in [0, 1]: ½ for a skill that changes nothing, → 1 for one whose teacher sides with the outcome, → 0 for
one that sides against it. It is SDAR's gate σ(βΔ) signed by the outcome, with the same β (default 5).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

import torch

from skillspark.train.batch import TurnSample, collate, response_logits, response_values, token_logprobs


def agreement(deltas: Sequence[float], won: bool, beta: float) -> float:
    """mean_t σ(β·s·Δ_t) with s = ±1 by the outcome; ½ when there are no tokens."""
    if not deltas:
        return 0.5
    sign = 1.0 if won else -1.0
    return sum(1.0 / (1.0 + math.exp(-beta * sign * d)) for d in deltas) / len(deltas)


def _logprobs(model, prompts: list[list[int]], samples: list[TurnSample], pad_id: int, temperature: float) -> list[list[float]]:
    batch = collate(prompts, [s.response_ids for s in samples], pad_id)
    with torch.no_grad():
        rows = token_logprobs(response_logits(model, batch, temperature), batch.targets)
    return [values.tolist() for values in response_values(rows, [s.response_ids for s in samples])]


def teacher_agreement(
    model, samples: list[TurnSample], won: dict[str, bool], *, pad_id: int, beta: float, temperature: float = 1.0, batch_size: int = 8
) -> dict[str, float]:
    """`agreement` per episode id, over the samples that carry a teacher prompt (episodes given a skill)."""
    taught = [s for s in samples if s.teacher_prompt_ids is not None and s.response_ids]
    deltas: dict[str, list[float]] = defaultdict(list)
    for start in range(0, len(taught), batch_size):
        chunk = taught[start : start + batch_size]
        teacher = _logprobs(model, [s.teacher_prompt_ids for s in chunk], chunk, pad_id, temperature)
        student = _logprobs(model, [s.prompt_ids for s in chunk], chunk, pad_id, temperature)
        for sample, t_row, s_row in zip(chunk, teacher, student):
            deltas[sample.episode_id].extend(t - s for t, s in zip(t_row, s_row))
    return {episode: agreement(values, won[episode], beta) for episode, values in deltas.items()}
