"""`skillspark train ...` as a user runs it: one-line errors, TOML config, eval, no torch for --help."""

import json
import subprocess
import sys

import pytest

from skillspark import cli


def run_cli(args, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["skillspark", *args])
    with pytest.raises(SystemExit) as info:
        cli.main()
    out, err = capsys.readouterr()
    return info.value.code or 0, out, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--algo", "ppo"], "error: --algo: unknown value 'ppo'; choose one of grpo, opsd, grpo_opsd, sdar, skillsd, rlsd, skill_grpo"),
        (["--game", "gym:cartpole"], "error: "),
        (["--model", "/nonexistent/model"], "/nonexistent/model"),
        (["--steps", "0"], "error: skillspark train run: Invalid value for '--steps'"),
        (["--algo", "sdar"], "needs --skills"),
        (["--kl-coef", "-0.01"], "error: skillspark train run: Invalid value for '--kl-coef'"),
        (["--ppo-mini-batch", "0"], "error: skillspark train run: Invalid value for '--ppo-mini-batch'"),
        (["--retrieval", "bm25"], "error: --retrieval: unknown value 'bm25'; choose one of keyword, full, random, ucb"),
        (["--teacher", "old"], "error: --teacher: unknown value 'old'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message, tmp_path, monkeypatch, capsys):
    code, _, err = run_cli(["train", "run", "--output", str(tmp_path / "run"), *args], monkeypatch, capsys)
    assert code == 2
    assert err.count("\n") == 1 and message in err
    assert "Traceback" not in err


def test_a_toml_config_sets_the_run_and_flags_win(tmp_path, monkeypatch, capsys):
    config = tmp_path / "run.toml"
    config.write_text('algo = "grpo"\ngame = "fake:choice?turns=1&options=2"\nsteps = 1\ngames = 1\ngroup_size = 2\nmax_turns = 1\nmax_new_tokens = 3\nseed = 3\n')
    out_dir = tmp_path / "run"
    code, out, _ = run_cli(["train", "run", "--config", str(config), "--seed", "5", "--output", str(out_dir)], monkeypatch, capsys)
    assert code == 0, out
    saved = json.loads((out_dir / "config.json").read_text())
    assert (saved["algo"], saved["steps"], saved["seed"], saved["max_new_tokens"]) == ("grpo", 1, 5, 3)
    assert len((out_dir / "metrics.jsonl").read_text().splitlines()) == 1

    code, out, _ = run_cli(["train", "eval", str(out_dir / "checkpoints" / "step-000001"), "--game", "fake:choice?turns=1&options=2", "--episodes", "3", "--max-turns", "1"], monkeypatch, capsys)
    summary = json.loads(out)
    assert code == 0 and summary["episodes"] == 3 and 0.0 <= summary["success_rate"] <= 1.0
    assert summary["wilson_95"][0] <= summary["success_rate"] <= summary["wilson_95"][1]


def test_help_and_other_commands_never_import_torch():
    probe = "import sys; from skillspark import cli; import skillspark.train.commands, skillspark.train.config; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
