"""One real exploration: the embedded SmolLM2 model, the bash agent, Harbor and the bwrap sandbox.

The 135M model rarely solves anything; the test checks that the loop runs for real and leaves valid
files behind, whatever the outcome, and that the reflect step turns its answers into a memo.
"""

import json
from pathlib import Path

import pytest

from skillspark.core.skillspec import check_skill_text
from skillspark.explore.loop import explore_tasks
from skillspark.explore.settings import ExploreSettings
from skillspark.explore.records import AttemptsFile, parse_record

TASK = Path(__file__).resolve().parents[2] / "examples" / "tasks" / "hello-greeting"


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_real_embedded_model_explores_an_example_task(tmp_path):
    settings = ExploreSettings(model="local/smollm2", max_retries=1, memo_tries=1, distill_tries=1,
                               output=tmp_path, llm_timeout_s=90, llm_retries=0,
                               agent_kwargs={"max_steps": 3, "command_timeout_s": 20})
    [summary] = await explore_tasks([TASK], settings)

    root = tmp_path / "hello-greeting"
    assert summary.total_attempts == 1 and summary.state in ("solved", "exhausted", "infra_stopped")
    state = AttemptsFile.model_validate_json((root / "attempts.json").read_text())
    assert state.state == summary.state and len(state.attempts) == 1
    logs = [parse_record(json.loads(line)) for line in (root / "trajectory.jsonl").read_text().splitlines()]
    assert logs[0].type == "execution_result" and logs[-1].type == "task_summary"
    assert any((root / "jobs").iterdir())  # Harbor's own trial dir
    for memo in state.memo_history:
        assert memo.startswith("## Exploration Memo (1 failed attempts)")
    reflects = [r for r in logs if r.type == "reflect_call"]
    if not summary.success and summary.state != "infra_stopped":
        # the sectioned reflect step gets a memo out of the 135M model (whole-memo replies never had the shape)
        assert [r.ok for r in reflects] == [True] and len(state.memo_history) == 1
        assert reflects[0].output_tokens <= 3 * 96 * settings.memo_tries
    if summary.success:
        assert check_skill_text((root / "SKILL.md").read_text(), "hello-greeting") == []
