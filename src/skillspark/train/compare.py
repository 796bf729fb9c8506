"""`train compare`: several algorithms × seeds on one validation manifest, and an honest verdict.

A variant is an algorithm, or `ALGO:λ` for its distillation weight (`sdar:0.1`). Before anything trains,
a teacher-side variant gets the teacher check (teacher_check.py), once for all runs: same base model,
same validation games. Each (variant, seed) trains from the same base config into
DIR/runs/<variant>-s<seed>, then its final checkpoint plays the fixed validation games greedily; with
`val_every` each run also logs validation success every N steps, and the curves (mean over seeds, 95%
Wilson band on the pooled games; step 0 is the untrained model, shared by all) measure sample efficiency. The table gives the final success per algorithm
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
from skillspark.train.config import CHECKPOINTS_DIR, CONFIG_FILE, METRICS_FILE, TrainConfig
from skillspark.train.curves import read_metrics

T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}


def mean_ci(values: list[float]) -> tuple[float, float]:
    """Mean and half-width of its 95% t-interval; the half-width is infinite with a single value."""
    if len(values) < 2:
        return values[0], math.inf
    return statistics.mean(values), T95.get(len(values) - 1, 1.96) * statistics.stdev(values) / math.sqrt(len(values))


def variant_fields(variant: str) -> dict:
    """The config fields of an `--algos` entry: `sdar` → algo; `sdar:0.1` → algo and distill_coef 0.1."""
    algo, colon, weight = variant.partition(":")
    if algo not in ALGORITHMS:
        raise ValueError(algo)
    if not colon:
        return {"algo": algo}
    coef = float(weight)
    if not coef >= 0:
        raise ValueError(weight)
    return {"algo": algo, "distill_coef": coef}


def parse_algos(given: list[str] | str) -> list[str]:
    """The variants of a comparison: `--algos` repeated (a list), or one comma-separated string."""
    items = given.split(",") if isinstance(given, str) else given
    algos = [a.strip() for a in items if a.strip()]
    try:
        for algo in algos:
            variant_fields(algo)
    except ValueError:
        algos = []
    if len(algos) < 2 or len(set(algos)) != len(algos):
        raise UserError(
            f"--algos {' '.join(items)!r}: give two or more distinct algorithms from {', '.join(ALGORITHMS)}, "
            "each optionally with its distillation weight, e.g. --algos grpo --algos sdar:0.01 --algos sdar:0.1"
        )
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

    def fields(variant: str) -> dict:
        return variant_fields(variant) if vary == "algo" else {vary: variant}

    start = _before_training(base, [base.model_copy(update=fields(v)) for v in variants], output)
    runs = []
    for seed in range(seeds):
        for variant in variants:
            started = time.perf_counter()
            run_dir = output / "runs" / f"{variant.replace(':', '-l')}-s{seed}"
            overrides = fields(variant) | {"seed": seed, "output": run_dir, "teacher_check": "off"}  # checked once above
            config = TrainConfig(**(base.model_dump() | overrides))
            resume = (run_dir / CONFIG_FILE).is_file()  # a compare that was stopped picks up where it was
            train(config, resume=resume)
            model, tokenizer = load_for_eval(str(run_dir / CHECKPOINTS_DIR / f"step-{base.steps:06d}"))
            result = evaluate_policy(model, tokenizer, base.game, eval_episodes, max_turns=base.max_turns, skills=None)
            rows = read_metrics(run_dir / METRICS_FILE)
            curve = [] if start is None else [[0, start]]
            curve += [[row["step"] + 1, row["val_success"]] for row in rows if "val_success" in row]
            runs.append({
                "variant": variant, "seed": seed, "final_success": result["success_rate"], "wilson_95": result["wilson_95"],
                "seconds": time.perf_counter() - started, "gate_mean_last": rows[-1].get("gate_mean"),
                "train_success_last": rows[-1]["success_rate"], "run_dir": str(run_dir), "val_curve": curve,
                "diagnostics": _diagnostics(rows),
            })
    summary = summarize(runs, variants, base, eval_episodes) | {"varied": vary}
    output.mkdir(parents=True, exist_ok=True)
    write_atomic(output / "compare.json", json.dumps(summary, indent=2) + "\n")
    write_atomic(output / "compare.md", render_table(summary) + "\n")
    plot_compare(runs, output / "compare.png", f"{base.game}, {base.model}")
    if any(run["val_curve"] for run in runs):
        plot_validation(summary, output / "validation_curves.png", f"{base.game}, {base.model}")
    return summary


DIAGNOSTICS = ("gate_mean", "gate_open_share", "delta_mean", "distill_pg_ratio", "clip_frac", "kl")


def _diagnostics(rows: list[dict]) -> dict[str, float]:
    """Mean over a run's steps of what says why a teacher-side method moved (or did not)."""
    return {key: statistics.mean(r[key] for r in rows if key in r) for key in DIAGNOSTICS if any(key in r for r in rows)}


