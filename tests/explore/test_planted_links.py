"""Links an agent plants in /logs never make the host read a host file (issue 7, item 3).

The trial is Harbor's result plus a trial dir as a hostile agent would leave it: `verifier/test-stdout.txt`,
`verifier/ctrf.json` and `agent/trajectory.json` pointing at a host file (or the whole `verifier/` folder
pointing at a host folder). Everything after Harbor is real: `run_trial`'s reading of the trial dir, the
attempt runner, the judge, the memo rewrite over HTTP, the task's log and state files. The host file's
marker must reach none of them; the refusal must be reported.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from harbor.models.task.id import LocalTaskId
from harbor.models.trial.result import AgentInfo, TrialResult
from harbor.models.verifier.result import VerifierResult

from skillspark.explore.loop import TaskExplorer
from skillspark.explore.settings import ExploreSettings
from skillspark.explore.runner import HarborAttemptRunner
from skillspark.harbor import trials
from skillspark.llm.client import LLMClient
from tests.agents.greet_task import make_task

MARKER = "HOST-MARKER-91c3e7"
MEMO = ("## Exploration Memo (1 failed attempts)\n\n### Attempts Log\n- #1: wrote the wrong greeting\n\n"
        "### Commands From Last Attempt\necho hi > /app/greeting.txt\n\n### Verified Facts\n- /app exists\n\n"
        "### Current Error Pattern\nthe greeting is wrong\n\n### Next Strategy\nwrite hello instead\n")


def _host_files(root: Path) -> Path:
    """A host folder an agent must not get read: stdout, a CTRF report and an ATIF file, all with the marker."""
    root.mkdir()
    (root / "test-stdout.txt").write_text(f"FAILED tests/test_outputs.py::test_{MARKER}\n")
    (root / "ctrf.json").write_text(json.dumps({"results": {"tests": [{"name": MARKER, "status": "failed"}]}}))
    step = {"step_id": 1, "source": "agent", "message": MARKER, "observation": {"results": [{"content": MARKER}]},
            "tool_calls": [{"tool_call_id": "1", "function_name": "bash", "arguments": {"command": f"cat {MARKER}"}}]}
    (root / "trajectory.json").write_text(json.dumps({"steps": [step]}))
    return root


def _plant(trial_dir: Path, host: Path, how: str) -> None:
    (trial_dir / "agent").mkdir(parents=True)
    (trial_dir / "agent" / "trajectory.json").symlink_to(host / "trajectory.json")
    if how == "files":
        (trial_dir / "verifier").mkdir()
        (trial_dir / "verifier" / "test-stdout.txt").symlink_to(host / "test-stdout.txt")
        (trial_dir / "verifier" / "ctrf.json").symlink_to(host / "ctrf.json")
    else:  # the whole /logs/verifier replaced by a link to a host folder
        (trial_dir / "verifier").symlink_to(host)


@pytest.mark.parametrize(("how", "reason"), [("files", "a symbolic link"), ("folder", "a symbolic link in its path")])
async def test_planted_links_are_reported_never_read(tmp_path, scripted_llm, monkeypatch, how, reason):
    host = _host_files(tmp_path / "host")

    async def hostile_trial(config):
        _plant(config.trials_dir / config.trial_name, host, how)
        return TrialResult(
            task_name="greet", trial_name=config.trial_name, trial_uri="file:///x", task_id=LocalTaskId(path=tmp_path),
            task_checksum="0", config=config, agent_info=AgentInfo(name="skillspark", version="0"),
            verifier_result=VerifierResult(rewards={"reward": 0.0}),
        )

    monkeypatch.setattr(trials, "_run_harbor_trial", hostile_trial)
    scripted_llm.push(MEMO)
    task = make_task(tmp_path / "tasks")
    settings = ExploreSettings(model=scripted_llm.model, api_base=scripted_llm.base_url, output=tmp_path / "out",
                               max_retries=1, pdi=False)
    client = LLMClient(scripted_llm.model, api_base=scripted_llm.base_url, max_retries=0)
    runner = HarborAttemptRunner(model=scripted_llm.model)
    summary = await TaskExplorer(task, "greet", "Create /app/greeting.txt.", settings, runner, client, client).run()

    assert summary.status_trajectory == ["FAIL"]
    root = tmp_path / "out" / "greet"
    records = [json.loads(line) for line in (root / "trajectory.jsonl").read_text().splitlines()]
    execution = records[0]
    rewards = [f"verifier/{name}: {reason}" for name in ("reward.txt", "reward.json")] if how == "folder" else []
    skipped = [f"verifier/test-stdout.txt: {reason}", *rewards, "agent/trajectory.json: a symbolic link",
               f"verifier/ctrf.json: {reason}"]
    assert execution["result_json"]["skipped_files"] == skipped
    assert execution["error"] == "; ".join(f"skipped {line} (not read)" for line in skipped)
    assert execution["test_stdout_full"] == "" and execution["ctrf_json"] is None
    assert execution["agent_commands"] == "" and execution["failed_tests"] == []
    # the summarizer was told what was refused, and saw nothing of the host files
    prompt = json.dumps(scripted_llm.requests[0].body)
    assert "skipped verifier/test-stdout.txt" in prompt and MARKER not in prompt
    assert [r["response"] for r in records if r["type"] == "reflect_call"] == [MEMO]
    for path in _regular_files(tmp_path / "out"):
        assert MARKER not in path.read_text(errors="replace"), path


def _regular_files(root: Path) -> list[Path]:
    """Every regular file under `root`, not following links (the planted ones would lead to the marker)."""
    found = []
    for folder, _dirs, names in os.walk(root, followlinks=False):
        found += [Path(folder, n) for n in names if not Path(folder, n).is_symlink()]
    return found
