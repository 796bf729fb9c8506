"""`tasks vary`: new seeds and parameter values, locked tests and oracle, every instance gated, byte-reproducible."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from skillspark.cli import app
from skillspark.llm.client import LLMClient
from skillspark.taskgen import audit_result
from skillspark.taskgen.blueprint import TaskBlueprint
from skillspark.taskgen.render import load_blueprint, render_task
from skillspark.taskgen.vary import check_proposal, instance_seeds, vary
from tests.fakes.scripted_openai import Reply
from tests.taskgen.generate import blueprints as bp
from tests.taskgen.generate.conftest import ScriptedGates, rejected
from tests.taskgen.test_check_cli import run_cli


@pytest.fixture
def parent(tmp_path) -> Path:
    task = tmp_path / "parent" / "region-totals"
    render_task(TaskBlueprint.model_validate(bp.good()), task)
    return task


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


async def test_same_seed_twice_gives_byte_identical_tasks(parent, tmp_path):
    first = await vary(parent, n=3, seed=7, output=tmp_path / "a", gate_runner=ScriptedGates())
    second = await vary(parent, n=3, seed=7, output=tmp_path / "b", gate_runner=ScriptedGates())
    names = [i.name for i in first]
    assert names == [i.name for i in second] and len(set(names)) == 3
    for name in names:
        assert tree(tmp_path / "a" / name) == tree(tmp_path / "b" / name)
    other = await vary(parent, n=1, seed=8, output=tmp_path / "c", gate_runner=ScriptedGates())
    assert other[0].name not in names


async def test_instances_differ_from_parent_with_tests_and_oracle_locked(parent, tmp_path):
    [instance] = await vary(parent, n=1, seed=7, output=tmp_path / "out", gate_runner=ScriptedGates())
    child = tmp_path / "out" / instance.name
    assert instance.verdict == "accepted" and instance.params_from == "seed"
    assert 20 <= instance.params["rows"] <= 200 and instance.seed == instance_seeds(7, 1, 0)[0]
    for locked in ("tests/test_outputs.py", "solution/oracle.py", "tests/test.sh"):
        assert (child / locked).read_bytes() == (parent / locked).read_bytes()
    assert (child / "environment/generate_data.py").read_text() != (parent / "environment/generate_data.py").read_text()
    assert f"SEED = {instance.seed}\n" in (child / "environment/generate_data.py").read_text()
    assert f"lists {instance.params['rows']} orders" in (child / "instruction.md").read_text()
    assert load_blueprint(child).params == instance.params


async def test_model_proposals_are_checked_against_the_schema(parent, tmp_path, scripted_llm):
    scripted_llm.push(text='{"params": {"rows": 120}}')
    scripted_llm.push(text='{"params": {"rows": 5000}}')  # outside [20, 200]
    async with LLMClient(scripted_llm.model, api_base=scripted_llm.base_url, max_retries=0) as client:
        made = await vary(parent, n=2, seed=7, output=tmp_path / "out", gate_runner=ScriptedGates(), client=client)
    assert made[0].params == {"rows": 120} and made[0].params_from == "model"
    assert made[1].params_from == "seed (model proposal refused: outside the schema: rows=5000)"
    assert 20 <= made[1].params["rows"] <= 200
    assert '"default": 40' in scripted_llm.requests[0].messages[1]["content"]
    schemas = [r.body["response_format"]["json_schema"] for r in scripted_llm.requests]
    rows = {"type": "integer", "minimum": 20, "maximum": 200}
    assert all(s["name"] == "task_params" and s["schema"]["properties"]["params"]["properties"] == {"rows": rows}
               for s in schemas) and len(schemas) == 2
    events = [json.loads(line) for line in (tmp_path / "out" / "_runs" / "vary-region-totals-seed7" / "events.jsonl")
              .read_text().splitlines()]
    assert [(e["route"], e["route_fallback"]) for e in events] == [("schema", False), ("schema", False)]


def test_check_proposal_names_what_is_wrong():
    params = TaskBlueprint.model_validate(bp.good()).parameters
    assert check_proposal(params, '{"params": {"rows": 50}}') == {"rows": 50}
    assert check_proposal(params, '{"params": {"colour": 1}}') == "unknown parameter(s) colour"
    assert check_proposal(params, '{"params": {"rows": true}}') == "outside the schema: rows=True"
    assert check_proposal(params, "no json") == 'no {"params": {...}} object in the answer'


async def test_an_instance_the_gates_reject_goes_to_rejected(parent, tmp_path):
    gates = ScriptedGates(rejected("oracle", "reward 0.0 < 1.0"))
    [instance] = await vary(parent, n=1, seed=7, output=tmp_path / "out", gate_runner=gates)
    assert instance.verdict == "rejected" and instance.failed_gates == ["oracle"]
    record = json.loads((tmp_path / "out" / "_rejected" / instance.name / "REJECTED.json").read_text())
    assert record["reason"] == "oracle: reward 0.0 < 1.0"
    assert not (tmp_path / "out" / instance.name).exists()
    assert gates.calls[0]["references"] == []


def test_cli_skips_dedup_and_exits_by_verdict(parent, tmp_path, monkeypatch):
    seen = {}

    def fake_runner(env, timeout_multiplier=1.0, gates=None):
        seen["gates"] = gates
        return ScriptedGates()

    monkeypatch.setattr(audit_result, "default_gate_runner", fake_runner)
    result = CliRunner().invoke(app, ["tasks", "vary", str(parent), "-n", "2", "--seed", "7",
                                      "--output", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "dedup" not in seen["gates"] and "mutants" in seen["gates"]
    assert result.output.count("accepted") == 2


def test_vary_task_through_the_api_writes_the_bytes_the_cli_writes(parent, tmp_path, monkeypatch):
    import os

    from rich.console import Console

    from skillspark import VaryConfig, vary_task

    monkeypatch.setattr(audit_result, "default_gate_runner", lambda env, timeout_multiplier=1.0, gates=None: ScriptedGates())
    instances = vary_task(parent, VaryConfig(n=2, seed=7, output=tmp_path / "api"),
                          console=Console(file=open(os.devnull, "w")))  # noqa: SIM115
    assert [i.verdict for i in instances] == ["accepted", "accepted"]
    result = CliRunner().invoke(app, ["tasks", "vary", str(parent), "-n", "2", "--seed", "7", "-o", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output

    def written(root):
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    assert written(tmp_path / "api") == written(tmp_path / "cli") != {}  # instances, their run log and audits


def test_cli_refuses_a_task_without_blueprint(tmp_path, monkeypatch, capsys):
    task = tmp_path / "hand-made"
    task.mkdir()
    code, _, err = run_cli(["tasks", "vary", str(task), "--output", str(tmp_path / "out")], monkeypatch, capsys)
    assert code == 2
    assert err == (f"error: {task}: no tests/blueprint.json; `tasks vary` needs a task made by "
                   "`skillspark tasks generate`\n")


async def test_model_unavailable_falls_back_to_seeded_draws(parent, tmp_path, scripted_llm):
    scripted_llm.responder = lambda request: Reply(status=503)
    async with LLMClient(scripted_llm.model, api_base=scripted_llm.base_url, max_retries=0) as client:
        [instance] = await vary(parent, n=1, seed=7, output=tmp_path / "out", gate_runner=ScriptedGates(),
                                client=client)
    assert instance.verdict == "accepted" and instance.params_from.startswith("seed (model unavailable")
