"""Does the training instrument find a planted effect, and stay quiet on a planted null? (issue 18)

    .venv/bin/python benchmarks/train_control.py            # the 7 variants x 3 seeds, with the planted teacher and the null
    .venv/bin/python benchmarks/train_control.py --algos grpo,sdar:1 --seeds 2 --steps 6   # a smoke run

The student is tiny-random after a format warm-up (train/format_warmup.py): it writes valid actions of
fake:codeword and is at chance (1/options per gate). The teacher is planted (train/planted.py): the
student's own logits plus a logit boost `--boost` on the tokens of the action the episode's skill states.
Effect: boost > 0, so the teacher knows the door at every gate while the reward (won = every gate right)
arrives only at the end; a method that can use a better teacher must learn faster than GRPO here.
Null: boost 0, the teacher is the student exactly; a method with a policy-gradient term must then match
GRPO, and OPSD (no policy-gradient term) must not learn at all. Last, each variant with the boost is
paired with itself without it: does it use the better teacher? The measure is sample efficiency: the
area under the sampled training-success curve, paired by seed. Validation games use the training
passwords (`held_out=0`): a 3 M-parameter model cannot learn the held-out procedure, only the rule; with
one rule greedy validation is all or nothing per run, so it is printed but not judged on.
docs/training-control.md has the reasoning and the figures (5 seeds: 18 min on 2 cores at load 1-2).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

VARIANTS = "grpo,sdar:0.01,sdar:0.1,sdar:1,skillsd,rlsd,opsd"


def training_success(summary: dict) -> dict[str, dict[int, list[float]]]:
    """Per variant, per seed: the sampled (temperature 1) success rate of each training step's episodes."""
    from skillspark.train.curves import read_metrics

    out: dict[str, dict[int, list[float]]] = {}
    for run in summary["runs"]:
        rows = read_metrics(Path(run["run_dir"]) / "metrics.jsonl")
        out.setdefault(run["variant"], {})[run["seed"]] = [row["success_rate"] for row in rows]
    return out


def sample_efficiency(summary: dict, episodes_per_step: int, window: int) -> tuple[str, list[dict]]:
    """The training-success curves (mean over seeds, Wilson 95% over the pooled episodes of each window of
    steps) and, per variant, the area under its curve (mean success over all steps) paired with the baseline's."""
    from skillspark.evaluate.stats import wilson
    from skillspark.train.compare import mean_ci, verdict

    curves = training_success(summary)
    variants = [row["variant"] for row in summary["rows"]]
    steps = len(next(iter(curves[variants[0]].values())))
    edges = list(range(0, steps, window))
    lines = [
        f"Training success (sampled, {episodes_per_step} episodes per step per seed), mean over seeds "
        f"[Wilson 95%, pooled episodes] per window of {window} steps; area = mean over all steps ± 95% t over seeds",
        "",
        "| variant | " + " | ".join(f"steps {e}-{min(e + window, steps) - 1}" for e in edges) + " | area |",
        "|---|" + "---|" * (len(edges) + 1),
    ]
    for variant in variants:
        per_seed = curves[variant]
        cells = []
        for edge in edges:
            rates = [rate for seed in per_seed.values() for rate in seed[edge : edge + window]]
            wins, n = round(sum(rates) * episodes_per_step), len(rates) * episodes_per_step
            low, high = wilson(wins, n)
            cells.append(f"{wins / n:.2f} [{low:.2f}, {high:.2f}]")
        mean, half = mean_ci([statistics.mean(seed) for seed in per_seed.values()])
        lines.append(f"| {variant} | " + " | ".join(cells) + f" | {mean:.3f} ± {half:.3f} |")
    base = curves[variants[0]]
    verdicts = [
        verdict(variants[0], variant, [statistics.mean(curves[variant][s]) - statistics.mean(base[s]) for s in sorted(base)])
        for variant in variants[1:]
    ]
    return "\n".join(lines), verdicts


def effect_verdict(item: dict) -> str:
    """The planted effect is found when a variant's paired difference to GRPO is above 0 beyond its interval."""
    figures = f"{item['variant']} − {item['baseline']} {item['mean_diff']:+.3f} ± {item['ci95_half']:.3f}"
    if item["mean_diff"] - item["ci95_half"] > 0:
        return f"{figures}: {item['variant']} beats {item['baseline']}: planted effect found"
    if item["mean_diff"] + item["ci95_half"] < 0:
        return f"{figures}: {item['baseline']} beats {item['variant']} although the teacher knows more"
    return f"{figures}: no difference (the planted effect is not found)"


