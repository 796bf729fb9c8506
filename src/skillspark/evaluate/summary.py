"""summary.json of `skillspark eval`: per-arm rates and paired comparisons, computed from results records.

Why tasks first: a task is what was sampled, so every rate is a mean of per-task rates p_t = passes/trials
(infra errors dropped from both), every interval is over tasks (Student's t, df = tasks − 1), and a
comparison uses only tasks that ran in both arms. Infra errors say nothing about a skill: they are
counted, never scored as failures.
Money spent on them is real, so tokens and cost add up every record.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable

from skillspark.evaluate import stats

INFRA_ERROR = "infra_error"
TaskCounts = dict[str, tuple[int, int]]  # task -> (passes, trials), infra errors excluded
INTERVAL_METHOD = "Student t over per-task values, df = tasks - 1"


def per_task_counts(records: Iterable[dict]) -> dict[tuple[str, str], TaskCounts]:
    """(model, condition) -> task -> (passes, trials) over scored trials; a task with only infra errors is absent."""
    counts: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for record in records:
        if record.get("status") == INFRA_ERROR:
            continue
        cell = counts[(record["model"], record["condition"])][record["task"]]
        cell[0] += bool(record.get("passed"))
        cell[1] += 1
    return {arm: {task: (p, n) for task, (p, n) in tasks.items()} for arm, tasks in counts.items()}


def ordered_conditions(conditions: Iterable[str], baseline: str) -> list[str]:
    """The baseline first, then the others by name: one stable order for tables and plots."""
    unique = set(conditions)
    return ([baseline] if baseline in unique else []) + sorted(unique - {baseline})


def _known_sum(values: Iterable[float | int | None]) -> float | None:
    """Sum of the values that were recorded; None when none was (unknown is not zero)."""
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _arm(model: str, condition: str, records: list[dict], tasks: TaskCounts, k: int) -> dict:
    """One arm's row: rates over its scored tasks, spend over all its records."""
    rates = [passes / trials for passes, trials in tasks.values()]
    passes = sum(p for p, _ in tasks.values())
    n_trials = sum(n for _, n in tasks.values())
    scored = [r for r in records if r.get("status") != INFRA_ERROR]
    tokens = _known_sum(
        None
        if r.get("tokens_in") is None and r.get("tokens_out") is None
        else (r.get("tokens_in") or 0) + (r.get("tokens_out") or 0)
        for r in records
    )
    cost = _known_sum(r.get("cost_usd") for r in records)
    return {
        "model": model,
        "condition": condition,
        "n_tasks": len(tasks),
        "n_trials": n_trials,
        "passes": passes,
        "pass_rate": statistics.fmean(rates) if rates else None,
        "wilson95": list(stats.wilson(passes, n_trials)),
        "ci95": list(stats.mean_interval(rates)) if rates else [None, None],
        # k trials drawn from the n_t a task ran (all of them when n_t <= k): ≥ 1 pass / every one passes
        "pass_at_k": statistics.fmean(stats.pass_at_k(n, p, min(k, n)) for p, n in tasks.values()) if tasks else None,
        "pass_hat_k": statistics.fmean(stats.pass_hat_k(n, p, min(k, n)) for p, n in tasks.values()) if tasks else None,
        "tokens": tokens,
        "cost_usd": cost,
        "cost_per_solve_usd": cost / passes if cost is not None and passes else None,
        "infra_errors": len(records) - len(scored),
        "skill_read_rate": statistics.fmean(bool(r.get("skill_read")) for r in scored) if scored else None,
    }


def _pct(x: float) -> str:
    return f"{100 * x:+.1f} pp"


def outcome(comparison: dict) -> str:
    """better / worse / no difference shown / not compared: the verdict as a value a program can count.

    An arm is called better or worse only when the CI of Δ excludes 0 and the exact test agrees
    (p < 0.05): the exact test bounds false positives at 5% whatever the tasks look like, and the CI
    keeps the call consistent with the interval the reader sees.
    """
    if comparison["n_tasks"] == 0:
        return "not compared"
    (lo, hi), p = comparison["ci95"], comparison["p_value"]
    if lo <= 0 <= hi or p >= stats.ALPHA:
        return "no difference shown"
    return "better" if lo > 0 else "worse"


