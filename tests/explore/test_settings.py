"""Per-model defaults of ExploreSettings: the embedded model gets short, unretried calls and the
sectioned memo; explicit settings (the CLI's --llm-timeout / --llm-retries) always win."""

from pathlib import Path

from typer.testing import CliRunner

from skillspark.explore.settings import ExploreSettings
from skillspark.llm.models import LOCAL_CALL_TIMEOUT_S, resolve_model


def test_embedded_model_defaults():
    s = ExploreSettings(model="local/smollm2")
    assert s.llm_limits("local/smollm2") == {"timeout_s": LOCAL_CALL_TIMEOUT_S, "max_retries": 0}
    assert s.sectioned_memo() and not s.verifier_in_prompt()


def test_hosted_model_defaults_and_mixed_summarizer():
    s = ExploreSettings(model="openai/gpt-4o-mini", summary_model="local/smollm2")
    assert s.llm_limits("openai/gpt-4o-mini") == {"timeout_s": 120.0, "max_retries": 4}
    assert s.sectioned_memo()  # the summarizer is the embedded model
    assert s.verifier_in_prompt()
    assert not ExploreSettings(model="openai/gpt-4o-mini").sectioned_memo()


def test_the_limits_are_the_resolved_models():
    local, hosted = resolve_model("local/smollm2"), resolve_model("openai/gpt-4o-mini")
    assert (local.call_timeout_s, local.call_retries, local.attempt_max_steps) == (60.0, 0, 8)
    assert (hosted.call_timeout_s, hosted.call_retries, hosted.attempt_max_steps) == (120.0, 4, None)


def test_explicit_settings_win():
    s = ExploreSettings(model="local/smollm2", llm_timeout_s=5, llm_retries=2, memo_style="whole", show_verifier=True)
    assert s.llm_limits("local/smollm2") == {"timeout_s": 5, "max_retries": 2}
    assert not s.sectioned_memo() and s.verifier_in_prompt()


def test_cli_rejects_bad_llm_limits():
    from skillspark.cli import app

    for flag, value in (("--llm-timeout", "0"), ("--llm-retries", "-1")):
        result = CliRunner().invoke(app, ["explore", "nowhere", flag, value])
        assert result.exit_code == 2 and flag in result.output


def test_cli_flags_reach_the_settings(monkeypatch, tmp_path):
    from skillspark.cli import app
    from skillspark.explore import loop

    seen = []

    async def fake_explore(task_dirs, settings, on_progress=None):
        seen.append(settings)
        return []

    monkeypatch.setattr(loop, "explore_tasks", fake_explore)
    task = Path(__file__).resolve().parents[2] / "examples" / "tasks" / "hello-greeting"
    args = ["explore", str(task), "--output", str(tmp_path)]
    assert CliRunner().invoke(app, [*args, "--llm-timeout", "7.5", "--llm-retries", "1"]).exit_code == 0
    assert CliRunner().invoke(app, args).exit_code == 0
    assert seen[0].llm_limits("local/smollm2") == {"timeout_s": 7.5, "max_retries": 1}
    assert seen[1].llm_timeout_s is None and seen[1].llm_retries is None


def test_cli_refuses_bad_input_before_the_live_table(tmp_path):
    """A missing task dir, an unknown --env or a model without its key: one line, exit 2, no table."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    task = Path(__file__).resolve().parents[2] / "examples" / "tasks" / "hello-greeting"
    exe = Path(sys.executable).with_name("skillspark")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    cases = [
        ([str(tmp_path / "missing")], "does not exist"),
        ([str(task), "--env", "moon"], "--env 'moon'"),
        ([str(task), "--model", "openai/gpt-4o-mini"], "OPENAI_API_KEY is not set"),
    ]
    for args, message in cases:
        run = subprocess.run([str(exe), "explore", *args, "--output", str(tmp_path / "out")],
                             capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
        assert run.returncode == 2 and message in run.stderr, run.stderr
        assert run.stderr.strip().count("\n") == 0 and "skillspark explore" not in run.stdout
