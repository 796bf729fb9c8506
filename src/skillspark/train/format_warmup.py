"""Teach a model the answer format, and nothing else: it ends at chance, writing valid actions.

Why: a positive control needs a student that plays the game (writes admissible actions) but does not know
which one wins. tiny-random writes no valid action at all (every reward equal, every advantage 0), and
SmolLM2 costs minutes per step on 2 cores. So a small model is first fine-tuned, by plain cross-entropy,
to answer each prompt of randomly played games with one of its admissible actions drawn uniformly at
random. The targets carry no information about the right action, so the result is a student at chance
(1/options per decision) that writes valid actions: the starting point of the planted control
(docs/training-control.md). The prompts are the trainer's own (`prompts.build_turn_prompt`).
"""

from __future__ import annotations

import random
from pathlib import Path

import torch

from skillspark.files import build_dir_atomically
from skillspark.train.batch import collate, response_logits, token_logprobs
from skillspark.train.envs.registry import make_env
from skillspark.train.envs.seeds import TRAINING_SEEDS
from skillspark.train.prompts import Turn, build_turn_prompt


def random_play_examples(tokenizer, env: str, games: int, seed: int, *, history_turns: int = 2, max_prompt_tokens: int = 1024) -> list[tuple[list[int], list[int]]]:
    """(prompt ids, answer ids + EOS) for every turn of `games` games played with uniformly random actions."""
    rng = random.Random(f"format-warmup/{seed}")
    examples = []
    for game_seed in rng.sample(TRAINING_SEEDS, games):
        game = make_env(env, game_seed)
        try:
            first = game.reset()
            observation, admissible, history = first.text, list(first.admissible), []
            while admissible:
                prompt = build_turn_prompt(
                    tokenizer, objective=first.objective, history=history, observation=observation, admissible=admissible,
                    history_turns=history_turns, skill=None, max_prompt_tokens=max_prompt_tokens, demonstration=first.demonstration,
                )
                action = rng.choice(admissible)
                examples.append((prompt.student_ids, tokenizer.encode(action, add_special_tokens=False) + [tokenizer.eos_token_id]))
                history.append(Turn(observation, action))
                result = game.step(action)
                if result.done:
                    break
                observation, admissible = result.observation, list(result.admissible)
        finally:
            game.close()
    return examples


def warm_up_format(model, tokenizer, env: str, *, steps: int, batch_size: int = 16, lr: float = 3e-3, seed: int = 0) -> list[float]:
    """`steps` AdamW steps of cross-entropy on random-play answers; returns the loss per step."""
    examples = random_play_examples(tokenizer, env, steps * batch_size, seed)
    random.Random(seed).shuffle(examples)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.0)
    losses = []
    model.train()
    for step in range(steps):
        chunk = examples[step * batch_size : (step + 1) * batch_size]
        batch = collate([p for p, _ in chunk], [a for _, a in chunk], tokenizer.pad_token_id)
        logp = token_logprobs(response_logits(model, batch), batch.targets)
        loss = -(logp * batch.response_mask).sum() / batch.response_mask.sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    return losses


def format_warmed_model(base: str, env: str, folder: Path, *, steps: int = 150, seed: int = 0) -> Path:
    """`base` (a `--model` value) warmed up on `env`'s answer format, saved as a model folder (built once)."""
    from skillspark.train.model import load_policy, resolve_model

    if (folder / "config.json").is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)

    def build(target: Path) -> None:
        torch.manual_seed(seed)
        model, tokenizer = load_policy(resolve_model(base))
        warm_up_format(model, tokenizer, env, steps=steps, seed=seed)
        model.save_pretrained(target)
        tokenizer.save_pretrained(target)

    return build_dir_atomically(folder, build)
