"""OUT/report.html: one self-contained page with the eval's tables in words and its plots.

Why this way: the page is opened from disk, mailed or attached to a paper review, so it must need nothing
else (no script, no stylesheet or font from a URL: plots are base64 PNG data URIs) and must be safe to
open when task or model names carry markup (every value is escaped; a CSP forbids scripts anyway).
The text is redacted once before the images go in (base64 could look like a key by chance).
"""

from __future__ import annotations

import base64
import html
import secrets
import statistics
from pathlib import Path

from skillspark.core.redact import redact
from skillspark.errors import UserError
from skillspark.evaluate import plots, stats
from skillspark.evaluate.summary import per_task_counts
from skillspark.files import write_atomic

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
SPEARMAN_INTERVAL = "Fisher z with the Bonett-Wright variance"
STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}th,td{border:1px solid #ccc;padding:4px 8px}
th{background:#f3f3f3;text-align:left}td.n{text-align:right}img{max-width:100%}.verdict{margin:.4em 0}
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _pct(x: float | None, signed: bool = False) -> str:
    return "n/a" if x is None else f"{100 * x:{'+' if signed else ''}.1f}%"


def _pp(x: float | None) -> str:
    """A change of a pass rate, in percentage points."""
    return "n/a" if x is None else f"{100 * x:+.1f} pp"


def _interval(ci: list, show=_pct) -> str:
    return "n/a" if ci[0] is None else f"{show(ci[0])} to {show(ci[1])}"


def _money(x: float | None) -> str:
    return "unknown" if x is None else f"${x:.4f}"


def _arm_label(arm: dict, several_models: bool) -> str:
    return f"{arm['model']} · {arm['condition']}" if several_models else arm["condition"]


def _table(headers: list[str], rows: list[list[str]], numeric_from: int = 1) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=n' if i >= numeric_from else ''}>{esc(c)}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def arms_table(summary: dict) -> str:
    several = len(summary["models"]) > 1
    headers = [
        "arm",
        "tasks",
        "trials",
        "passes",
        "pass rate (mean over tasks)",
        "95% CI (over tasks)",
        "Wilson 95% (pooled trials)",
        f"solved at least once in {summary['k']}",
        f"solved in all {summary['k']}",
        "tokens",
        "cost",
        "cost per solve",
        "infra errors (excluded)",
        "read the skill",
    ]
    rows = [
        [
            _arm_label(a, several),
            a["n_tasks"],
            a["n_trials"],
            a["passes"],
            _pct(a["pass_rate"]),
            _interval(a["ci95"]),
            _interval(a["wilson95"]),
            _pct(a["pass_at_k"]),
            _pct(a["pass_hat_k"]),
            "unknown" if a["tokens"] is None else f"{a['tokens']:,}",
            _money(a["cost_usd"]),
            _money(a["cost_per_solve_usd"]),
            a["infra_errors"],
            _pct(a["skill_read_rate"]),
        ]
        for a in summary["arms"]
    ]
    return _table(headers, rows)


def comparisons_table(summary: dict) -> str:
    headers = [
        "model",
        "condition vs baseline",
        "tasks in both",
        "Δ pass rate",
        "95% CI of Δ",
        "p (exact)",
        "test",
        "normalized gain",
        "tasks improved / worse / same",
        "smallest detectable Δ",
    ]
    rows = [
        [
            c["model"],
            f"{c['condition']} vs {c['baseline']}",
            c["n_tasks"],
            _pp(c["delta"]),
            _interval(c["ci95"], _pp),
            "n/a" if c["p_value"] is None else f"{c['p_value']:.4g}",
            c["test"].replace("_", " "),
            _pct(c["normalized_gain"], True),
            f"{c['improved']} / {c['degraded']} / {c['unchanged']}",
            "none possible (< 6 tasks)" if c["mde"] is None else f"±{100 * c['mde']:.1f} pp",
        ]
        for c in summary["comparisons"]
    ]
    return _table(headers, rows, numeric_from=2)


def tasks_table(tasks: list[str], arms: list[dict], labels: list[str], counts: dict) -> str:
    """Passes / scored trials of every task in every arm (blank: no scored trial)."""
    cells = [counts.get((a["model"], a["condition"]), {}) for a in arms]
    rows = [[t, *(f"{c[t][0]} / {c[t][1]}" if t in c else "" for c in cells)] for t in tasks]
    return _table(["task", *(f"{label}: passes / trials" for label in labels)], rows)


def teacher_cost_lines(summary: dict) -> str:
    """In words, for comparisons whose skills came from an explore run with a known teacher cost."""
    lines = []
    for c in summary["comparisons"]:
        block = c.get("teacher_cost")
        if not block:
            continue
        runs, n = block["break_even_runs"], block["amortized_over_tasks"]
        pays = (
            "a solve does not get cheaper with the skill (or a cost is unknown), so it never pays for itself "
            "on cost alone"
            if runs is None
            else f"it pays for itself after about {runs:.1f} student runs of each task "
            f"({block['break_even_solves']:.1f} solves; {runs * n:.0f} runs over all {n} tasks)"
        )
        lines.append(
            f"<p>{esc(c['model'])}: the '{esc(c['condition'])}' skills cost {esc(_money(block['teacher_cost_usd']))} "
            f"to make: a teacher cost per student task of {esc(_money(block['teacher_cost_per_task_usd']))} "
            f"(amortized over {esc(n)} tasks); {esc(pays)}.</p>"
        )
    return "".join(lines)


def missing_skill_lines(summary: dict) -> str:
    """In words, for comparisons whose condition had no skill for some tasks: which, and Δ counting them."""
    lines = []
    for c in summary["comparisons"]:
        missing = c.get("missing_skill_tasks") or []
        if not missing:
            continue
        shown = ", ".join(missing[:20]) + (f" and {len(missing) - 20} more" if len(missing) > 20 else "")
        lines.append(
            f"<p>{esc(c['model'])}: '{esc(c['condition'])}' had no skill for {len(missing)} task(s) ({esc(shown)}); "
            f"they were not run in that arm and Δ above leaves them out. Counting each as unchanged from "
            f"'{esc(c['baseline'])}' (no skill, so the baseline's result), Δ over {esc(c['n_tasks_all'])} tasks is "
            f"{esc(_pp(c['delta_all_tasks']))}, 95% CI {esc(_interval(c['ci95_all_tasks'], _pp))}; the exact test "
            "is the same, since unchanged tasks do not enter it.</p>"
        )
    return "".join(lines)


def _rates(counts: dict, model: str, condition: str) -> dict[str, float]:
    return {t: p / n for t, (p, n) in counts.get((model, condition), {}).items()}


def task_deltas(summary: dict, counts: dict) -> list[dict[str, float]]:
    """Per comparison: task -> p_t(condition) − p_t(baseline) over the tasks both arms scored."""
    result = []
    for c in summary["comparisons"]:
        base, other = _rates(counts, c["model"], c["baseline"]), _rates(counts, c["model"], c["condition"])
        result.append({t: other[t] - base[t] for t in base.keys() & other.keys()})
    return result


def pdi_analysis(summary: dict, deltas: list[dict[str, float]], pdi_rows: list[dict]) -> list[dict]:
    """Per comparison of a generated condition (all comparisons if none is): Δ by quadrant and Spearman ρ(PDI, Δ).

    The PDI rows score distilled skills, which only the generated arm uses; tasks without a PDI row are left out.
    """
    try:
        pdi = {row["task"]: (float(row["pdi"]), row["quadrant"]) for row in pdi_rows}
    except (KeyError, ValueError, TypeError):
        raise UserError(
            "--pdi-csv: every row needs task, pdi (a number) and quadrant, as `skillspark pdi score --csv` writes"
        ) from None
    chosen = [i for i, c in enumerate(summary["comparisons"]) if c["condition"].startswith("generated")]
    results = []
    for i in chosen or range(len(summary["comparisons"])):
        c, diffs = summary["comparisons"][i], deltas[i]
        matched = sorted(t for t in diffs if t in pdi)
        if not matched:
            continue
        by_quadrant: dict[str, list[float]] = {}
        for t in matched:
            by_quadrant.setdefault(pdi[t][1], []).append(diffs[t])
        pairs = [(pdi[t][0], diffs[t]) for t in matched]
        rho, lo, hi = stats.spearman_interval(pairs)
        results.append({"comparison": c, "by_quadrant": by_quadrant, "pairs": pairs, "rho": rho, "ci95": [lo, hi]})
    return results


def pdi_correlations(summary: dict, records: list[dict], pdi_rows: list[dict]) -> list[dict]:
    """summary.json's `pdi_correlation`: per analysed comparison, Spearman ρ(PDI, Δ) over tasks and its 95% CI.

    Kept in the summary (not only on the page) so a script can read whether the CI excludes 0.
    """
    analyses = pdi_analysis(summary, task_deltas(summary, per_task_counts(records)), pdi_rows)
    return [
        {
            "model": a["comparison"]["model"],
            "baseline": a["comparison"]["baseline"],
            "condition": a["comparison"]["condition"],
            "n_tasks": len(a["pairs"]),
            "spearman_rho": a["rho"],
            "ci95": a["ci95"],
            "interval": SPEARMAN_INTERVAL,
        }
        for a in analyses
    ]


def _pdi_section(analyses: list[dict]) -> tuple[str, list[tuple[str, bytes]]]:
    parts, images = [], []
    for a in analyses:
        c = a["comparison"]
        name = f"{c['model']}: {c['condition']} vs {c['baseline']}"
        rows = [[q, len(v), _pp(statistics.fmean(v))] for q, v in sorted(a["by_quadrant"].items())]
        rho = "undefined (PDI or Δ constant)" if a["rho"] is None else f"{a['rho']:+.3f}"
        ci = "n/a" if a["ci95"][0] is None else f"{a['ci95'][0]:+.3f} to {a['ci95'][1]:+.3f}"
        parts.append(
            f"<h3>{esc(name)}</h3>"
            + _table(["PDI quadrant", "tasks", "mean Δ pass rate"], rows)
            + f"<p>Spearman rank correlation of PDI with Δ over {len(a['pairs'])} tasks: ρ = {esc(rho)}, "
            f"95% CI {esc(ci)} ({SPEARMAN_INTERVAL}). A CI that contains 0 shows no relation.</p>"
        )
        images.append(
            (f"Δ by PDI quadrant, {name}", plots.pdi_panels(a["by_quadrant"], a["pairs"], f"PDI vs Δ, ρ = {rho}"))
        )
    return "".join(parts), images


def _placeholder(token: str, index: int) -> str:
    return f"@@plot-{token}-{index}@@"


def render(summary: dict, records: list[dict], pdi_rows: list[dict] | None = None) -> str:
    """The whole page as text."""
    counts = per_task_counts(records)
    several = len(summary["models"]) > 1
    arms = summary["arms"]
    labels = [_arm_label(a, several) for a in arms]
    deltas = task_deltas(summary, counts)
    tasks = sorted({t for arm in counts.values() for t in arm})
    arm_rates = [_rates(counts, a["model"], a["condition"]) for a in arms]
    rates = [[r.get(t) for r in arm_rates] for t in tasks]

    images: list[tuple[str, bytes]] = []
    if arms:
        images.append(("Pass rate per arm", plots.pass_rates(arms, labels)))
    if summary["comparisons"]:
        titles = [
            f"{c['model']}: {c['condition']} − {c['baseline']}" if several else f"{c['condition']} − {c['baseline']}"
            for c in summary["comparisons"]
        ]
        images.append(("Per-task Δ (forest plot)", plots.forest(summary["comparisons"], deltas, titles)))
    if tasks and arms:
        images.append(("Pass rate per task and arm", plots.heatmap(tasks, labels, rates)))
    cost_png = plots.cost_vs_pass_rate(arms, labels) if arms else None
    if cost_png:
        images.append(("Cost against pass rate", cost_png))
    pdi_html = ""
    if pdi_rows is not None:
        pdi_html, pdi_images = _pdi_section(pdi_analysis(summary, deltas, pdi_rows))
        images += pdi_images
        pdi_html = "<h2>Skill PDI and the effect of the skill</h2>" + (
            pdi_html or "<p>No task of a comparison has a PDI row: nothing to relate.</p>"
        )

    token = secrets.token_hex(8)
    verdicts = "".join(f"<p class=verdict>{esc(c['verdict'])}</p>" for c in summary["comparisons"])
    coverage_notes = "".join(
        f"<p class=verdict>Note on {esc(c['model'])}: {esc(c['condition'])} vs {esc(c['baseline'])}: "
        f"{esc(c['coverage_note'])}.</p>"
        for c in summary["comparisons"]
        if c.get("coverage_note")
    )
    figures = "".join(f"<h3>{esc(title)}</h3>{_placeholder(token, i)}" for i, (title, _) in enumerate(images))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>skillspark eval report</title><style>{STYLE}</style></head><body>
<h1>Skill A/B evaluation</h1>
<p>{esc(summary["n_tasks"])} tasks, {esc(summary["k"])} trials per task and arm, models: {esc(", ".join(summary["models"]))};
conditions: {esc(", ".join(summary["conditions"]))} (baseline: {esc(summary.get("baseline", "none"))}).
Each task counts once: a pass rate is the mean over tasks of the share of that task's trials that passed.
Intervals are over tasks, each task one observation (Student's t with tasks − 1 degrees of freedom), so they say how
far the result could move with other tasks of the same kind.
Trials lost to infrastructure errors are excluded from every rate and counted on their own; their cost is included.</p>
<h2>What the comparisons show</h2>{verdicts or "<p>No comparison: the baseline arm is missing.</p>"}{coverage_notes}
<p>No condition is called better or worse when the 95% interval of its Δ contains 0, nor when the exact test on the
tasks that changed gives p ≥ 0.05 (McNemar's exact test with one trial per task, otherwise the exact paired
permutation test of the per-task differences). In simulation this rule called a condition better or worse when
nothing differed in at most 5% of evals (docs/evaluation-statistics.md).</p>
<h2>Arms</h2>{arms_table(summary)}
<h2>Comparisons with the baseline</h2>{comparisons_table(summary)}
<p>Δ is the mean over tasks run in both arms of the condition's pass rate minus the baseline's; normalized gain is Δ
divided by the room the baseline left (1 − its pass rate on those tasks); the smallest detectable Δ is the change this
many tasks would detect 80% of the time at α = 0.05.</p>
{missing_skill_lines(summary)}
{teacher_cost_lines(summary)}
{pdi_html}
<h2>Plots</h2>{figures}
<h2>Per task</h2>{tasks_table(tasks, arms, labels, counts)}
</body></html>
"""
    page = redact(page)
    for i, (title, png) in enumerate(images):
        uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        page = page.replace(_placeholder(token, i), f'<img alt="{esc(title)}" src="{uri}">', 1)
    return page


def write_report(out_dir: Path, summary: dict, records: list[dict], pdi_rows: list[dict] | None = None) -> Path:
    """Write OUT/report.html atomically (and redacted, like every file we write) and return its path."""
    path = Path(out_dir) / "report.html"
    write_atomic(path, render(summary, records, pdi_rows), make_parents=True)
    return path
