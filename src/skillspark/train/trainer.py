"""The training loop: play groups of episodes, update the policy once, log, checkpoint; resumable.

Read it top to bottom: `train` is the whole algorithm. Every step re-seeds from (seed, step, process), so
a run resumed from a checkpoint computes the same metrics as one that was never interrupted (on CPU).
Several processes (`accelerate launch`) each play their share of the step's games; gradients are summed
over them by update_step and the logged metrics are their means.
"""

from __future__ import annotations

import json
import math
import random
import resource
import time
from pathlib import Path

import torch

from skillspark.errors import UserError
from skillspark.files import append_line, write_atomic
from skillspark.train import checkpoints
from skillspark.train.config import CONFIG_FILE, CURVES_FILE, METRICS_FILE, TrainConfig, renamed_keys
from skillspark.train.curves import plot_curves, read_metrics
from skillspark.train.envs.manifest import training_games
from skillspark.train.envs.registry import parse_env_spec
from skillspark.train.model import load_policy, resolve_model
from skillspark.train.rollout import collect
from skillspark.train.privileged import SkillSource
from skillspark.train.teacher import TeacherWeights
from skillspark.train.planted import PlantedTeacher
from skillspark.train.update import update_step
from skillspark.train.sharding import fsdp_requested, full_checkpoint_state, full_weights, shard, whole
from skillspark.train import teacher_check
from skillspark.train.skill_reward import teacher_agreement
from skillspark.train.evaluation import evaluate_policy


class NonFiniteLoss(UserError):
    """The loss became NaN or infinite: the run stops, the last good checkpoint stays."""


def seed_everything(*parts: int) -> None:
    seed = hash(parts) % (2**31)
    random.seed(seed)
    torch.manual_seed(seed)


def memory_mb() -> float:
    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _step_games(config: TrainConfig, step: int, rank: int, world: int) -> list[int]:
    """This process's share of the step's games; the schedule of games depends only on the run seed."""
    schedule = training_games(config.game, config.steps * config.games, config.seed)
    games = schedule[step * config.games : (step + 1) * config.games]
    return games[rank::world]


def _prepare_output(config: TrainConfig, resume: bool) -> None:
    config.output.mkdir(parents=True, exist_ok=True)
    saved = config.output / CONFIG_FILE
    if resume and saved.is_file():  # a config.json an older version wrote compares by today's key names
        before = renamed_keys(json.loads(saved.read_text(encoding="utf-8")), CONFIG_FILE, warn=False)
        now = json.loads(config.model_dump_json())
        changed = sorted(k for k in now if k not in ("steps", "save_every") and before.get(k) != now[k])
        if changed:
            raise UserError(f"--resume {config.output}: {', '.join(changed)} differ from config.json; resume with the same settings")
    elif not resume and (config.output / METRICS_FILE).exists():
        raise UserError(f"--output {config.output} already holds a run; pass --resume to continue it or choose another folder")
    write_atomic(saved, config.model_dump_json(indent=2) + "\n")


def _keep_metrics_before(path: Path, step: int) -> None:
    """On resume, drop metric lines the killed run wrote after its last checkpoint."""
    rows = [row for row in read_metrics(path) if row["step"] < step]
    write_atomic(path, "".join(json.dumps(row) + "\n" for row in rows))


