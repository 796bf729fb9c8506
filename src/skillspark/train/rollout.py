"""Groups of episodes played in lockstep, one batched generation per turn, one sample per active turn.

A group is G episodes of the same game (the GRPO comparison set). At each turn every unfinished episode
of every group gets a prompt; all of them are answered by one batched `generate`; each answer is sent to
its environment. When the episodes end, each turn becomes a `TurnSample` carrying its episode's reward
(minus the invalid-action penalty for that turn), as verl-agent does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from skillspark.train.batch import TurnSample
from skillspark.train.config import RolloutConfig
from skillspark.train.envs.base import Demonstration, TextEnv
from skillspark.train.envs.registry import make_env
from skillspark.train.prompts import Turn, TurnPrompt, build_turn_prompt


@dataclass
class Episode:
    env: TextEnv
    group_id: str
    episode_id: str
    objective: str
    observation: str
    admissible: list[str]
    skill: str | None = None  # the privileged text chosen for this episode (retrieval), or None
    demonstration: Demonstration | None = None  # the game's solved toy turn, before every prompt
    history: list[Turn] = field(default_factory=list)
    prompts: list[TurnPrompt] = field(default_factory=list)
    responses: list[list[int]] = field(default_factory=list)
    invalid: list[bool] = field(default_factory=list)
    score: float = 0.0
    won: bool = False
    done: bool = False

    def reward(self, cfg: RolloutConfig) -> float:
        if cfg.reward == "score":
            return cfg.reward_scale * self.score / max(self.env.max_score, 1e-9)
        return cfg.reward_scale * float(self.won)


@dataclass(frozen=True)
class RolloutResult:
    samples: list[TurnSample]
    episodes: list[Episode]

    @property
    def success_rate(self) -> float:
        return sum(e.won for e in self.episodes) / len(self.episodes)

    def stats(self, cfg: RolloutConfig) -> dict[str, float]:
        turns = [flag for e in self.episodes for flag in e.invalid]
        return {
            "reward_mean": sum(e.reward(cfg) for e in self.episodes) / len(self.episodes),
            "success_rate": self.success_rate,
            "episode_turns": len(turns) / len(self.episodes),
            "invalid_rate": sum(turns) / max(len(turns), 1),
        }


def generate(model, tokenizer, prompts: list[list[int]], *, max_new_tokens: int, temperature: float, batch_size: int,
             stopping_criteria=None) -> list[list[int]]:
    """Sample (temperature > 0) or decode greedily (0) one response per prompt; each ends at its first EOS
    (or where `stopping_criteria`, transformers' own, says: `train serve` stops for a client that left)."""
    from transformers import GenerationConfig

    eos = tokenizer.eos_token_id
    config = GenerationConfig(
        max_new_tokens=max_new_tokens,
        do_sample=temperature > 0,
        temperature=temperature if temperature > 0 else None,
        top_k=None,
        top_p=None,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=eos,
    )
    responses: list[list[int]] = []
    for start in range(0, len(prompts), batch_size):
        chunk = prompts[start : start + batch_size]
        width = max(len(p) for p in chunk)
        input_ids = torch.tensor([[tokenizer.pad_token_id] * (width - len(p)) + p for p in chunk])
        attention_mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in chunk])
        with torch.no_grad():
            output = model.generate(input_ids=input_ids.to(model.device), attention_mask=attention_mask.to(model.device),
                                    generation_config=config, stopping_criteria=stopping_criteria,
                                    synced_gpus=False)  # each process its own games; FSDP weights are gathered (sharding.py)
        for row in output[:, width:].tolist():
            responses.append(row[: row.index(eos) + 1] if eos in row else row)
    return responses


SkillChooser = Callable[[str, str], "str | None"]  # (episode id, objective + first observation) -> skill text


def start_episode(env: TextEnv, group_id: str, episode_id: str, choose_skill: SkillChooser | None = None) -> Episode:
    first = env.reset()
    skill = choose_skill(episode_id, f"{first.objective}\n{first.text}") if choose_skill is not None else None
    return Episode(env, group_id, episode_id, first.objective, first.text, list(first.admissible), skill, first.demonstration)


