"""`skillspark train ...`: prepare a trainable model, train a policy with GRPO/OPSD/SDAR, evaluate it.

The flags of `train run` and `train compare` are TrainConfig's fields (params.field_option: help, default
and bounds from the field); the command turns the flags into a TrainConfig and `train.service.train_policy`
does the work. Precedence: TrainConfig's defaults < a resumed run's config.json < `--config FILE.toml` <
the flags typed on the command line, which are told apart from defaults by click's parameter source.
torch, transformers and peft are imported inside the commands only, so `skillspark --help` stays light.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from skillspark.params import default_of, field_option, list_values, output_folder
from skillspark.train.config import TrainConfig

app = typer.Typer(no_args_is_help=True)


def _flag(field: str, *names: str, **extra: Any) -> Any:
    return field_option(TrainConfig, field, *names, **extra)


def _default(field: str) -> Any:
    return default_of(TrainConfig, field)


def _typed(ctx: typer.Context) -> dict:
    """The TrainConfig fields given on the command line: only these override a --config file or config.json.

    By the source's name: typer carries its own copy of click, whose ParameterSource is not click's."""
    return {name: value for name, value in ctx.params.items()
            if name in TrainConfig.model_fields and getattr(ctx.get_parameter_source(name), "name", None) == "COMMANDLINE"}


@app.command("prepare-model")
def prepare_model_command(
    model: Annotated[str, typer.Option("--model", "-m", help="The model to make trainable (the embedded GGUF).")] = "local/smollm2",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Folder to write (default: in the cache dir).",
                                                callback=output_folder)] = None,
) -> None:
    """Turn the embedded SmolLM2 GGUF into a trainable safetensors folder, once, offline."""
    from skillspark.train.model import prepare_model

    typer.echo(prepare_model(model, output))


@app.command("run")
def run_command(
    ctx: typer.Context,
    algo: Annotated[str, _flag("algo", "--algo")] = _default("algo"),
    game: Annotated[str, _flag("game", "--game")] = _default("game"),
    model: Annotated[str, _flag("model", "--model", "-m")] = _default("model"),
    lora: Annotated[bool, _flag("lora", "--lora/--full")] = _default("lora"),
    lora_rank: Annotated[int, _flag("lora_rank", "--lora-rank")] = _default("lora_rank"),
    steps: Annotated[int, _flag("steps", "--steps")] = _default("steps"),
    group_size: Annotated[int, _flag("group_size", "--group-size")] = _default("group_size"),
    games: Annotated[int, _flag("games", "--games")] = _default("games"),
    max_turns: Annotated[int, _flag("max_turns", "--max-turns")] = _default("max_turns"),
    history_turns: Annotated[int, _flag("history_turns", "--history-turns")] = _default("history_turns"),
    max_prompt_tokens: Annotated[int, _flag("max_prompt_tokens", "--max-prompt-tokens")] = _default("max_prompt_tokens"),
    max_new_tokens: Annotated[int, _flag("max_new_tokens", "--max-new-tokens")] = _default("max_new_tokens"),
    temperature: Annotated[float, _flag("temperature", "--temperature")] = _default("temperature"),
    reward: Annotated[str, _flag("reward", "--reward")] = _default("reward"),
    lr: Annotated[float, _flag("lr", "--lr")] = _default("lr"),
    entropy_coef: Annotated[float, _flag("entropy_coef", "--entropy-coef")] = _default("entropy_coef"),
    kl_coef: Annotated[float, _flag("kl_coef", "--kl-coef")] = _default("kl_coef"),
    log_kl: Annotated[bool, _flag("log_kl", "--log-kl/--no-log-kl")] = _default("log_kl"),
    ppo_mini_batch: Annotated[int, _flag("ppo_mini_batch", "--ppo-mini-batch")] = _default("ppo_mini_batch"),
    ppo_epochs: Annotated[int, _flag("ppo_epochs", "--ppo-epochs")] = _default("ppo_epochs"),
    distill_coef: Annotated[float | None, _flag("distill_coef", "--distill-coef")] = _default("distill_coef"),
    beta: Annotated[float, _flag("beta", "--beta")] = _default("beta"),
    rlsd_warmdown: Annotated[int, _flag("rlsd_warmdown", "--rlsd-warmdown")] = _default("rlsd_warmdown"),
    teacher: Annotated[str, _flag("teacher", "--teacher")] = _default("teacher"),
    teacher_sync: Annotated[int, _flag("teacher_sync", "--teacher-sync")] = _default("teacher_sync"),
    planted_boost: Annotated[float | None, _flag("planted_boost", "--planted-boost")] = _default("planted_boost"),
    micro_batch_size: Annotated[int, _flag("micro_batch_size", "--micro-batch-size")] = _default("micro_batch_size"),
    skills: Annotated[Path | None, _flag("skills", "--skills")] = _default("skills"),
    retrieval: Annotated[str, _flag("retrieval", "--retrieval")] = _default("retrieval"),
    ucb_c: Annotated[float, _flag("ucb_c", "--ucb-c")] = _default("ucb_c"),
    teacher_check: Annotated[str, _flag("teacher_check", "--teacher-check")] = _default("teacher_check"),
    teacher_check_games: Annotated[int, _flag("teacher_check_games", "--teacher-check-games")] = _default("teacher_check_games"),
    val_every: Annotated[int, _flag("val_every", "--val-every")] = _default("val_every"),
    val_games: Annotated[int, _flag("val_games", "--val-games")] = _default("val_games"),
    skills_from_rollouts: Annotated[
        bool, _flag("skills_from_rollouts", "--skills-from-rollouts/--no-skills-from-rollouts")] = _default("skills_from_rollouts"),
    summarizer: Annotated[str, _flag("summarizer", "--summarizer")] = _default("summarizer"),
    seed: Annotated[int, _flag("seed", "--seed")] = _default("seed"),
    save_every: Annotated[int, _flag("save_every", "--save-every")] = _default("save_every"),
    output: Annotated[Path, _flag("output", "--output", "-o", callback=output_folder)] = _default("output"),
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --output from its last checkpoint.")] = False,
    config_file: Annotated[Path | None, typer.Option(
        "--config", help="A TOML file with TrainConfig's keys (the flags' names with _); flags win.")] = None,
) -> None:
    """Train a policy on a text environment; writes config.json, metrics.jsonl, checkpoints and curves."""
    from skillspark.train.config import build_config
    from skillspark.train.service import saved_config, train_policy

    base = saved_config(output) if resume and config_file is None else None
    result = train_policy(build_config(_typed(ctx), config_file, base=base), resume=resume)
    typer.echo(f"metrics: {result.metrics}  curves: {result.curves}  checkpoints: {result.checkpoints}")


@app.command("eval")
def eval_command(
    checkpoint: Annotated[str, typer.Argument(help="A `train run` folder's checkpoint, or any --model value.")],
    game: Annotated[str, _flag("game", "--game")] = _default("game"),
    episodes: Annotated[int, typer.Option("--episodes", min=1, help="Validation games, one greedy episode each.")] = 20,
    max_turns: Annotated[int, _flag("max_turns", "--max-turns")] = _default("max_turns"),
    skills: Annotated[Path | None, typer.Option("--skills", help="Put this skill text in the policy's prompt.")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write the summary as JSON to this file.")] = None,
) -> None:
    """Success rate of a policy on the fixed validation games, with a 95% Wilson interval."""
    from skillspark.files import write_atomic
    from skillspark.train.evaluation import evaluate_policy, load_for_eval

    model, tokenizer = load_for_eval(checkpoint)
    summary = evaluate_policy(model, tokenizer, game, episodes, max_turns=max_turns, skills=skills)
    text = json.dumps(summary, indent=2)
    if json_path is not None:
        write_atomic(json_path, text + "\n")
    typer.echo(text)


@app.command("compare")
def compare_command(
    ctx: typer.Context,
    algos: Annotated[list[str], typer.Option(
        "--algos", help="An algorithm to train (repeat; two or more); the first is the baseline. ALGO:λ sets the "
        "distillation weight, e.g. --algos grpo --algos sdar:0.01 --algos skillsd.", show_default=False)],
    seeds: Annotated[int, typer.Option("--seeds", min=1, help="Seeds per algorithm (0..N-1).")] = 3,
    game: Annotated[str, _flag("game", "--game")] = _default("game"),
    model: Annotated[str, _flag("model", "--model", "-m")] = _default("model"),
    lora: Annotated[bool, _flag("lora", "--lora/--full")] = _default("lora"),
    steps: Annotated[int, _flag("steps", "--steps")] = _default("steps"),
    games: Annotated[int, _flag("games", "--games")] = _default("games"),
    group_size: Annotated[int, _flag("group_size", "--group-size")] = _default("group_size"),
    max_turns: Annotated[int, _flag("max_turns", "--max-turns")] = _default("max_turns"),
    lr: Annotated[float, _flag("lr", "--lr")] = _default("lr"),
    skills: Annotated[Path | None, _flag("skills", "--skills")] = _default("skills"),
    retrieval: Annotated[str, _flag("retrieval", "--retrieval")] = _default("retrieval"),
    teacher_check: Annotated[str, _flag("teacher_check", "--teacher-check")] = _default("teacher_check"),
    teacher_check_games: Annotated[int, _flag("teacher_check_games", "--teacher-check-games")] = _default("teacher_check_games"),
    val_every: Annotated[int, _flag("val_every", "--val-every")] = _default("val_every"),
    val_games: Annotated[int, _flag("val_games", "--val-games")] = _default("val_games"),
    eval_episodes: Annotated[int, typer.Option("--eval-episodes", min=1, help="Validation games per final policy.")] = 20,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for runs/, compare.json, compare.md, compare.png.",
                                         callback=output_folder)] = Path("train-compare"),
    config_file: Annotated[Path | None, typer.Option(
        "--config", help="A TOML file of train run settings (TrainConfig's keys); flags win.")] = None,
) -> None:
    """Train several algorithms over several seeds; table with CIs over seeds, curves, and a plain verdict."""
    from skillspark.train.compare import parse_algos, render_table, run_compare, variant_fields
    from skillspark.train.config import build_config

    chosen = parse_algos(list_values(algos, "--algos") or [])
    base = build_config(_typed(ctx) | variant_fields(chosen[0]), config_file)
    summary = run_compare(base, chosen, seeds, eval_episodes, output)
    typer.echo(render_table(summary))
    typer.echo(f"\n{output / 'compare.json'}  {output / 'compare.png'}")


@app.command("serve")
def serve_command(
    checkpoint: Annotated[str, typer.Argument(help="A `train run` checkpoint, or any --model value.")],
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="The port on 127.0.0.1.")] = 8011,
    name: Annotated[str, typer.Option("--name", help="The model name clients use.")] = "student",
) -> None:
    """Serve a trained policy as an OpenAI-compatible endpoint on 127.0.0.1 (for `skillspark run`/`eval`)."""
    from skillspark.train.evaluation import load_for_eval
    from skillspark.train.serve import build_app, run_server

    model, tokenizer = load_for_eval(checkpoint)
    typer.echo(f"serving {checkpoint} as {name}: --model openai/{name} --api-base http://127.0.0.1:{port}/v1")
    run_server(build_app(model, tokenizer, name), port)