def verdict(comparison: dict) -> str:
    """One sentence a reader can act on (`outcome` in words, with the figures behind it)."""
    model, base, cond = comparison["model"], comparison["baseline"], comparison["condition"]
    called = outcome(comparison)
    if called == "not compared":
        return f"{model}: no task ran in both '{base}' and '{cond}', so nothing can be compared."
    delta, (lo, hi), p = comparison["delta"], comparison["ci95"], comparison["p_value"]
    measured = f"Δ = {_pct(delta)}, 95% CI [{_pct(lo)}, {_pct(hi)}], p = {p:.3g} ({comparison['test']})"
    if called == "no difference shown":
        mde = comparison["mde"]
        reach = (
            f"this design detects changes of about {100 * mde:.1f} pp or more"
            if mde is not None
            else f"{comparison['n_tasks']} tasks are too few for any result to be significant"
        )
        why = (
            "the CI contains 0"
            if lo <= 0 <= hi
            else f"the CI excludes 0 but the exact test does not reach p < {stats.ALPHA}"
        )
        return f"{model}: '{cond}' is not shown to differ from '{base}' ({measured}; {why}); {reach}."
    return f"{model}: '{cond}' does {called} than '{base}' ({measured}; the CI excludes 0 and p < {stats.ALPHA})."


def coverage_note(n_tasks: int) -> str | None:
    """Why the stated 95% may not hold for this many tasks; None when the calibration supports it.

    The figures are the worst coverage benchmarks/eval_calibration.py measured at that size (per-task gains
    spread out, c = 0.5); fewer than 6 tasks were not simulated.
    """
    if n_tasks >= stats.MIN_TASKS_FOR_COVERAGE:
        return None
    worst = "91%" if n_tasks >= 10 else "83%"
    untried = " with 6 to 9 tasks, and fewer were not simulated" if n_tasks < 6 else ""
    return (
        f"with {n_tasks} tasks (fewer than {stats.MIN_TASKS_FOR_COVERAGE}) the 95% CI of Δ covered the true Δ in as "
        f"few as {worst} of simulated evals{untried}; read it as a rough range and add tasks for a reliable one"
    )


def _comparison(
    model: str,
    baseline: str,
    condition: str,
    base: TaskCounts,
    other: TaskCounts,
    k: int,
    seed: int,
    resamples: int,
    missing: Iterable[str] = (),
) -> dict:
    """One condition against the baseline; `missing` are the tasks the condition had no skill for (not run).

    Δ uses only tasks run in both arms. `delta_all_tasks` also counts each missing task the baseline scored as
    unchanged (the condition falls back to the baseline there), which is what a user of the skills would see.
    """
    shared = sorted(set(base) & set(other))
    pairs = [(base[t][0] / base[t][1], other[t][0] / other[t][1]) for t in shared]
    fallback = sorted(set(missing) & (set(base) - set(other)))
    all_pairs = pairs + [(base[t][0] / base[t][1],) * 2 for t in fallback]
    diffs = [c - b for b, c in pairs]
    better = sum(d > 0 for d in diffs)
    worse = sum(d < 0 for d in diffs)
    result = {
        "model": model,
        "baseline": baseline,
        "condition": condition,
        "n_tasks": len(shared),
        "delta": None,
        "ci95": [None, None],
        "p_value": None,
        "test": stats.significance_test_name(k),
        "normalized_gain": None,
        "improved": better,
        "degraded": worse,
        "unchanged": len(shared) - better - worse,
        "mde": stats.minimum_detectable_effect(diffs),
        "excluded_tasks": sorted(set(base) ^ set(other)),
        "missing_skill_tasks": sorted(set(missing)),
        "n_missing_skill_tasks": len(set(missing)),
        "n_tasks_all": len(all_pairs),
        "delta_all_tasks": None,
        "ci95_all_tasks": [None, None],
        "coverage_note": coverage_note(len(shared)) if shared else None,
    }
    if fallback:  # else the same pairs as Δ: its values below
        delta_all, lo_all, hi_all = stats.paired_delta(all_pairs)
        result |= {"delta_all_tasks": delta_all, "ci95_all_tasks": [lo_all, hi_all]}
    if pairs:
        delta, lo, hi = stats.paired_delta(pairs)
        base_rate = statistics.fmean(b for b, _ in pairs)
        result |= {
            "delta": delta,
            "ci95": [lo, hi],
            "p_value": stats.sign_flip_test(diffs, seed, resamples),
            # room left above the baseline on the same tasks that was taken: Δ / (1 − baseline rate)
            "normalized_gain": delta / (1 - base_rate) if base_rate < 1 else None,
        }
        if not fallback:
            result |= {"delta_all_tasks": delta, "ci95_all_tasks": [lo, hi]}
    result["outcome"] = outcome(result)
    result["verdict"] = verdict(result)
    return result