def play(model, tokenizer, episodes: list[Episode], cfg: RolloutConfig) -> None:
    """Play every episode to its end or to `max_turns`, answering all active ones per turn in one batch.

    An episode's skill text goes into the teacher's prompt only, unless `cfg.skill_in_policy_prompt`
    (Skill-GRPO, or evaluating the skill-conditioned policy) puts it in front of the policy itself.
    """
    for _ in range(cfg.max_turns):
        active = [e for e in episodes if not e.done]
        if not active:
            return
        prompts = [
            build_turn_prompt(
                tokenizer,
                objective=e.objective,
                history=e.history,
                observation=e.observation,
                admissible=e.admissible,
                history_turns=cfg.history_turns,
                skill=e.skill,
                max_prompt_tokens=cfg.max_prompt_tokens,
                demonstration=e.demonstration,
            )
            for e in active
        ]
        responses = generate(
            model, tokenizer, [_policy_prompt(p, cfg) for p in prompts],
            max_new_tokens=cfg.max_new_tokens, temperature=cfg.temperature, batch_size=cfg.generation_batch,
        )
        for episode, prompt, response in zip(active, prompts, responses):
            text = tokenizer.decode(response, skip_special_tokens=True)
            result = episode.env.step(text)
            episode.prompts.append(prompt)
            episode.responses.append(response)
            episode.invalid.append(result.invalid)
            episode.history.append(Turn(episode.observation, (text.strip().splitlines() or [""])[0][:80]))
            episode.observation, episode.admissible = result.observation, list(result.admissible)
            episode.score += result.reward
            episode.won = episode.won or result.won
            episode.done = result.done
    for episode in episodes:
        finish = getattr(episode.env, "finish", None)  # an env that scores only at the end (harbor) verifies now
        if not episode.done and finish is not None:
            result = finish()
            episode.score += result.reward
            episode.won = episode.won or result.won
        episode.done = True


def _policy_prompt(prompt: TurnPrompt, cfg: RolloutConfig) -> list[int]:
    if cfg.skill_in_policy_prompt and prompt.teacher_ids is not None:
        return prompt.teacher_ids
    return prompt.student_ids


def to_samples(episodes: list[Episode], cfg: RolloutConfig) -> list[TurnSample]:
    """One sample per played turn, each carrying its episode's reward minus its own invalid penalty."""
    samples = []
    for episode in episodes:
        reward = episode.reward(cfg)
        for prompt, response, invalid in zip(episode.prompts, episode.responses, episode.invalid):
            samples.append(
                TurnSample(
                    prompt_ids=_policy_prompt(prompt, cfg),
                    response_ids=response,
                    reward=reward - (cfg.invalid_penalty if invalid else 0.0),
                    group_id=episode.group_id,
                    episode_id=episode.episode_id,
                    teacher_prompt_ids=None if cfg.skill_in_policy_prompt else prompt.teacher_ids,
                    teacher_truncated=prompt.teacher_truncated and not cfg.skill_in_policy_prompt,
                    skill=None if cfg.skill_in_policy_prompt else episode.skill,
                )
            )
    return samples


def collect(
    model, tokenizer, spec: str, game_seeds: list[int], cfg: RolloutConfig, choose_skill: SkillChooser | None, *, cache_dir=None
) -> RolloutResult:
    """G episodes per game, played together; the episodes' envs are closed afterwards."""
    episodes: list[Episode] = []
    try:
        for seed in game_seeds:
            for index in range(cfg.group_size):
                env = make_env(spec, seed, cache_dir)
                try:
                    episodes.append(start_episode(env, f"game-{seed}", f"game-{seed}/ep-{index}", choose_skill))
                except BaseException:
                    env.close()
                    raise
        play(model, tokenizer, episodes, cfg)
    finally:
        for episode in episodes:
            episode.env.close()
    return RolloutResult(to_samples(episodes, cfg), episodes)
