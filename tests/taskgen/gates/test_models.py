"""Audit records: verdict and failed gates, gate parsing, and a task too broken to run."""

import asyncio
from pathlib import Path

import pytest

from skillspark.errors import UserError
from skillspark.taskgen.gates import GATE_NAMES, GateResult, TaskAudit, audit_task, parse_gates
from skillspark.taskgen.gates.determinism import differences, determinism_gate


def test_failed_gates_name_causes_not_consequences():
    audit = TaskAudit.of("t", [GateResult(name="oracle", ok=False, detail="reward 0"),
                               GateResult.not_run("mutants", "needs an oracle that passes"),
                               GateResult(name="dedup", ok=True, detail="fine")])
    assert (audit.verdict, audit.failed_gates) == ("rejected", ["oracle"])
    assert audit.public()["gates"]["mutants"] == {"ok": False, "detail": "not run: needs an oracle that passes"}
    assert TaskAudit.of("t", [GateResult(name="dedup", ok=True, detail="")]).verdict == "accepted"


def test_parse_gates_keeps_run_order_and_refuses_unknown_names():
    assert parse_gates(None) == GATE_NAMES
    assert parse_gates([" dedup", "schema "]) == ("schema", "dedup")
    with pytest.raises(UserError, match="unknown gate.s. fast; repeat --gates with any of schema, lint,"):
        parse_gates(["schema", "fast"])
    with pytest.raises(UserError, match="no gate named"):
        parse_gates([" "])


def test_a_task_that_cannot_run_gets_static_gates_only(tmp_path):
    task = tmp_path / "broken"
    (task / "tests").mkdir(parents=True)
    (task / "instruction.md").write_text("Do it.")
    audit = asyncio.run(audit_task(task, work_dir=tmp_path / "work"))
    assert audit.failed_gates == ["schema"]
    assert "task.toml is missing" in audit.gates["schema"].detail
    assert all(not audit.gates[g].ran for g in GATE_NAMES if g not in ("schema", "dedup"))
    assert audit.gates["dedup"].ok
    assert not (tmp_path / "work").exists()  # no trial was started


def test_differences_and_determinism_verdicts():
    assert differences({"/a": "1", "/b": "2"}, {"/a": "1", "/b": "3", "/c": "4"}) == ["/b", "/c"]
    assert differences({f"/{i}": "x" for i in range(7)}, {}, limit=5)[-1] == "+2 more"
    good = determinism_gate(rebuild=[], remembered=True, start_differences=[], oracle_rewards=(1.0, 1.0))
    assert good.ok and good.detail == "same data on a second build (remembered from an earlier audit); oracle 1 and 1"
    flaky = determinism_gate(rebuild=None, remembered=False, start_differences=[], oracle_rewards=(1.0, 0.5))
    assert not flaky.ok and "scored 0.5 on a second trial" in flaky.detail


def test_a_build_that_fails_leaves_nop_not_run(tmp_path):
    from skillspark.harbor.trials import TrialOutcome
    from skillspark.taskgen.gates.runs import nop_gate, oracle_gate

    failed = TrialOutcome(task_name="t", trial_dir=tmp_path, status="infra_error", infra_kind="build",
                          exception_type="SandboxBuildFailedError", exception_message="build failed: RUN exit 7 (exit 7)")
    assert oracle_gate(failed, failed).detail == "build: build failed: RUN exit 7 (exit 7)"
    nop = nop_gate(failed, failed)
    assert (nop.ok, nop.ran, nop.detail) == (False, False, "not run: needs an environment that builds (see oracle)")