def teacher_cost(base_arm: dict, arm: dict, total_usd: float) -> dict:
    """What the skills cost to make (an explore run's teacher spend) against what they save students.

        per task  = teacher cost / tasks of the arm (the skills are made once per task, then reused)
        break-even solves = per task / (cost per solve without − cost per solve with the skill)
        break-even runs   = break-even solves / solves per run with the skill (passes / scored trials)
    Solves and runs are per task; times `amortized_over_tasks` for the whole set. None when either cost per
    solve is unknown (no cost recorded, or nothing solved) or the skill does not make a solve cheaper: then
    it never pays for itself on cost alone.
    """
    per_task = total_usd / arm["n_tasks"] if arm["n_tasks"] else None
    without, with_skill = base_arm["cost_per_solve_usd"], arm["cost_per_solve_usd"]
    saving = without - with_skill if without is not None and with_skill is not None else None
    solves = per_task / saving if per_task is not None and saving and saving > 0 else None
    return {
        "teacher_cost_usd": total_usd,
        "amortized_over_tasks": arm["n_tasks"],
        "teacher_cost_per_task_usd": per_task,
        "break_even_solves": solves,
        # cost_per_solve_usd is known only with passes > 0, so n_trials > 0 here
        "break_even_runs": solves * arm["n_trials"] / arm["passes"] if solves is not None else None,
    }


def build_summary(
    records: list[dict],
    *,
    k: int,
    baseline: str = "none",
    seed: int = 0,
    resamples: int = 10_000,
    teacher_cost_usd: dict[str, float] | None = None,
    missing_skills: dict[str, list[str]] | None = None,
) -> dict:
    """The summary.json dict: one arm per (model, condition), one comparison per model and non-baseline condition.

    `teacher_cost_usd` maps a condition to what making its skills cost (read from its explore run); its
    comparisons then carry the `teacher_cost` block. `missing_skills` (eval.json's) maps a condition to the
    tasks it had no skill for, so each comparison can report them and `delta_all_tasks`. `seed` and
    `resamples` matter only when the exact test must sample sign vectors (uneven trial counts).
    """
    by_arm: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for record in records:
        by_arm[(record["model"], record["condition"])].append(record)
    counts = per_task_counts(records)
    models = sorted({m for m, _ in by_arm})
    conditions = ordered_conditions((c for _, c in by_arm), baseline)
    arms = [
        _arm(m, c, by_arm[(m, c)], counts.get((m, c), {}), k)
        for m in models
        for c in conditions
        if (m, c) in by_arm
    ]
    comparisons = [
        _comparison(
            m,
            baseline,
            c,
            counts.get((m, baseline), {}),
            counts.get((m, c), {}),
            k,
            seed,
            resamples,
            (missing_skills or {}).get(c, ()),
        )
        for m in models
        for c in conditions
        if c != baseline and (m, c) in by_arm and (m, baseline) in by_arm
    ]
    arm_of = {(a["model"], a["condition"]): a for a in arms}
    for comparison in comparisons:
        spent = (teacher_cost_usd or {}).get(comparison["condition"])
        if spent is not None:
            model = comparison["model"]
            comparison["teacher_cost"] = teacher_cost(
                arm_of[(model, baseline)], arm_of[(model, comparison["condition"])], spent
            )
    return {
        "k": k,
        "n_tasks": len({r["task"] for r in records}),
        "models": models,
        "conditions": conditions,
        "baseline": baseline,
        "seed": seed,
        "resamples": resamples,
        "interval": INTERVAL_METHOD,
        "arms": arms,
        "comparisons": comparisons,
    }
