"""The learning curves of a run as one PNG, redrawn from metrics.jsonl (matplotlib, Agg)."""

from __future__ import annotations

import json
from pathlib import Path

PANELS = (
    ("reward_mean", "episode reward"),
    ("success_rate", "success rate"),
    ("loss", "loss"),
    ("entropy", "entropy"),
    ("gate_mean", "SDAR gate mean"),
    ("delta_mean", "mean Δ = log T − log S"),
)


def read_metrics(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def plot_curves(metrics_path: Path, png_path: Path, title: str) -> Path | None:
    """One panel per metric the run logged; None when there is nothing to draw yet."""
    rows = read_metrics(metrics_path)
    panels = [(key, label) for key, label in PANELS if any(key in row for row in rows)]
    if not rows or not panels:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(3, len(panels))
    lines = (len(panels) + columns - 1) // columns
    figure, axes = plt.subplots(lines, columns, figsize=(4.2 * columns, 3.0 * lines), squeeze=False)
    for axis, (key, label) in zip(axes.flat, panels):
        points = [(row["step"], row[key]) for row in rows if key in row]
        axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", markersize=2, linewidth=1.2)
        axis.set_title(label, fontsize=10)
        axis.set_xlabel("step", fontsize=8)
        axis.grid(alpha=0.3)
    for axis in list(axes.flat)[len(panels):]:
        axis.set_visible(False)
    figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    tmp = png_path.with_name(png_path.name + ".tmp.png")
    figure.savefig(tmp, dpi=110)
    plt.close(figure)
    tmp.replace(png_path)
    return png_path
