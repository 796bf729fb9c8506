"""Everything a training run depends on, in one record: written to DIR/config.json, read back on resume.

`TrainConfig` is composed of its parts: `RolloutSettings` (how episodes are played; `RolloutConfig` adds
what the trainer derives) and `AlgoSettings` (the loss coefficients, whose defaults are `AlgoConfig`'s,
the reference scripts' values), plus the run's own fields. Each field is declared once, with the
description that is also the help of its `train run` flag (params.field_option), so the command line and
the Python API share defaults, help and bounds. A `--config FILE.toml` gives the same fields (flat
keys); flags given on the command line win. No torch.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from skillspark.errors import UserError
from skillspark.limits import MAX_SEED
from skillspark.params import warn_deprecated
from skillspark.train.algorithms import ALGORITHMS, AlgoConfig
from skillspark.train.envs.actions import INVALID_ACTION_PENALTY

CHOICES = {
    "algo": ALGORITHMS,
    "teacher": ("live", "frozen", "ema"),
    "retrieval": ("keyword", "full", "random", "ucb"),
    "teacher_check": ("require", "warn", "off"),
    "reward": ("won", "score"),
}
RENAMED_KEYS = {"env": "game"}  # old TrainConfig key -> new (read for one more release)
# The files of a run folder (`train run --output`): the trainer writes them, the service and compare read them.
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
CURVES_FILE = "learning_curves.png"
CHECKPOINTS_DIR = "checkpoints"


class _Choices(BaseModel):
    """Fields named in CHOICES accept only the values listed there (one message for every one of them)."""

    @field_validator(*CHOICES, check_fields=False)
    @classmethod
    def _one_of(cls, value: str, info: ValidationInfo) -> str:
        allowed = CHOICES[info.field_name]
        if value not in allowed:
            raise ValueError(f"unknown value {value!r}; choose one of {', '.join(allowed)}")
        return value


class RolloutSettings(_Choices):
    """How episodes are played and rewarded: the part of a run a user sets."""

    group_size: int = Field(4, ge=1, description="Episodes per game: the GRPO group.")
    max_turns: int = Field(8, ge=1, description="Turns per episode.")
    history_turns: int = Field(2, ge=0, description="Past turns in each prompt, as in the reference.")
    max_prompt_tokens: int = Field(1024, ge=1, description="Prompt budget in tokens; longer prompts lose their oldest turns.")
    max_new_tokens: int = Field(24, ge=1, description="Tokens per action (an action is a few words).")
    temperature: float = Field(1.0, ge=0, description="Sampling temperature; log-probs are taken at the same temperature.")
    reward: str = Field("won", description="won: 10·won; score: 10·score/max_score (dense TextWorld rewards).")


class RolloutConfig(RolloutSettings):
    """RolloutSettings plus what the trainer derives or fixes (`train eval` builds one as well)."""

    model_config = ConfigDict(frozen=True)

    reward_scale: float = Field(10.0, description="An episode's reward is this times won (ALFWorld's 10·won in the reference).")
    invalid_penalty: float = Field(INVALID_ACTION_PENALTY, description="Subtracted from a turn whose action was invalid.")
    generation_batch: int = Field(32, ge=1, description="Prompts per generate call when a turn answers many episodes (memory only).")
    skill_in_policy_prompt: bool = Field(False, description=(
        "The skill in the policy's own prompt: Skill-GRPO, and evaluating the skill-conditioned policy."))


def _algo(field: str, description: str, **rules: Any) -> Any:
    """A field whose default is AlgoConfig's: the coefficient's value and its reason live there."""
    return Field(AlgoConfig.model_fields[field].default, description=description, **rules)


class AlgoSettings(_Choices):
    """The loss coefficients and update schedule a user sets; `TrainConfig.algo_config()` hands them on."""

    algo: str = _algo("algo", f"The training algorithm: {' | '.join(ALGORITHMS)} (docs/train.md).")
    entropy_coef: float = _algo("entropy_coef", "Weight of the entropy bonus.", ge=0)
    kl_coef: float = _algo("kl_coef", "Weight of the low_var_kl to the starting weights (0: no reference forward).", ge=0)
    log_kl: bool = _algo("log_kl", "With --kl-coef 0, still compute and log the KL (one reference forward per batch).")
    ppo_mini_batch: int = _algo("ppo_mini_batch", "Turn samples per optimizer step; a batch gets several steps.", ge=1)
    ppo_epochs: int = _algo("ppo_epochs", "Passes over each rollout batch.", ge=1)
    distill_coef: float | None = _algo(
        "distill_coef", "λ of the distillation term (default: the algorithm's, sdar 0.01, skillsd 0.001).", ge=0)
    beta: float = _algo("beta", "SDAR's gate sharpness β.", ge=0)
    rlsd_warmdown: int = _algo("rlsd_warmdown", "Steps over which RLSD's λ decays from 0.5 to 0.", ge=0)
    micro_batch_size: int = _algo("micro_batch_size", "Turn samples per forward pass; memory only.", ge=1)


class TrainConfig(AlgoSettings, RolloutSettings):
    """One training run: the algorithm, the rollouts, and the run's own settings (what `train run` takes)."""

    model_config = ConfigDict(extra="forbid")

    game: str = Field("fake:choice", description=(
        "The game spec: fake:choice, fake:codeword?options=4, textworld:tw-simple, harbor:TASK_DIR, ... (docs/train.md)."))
    model: str = Field("tiny-random", description="The weights to train: tiny-random, local/smollm2 or a local Hugging Face folder.")
    lora: bool = Field(False, description="Train LoRA adapters instead of all weights.")
    lora_rank: int = Field(8, ge=1, description="Rank of the LoRA adapters.")
    steps: int = Field(10, ge=1, description="Optimizer steps (rollout batches).")
    games: int = Field(2, ge=1, description="Games per step; each is played by a group of --group-size episodes.")
    lr: float = Field(1e-5, ge=0, description="Learning rate (AdamW).")
    teacher: str = Field("live", description="The teacher's weights: live (the current policy), frozen or ema.")
    teacher_sync: int = Field(0, ge=0, description="Refresh the teacher from the student every N steps (0: never).")
    planted_boost: float | None = Field(None, description=(
        "A positive control (docs/training-control.md): the teacher = the student's logits + this boost on the skill's stated action; 0 = the planted null."))
    skills: Path | None = Field(None, description="A skill folder or a folder of skill folders: the teacher's privileged text.")
    retrieval: str = Field("full", description="Which skills each episode's teacher sees: keyword, full, random or ucb.")
    ucb_c: float = Field(2**0.5, ge=0, description="The UCB1 exploration constant c of --retrieval ucb.")
    teacher_check: str = Field("warn", description=(
        "Measure the teacher with its skill against the student first: require (refuse unless it is better), warn or off."))
    teacher_check_games: int = Field(16, ge=1, description="Validation games the teacher check plays.")
    val_every: int = Field(0, ge=0, description="Play --val-games validation games every N steps, logged as val_success (0: never).")
    val_games: int = Field(16, ge=1, description="Validation games per --val-every point.")
    skills_from_rollouts: bool = Field(False, description="Grow a skill bank from each batch's rollouts (Skill-SD).")
    summarizer: str = Field("local/smollm2", description="The model that writes the skill bank's skills (a litellm model string).")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Seed of the training games and of sampling.")
    save_every: int = Field(10, ge=1, description="Checkpoint every N steps (and at the end).")
    output: Path = Field(Path("train-out"), description="The run folder: config.json, metrics.jsonl, checkpoints, curves.")

    @model_validator(mode="before")
    @classmethod
    def _old_keys(cls, values: Any) -> Any:
        return renamed_keys(values, "TrainConfig") if isinstance(values, dict) else values

    @property
    def env(self) -> str:
        """Deprecated: the game spec is `game`; this alias goes in the next release."""
        return self.game

    def algo_config(self) -> AlgoConfig:
        return AlgoConfig(**self.model_dump(include=set(AlgoConfig.model_fields)))

    def rollout_config(self) -> RolloutConfig:
        return RolloutConfig(**self.model_dump(include=set(RolloutSettings.model_fields)),
                             skill_in_policy_prompt=self.algo_config().skill_in_policy_prompt)


def renamed_keys(values: dict, where: str, *, warn: bool = True) -> dict:
    """`values` with the keys an older version used renamed (`env` -> `game`), warning once per key."""
    values = dict(values)
    for old, new in RENAMED_KEYS.items():
        if old in values:
            if warn:
                warn_deprecated(f"{where}: the key {old} is renamed {new}")
            value = values.pop(old)
            values.setdefault(new, value)
    return values


def build_config(flags: dict, config_file: Path | None, *, base: dict | None = None) -> TrainConfig:
    """Defaults < `base` (a resumed run's config.json) < the TOML file < `flags` (given on the command line)."""
    values: dict = renamed_keys(base or {}, CONFIG_FILE, warn=False)
    if config_file is not None:
        try:
            toml = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise UserError(f"--config {config_file}: cannot be read as TOML ({exc}); fix the file") from None
        values |= renamed_keys(toml, f"--config {config_file}")
    values |= flags
    try:
        return TrainConfig(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "config"
        source = f" (in {config_file})" if config_file is not None else ""
        raise UserError(f"--{where.replace('_', '-')}{source}: {first['msg'].removeprefix('Value error, ')}") from None
