"""Generation against the real gates in the local sandbox: each failure is caught by the gate that owns it.

The model is still scripted (the blueprints in `blueprints.py`); the gates build and run every version.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillspark.taskgen.audit_result import default_gate_runner
from skillspark.taskgen.check import check_tasks
from skillspark.taskgen.generate_run import generate
from skillspark.taskgen.vary import vary
from tests.taskgen.generate import blueprints as bp
from tests.taskgen.generate.conftest import IDEA, Script, role

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
WEAK_TESTS = bp.TESTS.replace("    assert json.loads(OUTPUT.read_text()) == expected()", "    assert OUTPUT.exists()").replace(
    "    assert set(json.loads(OUTPUT.read_text())) == set(expected())", "    assert OUTPUT.stat().st_size >= 0")


async def test_crashing_oracle_is_repaired_with_its_real_traceback_then_accepted_checked_and_varied(
        scripted_llm, settings, tmp_path):
    scripted_llm.responder = Script(bp.answer(oracle=bp.CRASHING_ORACLE), bp.answer())
    out = tmp_path / "out"
    outcome = await generate(IDEA, Path("idea.json"), settings, out, references=[], resume=False,
                             gate_runner=default_gate_runner("local"))
    assert outcome.exit_code == 0, outcome.state.candidates[0].reason
    audit = json.loads((outcome.run_dir / "c0" / "v0" / "audit.json").read_text())
    assert audit["failed_gates"] == ["oracle"]
    [prompt] = [r.messages[1]["content"] for r in scripted_llm.requests if role(r) == "repair"]
    assert "Failed gates: oracle" in prompt and "KeyError: 'amount'" in prompt
    assert "- test_outputs.py::test_totals" in prompt
    task = out / "region-totals"
    report = await check_tasks([task], env="local", trials_dir=tmp_path / "check")
    assert report.tasks[0].verdict == "valid", report.tasks[0].reasons
    [instance] = await vary(task, n=1, seed=7, output=tmp_path / "varied",
                            gate_runner=default_gate_runner("local", gates=["schema", "oracle", "nop", "mutants"]))
    assert instance.verdict == "accepted", instance.reason


@pytest.mark.parametrize(("changes", "gate"), [
    ({"data_generator": bp.LEAKY_GENERATOR}, "leak"),
    ({"tests": WEAK_TESTS}, "mutants"),
])
async def test_bad_task_is_rejected_by_its_gate_only(scripted_llm, settings, tmp_path, changes, gate):
    settings.max_rounds = 1
    scripted_llm.responder = Script(bp.answer(**changes))
    outcome = await generate(IDEA, Path("idea.json"), settings, tmp_path / "out", references=[], resume=False,
                             gate_runner=default_gate_runner("local"))
    assert outcome.exit_code == 1
    record = json.loads((tmp_path / "out" / "_rejected" / "region-totals" / "REJECTED.json").read_text())
    assert record["failed_gates"] == [gate], record
