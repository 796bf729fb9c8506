"""`audit` on hand-written bad tasks: each is rejected by the gate made to catch it, and by no other.

Every bad task is a small sum task (or a copy of hello-greeting) with one flaw; the audits run for
real (local sandbox builds, Harbor trials with the probe agent), three at a time.
"""

import asyncio
import json
from pathlib import Path

import pytest

from skillspark.taskgen.gates import GATE_NAMES, TaskAudit, audit_task

pytestmark = pytest.mark.timeout(600)

BAD = Path(__file__).parent / "bad_tasks"
HELLO = Path(__file__).parents[2] / "examples" / "tasks" / "hello-greeting"
EXPECTED = {
    "tests-pass-without-output": "nop",
    "weak-tests": "mutants",
    "answer-in-instruction": "leak",
    "answer-in-image": "leak",
    "verifier-needs-network": "offline",
    "wrong-output-path": "lint",
    "crashing-oracle": "oracle",
    "random-environment": "determinism",
    "one-asserting-test": "schema",
    "near-duplicate": "dedup",
}


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("audit")


@pytest.fixture(scope="module")
def audits(work) -> dict[str, TaskAudit]:
    limit = asyncio.Semaphore(3)

    async def one(name: str) -> TaskAudit:
        async with limit:
            references = [HELLO] if name == "near-duplicate" else []
            return await audit_task(BAD / name, references=references, work_dir=work)

    async def all_of_them() -> list[TaskAudit]:
        return await asyncio.gather(*(one(name) for name in EXPECTED))

    return {audit.task: audit for audit in asyncio.run(all_of_them())}


def test_every_bad_task_is_listed():
    assert sorted(p.name for p in BAD.iterdir() if p.is_dir() and not p.name.startswith("_")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_rejected_by_its_gate_only(audits, name):
    audit = audits[name]
    gate = EXPECTED[name]
    assert audit.verdict == "rejected"
    assert audit.failed_gates == [gate], {g: r.detail for g, r in audit.gates.items() if not r.ok}
    assert list(audit.gates) == list(GATE_NAMES)
    assert not audit.gates[gate].ok and audit.gates[gate].detail


def test_dependent_gates_are_not_run_without_an_oracle(audits):
    audit = audits["crashing-oracle"]
    for gate in ("mutants", "leak", "determinism", "offline"):
        result = audit.gates[gate]
        assert (result.ok, result.ran) == (False, False)
        assert result.detail == "not run: needs an oracle that passes (see oracle)"
    assert audit.gates["nop"].ok and audit.gates["schema"].ok


def test_details_say_what_was_found(audits):
    assert "/app/stats.txt truncated" in audits["weak-tests"].gates["mutants"].detail
    assert "'4821' (from /app/total.txt) in instruction.md" in audits["answer-in-instruction"].gates["leak"].detail
    assert "image /opt/.expected_total" in audits["answer-in-image"].gates["leak"].detail
    assert "reward 1 online but 0 without network" in audits["verifier-needs-network"].gates["offline"].detail
    assert "/app/numbers.txt" in audits["random-environment"].gates["determinism"].detail
    assert "already passes the tests" in audits["tests-pass-without-output"].gates["nop"].detail
    assert "hello-greeting" in audits["near-duplicate"].gates["dedup"].detail


def test_each_mutant_is_verified_once_by_one_of_the_two_oracle_trials(audits, work):
    """The probe shares its mutants with the second oracle trial (mutant_queue.py): wherever each ran,
    it ran once, and the probe reports all of them."""
    trials = sorted((work / "trials").glob("weak-tests__*"))
    probes = [json.loads(p.read_text()) for t in trials if (p := t / "agent" / "audit-probe.json").is_file()]
    reported = [m for probe in probes for m in probe["mutants"]]
    assert len(probes) == 2 and reported
    runs = sorted(d.name for t in trials for d in (t / "agent" / "audit-verifier").glob("mutant-*"))
    assert runs == sorted(f"mutant-{i}" for i in range(len(reported)))
    assert f"of {len(reported)} mutant(s) still pass" in audits["weak-tests"].gates["mutants"].detail
