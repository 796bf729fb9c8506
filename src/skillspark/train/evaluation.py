"""`train eval`: a policy's success rate on the fixed validation games, greedy, with a Wilson interval.

With `--skills` the policy plays with the skill text in its own prompt (the teacher's view), so the same
command measures the student alone and the skill-conditioned teacher it learns from.
"""

from __future__ import annotations

from pathlib import Path

from skillspark.evaluate.stats import wilson
from skillspark.train.config import RolloutConfig
from skillspark.train.envs.manifest import validation_games
from skillspark.train.envs.registry import make_env, parse_env_spec
from skillspark.train.model import load_checkpoint, load_policy, resolve_model
from skillspark.train.rollout import SkillChooser, play, start_episode
from skillspark.train.retrieval import load_skills, render_skills


def load_for_eval(spec: str):
    """A `train run` checkpoint (its folder or its `model/`), a full or LoRA folder, or any `--model` value."""
    path = Path(spec)
    if (path / "model").is_dir():
        path = path / "model"
    return load_checkpoint(path, trainable=False) if path.is_dir() else load_policy(resolve_model(spec))


def evaluate_policy(
    model, tokenizer, game: str, episodes: int, *, max_turns: int, skills: Path | None, max_prompt_tokens: int = 1024,
    choose_skill: SkillChooser | None = None,
) -> dict:
    """`choose_skill` (the teacher check's retrieval) picks each game's skill text; else `skills` are all shown."""
    parse_env_spec(game)
    skill = render_skills(load_skills(skills)) if skills is not None else None
    if choose_skill is None:
        choose_skill = lambda _key, _text: skill  # noqa: E731
    cfg = RolloutConfig(
        group_size=1, max_turns=max_turns, temperature=0.0, max_prompt_tokens=max_prompt_tokens, skill_in_policy_prompt=True
    )
    games = validation_games(game, episodes)
    played = [start_episode(make_env(game, seed), f"game-{seed}", f"game-{seed}/eval", choose_skill) for seed in games]
    try:
        play(model, tokenizer, played, cfg)
    finally:
        for episode in played:
            episode.env.close()
    wins = sum(e.won for e in played)
    low, high = wilson(wins, len(played))
    return {
        "game": game,
        "episodes": len(played),
        "wins": wins,
        "success_rate": wins / len(played),
        "wilson_95": [round(low, 4), round(high, 4)],
        "invalid_rate": sum(sum(e.invalid) for e in played) / max(sum(len(e.invalid) for e in played), 1),
        "with_skills": any(e.skill is not None for e in played),
        "games": games,
    }
