"""A planted teacher: a teacher whose advantage over the student is known exactly, to check the instrument.

Why: "does SDAR beat GRPO where the teacher knows more?" can only be answered by a training code that is
right. A positive control needs a teacher that provably knows more, by a documented amount, whatever the
model: here the teacher's next-token logits are the student's own (same weights, same student prompt)
plus `boost` on the next token of the action the episode's skill states, as long as the response so far
follows that action:

    log T_t(v) = log_softmax(z_t + b·[v = a_t])(v)   if response[:t] = a[:t] and t < |a|, else log S_t(v)

with z_t the student's logits (divided by the sampling temperature), a = the tokens of the stated action
followed by EOS, b = `boost`. b = 0 is the planted null: T = S exactly (Δ = 0). Nothing else differs
from the ordinary teacher: the same weights (live, frozen, EMA) score, only on the student's prompt.
The action is read from the skill's "your action is: ACTION" line (fake:codeword's skills state it so).
"""

from __future__ import annotations

import re

import torch

from skillspark.train.batch import TurnSample, collate, response_logits, response_values

STATED_ACTION = re.compile(r"your action is:\s*(.+)", re.IGNORECASE)
NO_BOOST = -1


def stated_action(skill: str | None) -> str | None:
    """The action a skill states ("... your action is: open red door"), or None when it states none."""
    found = STATED_ACTION.search(skill or "")
    return found.group(1).strip() if found else None


def boost_targets(response: list[int], action: list[int]) -> list[int]:
    """Per response position, the token the planted teacher boosts: a_t while the response follows a, else −1."""
    targets = []
    for t in range(len(response)):
        on_path = t < len(action) and response[:t] == action[:t]
        targets.append(action[t] if on_path else NO_BOOST)
    return targets


def planted_logprobs(logits: torch.Tensor, targets: torch.Tensor, boosted: torch.Tensor, boost: float) -> torch.Tensor:
    """log T of each target token, (B, R): log_softmax(logits + boost·onehot(boosted)); −1 in `boosted` adds nothing.

    `logits` (B, R, V) are the student's (already temperature-scaled), `targets` (B, R) the sampled tokens.
    """
    bias = torch.zeros_like(logits)
    rows = boosted >= 0
    bias[rows, boosted[rows]] = boost
    return torch.log_softmax(logits + bias, dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)


class PlantedTeacher:
    """Scores the skill-bearing samples as the planted teacher above; `update.fixed_logprobs` calls `score`."""

    def __init__(self, tokenizer, boost: float) -> None:
        self.tokenizer, self.boost = tokenizer, boost

    def action_ids(self, skill: str | None) -> list[int]:
        action = stated_action(skill)
        if action is None:
            raise ValueError("planted teacher: the episode's skill states no action ('your action is: ...'); use skills that do")
        return self.tokenizer.encode(action, add_special_tokens=False) + [self.tokenizer.eos_token_id]

    def score(self, model, samples: list[TurnSample], pad_id: int, micro: int, temperature: float) -> list[torch.Tensor]:
        """log T of each sample's response tokens, no gradient, on the student prompts."""
        values: list[torch.Tensor] = []
        for start in range(0, len(samples), micro):
            chunk = samples[start : start + micro]
            responses = [s.response_ids for s in chunk]
            batch = collate([s.prompt_ids for s in chunk], responses, pad_id)
            window = batch.response_window
            boosted = torch.full((len(chunk), window), NO_BOOST, dtype=torch.long)
            for row, sample in enumerate(chunk):
                targets = boost_targets(sample.response_ids, self.action_ids(sample.skill))
                boosted[row, window - len(targets) :] = torch.tensor(targets, dtype=torch.long)
            with torch.no_grad():
                logits = response_logits(model, batch, temperature)
                logp = planted_logprobs(logits, batch.targets.to(logits.device), boosted.to(logits.device), self.boost)
            values += response_values(logp, responses)
        return values
