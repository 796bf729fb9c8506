"""The same trainer under `accelerate launch` with the shipped DDP config and two processes (CPU, gloo):
each plays its own games; the batch's optimizer steps stay in lockstep across processes."""

import json
import subprocess
import sys
from pathlib import Path

import skillspark.train
from skillspark.train.envs.fake import write_fake_skill

DDP_CONFIG = Path(skillspark.train.__file__).parent / "accelerate" / "ddp.yaml"


def test_two_processes_run_a_sdar_step_and_log_one_line(tmp_path):
    write_fake_skill("choice", tmp_path / "skills")
    accelerate = Path(sys.executable).with_name("accelerate")
    command = [
        str(accelerate), "launch", "--config_file", str(DDP_CONFIG), "--num_processes", "2",
        "-m", "skillspark.train", "run", "--ppo-mini-batch", "2", "--algo", "sdar", "--game", "fake:choice?turns=1&options=2",
        "--games", "2", "--group-size", "2", "--max-turns", "1", "--max-new-tokens", "3", "--steps", "1",
        "--skills", str(tmp_path / "skills"), "--teacher-check", "off", "--output", str(tmp_path / "run"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 1  # only the main process writes
    assert rows[0]["processes"] == 2.0
    assert rows[0]["samples"] == 2.0  # each process: one game x a group of 2, one turn each
    assert rows[0]["optimizer_steps"] == 2.0  # 4 turn samples in all, 2 per optimizer step
    assert (tmp_path / "run" / "checkpoints" / "step-000001" / "model").is_dir()
