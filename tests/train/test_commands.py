"""`train run`/`compare`/`eval` flags: one source of defaults (TrainConfig and its parts), the renamed
`--env`, what wins over what (typed flags > --config > a resumed config.json > defaults), and the Python API
writing what the command line writes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from skillspark import cli
from skillspark.params import default_of
from skillspark.train import compare, service
from skillspark.train.algorithms import AlgoConfig
from skillspark.train.config import RolloutConfig, TrainConfig, build_config
from tests.cli_tree import leaf_commands

GAME = "fake:choice?turns=1&options=2"
TINY = ["--model", "tiny-random", "--steps", "1", "--games", "1", "--group-size", "2", "--max-turns", "1",
        "--max-new-tokens", "3", "--seed", "4"]


def _main(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        cli.main(args)
    out, err = capsys.readouterr()
    return exited.value.code or 0, out, err


@pytest.fixture
def trained(monkeypatch) -> list:
    """`train run` builds its config but trains nothing: the configs it would train with, in order."""
    seen: list = []

    def fake_train(config, *, resume=False):
        seen.append((config, resume))
        return service.TrainResult(output=config.output, config=config.output, metrics=config.output,
                                   curves=config.output, checkpoints=config.output, last_step={})

    monkeypatch.setattr(service, "train_policy", fake_train)
    return seen


def test_train_config_takes_its_defaults_from_its_parts():
    for part in (AlgoConfig, RolloutConfig):
        shared = set(part.model_fields) & set(TrainConfig.model_fields)
        assert len(shared) >= 7
        for field in shared:
            assert default_of(TrainConfig, field) == default_of(part, field), f"{part.__name__}.{field}"


def test_every_user_setting_reaches_its_part():
    config = TrainConfig(algo="skill_grpo", entropy_coef=0.5, kl_coef=0.0, log_kl=True, ppo_mini_batch=3,
                         ppo_epochs=2, distill_coef=0.2, beta=1.5, rlsd_warmdown=7, micro_batch_size=2, temperature=0.7,
                         group_size=3, max_turns=5, history_turns=1, max_prompt_tokens=99, max_new_tokens=9, reward="score")
    algo, rollout = config.algo_config(), config.rollout_config()
    for field in set(AlgoConfig.model_fields) & set(TrainConfig.model_fields):
        assert getattr(algo, field) == getattr(config, field), field
    for field in set(RolloutConfig.model_fields) & set(TrainConfig.model_fields):
        assert getattr(rollout, field) == getattr(config, field), field
    assert rollout.skill_in_policy_prompt  # derived from the algorithm, not a setting


def test_train_run_has_one_field_backed_flag_per_setting():
    run = next(command for path, command in leaf_commands() if path == ["train", "run"])
    backed = {param.type_descriptor.parameter_info.config_field[1] for param in run.params
              if getattr(getattr(param.type_descriptor, "parameter_info", None), "config_field", None)}
    assert backed == set(TrainConfig.model_fields)


def test_typed_flags_win_over_the_config_file_even_at_their_default(tmp_path, trained, capsys):
    toml = tmp_path / "run.toml"
    toml.write_text('seed = 3\nmax_turns = 5\nlora = true\n')
    code, _, err = _main(["train", "run", "--config", str(toml), "--seed", "0", "--full", "-o", str(tmp_path / "o")], capsys)
    assert code == 0, err
    config, resume = trained[0]
    assert (config.seed, config.lora, config.max_turns, config.steps) == (0, False, 5, 10)
    assert config.output == tmp_path / "o" and not resume


def test_the_old_env_flag_and_key_still_work_with_a_warning(tmp_path, trained, capsys):
    toml = tmp_path / "old.toml"
    toml.write_text('env = "fake:corridor"\n')
    code, _, err = _main(["train", "run", "--config", str(toml)], capsys)
    assert code == 0 and trained[-1][0].game == "fake:corridor"
    assert f"warning: --config {toml}: the key env is renamed game" in err
    code, _, err = _main(["train", "run", "--config", str(toml), f"--env={GAME}"], capsys)
    assert code == 0 and trained[-1][0].game == GAME  # the flag, under its old name, still wins
    assert "warning: skillspark train run: --env is renamed --game" in err


def test_resume_reads_the_run_config_and_the_typed_flags(tmp_path, trained, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text(json.dumps({"env": "fake:corridor", "steps": 3, "seed": 9}))  # an older version's
    code, _, err = _main(["train", "run", "--output", str(out), "--resume", "--steps", "5"], capsys)
    assert code == 0, err
    config, resume = trained[-1]
    assert (config.game, config.steps, config.seed, resume) == ("fake:corridor", 5, 9, True)
    assert "warning" not in err  # nothing the user can fix


def test_compare_takes_repeated_algos_and_warns_on_the_comma_form(tmp_path, monkeypatch, capsys):
    runs: list = []
    monkeypatch.setattr(compare, "run_compare", lambda base, chosen, *a: runs.append((base, chosen)) or {})
    monkeypatch.setattr(compare, "render_table", lambda summary: "table")
    code, _, err = _main(["train", "compare", "--algos", "grpo", "--algos", "sdar:0.1", "--env", GAME, "--steps", "2",
                          "-o", str(tmp_path / "c")], capsys)
    assert code == 0, err
    base, chosen = runs[-1]
    assert chosen == ["grpo", "sdar:0.1"] and (base.game, base.steps, base.algo) == (GAME, 2, "grpo")
    assert "--env is renamed --game" in err and "comma" not in err
    code, _, err = _main(["train", "compare", "--algos", "grpo,skillsd", "-o", str(tmp_path / "c")], capsys)
    assert code == 0 and runs[-1][1] == ["grpo", "skillsd"]
    assert "warning: --algos grpo,skillsd: comma-separated lists are deprecated" in err
    code, _, err = _main(["train", "compare", "--algos", "grpo", "-o", str(tmp_path / "c")], capsys)
    assert code == 2 and "error: --algos 'grpo': give two or more distinct algorithms" in err


def test_a_bad_value_in_the_config_file_names_the_key_and_the_file(tmp_path):
    toml = tmp_path / "bad.toml"
    toml.write_text("games = 0\n")
    with pytest.raises(Exception, match=rf"--games \(in {toml}\): Input should be greater than or equal to 1"):
        build_config({}, toml)


def test_the_api_writes_what_the_command_line_writes_and_resumes_an_older_run(tmp_path, capsys):
    from skillspark import TrainConfig as PublicConfig
    from skillspark import train_policy

    api = train_policy(PublicConfig(game=GAME, model="tiny-random", steps=1, games=1, group_size=2, max_turns=1,
                                    max_new_tokens=3, seed=4, output=tmp_path / "api"))
    code, _, err = _main(["train", "run", "--game", GAME, *TINY, "--output", str(tmp_path / "cli")], capsys)
    assert code == 0, err
    configs = [json.loads((tmp_path / name / "config.json").read_text()) for name in ("api", "cli")]
    assert [c.pop("output") for c in configs] == [str(tmp_path / "api"), str(tmp_path / "cli")]
    assert configs[0] == configs[1] and configs[0]["game"] == GAME and "env" not in configs[0]
    rows = [[json.loads(line) for line in (tmp_path / name / "metrics.jsonl").read_text().splitlines()] for name in ("api", "cli")]
    assert len(rows[0]) == len(rows[1]) == 1 and rows[0][0].keys() == rows[1][0].keys()
    timing = {k for k in rows[0][0] if k.endswith(("_s", "_per_s")) or k == "memory_mb"}
    assert {k: v for k, v in rows[0][0].items() if k not in timing} == {k: v for k, v in rows[1][0].items() if k not in timing}
    assert api.last_step == rows[0][0] and api.metrics == tmp_path / "api" / "metrics.jsonl" and api.curves.is_file()
    assert (api.checkpoints / "step-000001").is_dir()

    saved = json.loads(api.config.read_text())  # as a version before the rename wrote it
    saved["env"] = saved.pop("game")
    api.config.write_text(json.dumps(saved))
    code, _, err = _main(["train", "run", "--output", str(api.output), "--resume", "--steps", "2"], capsys)
    assert code == 0, err
    assert [json.loads(line)["step"] for line in api.metrics.read_text().splitlines()] == [0, 1]
    assert json.loads(api.config.read_text())["game"] == GAME


def test_the_api_names_load_without_torch():
    probe = ("import sys, skillspark; skillspark.train_policy, skillspark.TrainResult; "
             "skillspark.TrainConfig(game='fake:corridor').rollout_config(); print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "False"