def train(config: TrainConfig, *, resume: bool = False) -> Path:
    from accelerate import Accelerator

    parse_env_spec(config.game)  # a bad --game is one line before any model loads
    accelerator = Accelerator(cpu=not torch.cuda.is_available())
    rank, world = accelerator.process_index, accelerator.num_processes
    sharded = fsdp_requested() and world > 1  # fsdp.yaml: this trainer shards by hand (sharding.py)
    if sharded and config.lora:
        raise UserError("--lora under FSDP: not supported (adapters are too small to shard); drop --lora or launch with src/skillspark/train/accelerate/ddp.yaml")
    if sharded and resume:
        raise UserError("--resume under FSDP: not supported yet (the optimizer state is not re-sharded); resume with src/skillspark/train/accelerate/ddp.yaml or one process")
    if config.games < world:
        raise UserError(f"--games {config.games} is smaller than the {world} processes; give each process at least one game")
    algo, rollout_cfg = config.algo_config(), config.rollout_config()
    if (algo.uses_teacher or algo.skill_in_policy_prompt) and config.skills is None and not config.skills_from_rollouts:
        raise UserError(f"--algo {config.algo} needs --skills DIR (or --skills-from-rollouts): the skill text it conditions on")
    if accelerator.is_main_process:
        _prepare_output(config, resume)
    source = SkillSource(config, world)

    seed_everything(config.seed)
    model, tokenizer = load_policy(resolve_model(config.model), lora=config.lora, lora_rank=config.lora_rank, seed=config.seed)
    if sharded:  # before the optimizer and the weight copies, so that they hold shards
        shard(model)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.lr, weight_decay=0.0)
    # π_ref of the KL = the weights --model names: LoRA switches its adapter off; full weights keep a copy,
    # taken before a resume overwrites them
    reference = TeacherWeights(model, "frozen") if algo.computes_kl and not hasattr(model, "disable_adapter") else None
    start, extra = 0, {}
    last = checkpoints.latest_checkpoint(config.output) if resume else None
    if last is not None:
        start, extra = checkpoints.restore(last, model, optimizer)
        if accelerator.is_main_process:
            _keep_metrics_before(config.output / METRICS_FILE, start)
    teacher = TeacherWeights(model, config.teacher, config.teacher_sync)
    planted = PlantedTeacher(tokenizer, config.planted_boost) if config.planted_boost is not None else None
    if "teacher" in extra:
        teacher.load_state_dict(extra["teacher"])
    source.load_state_dict(extra.get("skills", {}))
    if start == 0 and teacher_check.applies(config, algo.uses_teacher):  # before any budget is spent
        with full_weights(model):
            teacher_check.run_teacher_check(model, tokenizer, config, config.output, write=accelerator.is_main_process)
    conditioned = algo.uses_teacher or algo.skill_in_policy_prompt
    policy, optimizer = (model, optimizer) if sharded else accelerator.prepare(model, optimizer)
    metrics_path = config.output / METRICS_FILE

    for step in range(start, config.steps):
        seed_everything(config.seed, step, rank)
        started = time.perf_counter()
        games = _step_games(config, step, rank, world)
        with full_weights(model):
            rollout = collect(model, tokenizer, config.game, games, rollout_cfg, source.choose if conditioned else None)
        generated = time.perf_counter()
        skill_rewards = None  # UCB over skills only the teacher sees learns from the teacher (skill_reward.py)
        if config.retrieval == "ucb" and algo.uses_teacher:
            won = {e.episode_id: e.won for e in rollout.episodes}
            with full_weights(model):
                skill_rewards = teacher_agreement(model, rollout.samples, won, pad_id=tokenizer.pad_token_id, beta=config.beta, temperature=config.temperature)
        stats = update_step(
            policy, optimizer, rollout.samples, algo, pad_id=tokenizer.pad_token_id, accelerator=accelerator,
            teacher=teacher, reference=reference, step=step, planted=planted,
        )
        updated = time.perf_counter()
        teacher.after_step(model, step + 1)
        source.observe(rollout.episodes, skill_rewards)  # the skill bank's summarizer calls count in step_time_s only
        tokens = sum(len(s.prompt_ids) + len(s.response_ids) for s in rollout.samples)
        row = {
            **rollout.stats(rollout_cfg),
            **stats,
            "gen_tokens_per_s": stats["response_tokens"] / max(generated - started, 1e-9),
            "update_tokens_per_s": tokens / max(updated - generated - stats["teacher_forward_s"], 1e-9),
            "step_time_s": time.perf_counter() - started,
            "memory_mb": memory_mb(),
            "processes": world,
            **source.stats(),
        }
        if config.val_every and (step + 1) % config.val_every == 0:  # the sample-efficiency curve's points
            with full_weights(model):
                val = evaluate_policy(model, tokenizer, config.game, config.val_games, max_turns=config.max_turns, skills=None, max_prompt_tokens=config.max_prompt_tokens)
            row["val_success"] = val["success_rate"]
        keys = sorted(row)  # every process logs the same keys: one all-reduce carries them all
        means = accelerator.reduce(torch.tensor([float(row[k]) for k in keys], dtype=torch.float64, device=accelerator.device), reduction="mean")
        row = dict(zip(keys, means.tolist()))
        if row.get("advantage_abs"):  # how far the teacher moves each token's weight, relative to |A|
            row["distill_pg_ratio"] = row["teacher_grad_abs"] / row["advantage_abs"]
        if not math.isfinite(row["loss"]):
            kept = checkpoints.latest_checkpoint(config.output)
            raise NonFiniteLoss(
                f"step {step}: the loss is {row['loss']}; stopped, last good checkpoint: {kept or 'none yet'}; "
                "lower --lr or check the model"
            )
        if accelerator.is_main_process:
            append_line(metrics_path, json.dumps({"step": step, "algo": config.algo, **row}))
        if (step + 1) % config.save_every == 0 or step + 1 == config.steps:
            accelerator.wait_for_everyone()
            # sharded: every process gathers (collectives), process 0 writes the whole tensors
            full_state = full_checkpoint_state(model, optimizer) if sharded else None
            teacher_state = {"copy": whole(teacher.copy)} if sharded and teacher.copy is not None else teacher.state_dict()
            if accelerator.is_main_process:
                checkpoints.save(
                    config.output, accelerator.unwrap_model(policy), tokenizer, optimizer, step + 1,
                    extra={"teacher": teacher_state, "skills": source.state_dict()}, full_state=full_state,
                )
                plot_curves(metrics_path, config.output / CURVES_FILE, f"{config.algo} on {config.game}")
    accelerator.wait_for_everyone()
    source.close()
    return config.output
