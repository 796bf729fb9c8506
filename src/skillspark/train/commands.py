"""`skillspark train ...`: prepare a trainable model, train a policy with GRPO/OPSD/SDAR, evaluate it.

torch, transformers and peft are imported inside the commands only, so `skillspark --help` stays light.
Every option of `train run` defaults to None here: "not given" lets a `--config` file or, on `--resume`,
the run's own config.json decide, and TrainConfig holds the real defaults.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from skillspark.params import output_folder

app = typer.Typer(no_args_is_help=True)


@app.command("prepare-model")
def prepare_model_command(
    model: Annotated[str, typer.Option("--model", help="The model to make trainable (the embedded GGUF).")] = "local/smollm2",
    output: Annotated[Path | None, typer.Option("--output", help="Folder to write (default: in the cache dir).",
                                                callback=output_folder)] = None,
) -> None:
    """Turn the embedded SmolLM2 GGUF into a trainable safetensors folder, once, offline."""
    from skillspark.train.model import prepare_model

    typer.echo(prepare_model(model, output))


@app.command("run")
def run_command(
    algo: Annotated[str | None, typer.Option("--algo", help="grpo | opsd | grpo_opsd | sdar | skillsd | rlsd | skill_grpo")] = None,
    env: Annotated[str | None, typer.Option("--env", help="fake:choice, textworld:tw-simple, textworld:coin_collector?level=5, ...")] = None,
    model: Annotated[str | None, typer.Option("--model", help="tiny-random | local/smollm2 | a local HF folder")] = None,
    lora: Annotated[bool | None, typer.Option("--lora/--full", help="Train LoRA adapters (default: full weights).")] = None,
    lora_rank: Annotated[int | None, typer.Option("--lora-rank")] = None,
    steps: Annotated[int | None, typer.Option("--steps", help="Optimizer steps (default 10).")] = None,
    group_size: Annotated[int | None, typer.Option("--group-size", help="Episodes per game: the GRPO group (default 4).")] = None,
    games: Annotated[int | None, typer.Option("--games", help="Games per step (default 2).")] = None,
    max_turns: Annotated[int | None, typer.Option("--max-turns", help="Turns per episode (default 8).")] = None,
    history_turns: Annotated[int | None, typer.Option("--history-turns", help="Past turns in each prompt (default 2).")] = None,
    max_prompt_tokens: Annotated[int | None, typer.Option("--max-prompt-tokens")] = None,
    max_new_tokens: Annotated[int | None, typer.Option("--max-new-tokens")] = None,
    temperature: Annotated[float | None, typer.Option("--temperature")] = None,
    reward: Annotated[str | None, typer.Option("--reward", help="won (10·won, default) | score (10·score/max)")] = None,
    lr: Annotated[float | None, typer.Option("--lr")] = None,
    entropy_coef: Annotated[float | None, typer.Option("--entropy-coef")] = None,
    kl_coef: Annotated[float | None, typer.Option("--kl-coef", help="low_var_kl to the starting weights (default 0.01, the reference's; 0: no reference forward).")] = None,
    log_kl: Annotated[bool | None, typer.Option("--log-kl/--no-log-kl", help="With --kl-coef 0, still compute and log the KL.")] = None,
    ppo_mini_batch: Annotated[int | None, typer.Option("--ppo-mini-batch", help="Turn samples per optimizer step (default 16); a batch gets several steps.")] = None,
    ppo_epochs: Annotated[int | None, typer.Option("--ppo-epochs", help="Passes over each rollout batch (default 1, the reference's).")] = None,
    distill_coef: Annotated[float | None, typer.Option("--distill-coef", help="λ of the distillation term (sdar 0.01, skillsd 0.001).")] = None,
    beta: Annotated[float | None, typer.Option("--beta", help="SDAR gate sharpness β (default 5).")] = None,
    rlsd_warmdown: Annotated[int | None, typer.Option("--rlsd-warmdown", help="Steps over which RLSD's λ decays 0.5 → 0 (default 100).")] = None,
    teacher: Annotated[str | None, typer.Option("--teacher", help="live (default) | frozen | ema: the teacher's weights.")] = None,
    teacher_sync: Annotated[int | None, typer.Option("--teacher-sync", help="Refresh the teacher from the student every N steps.")] = None,
    micro_batch_size: Annotated[int | None, typer.Option("--micro-batch-size", help="Turn samples per forward (default 8); memory only.")] = None,
    skills: Annotated[Path | None, typer.Option("--skills", help="Skill folder(s): the teacher's privileged text.")] = None,
    retrieval: Annotated[str | None, typer.Option("--retrieval", help="keyword | full (default) | random | ucb")] = None,
    ucb_c: Annotated[float | None, typer.Option("--ucb-c", help="UCB1 exploration constant (default √2).")] = None,
    teacher_check: Annotated[str | None, typer.Option("--teacher-check", help="require: refuse (exit 2) unless the teacher with the skill beats the student on validation games; warn (default) | off.")] = None,
    teacher_check_games: Annotated[int | None, typer.Option("--teacher-check-games", help="Validation games the check plays (default 16).")] = None,
    val_every: Annotated[int | None, typer.Option("--val-every", help="Log validation success every N steps (default 0: never).")] = None,
    val_games: Annotated[int | None, typer.Option("--val-games", help="Validation games per --val-every point (default 16).")] = None,
    skills_from_rollouts: Annotated[
        bool | None, typer.Option("--skills-from-rollouts/--no-skills-from-rollouts", help="Grow a skill bank from each batch (Skill-SD).")
    ] = None,
    summarizer: Annotated[str | None, typer.Option("--summarizer", help="Model that writes bank skills (default local/smollm2).")] = None,
    seed: Annotated[int | None, typer.Option("--seed")] = None,
    save_every: Annotated[int | None, typer.Option("--save-every", help="Checkpoint every N steps (and at the end).")] = None,
    output: Annotated[Path | None, typer.Option("--output", help="Run folder (default train-out).",
                                                callback=output_folder)] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --output from its last checkpoint.")] = False,
    config_file: Annotated[Path | None, typer.Option("--config", help="A TOML file with the same keys (flags win).")] = None,
) -> None:
    """Train a policy on a text environment; writes config.json, metrics.jsonl, checkpoints and curves."""
    flags = {key: value for key, value in locals().items() if key not in ("resume", "config_file")}
    from skillspark.train.config import build_config

    base: dict = {}
    saved = (output or Path("train-out")) / "config.json"
    if resume and config_file is None and saved.is_file():
        base = json.loads(saved.read_text(encoding="utf-8"))
    config = build_config(base | {k: v for k, v in flags.items() if v is not None}, config_file)

    from skillspark.train.trainer import train

    out = train(config, resume=resume)
    typer.echo(f"metrics: {out / 'metrics.jsonl'}  curves: {out / 'learning_curves.png'}  checkpoints: {out / 'checkpoints'}")


@app.command("eval")
def eval_command(
    checkpoint: Annotated[str, typer.Argument(help="A `train run` folder's checkpoint, or any --model value.")],
    env: Annotated[str, typer.Option("--env", help="The environment spec, as for train run.")] = "fake:choice",
    episodes: Annotated[int, typer.Option("--episodes", min=1, help="Validation games, one greedy episode each.")] = 20,
    max_turns: Annotated[int, typer.Option("--max-turns", min=1)] = 8,
    skills: Annotated[Path | None, typer.Option("--skills", help="Put this skill text in the policy's prompt.")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write the summary to this file.")] = None,
) -> None:
    """Success rate of a policy on the fixed validation games, with a 95% Wilson interval."""
    from skillspark.files import write_atomic
    from skillspark.train.evaluation import evaluate_policy, load_for_eval

    model, tokenizer = load_for_eval(checkpoint)
    summary = evaluate_policy(model, tokenizer, env, episodes, max_turns=max_turns, skills=skills)
    text = json.dumps(summary, indent=2)
    if json_path is not None:
        write_atomic(json_path, text + "\n")
    typer.echo(text)


@app.command("compare")
def compare_command(
    algos: Annotated[str, typer.Option("--algos", help="Comma-separated; the first is the baseline, e.g. grpo,sdar,sdar:0.1,skillsd,rlsd (ALGO:λ sets the distillation weight).")],
    seeds: Annotated[int, typer.Option("--seeds", min=1, help="Seeds per algorithm (0..N-1).")] = 3,
    env: Annotated[str | None, typer.Option("--env")] = None,
    model: Annotated[str | None, typer.Option("--model")] = None,
    lora: Annotated[bool | None, typer.Option("--lora/--full")] = None,
    steps: Annotated[int | None, typer.Option("--steps")] = None,
    games: Annotated[int | None, typer.Option("--games")] = None,
    group_size: Annotated[int | None, typer.Option("--group-size")] = None,
    max_turns: Annotated[int | None, typer.Option("--max-turns")] = None,
    lr: Annotated[float | None, typer.Option("--lr")] = None,
    skills: Annotated[Path | None, typer.Option("--skills")] = None,
    retrieval: Annotated[str | None, typer.Option("--retrieval", help="keyword | full (default) | random | ucb")] = None,
    teacher_check: Annotated[str | None, typer.Option("--teacher-check", help="require: refuse (exit 2) unless the teacher with the skill beats the student on validation games; warn (default) | off.")] = None,
    teacher_check_games: Annotated[int | None, typer.Option("--teacher-check-games")] = None,
    val_every: Annotated[int | None, typer.Option("--val-every", help="Validation success every N steps: the sample-efficiency curves.")] = None,
    val_games: Annotated[int | None, typer.Option("--val-games")] = None,
    eval_episodes: Annotated[int, typer.Option("--eval-episodes", min=1, help="Validation games per final policy.")] = 20,
    output: Annotated[Path, typer.Option("--output", help="Folder for runs/, compare.json, compare.md, compare.png.",
                                         callback=output_folder)] = Path("train-compare"),
    config_file: Annotated[Path | None, typer.Option("--config", help="A TOML file of train run settings (flags win).")] = None,
) -> None:
    """Train several algorithms over several seeds; table with CIs over seeds, curves, and a plain verdict."""
    from skillspark.train.compare import parse_algos, render_table, run_compare, variant_fields
    from skillspark.train.config import build_config

    chosen = parse_algos(algos)
    flags = dict(
        env=env, model=model, lora=lora, steps=steps, games=games, group_size=group_size, max_turns=max_turns, lr=lr, skills=skills,
        retrieval=retrieval, teacher_check=teacher_check, teacher_check_games=teacher_check_games, val_every=val_every, val_games=val_games,
    )
    base = build_config(flags | variant_fields(chosen[0]), config_file)
    summary = run_compare(base, chosen, seeds, eval_episodes, output)
    typer.echo(render_table(summary))
    typer.echo(f"\n{output / 'compare.json'}  {output / 'compare.png'}")


@app.command("serve")
def serve_command(
    checkpoint: Annotated[str, typer.Argument(help="A `train run` checkpoint, or any --model value.")],
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8011,
    name: Annotated[str, typer.Option("--name", help="The model name clients use.")] = "student",
) -> None:
    """Serve a trained policy as an OpenAI-compatible endpoint on 127.0.0.1 (for `skillspark run`/`eval`)."""
    from skillspark.train.evaluation import load_for_eval
    from skillspark.train.serve import build_app, run_server

    model, tokenizer = load_for_eval(checkpoint)
    typer.echo(f"serving {checkpoint} as {name}: --model openai/{name} --api-base http://127.0.0.1:{port}/v1")
    run_server(build_app(model, tokenizer, name), port)
