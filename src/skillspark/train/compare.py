"""`train compare`: several algorithms × seeds on one validation manifest, and an honest verdict.

Each (algorithm, seed) trains from the same base config into DIR/runs/<variant>-s<seed>, then its final
checkpoint plays the fixed validation games greedily. The table gives the final success per algorithm
with a 95% t-interval over seeds; each algorithm is compared with the first one (the baseline) by the
paired difference over seeds (same seed, same games), and a difference is called only when its
interval excludes zero. Seeds are few, so intervals are wide: the verdict says so rather than crown a
winner.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from pathlib import Path

from skillspark.errors import UserError
from skillspark.files import write_atomic
from skillspark.train.algorithms import ALGORITHMS
from skillspark.train.config import TrainConfig
from skillspark.train.curves import read_metrics

T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}


def mean_ci(values: list[float]) -> tuple[float, float]:
    """Mean and half-width of its 95% t-interval; the half-width is infinite with a single value."""
    if len(values) < 2:
        return values[0], math.inf
    return statistics.mean(values), T95.get(len(values) - 1, 1.96) * statistics.stdev(values) / math.sqrt(len(values))


def parse_algos(text: str) -> list[str]:
    algos = [a.strip() for a in text.split(",") if a.strip()]
    unknown = [a for a in algos if a not in ALGORITHMS]
    if unknown or len(algos) < 2 or len(set(algos)) != len(algos):
        raise UserError(f"--algos {text!r}: give two or more distinct algorithms from {', '.join(ALGORITHMS)}")
    return algos


def verdict(baseline: str, other: str, diffs: list[float]) -> dict:
    mean, half = mean_ci(diffs)
    if mean - half > 0:
        words = f"{other} beat {baseline}"
    elif mean + half < 0:
        words = f"{baseline} beat {other}"
    else:
        words = f"no difference between {other} and {baseline} that {len(diffs)} seeds can show"
    return {"variant": other, "baseline": baseline, "mean_diff": mean, "ci95_half": half, "verdict": words}


def run_compare(base: TrainConfig, variants: list[str], seeds: int, eval_episodes: int, output: Path, *, vary: str = "algo") -> dict:
    """Train and evaluate every (variant, seed); write compare.json, compare.md and compare.png.

    The variants are values of the config field `vary`: algorithms by default, or e.g. retrieval
    strategies (`vary="retrieval"`) for an ablation with everything else fixed.
    """
    from skillspark.train.evaluation import evaluate_policy, load_for_eval
    from skillspark.train.trainer import train

    runs = []
    for seed in range(seeds):
        for variant in variants:
            started = time.perf_counter()
            run_dir = output / "runs" / f"{variant}-s{seed}"
            config = TrainConfig(**(base.model_dump() | {vary: variant, "seed": seed, "output": run_dir}))
            resume = (run_dir / "config.json").is_file()  # a compare that was stopped picks up where it was
            train(config, resume=resume)
            model, tokenizer = load_for_eval(str(run_dir / "checkpoints" / f"step-{base.steps:06d}"))
            result = evaluate_policy(model, tokenizer, base.env, eval_episodes, max_turns=base.max_turns, skills=None)
            last = read_metrics(run_dir / "metrics.jsonl")[-1]
            runs.append({
                "variant": variant, "seed": seed, "final_success": result["success_rate"], "wilson_95": result["wilson_95"],
                "seconds": time.perf_counter() - started, "gate_mean_last": last.get("gate_mean"),
                "train_success_last": last["success_rate"], "run_dir": str(run_dir),
            })
    summary = summarize(runs, variants, base, eval_episodes) | {"varied": vary}
    output.mkdir(parents=True, exist_ok=True)
    write_atomic(output / "compare.json", json.dumps(summary, indent=2) + "\n")
    write_atomic(output / "compare.md", render_table(summary) + "\n")
    plot_compare(runs, output / "compare.png", f"{base.env}, {base.model}")
    return summary


def summarize(runs: list[dict], variants: list[str], base: TrainConfig, eval_episodes: int) -> dict:
    rows = []
    for variant in variants:
        mine = sorted((r for r in runs if r["variant"] == variant), key=lambda r: r["seed"])
        mean, half = mean_ci([r["final_success"] for r in mine])
        gates = [r["gate_mean_last"] for r in mine if r["gate_mean_last"] is not None]
        rows.append({
            "variant": variant, "seeds": len(mine), "final_success_mean": mean, "ci95_half": half,
            "per_seed": [r["final_success"] for r in mine], "gate_mean_last": statistics.mean(gates) if gates else None,
            "seconds_per_run": statistics.mean(r["seconds"] for r in mine),
        })
    baseline = variants[0]
    by_seed = {(r["variant"], r["seed"]): r["final_success"] for r in runs}
    seeds = sorted({r["seed"] for r in runs})
    verdicts = [verdict(baseline, variant, [by_seed[(variant, s)] - by_seed[(baseline, s)] for s in seeds]) for variant in variants[1:]]
    return {
        "env": base.env, "model": base.model, "steps": base.steps, "eval_episodes": eval_episodes,
        "rows": rows, "verdicts": verdicts, "runs": runs,
    }


def render_table(summary: dict) -> str:
    lines = [
        f"Final success on {summary['eval_episodes']} validation games of {summary['env']} ({summary['model']}, "
        f"{summary['steps']} steps); 95% t-interval over seeds.",
        "",
        f"| {summary['varied']} | seeds | final success | per seed | SDAR gate (last step) | s per run |",
        "|---|---|---|---|---|---|",
    ]
    for row in summary["rows"]:
        gate = "–" if row["gate_mean_last"] is None else f"{row['gate_mean_last']:.3f}"
        per_seed = ", ".join(f"{v:.2f}" for v in row["per_seed"])
        lines.append(
            f"| {row['variant']} | {row['seeds']} | {row['final_success_mean']:.3f} ± {row['ci95_half']:.3f} | {per_seed} "
            f"| {gate} | {row['seconds_per_run']:.0f} |"
        )
    lines.append("")
    for item in summary["verdicts"]:
        lines.append(f"- {item['variant']} − {item['baseline']}: {item['mean_diff']:+.3f} ± {item['ci95_half']:.3f}: {item['verdict']}")
    return "\n".join(lines)


def plot_compare(runs: list[dict], path: Path, title: str) -> None:
    """Training success per step, one line per run, one colour per algorithm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    colours = {}
    for run in runs:
        rows = read_metrics(Path(run["run_dir"]) / "metrics.jsonl")
        colour = colours.setdefault(run["variant"], f"C{len(colours)}")
        label = run["variant"] if run["seed"] == 0 else None
        axis.plot([r["step"] for r in rows], [r["success_rate"] for r in rows], color=colour, alpha=0.75, label=label)
    axis.set_xlabel("step")
    axis.set_ylabel("training success rate")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
