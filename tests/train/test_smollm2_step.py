"""Slow: the real embedded SmolLM2 (made trainable once) takes a LoRA SDAR step on a TextWorld game."""

import math

import pytest

from skillspark.train.config import TrainConfig
from skillspark.train.curves import read_metrics
from skillspark.train.evaluation import load_for_eval
from skillspark.train.trainer import train


@pytest.mark.slow
def test_a_lora_sdar_step_of_smollm2_on_textworld_writes_finite_metrics_and_a_reloadable_checkpoint(tmp_path):
    skill = tmp_path / "skills" / "coins"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: coins\ndescription: Find the coin.\n---\nGo through every exit until you see the coin, then take coin.\n")
    config = TrainConfig(
        algo="sdar", game="textworld:coin_collector?level=1", model="local/smollm2", lora=True, steps=1, games=1,
        group_size=2, max_turns=2, max_new_tokens=8, skills=skill.parent, output=tmp_path / "run", seed=1,
        teacher_check="off",
    )
    out = train(config)
    (row,) = read_metrics(out / "metrics.jsonl")
    for name in ("loss", "pg_loss", "aux_loss", "entropy", "gate_mean", "delta_mean", "grad_norm"):
        assert math.isfinite(row[name]), name
    assert row["samples"] >= 2
    model, tokenizer = load_for_eval(str(out / "checkpoints" / "step-000001"))
    assert hasattr(model, "peft_config")  # the adapter came back on its base
    assert tokenizer.decode(tokenizer.encode("take coin")) == "take coin"