def null_verdict(item: dict, opsd_gain: tuple[float, float] | None) -> str:
    """Under the null every variant with a policy-gradient term must match GRPO; OPSD must not move from the start."""
    if item["variant"].startswith("opsd") and opsd_gain is not None:
        mean, half = opsd_gain
        words = "it learnt: the null is violated" if mean - half > 0 else "no gain: null holds"
        return f"{item['variant']} (no reward term) training success, last window − first {mean:+.3f} ± {half:.3f}: {words}"
    inside = item["mean_diff"] - item["ci95_half"] <= 0 <= item["mean_diff"] + item["ci95_half"]
    words = "no difference: null holds" if inside else "differs from GRPO although the teacher knows nothing"
    return f"{item['variant']} − {item['baseline']} {item['mean_diff']:+.3f} ± {item['ci95_half']:.3f}: {words}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", default="fake:codeword?options=8&rules=1&held_out=0&turns=2")
    parser.add_argument("--algos", default=VARIANTS, help="variants run with the planted teacher and with the null; the first is the baseline")
    parser.add_argument("--boost", type=float, default=3.0, help="the planted teacher's logit boost on the stated action")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--games", type=int, default=2)
    parser.add_argument("--group-size", type=int, default=4)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--val-every", type=int, default=5)
    parser.add_argument("--val-games", type=int, default=8)
    parser.add_argument("--warmup-steps", type=int, default=150)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "train_control")
    args = parser.parse_args()

    import torch

    from skillspark.train.compare import mean_ci, parse_algos, render_table, run_compare
    from skillspark.train.config import TrainConfig
    from skillspark.train.envs.codeword import write_codeword_skills
    from skillspark.train.envs.registry import codeword_spec
    from skillspark.train.format_warmup import format_warmed_model

    torch.set_num_threads(2)
    spec = codeword_spec(args.game)  # the planted teacher reads the action its skills state
    started, load_before = time.perf_counter(), os.getloadavg()
    skills = args.out / "skills"
    write_codeword_skills(spec, skills)
    student = format_warmed_model("tiny-random", args.game, args.out / "student", steps=args.warmup_steps)
    warmed = time.perf_counter() - started
    turns = int(spec.knobs["turns"])
    base = TrainConfig(
        game=args.game, model=str(student), steps=args.steps, games=args.games, group_size=args.group_size,
        max_turns=turns + 2, max_new_tokens=6, lr=args.lr,
        skills=skills, retrieval="keyword", teacher_check="off", val_every=args.val_every, val_games=args.val_games,
        save_every=args.steps, output=args.out,
    )
    print(f"student: tiny-random after {args.warmup_steps} format warm-up steps ({warmed:.0f} s); {args.game}; "
          f"{args.steps} steps x {args.games} games x {args.group_size} episodes, lr {args.lr}, full weights, {args.seeds} seeds")
    variants = parse_algos(args.algos)
    areas: dict[str, dict[str, dict[int, float]]] = {}
    for phase, boost in (("effect", args.boost), ("null", 0.0)):
        phase_started = time.perf_counter()
        config = base.model_copy(update={"planted_boost": boost, "output": args.out / phase})
        summary = run_compare(config, variants, args.seeds, args.val_games, args.out / phase)
        print(f"\n## planted {phase}: teacher = student + {boost:g} on the stated action "
              f"({time.perf_counter() - phase_started:.0f} s)\n")
        print(render_table(summary))
        curves, verdicts = sample_efficiency(summary, args.games * args.group_size, args.val_every)
        print("\n" + curves + "\n")
        success = training_success(summary)
        areas[phase] = {v: {seed: statistics.mean(rates) for seed, rates in by_seed.items()} for v, by_seed in success.items()}
        for item in verdicts:  # on the area under the training-success curve: sample efficiency, paired by seed
            if phase == "effect":
                print("verdict:", effect_verdict(item))
            else:
                gain = [statistics.mean(r[-args.val_every :]) - statistics.mean(r[: args.val_every]) for r in success[item["variant"]].values()]
                print("verdict:", null_verdict(item, mean_ci(gain)))
        (args.out / f"{phase}.json").write_text(json.dumps(summary, indent=2) + "\n")
    print("\n## does each method use the planted teacher? area with boost − area with boost 0, paired by seed\n")
    for variant in variants:
        diffs = [areas["effect"][variant][seed] - areas["null"][variant][seed] for seed in sorted(areas["null"][variant])]
        mean, half = mean_ci(diffs)
        words = "uses the better teacher" if mean - half > 0 else ("made worse by it" if mean + half < 0 else "no use of it that the seeds can show")
        print(f"verdict: {variant}: {mean:+.3f} ± {half:.3f}: {words}")
    load_after = os.getloadavg()
    print(f"\ntotal {time.perf_counter() - started:.0f} s; load average {load_before[0]:.1f} at start, "
          f"{load_after[0]:.1f} at the end ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
