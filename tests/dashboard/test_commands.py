"""`explore|eval --dashboard` serve the run's folder while it lasts; `serve_beside` answers, then lets the port go."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from skillspark.dashboard import commands, server
from skillspark.errors import UserError
from tests.dashboard.conftest import spark_run

HELLO = Path(__file__).resolve().parents[2] / "examples" / "tasks" / "hello-greeting"


def test_serve_beside_answers_while_the_block_runs(tmp_path, capsys):
    spark_run(tmp_path / "out" / "spark")
    with server.serve_beside(tmp_path / "out") as url:
        match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/#token=[A-Za-z0-9_\-]{40,}", url)
        assert match
        base = f"http://127.0.0.1:{match.group(1)}"
        assert [r["kind"] for r in httpx.get(f"{base}/api/runs").json()] == ["spark"]
        assert httpx.get(f"{base}/api/info").json()["allow_launch"] is False
    err = capsys.readouterr().err
    assert f"dashboard: {url}" in err and f"skillspark dashboard {tmp_path / 'out'}` serves it again" in err
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base}/api/runs", timeout=2)


@pytest.fixture
def events(monkeypatch):
    """What an explore or eval run did, in order: the run, and the dashboard's start and stop around it."""
    from skillspark.evaluate import service
    from skillspark.explore import loop

    seen = []

    @contextlib.contextmanager
    def recording(output):
        seen.append(("start", output))
        yield "http://127.0.0.1:1/#token=x"
        seen.append(("stop", output))

    async def fake_explore(task_dirs, settings, on_progress=None):
        seen.append(("run", settings.output))
        return []

    monkeypatch.setattr(server, "serve_beside", recording)
    monkeypatch.setattr(loop, "explore_tasks", fake_explore)
    monkeypatch.setattr(service, "evaluate", lambda paths, request, console: seen.append(("run", request.output)))
    return seen


@pytest.mark.parametrize("command", [["explore"], ["eval", "--condition", "none"]], ids=["explore", "eval"])
def test_the_dashboard_flag_wraps_the_run(events, command, tmp_path):
    from skillspark.cli import app

    out = (tmp_path / "out").resolve()
    args = [*command, str(HELLO), "--output", str(out)]
    assert CliRunner().invoke(app, [*args, "--dashboard"]).exit_code == 0
    assert events == [("start", out), ("run", out), ("stop", out)]
    events.clear()
    assert CliRunner().invoke(app, args).exit_code == 0
    assert events == [("run", out)]


def test_dashboard_command_refuses_a_missing_folder_and_a_busy_port(tmp_path):
    with pytest.raises(UserError, match="not a directory"):
        commands.dashboard([tmp_path / "missing"])
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(UserError, match="already in use"):
            commands.dashboard([tmp_path], port=busy.getsockname()[1])