def _before_training(base: TrainConfig, configs: list[TrainConfig], output: Path) -> float | None:
    """The teacher check (once, for every run) and step 0 of the validation curves (the untrained model,
    the same for all runs); loads the base model only when one of them is due. Returns step 0's success."""
    from skillspark.train.algorithms import AlgoConfig
    from skillspark.train.teacher_check import applies, run_teacher_check

    teacher_side = [c for c in configs if applies(c, AlgoConfig(algo=c.algo).uses_teacher)]
    if not teacher_side and not base.val_every:
        return None
    from skillspark.train.evaluation import evaluate_policy
    from skillspark.train.model import load_policy, resolve_model

    model, tokenizer = load_policy(resolve_model(base.model))
    if teacher_side:
        run_teacher_check(model, tokenizer, teacher_side[0], output)
    if not base.val_every:
        return None
    result = evaluate_policy(model, tokenizer, base.game, base.val_games, max_turns=base.max_turns, skills=None, max_prompt_tokens=base.max_prompt_tokens)
    return result["success_rate"]


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
            "val_curve": pooled_curve(mine, base.val_games), "diagnostics": _mean_diagnostics(mine),
        })
    baseline = variants[0]
    by_seed = {(r["variant"], r["seed"]): r["final_success"] for r in runs}
    seeds = sorted({r["seed"] for r in runs})
    verdicts = [verdict(baseline, variant, [by_seed[(variant, s)] - by_seed[(baseline, s)] for s in seeds]) for variant in variants[1:]]
    return {
        "game": base.game, "model": base.model, "steps": base.steps, "eval_episodes": eval_episodes,
        "rows": rows, "verdicts": verdicts, "runs": runs,
    }


def pooled_curve(runs: list[dict], games: int) -> list[dict]:
    """Per step: mean validation success over seeds and the Wilson interval of the pooled games."""
    from skillspark.evaluate.stats import wilson

    steps = sorted({point[0] for run in runs for point in run["val_curve"]})
    curve = []
    for step in steps:
        rates = [rate for run in runs for s, rate in run["val_curve"] if s == step]
        low, high = wilson(round(sum(rates) * games), len(rates) * games)
        curve.append({"step": step, "mean": statistics.mean(rates), "wilson_95": [low, high], "seeds": len(rates)})
    return curve


def _mean_diagnostics(runs: list[dict]) -> dict[str, float]:
    keys = sorted({key for run in runs for key in run["diagnostics"]})
    return {key: statistics.mean(r["diagnostics"][key] for r in runs if key in r["diagnostics"]) for key in keys}


def render_table(summary: dict) -> str:
    lines = [
        f"Final success on {summary['eval_episodes']} validation games of {summary['game']} ({summary['model']}, "
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
    if any(row["val_curve"] for row in summary["rows"]):
        lines += ["", render_curves(summary["rows"])]
    if any(row["diagnostics"] for row in summary["rows"]):
        lines += ["", render_diagnostics(summary["rows"])]
    return "\n".join(lines)


def render_curves(rows: list[dict]) -> str:
    """Validation success per step: mean over seeds [pooled Wilson 95%]; the last column is the curve's mean."""
    steps = sorted({point["step"] for row in rows for point in row["val_curve"]})
    lines = [
        "Validation success by step (mean over seeds [95% Wilson, pooled games]); area = mean over the points.",
        "",
        "| variant | " + " | ".join(f"step {step}" for step in steps) + " | area |",
        "|---|" + "---|" * (len(steps) + 1),
    ]
    for row in rows:
        by_step = {point["step"]: point for point in row["val_curve"]}
        cells = [
            f"{by_step[s]['mean']:.2f} [{by_step[s]['wilson_95'][0]:.2f}, {by_step[s]['wilson_95'][1]:.2f}]" if s in by_step else "–"
            for s in steps
        ]
        area = statistics.mean(point["mean"] for point in row["val_curve"]) if row["val_curve"] else math.nan
        lines.append(f"| {row['variant']} | " + " | ".join(cells) + f" | {area:.3f} |")
    return "\n".join(lines)


def render_diagnostics(rows: list[dict]) -> str:
    """Why a teacher-side method moved or not: gate, Δ, |λ·g|/|A|, clip fraction, KL (means over steps and seeds)."""
    lines = ["Diagnostics (mean over steps and seeds)", "", "| variant | " + " | ".join(DIAGNOSTICS) + " |", "|---|" + "---|" * len(DIAGNOSTICS)]
    for row in rows:
        cells = [f"{row['diagnostics'][key]:.4g}" if key in row["diagnostics"] else "–" for key in DIAGNOSTICS]
        lines.append(f"| {row['variant']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_validation(summary: dict, path: Path, title: str) -> None:
    """Validation success vs step per variant: mean over seeds, shaded pooled Wilson 95% band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    for index, row in enumerate(r for r in summary["rows"] if r["val_curve"]):
        steps = [p["step"] for p in row["val_curve"]]
        axis.plot(steps, [p["mean"] for p in row["val_curve"]], color=f"C{index}", marker="o", markersize=3, label=row["variant"])
        axis.fill_between(steps, [p["wilson_95"][0] for p in row["val_curve"]], [p["wilson_95"][1] for p in row["val_curve"]],
                          color=f"C{index}", alpha=0.12)
    axis.set_xlabel("optimizer step")
    axis.set_ylabel("validation success (held-out games)")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_compare(runs: list[dict], path: Path, title: str) -> None:
    """Training success per step, one line per run, one colour per algorithm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    colours = {}
    for run in runs:
        rows = read_metrics(Path(run["run_dir"]) / METRICS_FILE)
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
