"""PNG plots of an eval, as bytes for the self-contained report.

Why this shape: matplotlib is imported inside each function (so `skillspark --help` stays fast) and used
through its object API on the Agg canvas (no pyplot state, no display). Labels are user text (task and
model names), so mathtext is off: a `$` in a task name is drawn, never parsed.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

MAX_LABELS = 60  # beyond this many tasks the per-task labels are unreadable and are left out


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _png(fig) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _plain_text():
    import matplotlib

    return matplotlib.rc_context({"text.parse_math": False, "font.size": 9})


def _error(values: Sequence[float | None], centre: float) -> tuple[float, float]:
    lo, hi = values
    return (centre - lo, hi - centre) if lo is not None and hi is not None else (0.0, 0.0)


def pass_rates(arms: list[dict], labels: list[str]) -> bytes:
    """Bar per arm: pass rate (mean over tasks) with its 95% CI over tasks."""
    with _plain_text():
        fig = _figure(max(4.0, 0.9 * len(arms) + 2), 3.4)
        ax = fig.subplots()
        rates = [a["pass_rate"] or 0.0 for a in arms]
        errors = [_error(a["ci95"], r) for a, r in zip(arms, rates, strict=True)]
        ax.bar(range(len(arms)), rates, color="#4c78a8")
        ax.errorbar(
            range(len(arms)), rates, yerr=list(zip(*errors, strict=True)) or None, fmt="none", ecolor="black", capsize=4
        )
        ax.set_xticks(range(len(arms)), labels, rotation=20, ha="right")
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("pass rate (mean over tasks)")
        ax.set_title("Pass rate per arm, 95% CI from resampling tasks")
        return _png(fig)


def forest(comparisons: list[dict], per_task: list[dict[str, float]], titles: list[str]) -> bytes:
    """One panel per comparison: each task's Δ = p_t(condition) − p_t(baseline), and the mean Δ with its CI."""
    with _plain_text():
        n_tasks = max((len(d) for d in per_task), default=1)
        height = min(12.0, 1.4 + 0.22 * min(n_tasks, MAX_LABELS))
        fig = _figure(4.2 * max(1, len(comparisons)), height)
        axes = fig.subplots(1, max(1, len(comparisons)), squeeze=False)[0]
        for ax, comparison, diffs, title in zip(axes, comparisons, per_task, titles, strict=False):
            tasks = sorted(diffs, key=lambda t: (diffs[t], t))
            ax.axvline(0, color="grey", linewidth=0.8)
            ax.scatter([diffs[t] for t in tasks], range(len(tasks)), s=14, color="#4c78a8")
            if comparison["delta"] is not None:
                lo, hi = comparison["ci95"]
                ax.axvspan(lo, hi, color="#f58518", alpha=0.2, label="95% CI of mean Δ")
                ax.axvline(comparison["delta"], color="#f58518", label="mean Δ")
                ax.legend(loc="lower right", fontsize=7)
            if len(tasks) <= MAX_LABELS:
                ax.set_yticks(range(len(tasks)), tasks)
            else:
                ax.set_yticks([])
            ax.set_xlim(-1.05, 1.05)
            ax.set_xlabel("Δ pass rate per task")
            ax.set_title(title)
        return _png(fig)


def heatmap(tasks: list[str], labels: list[str], rates: list[list[float | None]]) -> bytes:
    """Task × arm grid of p_t (blank where the arm has no scored trial of the task)."""
    import numpy as np

    with _plain_text():
        grid = np.ma.masked_invalid(
            np.array([[math.nan if v is None else v for v in row] for row in rates], dtype=float)
        )
        height = min(14.0, 1.6 + 0.22 * min(len(tasks), MAX_LABELS))
        fig = _figure(max(4.5, 1.0 * len(labels) + 3), height)
        ax = fig.subplots()
        image = ax.imshow(grid, aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
        ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right")
        if len(tasks) <= MAX_LABELS:
            ax.set_yticks(range(len(tasks)), tasks)
        else:
            ax.set_yticks([])
            ax.set_ylabel(f"{len(tasks)} tasks")
        fig.colorbar(image, ax=ax, label="pass rate of the task")
        ax.set_title("Pass rate per task and arm")
        return _png(fig)


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of points no other point beats on both cost (lower) and pass rate (higher), by cost."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], -math.inf
    for i in order:
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front


def cost_vs_pass_rate(arms: list[dict], labels: list[str]) -> bytes | None:
    """Mean cost per trial against pass rate, Pareto front drawn; None when no arm has a known cost."""
    known = [
        (a, label)
        for a, label in zip(arms, labels, strict=True)
        if a["cost_usd"] is not None and a["pass_rate"] is not None
    ]
    if not known:
        return None
    with _plain_text():
        fig = _figure(5.0, 3.6)
        ax = fig.subplots()
        points = [(a["cost_usd"] / max(1, a["n_trials"] + a["infra_errors"]), a["pass_rate"]) for a, _ in known]
        for (x, y), (arm, label) in zip(points, known, strict=True):
            low, high = _error(arm["ci95"], y)
            ax.errorbar([x], [y], yerr=[[low], [high]], fmt="o", capsize=3)
            ax.annotate(label, (x, y), textcoords="offset points", xytext=(5, 5), fontsize=8)
        front = pareto_front(points)
        ax.plot([points[i][0] for i in front], [points[i][1] for i in front], "--", color="grey", label="Pareto front")
        ax.locator_params(axis="x", nbins=5)
        ax.set_xlabel("mean cost per trial (USD)")
        ax.set_ylabel("pass rate")
        ax.set_ylim(-0.05, 1.05)
        ax.legend(loc="lower right", fontsize=7)
        ax.set_title("Cost against pass rate")
        return _png(fig)


def pdi_panels(by_quadrant: dict[str, list[float]], pairs: list[tuple[float, float]], title: str) -> bytes:
    """Left: Δ per task grouped by PDI quadrant (points and mean). Right: PDI against Δ."""
    with _plain_text():
        fig = _figure(9.0, 3.6)
        left, right = fig.subplots(1, 2)
        quadrants = sorted(by_quadrant)
        for x, quadrant in enumerate(quadrants):
            values = by_quadrant[quadrant]
            left.scatter([x] * len(values), values, s=14, alpha=0.7, color="#4c78a8")
            left.hlines(sum(values) / len(values), x - 0.3, x + 0.3, color="#f58518")
        left.axhline(0, color="grey", linewidth=0.8)
        left.set_xticks(range(len(quadrants)), quadrants, rotation=15, ha="right")
        left.set_ylabel("Δ pass rate per task")
        left.set_title("Δ by PDI quadrant (bar = mean)")
        right.scatter([p for p, _ in pairs], [d for _, d in pairs], s=14, color="#4c78a8")
        right.axhline(0, color="grey", linewidth=0.8)
        right.set_xlabel("PDI of the task's skill")
        right.set_ylabel("Δ pass rate")
        right.set_title(title)
        return _png(fig)
