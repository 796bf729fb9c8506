"""Everything a training run depends on, in one record: written to DIR/config.json, read back on resume.

A `--config FILE.toml` gives the same fields (flat keys); flags given on the command line win. No torch.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

from skillspark.errors import UserError
from skillspark.train.algorithms import ALGORITHMS, AlgoConfig
from skillspark.train.envs.actions import INVALID_ACTION_PENALTY

CHOICES = {
    "algo": ALGORITHMS,
    "teacher": ("live", "frozen", "ema"),
    "retrieval": ("keyword", "full", "random", "ucb"),
    "teacher_check": ("require", "warn", "off"),
    "reward": ("won", "score"),
}


class RolloutConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    group_size: int = 4
    max_turns: int = 8
    history_turns: int = 2  # the reference's history length
    max_prompt_tokens: int = 1024
    max_new_tokens: int = 24  # an action is a few words
    temperature: float = 1.0
    reward: str = "won"  # "won": scale·won; "score": scale·score/max_score (dense TextWorld rewards)
    reward_scale: float = 10.0  # ALFWorld's 10·won in the reference
    invalid_penalty: float = INVALID_ACTION_PENALTY
    generation_batch: int = 32
    skill_in_policy_prompt: bool = False  # Skill-GRPO, and evaluating the skill-conditioned policy


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    algo: str = "grpo"
    env: str = "fake:choice"
    model: str = "tiny-random"
    lora: bool = False
    lora_rank: int = 8
    steps: int = 10
    games: int = 2  # games per step; each is played by a group of `group_size` episodes
    group_size: int = 4
    max_turns: int = 8
    history_turns: int = 2
    max_prompt_tokens: int = 1024
    max_new_tokens: int = 24
    temperature: float = 1.0
    reward: str = "won"
    lr: float = 1e-5
    entropy_coef: float = 0.001
    kl_coef: float = 0.01  # low_var_kl to the starting weights: the reference scripts' 0.01 (use_kl_loss)
    log_kl: bool = False  # with --kl-coef 0: still compute and log the KL (one reference forward per batch)
    ppo_mini_batch: int = 16  # turn samples per optimizer step; see algorithms.AlgoConfig for the reason
    ppo_epochs: int = 1  # passes over each rollout batch (the reference's 1)
    distill_coef: float | None = None  # None: the algorithm's own default (algorithms.DISTILL_DEFAULTS)
    beta: float = 5.0
    rlsd_warmdown: int = 100
    teacher: str = "live"
    teacher_sync: int = 0  # refresh the teacher from the student every N steps (0: never)
    planted_boost: float | None = None  # a positive control (train/planted.py): the teacher = the student + this logit boost on the skill's stated action; 0 = the planted null
    micro_batch_size: int = 8
    skills: Path | None = None
    retrieval: str = "full"  # keyword | full | random | ucb: which skills each episode's teacher sees
    ucb_c: float = 2**0.5
    teacher_check: str = "warn"  # require | warn | off: teacher_check.py measures teacher vs student first
    teacher_check_games: int = 16
    val_every: int = 0  # play val_games validation games greedily every N steps (0: never), logged as val_success
    val_games: int = 16
    skills_from_rollouts: bool = False
    summarizer: str = "local/smollm2"  # the model that turns rollouts into skills (any litellm string)
    seed: int = 0
    save_every: int = 10
    output: Path = Path("train-out")

    @field_validator("algo", "teacher", "retrieval", "reward", "teacher_check")
    @classmethod
    def _one_of(cls, value: str, info: ValidationInfo) -> str:
        allowed = CHOICES[info.field_name]
        if value not in allowed:
            raise ValueError(f"unknown value {value!r}; choose one of {', '.join(allowed)}")
        return value

    @field_validator("kl_coef", "temperature")
    @classmethod
    def _not_negative_float(cls, value: float) -> float:
        if value < 0:
            raise ValueError("must be 0 or more")
        return value

    @field_validator("teacher_sync", "rlsd_warmdown", "val_every")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must be 0 or more")
        return value

    @field_validator("steps", "games", "group_size", "max_turns", "max_prompt_tokens", "max_new_tokens", "micro_batch_size", "save_every", "lora_rank", "teacher_check_games", "val_games", "ppo_mini_batch", "ppo_epochs")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value

    def algo_config(self) -> AlgoConfig:
        return AlgoConfig(
            algo=self.algo, entropy_coef=self.entropy_coef, kl_coef=self.kl_coef,
            distill_coef=self.distill_coef, beta=self.beta, rlsd_warmdown=self.rlsd_warmdown,
            micro_batch_size=self.micro_batch_size, log_kl=self.log_kl, ppo_mini_batch=self.ppo_mini_batch,
            ppo_epochs=self.ppo_epochs, temperature=self.temperature,
        )

    def rollout_config(self) -> RolloutConfig:
        return RolloutConfig(
            group_size=self.group_size, max_turns=self.max_turns, history_turns=self.history_turns,
            max_prompt_tokens=self.max_prompt_tokens, max_new_tokens=self.max_new_tokens,
            temperature=self.temperature, reward=self.reward,
            skill_in_policy_prompt=self.algo_config().skill_in_policy_prompt,
        )


def build_config(flags: dict, config_file: Path | None) -> TrainConfig:
    """Defaults < the TOML file < flags given on the command line (None means "not given")."""
    values: dict = {}
    if config_file is not None:
        try:
            values = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise UserError(f"--config {config_file}: cannot be read as TOML ({exc}); fix the file") from None
    values |= {key: value for key, value in flags.items() if value is not None}
    try:
        return TrainConfig(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "config"
        source = f" (in {config_file})" if config_file is not None else ""
        raise UserError(f"--{where.replace('_', '-')}{source}: {first['msg'].removeprefix('Value error, ')}") from None
