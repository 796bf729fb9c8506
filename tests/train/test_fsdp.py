"""The trainer under `accelerate launch` with the shipped FSDP config, two CPU processes over gloo: the
model is sharded by hand (sharding.py), and a run computes what the same run under DDP computes.

Why compare with DDP and not with one process: each process seeds its own games from (seed, step,
process), so a single process playing the same global batch samples other rollouts. Under DDP and FSDP
the two processes generate from the same whole weights with the same seeds, so the rollouts, the losses
and the updates must agree; only the order in which the gradient reduction adds the two processes'
contributions differs (all-reduce of whole gradients vs reduce-scatter of shards, then a norm over shards).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import skillspark.train
from skillspark.train import checkpoints
from skillspark.train.envs.fake import write_fake_skill
from skillspark.train.model import load_checkpoint

CONFIGS = Path(skillspark.train.__file__).parent / "accelerate"
ARGS = [
    "--ppo-mini-batch", "2", "--game", "fake:choice?turns=1&options=2", "--games", "2", "--group-size", "2",
    "--max-turns", "1", "--max-new-tokens", "3", "--steps", "2", "--teacher-check", "off", "--lr", "1e-3",
]


def _launch(config: str, output: Path, *extra: str) -> subprocess.CompletedProcess:
    accelerate = Path(sys.executable).with_name("accelerate")
    command = [
        str(accelerate), "launch", "--config_file", str(CONFIGS / f"{config}.yaml"), "--num_processes", "2",
        "-m", "skillspark.train", "run", *ARGS, "--output", str(output), *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def _rows(output: Path) -> list[dict]:
    return [json.loads(line) for line in (output / "metrics.jsonl").read_text().splitlines()]


def _assert_same_run(fsdp: Path, ddp: Path, keys: tuple[str, ...]) -> None:
    sharded, replicated = _rows(fsdp), _rows(ddp)
    assert [r["step"] for r in sharded] == [0, 1] and sharded[0]["processes"] == 2.0
    for a, b in zip(sharded, replicated):
        for key in keys:  # per-process means of the same computation: float32 round-off only
            assert a[key] == pytest.approx(b[key], rel=1e-5, abs=1e-7), key
        # a norm of gradients ~1e-5 that are sums of cancelling terms: the reduction order shows at ~1e-4
        assert a["grad_norm"] == pytest.approx(b["grad_norm"], rel=1e-3)
    # the checkpoint is a single-process one: a Hugging Face folder, and a trainer state a single-process
    # optimizer loads; the weights after two steps are DDP's
    model, _ = load_checkpoint(fsdp / "checkpoints" / "step-000002" / "model")
    reference, _ = load_checkpoint(ddp / "checkpoints" / "step-000002" / "model")
    for name, tensor in reference.state_dict().items():
        torch.testing.assert_close(model.state_dict()[name], tensor, rtol=0, atol=1e-6)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    assert checkpoints.restore(fsdp / "checkpoints" / "step-000002", model, optimizer)[0] == 2
    for name, tensor in reference.state_dict().items():  # trainer_state's tensors are the whole weights too
        torch.testing.assert_close(model.state_dict()[name], tensor, rtol=0, atol=1e-6)
    moments = torch.load(ddp / "checkpoints" / "step-000002" / "trainer_state.pt", weights_only=True)["optimizer"]["state"]
    for index, state in optimizer.state_dict()["state"].items():
        torch.testing.assert_close(state["exp_avg"], moments[index]["exp_avg"], rtol=1e-3, atol=1e-9)


def test_fsdp_grpo_with_kl_computes_what_ddp_computes_and_checkpoints_whole(tmp_path):
    extra = ("--algo", "grpo", "--kl-coef", "0.01")  # the KL's reference: a frozen copy, sharded
    fsdp, ddp = _launch("fsdp", tmp_path / "fsdp", *extra), _launch("ddp", tmp_path / "ddp", *extra)
    assert fsdp.returncode == 0, fsdp.stderr[-3000:]
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    _assert_same_run(tmp_path / "fsdp", tmp_path / "ddp", ("loss", "pg_loss", "kl", "entropy"))
    assert _rows(tmp_path / "fsdp")[1]["kl"] > 0  # the policy moved away from its sharded reference copy


def test_fsdp_sdar_with_an_ema_teacher_computes_what_ddp_computes(tmp_path):
    write_fake_skill("choice", tmp_path / "skills")
    extra = ("--algo", "sdar", "--teacher", "ema", "--skills", str(tmp_path / "skills"))
    fsdp, ddp = _launch("fsdp", tmp_path / "fsdp", *extra), _launch("ddp", tmp_path / "ddp", *extra)
    assert fsdp.returncode == 0, fsdp.stderr[-3000:]
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    _assert_same_run(tmp_path / "fsdp", tmp_path / "ddp", ("loss", "pg_loss", "aux_loss", "delta_mean"))
    state = torch.load(tmp_path / "fsdp" / "checkpoints" / "step-000002" / "trainer_state.pt", weights_only=True)
    teacher = state["extra"]["teacher"]["copy"]
    model, _ = load_checkpoint(tmp_path / "fsdp" / "checkpoints" / "step-000002" / "model")
    assert all(teacher[n].shape == p.shape for n, p in model.named_parameters())  # whole tensors, not shards


@pytest.mark.parametrize("flag", ["--lora", "--resume"])
def test_lora_and_resume_under_fsdp_are_refused_in_one_line(tmp_path, flag):
    result = _launch("fsdp", tmp_path / "run", "--algo", "grpo", flag)
    assert result.returncode != 0
    assert f"error: {flag} under FSDP: not supported" in result.stderr
    assert "Traceback" not in "".join(line for line in result.stderr.splitlines(True) if line.startswith("[rank"))
    assert not (tmp_path / "run").exists()
