"""`skillspark train run` as a function: train a policy from a `TrainConfig`, return where everything went.

Why apart from the command: the command only turns flags (and a `--config` file) into a `TrainConfig`; a
script or notebook (`skillspark.train_policy`) trains with a config it builds and gets the same files.
torch loads only when training starts, so importing this module stays light.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from skillspark.train.config import CHECKPOINTS_DIR, CONFIG_FILE, CURVES_FILE, METRICS_FILE, TrainConfig


class TrainResult(BaseModel):
    """What a run wrote: its folder, the per-step metrics, the curves, the checkpoints, the last step's row."""

    output: Path
    config: Path
    metrics: Path
    curves: Path
    checkpoints: Path
    last_step: dict


def saved_config(output: Path) -> dict | None:
    """The settings a run in `output` was started with (its config.json as written), or None if none."""
    path = output / CONFIG_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def train_policy(config: TrainConfig, *, resume: bool = False) -> TrainResult:
    """Train a policy as `config` says, into `config.output`; with `resume`, continue the run there.

    Writes config.json, metrics.jsonl (one line per step), learning_curves.png and checkpoints/step-N/.
    A run folder that already holds a run is refused without `resume`, and resuming with other settings
    than the run's config.json is refused, each as a UserError with the command's one-line message.
    """
    from skillspark.train.curves import read_metrics
    from skillspark.train.trainer import train

    out = train(config, resume=resume)
    rows = read_metrics(out / METRICS_FILE)
    return TrainResult(output=out, config=out / CONFIG_FILE, metrics=out / METRICS_FILE, curves=out / CURVES_FILE,
                       checkpoints=out / CHECKPOINTS_DIR, last_step=rows[-1] if rows else {})

