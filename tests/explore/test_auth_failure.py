"""A key the endpoint rejects (401/403) stops `explore` at the first refused call, wherever it comes from.

In process: the summarizer (whole or sectioned memo) or the distiller is refused; no memo is kept and
asked again, no skill is assembled without the model, and the task is left for `--resume`. Through the
CLI: the real agent in a Harbor trial is refused; one line, exit 2, and the key is nowhere.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from skillspark.explore.loop import explore_tasks
from skillspark.llm.errors import AuthenticationFailed
from tests.explore.test_budget import PricedRunner, make_task, settings, state
from tests.fakes.scripted_openai import Reply

pytestmark = pytest.mark.timeout(300)
KEY = "acme-7f3e9b21c4d5-secret"  # not key-shaped, and quoted back by the endpoint


@pytest.mark.parametrize(("pass_at", "memo_style", "committed"),
                         [(99, "whole", []), (99, "sections", []), (0, "whole", ["PASS"])])
async def test_summarizer_or_distiller_refused_stops_the_task(scripted_llm, tmp_path, pass_at, memo_style, committed):
    scripted_llm.push(status=401, error="bad key")
    task, out = make_task(tmp_path / "tasks", "greet"), tmp_path / "out"
    run = settings(scripted_llm, out, None, memo_style=memo_style)
    with pytest.raises(AuthenticationFailed, match=r"^authentication failed for model .*: check OPENAI_API_KEY$"):
        await explore_tasks([task], run, runner=PricedRunner(0.0, pass_at=pass_at))

    assert len(scripted_llm.requests) == 1
    saved = state(out, "greet")
    assert saved["state"] == "cancelled" and saved["reason"].startswith("authentication failed")
    assert [a["status"] for a in saved["attempts"]] == committed  # a pass waits for its skill; a failure is redone
    assert not (out / "greet" / "SKILL.md").exists()


def test_cli_agent_refused_ends_with_one_line_and_exit_2(scripted_llm, tmp_path):
    first, second = make_task(tmp_path / "tasks", "greet"), make_task(tmp_path / "tasks", "other")
    scripted_llm.responder = lambda request: Reply(status=403, error=f"Incorrect API key provided: {KEY}")
    out = tmp_path / "out"
    argv = [str(Path(sys.executable).with_name("skillspark")), "explore", str(first), str(second),
            "--model", scripted_llm.model, "--api-base", scripted_llm.base_url, "--output", str(out)]
    env = os.environ | {"OPENAI_API_KEY": KEY, "COLUMNS": "200", "HARBOR_TELEMETRY": "0"}
    result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=280)

    assert result.returncode == 2, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: authentication failed for model {scripted_llm.model} at {scripted_llm.base_url}: "
                      "check OPENAI_API_KEY"]
    assert len(scripted_llm.requests) == 1  # the agent's first call; no summarizer, no second task
    assert KEY not in result.stdout + result.stderr
    written = [p for p in out.rglob("*") if p.is_file()]
    assert written and not [p for p in written if KEY.encode() in p.read_bytes()]
    assert json.loads((out / "greet" / "attempts.json").read_text())["attempts"] == []  # --resume redoes it
