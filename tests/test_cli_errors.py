"""Bad input on the command line: one `error:` line naming what is wrong, exit code 2, no traceback and no
boxed usage screen (cli.main formats click's errors), and nothing started. The repros of issue 19, finding 11."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillspark.cli import main

TASK = str(Path(__file__).parents[1] / "examples" / "tasks" / "hello-greeting")


@pytest.fixture
def run_cli(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("COLUMNS", "160")
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> str:
        with pytest.raises(SystemExit) as exited:
            main(list(args))
        err = capsys.readouterr().err
        assert exited.value.code == 2, err
        assert err.startswith("error: ") and err.count("\n") == 1, err
        assert "Traceback" not in err and "╭" not in err
        return err
    return run


@pytest.fixture
def a_file(tmp_path) -> str:
    path = tmp_path / "a-file"
    path.write_text("not a folder\n")
    return str(path)


@pytest.mark.parametrize("args", [
    ["run", TASK, "-k", "0"], ["run", TASK, "-p", "0"], ["eval", "run", TASK, "-c", "none", "-o", "o", "-k", "0"],
    ["eval", TASK, "-c", "none", "-o", "o", "-p", "0"], ["dashboard", "--port", "0"], ["train", "serve", "x", "--port", "0"],
    ["explore", TASK, "--max-attempts", "0"], ["tasks", "audit", TASK, "-p", "0"], ["tasks", "check", TASK, "-p", "-1"],
    ["train", "eval", "x", "--episodes", "0"], ["sandbox", "exec", TASK, "--timeout", "-1", "true"],
    ["eval", TASK, "-c", "none", "-o", "o", "--seed", "-1"],
])
def test_a_value_out_of_range_is_one_line(run_cli, args):
    flag = next(a for a in reversed(args) if a.startswith("-") and not a.lstrip("-").isdigit())
    assert flag in run_cli(*args)


@pytest.mark.parametrize("command", ["run", "eval"])
def test_a_billion_trials_is_refused_before_anything_is_planned(run_cli, command):
    args = [command, TASK, "-k", "1000000000"] + (["-c", "none", "-o", "o"] if command == "eval" else [])
    assert "less than or equal to 1000" in run_cli(*args)


@pytest.mark.parametrize("args", [
    ["eval", TASK, "-c", "none", "--output", "{file}"], ["explore", TASK, "--output", "{file}"],
    ["explore", TASK, "--output", "{file}/below"], ["train", "run", "--output", "{file}"],
    ["tasks", "vary", TASK, "--output", "{file}"],
])
def test_an_output_folder_that_is_a_file_is_one_line(run_cli, a_file, args):
    err = run_cli(*[a.replace("{file}", a_file) for a in args])
    assert "--output" in err and "is not a folder" in err
    assert Path(a_file).read_text() == "not a folder\n"


def test_a_binary_train_config_is_one_line(run_cli, tmp_path):
    config = tmp_path / "binary.toml"
    config.write_bytes(b"\x00\xff\xfe\x80")
    assert f"--config {config}: cannot be read as TOML" in run_cli("train", "run", "--config", str(config))


def test_an_unknown_agent_is_refused_before_any_trial(run_cli, tmp_path):
    assert "--agent 'bogus' is not a Harbor agent" in run_cli("run", TASK, "--agent", "bogus", "--output", "jobs")
    assert "--agent no_such_module:Agent: cannot import" in run_cli("run", TASK, "--agent", "no_such_module:Agent")
    assert not (tmp_path / "jobs").exists()


def test_an_audit_of_a_missing_path_is_bad_input(run_cli):
    assert "'/no/such/task' does not exist" in run_cli("tasks", "audit", "/no/such/task")


def test_unknown_commands_and_options_are_one_line(run_cli):
    assert "No such command 'nosuch'" in run_cli("nosuch")
    assert "No such option: --bogus" in run_cli("eval", "run", "--bogus")
    assert "Missing option '--condition'" in run_cli("eval", "run", TASK, "-o", "o")


def test_help_still_exits_0_and_no_arguments_show_help(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["eval", "run", "--help"])
    assert exited.value.code == 0 and "--condition" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2 and "Commands" in capsys.readouterr().out
