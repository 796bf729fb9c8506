"""Every command that calls an LLM takes its default `--model` from SKILLSPARK_MODEL, and every command that
runs tasks its default `--env` from SKILLSPARK_ENV; a flag given on the command line wins. (`tasks vary`
draws without a model unless --model is given, and `train` trains weights: see docs/commands.md.)

Each command's service function is replaced by one that records the config it was handed, so the test
checks what the command builds, not what a run does with it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from skillspark.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "examples" / "tasks" / "hello-greeting")
IDEA = next((ROOT / "examples").rglob("*.json"))  # any file: the recording service never reads it


class Captured(Exception):
    """Raised by a recording service: the command got as far as handing over its config."""


def recorder(seen: dict, key: str):
    def record(*args, **kwargs):
        seen[key] = next(a for a in (*args, *kwargs.values()) if hasattr(a, "model_dump"))
        raise Captured

    return record


# command line, the service to replace (module, name), how to read (model, env) from its config
COMMANDS = {
    "run": (["run", EXAMPLE], ("skillspark.agents.service", "run_agent"), lambda c: (c.model, c.env)),
    "explore": (["explore", EXAMPLE], ("skillspark.explore.service", "explore_skills"), lambda c: (c.model, c.env)),
    "eval run": (["eval", "run", EXAMPLE, "-c", "none", "-o", "OUT"], ("skillspark.evaluate.service", "evaluate"),
                 lambda c: (c.models[0], c.env)),
    "demo": (["demo", "--skip-check", "-o", "OUT"], ("skillspark.explore.loop", "explore_tasks"),
             lambda c: (c.model, c.env)),
    "tasks generate": (["tasks", "generate", "--prompt-file", "IDEA", "-o", "OUT"],
                       ("skillspark.taskgen.service", "generate_tasks"), lambda c: (c.model, c.env)),
    "tasks check": (["tasks", "check", EXAMPLE], ("skillspark.taskgen.service", "check_tasks"),
                    lambda c: (None, c.env)),
    "tasks audit": (["tasks", "audit", EXAMPLE], ("skillspark.taskgen.service", "audit_tasks"),
                    lambda c: (None, c.env)),
}
TAKES_NO_MODEL = {"tasks check", "tasks audit"}


def run_captured(monkeypatch, tmp_path, name: str, extra: list[str]):
    argv, (module, attribute), read = COMMANDS[name]
    seen: dict = {}
    monkeypatch.setattr(f"{module}.{attribute}", recorder(seen, "config"))
    monkeypatch.setattr("skillspark.harbor.envs.preflight_environment", lambda env: None)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Captured):
        main([a.replace("OUT", str(tmp_path / "out")).replace("IDEA", str(IDEA)) for a in argv] + extra)
    return read(seen["config"])


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_model_and_env_come_from_the_environment(monkeypatch, tmp_path, name):
    monkeypatch.setenv("SKILLSPARK_MODEL", "openai/from-the-environment")
    monkeypatch.setenv("SKILLSPARK_ENV", "skillspark.sandbox.environment:LocalSandboxEnvironment")
    model = None if name in TAKES_NO_MODEL else "openai/from-the-environment"
    assert run_captured(monkeypatch, tmp_path, name, []) == (
        model, "skillspark.sandbox.environment:LocalSandboxEnvironment")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_flags_win_over_the_environment(monkeypatch, tmp_path, name):
    monkeypatch.setenv("SKILLSPARK_MODEL", "openai/from-the-environment")
    monkeypatch.setenv("SKILLSPARK_ENV", "docker")
    model_flag = [] if name in TAKES_NO_MODEL else ["--model", "openai/flag"]
    assert run_captured(monkeypatch, tmp_path, name, [*model_flag, "--env", "local"]) == (
        None if name in TAKES_NO_MODEL else "openai/flag", "local")
