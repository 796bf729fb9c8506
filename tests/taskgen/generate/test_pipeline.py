"""`generate` end to end against the scripted endpoint, one failure mode per test, gates scripted.

Each broken blueprint is either caught by the check that owns it (critique or a named gate) and then
fixed by the repair round, or rejected into DIR/_rejected with that check named; the repair prompt must
carry what failed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillspark.taskgen.generate_run import generate
from skillspark.taskgen.render import load_blueprint
from tests.fakes.scripted_openai import Reply
from tests.taskgen.generate import blueprints as bp
from tests.taskgen.generate.conftest import IDEA, ScriptedGates, Script, accepted, rejected, role, write_oracle_trial


async def run(settings, out: Path, gates: ScriptedGates, **kwargs):
    return await generate(IDEA, Path("idea.json"), settings, out, references=kwargs.pop("references", []),
                          resume=kwargs.pop("resume", False), gate_runner=gates)


def repair_prompts(server) -> list[str]:
    return [r.messages[1]["content"] for r in server.requests if role(r) == "repair"]


async def test_good_blueprint_is_accepted_and_promoted(scripted_llm, settings, tmp_path):
    scripted_llm.responder = Script(bp.answer())
    gates = ScriptedGates(accepted())
    outcome = await run(settings, tmp_path / "out", gates)
    assert outcome.exit_code == 0
    task = tmp_path / "out" / "region-totals"
    assert (task / "instruction.md").read_text().startswith("`/app/data/orders.csv` lists 40 orders")
    assert load_blueprint(task).seed == 0
    assert gates.calls[0]["task_dir"].parent.name == "v0"
    assert [role(r) for r in scripted_llm.requests] == ["blueprint", "critique"]
    stages = [json.loads(line)["stage"] for line in (outcome.run_dir / "events.jsonl").read_text().splitlines()]
    assert stages == ["run_start", "blueprint_answer", "blueprint", "critique", "render", "gates", "gates", "accepted", "run_end"]
    assert not (tmp_path / "out" / "_rejected").exists()


@pytest.mark.parametrize(("broken", "expected"), [
    ({"tests": bp.VACUOUS_TESTS}, "assert nothing (vacuous)"),
    ({"oracle": bp.HARD_CODED_ORACLE}, "never reads an input path"),
    ({"tests": bp.NETWORK_TESTS}, "tests uses the network (urllib)"),
    ({"oracle": bp.WRONG_PATH_ORACLE}, "output path /app/totals.json does not appear in the oracle"),
])
async def test_critique_failures_are_repaired(scripted_llm, settings, tmp_path, broken, expected):
    scripted_llm.responder = Script(bp.answer(**broken), bp.answer())
    gates = ScriptedGates(accepted())
    outcome = await run(settings, tmp_path / "out", gates)
    assert outcome.exit_code == 0
    [prompt] = repair_prompts(scripted_llm)
    assert "Failed gates: critique" in prompt and expected in prompt
    assert json.loads(prompt.split("## Your previous blueprint\n", 1)[1]) == json.loads(
        bp.answer(**broken)) | {"seed": 0, "name": "region-totals", "params": {}, "agent_timeout_sec": 600.0,
                                "verifier_timeout_sec": 180.0} | _normalised(broken)
    assert len(gates.calls) == 1  # the broken version never reached the gates


def _normalised(broken: dict) -> dict:
    """Fields the model left out come back filled with their defaults in the blueprint JSON."""
    from skillspark.taskgen.blueprint import TaskBlueprint

    full = json.loads(TaskBlueprint.model_validate(bp.good(**broken)).to_json())
    return {k: full[k] for k in ("environment", "parameters")}


async def test_critique_failure_never_fixed_is_rejected_with_reason(scripted_llm, settings, tmp_path):
    settings.max_rounds = 2
    scripted_llm.responder = Script(bp.answer(oracle=bp.HARD_CODED_ORACLE), bp.answer(oracle=bp.HARD_CODED_ORACLE))
    outcome = await run(settings, tmp_path / "out", ScriptedGates())
    assert outcome.exit_code == 1
    record = json.loads((tmp_path / "out" / "_rejected" / "region-totals" / "REJECTED.json").read_text())
    assert record["failed_gates"] == ["critique"] and record["rounds"] == 2
    assert "never reads an input path" in record["reason"]
    assert not (tmp_path / "out" / "region-totals").exists()


async def test_leaked_answer_rejected_by_the_leak_gate_after_every_round(scripted_llm, settings, tmp_path):
    settings.max_rounds = 2
    leak = "the oracle's output /app/totals.json appears in the image at /root/.expected.json"
    scripted_llm.responder = Script(bp.answer(data_generator=bp.LEAKY_GENERATOR),
                                    bp.answer(data_generator=bp.LEAKY_GENERATOR))
    outcome = await run(settings, tmp_path / "out", ScriptedGates(rejected("leak", leak), rejected("leak", leak)))
    assert outcome.exit_code == 1
    [prompt] = repair_prompts(scripted_llm)
    assert "Failed gates: leak" in prompt and f"gate leak: {leak}" in prompt
    rejected_dir = tmp_path / "out" / "_rejected" / "region-totals"
    assert json.loads((rejected_dir / "REJECTED.json").read_text())["failed_gates"] == ["leak"]
    assert (rejected_dir / "environment" / "generate_data.py").is_file()  # the last rendered version is kept


async def test_crashing_oracle_repair_prompt_carries_traceback_and_failing_tests(scripted_llm, settings, tmp_path):
    traceback = 'Traceback (most recent call last):\n  File "/solution/oracle.py", line 7\nKeyError: \'amount\''

    def oracle_crash(task_dir: Path, work_dir: Path):
        write_oracle_trial(work_dir, f"running oracle\n{traceback}\n", ["test_outputs.py::test_totals"])
        return rejected("oracle", "reward 0.0 < 1.0 with the reference solution")

    scripted_llm.responder = Script(bp.answer(oracle=bp.CRASHING_ORACLE), bp.answer())
    outcome = await run(settings, tmp_path / "out", ScriptedGates(oracle_crash, accepted()))
    assert outcome.exit_code == 0
    [prompt] = repair_prompts(scripted_llm)
    assert "Failed gates: oracle" in prompt and "reward 0.0 < 1.0" in prompt
    assert "- test_outputs.py::test_totals" in prompt and "test_ok" not in prompt.split("## Output")[0]
    assert "KeyError: 'amount'" in prompt
    assert 'int(row[\\"amount\\"])' in prompt  # the previous blueprint (JSON), so the model sees its own bug


async def test_network_verifier_rejected_by_the_offline_gate(scripted_llm, settings, tmp_path):
    """A verifier that shells out to the network passes the text checks; the offline gate names it."""
    sneaky = bp.TESTS.replace('OUTPUT = Path("/app/totals.json")',
                              'OUTPUT = Path("/app/totals.json")\nimport subprocess\n'
                              'subprocess.run(["python3", "-c", "import ur" + "llib.request"])')
    settings.max_rounds = 1
    scripted_llm.responder = Script(bp.answer(tests=sneaky))
    detail = "reward 1.0 online but 0.0 offline: the verifier needs the network"
    outcome = await run(settings, tmp_path / "out", ScriptedGates(rejected("offline", detail)))
    assert outcome.exit_code == 1
    assert outcome.state.candidates[0].failed_gates == ["offline"]
    assert detail in outcome.state.candidates[0].reason


async def test_malformed_json_is_asked_again_with_the_parse_error(scripted_llm, settings, tmp_path):
    scripted_llm.responder = Script("Sure! Here is the task: {name: region}", bp.answer())
    outcome = await run(settings, tmp_path / "out", ScriptedGates(accepted()))
    assert outcome.exit_code == 0
    second = scripted_llm.requests[1].messages
    assert second[-2] == {"role": "assistant", "content": "Sure! Here is the task: {name: region}"}
    assert second[-1]["content"].startswith("Your answer could not be used: the answer is not valid JSON")


async def test_malformed_json_every_time_is_rejected_as_blueprint(scripted_llm, settings, tmp_path):
    settings.max_rounds, settings.schema_tries = 2, 1
    scripted_llm.responder = Script(*["not json"] * 4)
    outcome = await run(settings, tmp_path / "out", ScriptedGates())
    assert outcome.exit_code == 1
    prompts = repair_prompts(scripted_llm)
    assert len(prompts) == 2 and len(scripted_llm.requests) == 4  # 2 rounds x (1 ask + 1 schema retry)
    prompt = prompts[0]
    assert "Failed gates: blueprint" in prompt and "not valid JSON" in prompt and prompt.endswith("not json\n")
    record = json.loads((tmp_path / "out" / "_rejected" / "region-totals" / "REJECTED.json").read_text())
    assert record["failed_gates"] == ["blueprint"] and outcome.state.candidates[0].name == "region-totals"


async def test_a_500_is_retried_and_the_run_goes_on(scripted_llm, settings, tmp_path):
    scripted_llm.push(status=500)
    scripted_llm.responder = Script(bp.answer())
    outcome = await run(settings, tmp_path / "out", ScriptedGates(accepted()))
    assert outcome.exit_code == 0
    record = json.loads((outcome.run_dir / "calls.jsonl").read_text().splitlines()[0])
    assert record["key"] == "c0-v0-blueprint-0" and record["attempts"] == 2


async def test_a_down_endpoint_stops_the_candidate_resumably(scripted_llm, settings, tmp_path):
    settings.llm_retries = 1
    scripted_llm.responder = lambda request: Reply(status=503)
    outcome = await run(settings, tmp_path / "out", ScriptedGates())
    assert outcome.exit_code == 2 and "failed after 2 attempt(s)" in outcome.stopped_by
    assert outcome.state.candidates[0].status == "stopped"
    scripted_llm.responder = Script(bp.answer())
    resumed = await run(settings, tmp_path / "out", ScriptedGates(accepted()), resume=True)
    assert resumed.exit_code == 0 and resumed.run_dir == outcome.run_dir


async def test_advisory_critique_never_blocks_but_reaches_the_repair(scripted_llm, settings, tmp_path):
    script = Script(bp.answer(), bp.answer())
    script.critique = '{"issues": [{"area": "tests", "message": "rounding of cents is not stated"}]}'
    scripted_llm.responder = script
    outcome = await run(settings, tmp_path / "out", ScriptedGates(rejected("mutants", "a truncated output passed"),
                                                                   accepted()))
    assert outcome.exit_code == 0
    [prompt] = repair_prompts(scripted_llm)
    assert "reviewer (advisory, tests): rounding of cents is not stated" in prompt
    critique = json.loads((outcome.run_dir / "c0" / "v0" / "critique.json").read_text())
    assert critique["advisory"][0]["severity"] == "warning"


async def test_several_candidates_get_own_seeds_names_and_dedup_references(scripted_llm, settings, tmp_path):
    settings.n = 2
    scripted_llm.responder = Script(bp.answer(), bp.answer())
    ref = tmp_path / "ref"
    gates = ScriptedGates(accepted(), accepted())
    from skillspark.taskgen.library import Reference

    outcome = await run(settings, tmp_path / "out", gates, references=[Reference(name="ref", path=str(ref))])
    assert outcome.exit_code == 0
    assert [load_blueprint(tmp_path / "out" / f"region-totals-{i}").seed for i in (1, 2)] == [0, 1]
    assert gates.calls[0]["references"] == [ref]
    assert gates.calls[1]["references"] == [ref, tmp_path / "out" / "region-totals-1"]
    first = scripted_llm.requests[0].messages[1]["content"]
    assert "candidate 1 of 2" in first and "### ref" in first


async def test_max_cost_stops_before_any_call(scripted_llm, settings, tmp_path):
    settings.max_cost_usd = 0.0
    outcome = await run(settings, tmp_path / "out", ScriptedGates())
    assert outcome.exit_code == 3 and not scripted_llm.requests
    assert "cost budget spent" in outcome.state.candidates[0].reason


async def test_resume_counts_earlier_spend_against_max_cost(scripted_llm, settings, tmp_path):
    scripted_llm.responder = lambda request: Reply(status=503)
    settings.llm_retries = 0
    first = await run(settings, tmp_path / "out", ScriptedGates())
    state_path = first.run_dir / "state.json"
    state = json.loads(state_path.read_text())
    state["spent_usd"] = 0.5  # as if earlier calls had cost $0.50
    state_path.write_text(json.dumps(state))
    asked = len(scripted_llm.requests)
    settings.max_cost_usd = 0.4
    resumed = await run(settings, tmp_path / "out", ScriptedGates(), resume=True)
    assert resumed.exit_code == 3 and len(scripted_llm.requests) == asked
    assert "cost budget spent: $0.5000 of $0.4000" in resumed.state.candidates[0].reason


async def test_candidates_in_parallel_each_get_their_own_task(scripted_llm, settings, tmp_path):
    settings.n, settings.parallelism = 3, 3
    scripted_llm.responder = Script(*[bp.answer()] * 3)
    outcome = await run(settings, tmp_path / "out", ScriptedGates())
    assert outcome.exit_code == 0
    promoted = sorted(c.promoted_to for c in outcome.state.candidates)
    assert promoted == ["region-totals-1", "region-totals-2", "region-totals-3"]
    assert sorted(load_blueprint(tmp_path / "out" / name).seed for name in promoted) == [0, 1, 2]
    assert not list((tmp_path / "out").glob(".*.tmp"))  # no staging copy left behind


async def test_every_json_request_carries_its_schema_and_the_route_is_on_record(scripted_llm, settings, tmp_path):
    """Blueprint, repair and critique requests each send their JSON schema; the audit trail names the route."""
    scripted_llm.responder = Script("Here is my blueprint: " + bp.answer(tests=bp.VACUOUS_TESTS), bp.answer())
    outcome = await run(settings, tmp_path / "out", ScriptedGates(accepted()))
    assert outcome.exit_code == 0
    sent = [(role(r), r.body["response_format"]["json_schema"]["name"]) for r in scripted_llm.requests]
    assert sent == [("blueprint", "task_blueprint"), ("critique", "blueprint_review"), ("repair", "task_blueprint"),
                    ("critique", "blueprint_review")]
    blueprint_schema = scripted_llm.requests[0].body["response_format"]["json_schema"]
    assert blueprint_schema["strict"] is True and "seed" not in blueprint_schema["schema"]["properties"]
    assert blueprint_schema["schema"]["required"][:2] == ["name", "title"]
    calls = [json.loads(line) for line in (outcome.run_dir / "calls.jsonl").read_text().splitlines()]
    assert {(c["route"], c["route_fallback"]) for c in calls} == {("schema", False)}
    kept = json.loads((outcome.run_dir / "calls" / "c0-v0-blueprint-0.json").read_text())
    assert kept["route"] == "schema"
    answers = [json.loads(line) for line in (outcome.run_dir / "events.jsonl").read_text().splitlines()
               if json.loads(line)["stage"] == "blueprint_answer"]
    assert [(a["version"], a["route"], a["parse"], a["valid"]) for a in answers] == [
        (0, "schema", "extracted", True), (1, "schema", "direct", True)]
