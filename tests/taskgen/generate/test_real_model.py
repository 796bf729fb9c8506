"""`tasks generate` with the embedded model (SmolLM2-135M): it ends cleanly, never with a traceback, and
every blueprint it answers is schema-valid (grammar-constrained decoding, see llm/structured.py).

A 135M model rarely writes a usable task; the contract is a clean end either way: exit 1 with a
rejection record naming the failed check, or exit 0 with an accepted task that passes `tasks check`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from skillspark.llm.budget import Budget
from skillspark.llm.structured import loads_object
from skillspark.taskgen.blueprint import blueprint_schema, parse_blueprint
from skillspark.taskgen.generate_run import GenerateSettings
from skillspark.taskgen.idea import load_idea
from skillspark.taskgen.prompts import fill

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
SKILLSPARK = Path(sys.executable).with_name("skillspark")
IDEAS = Path(__file__).parents[3] / "examples" / "ideas"
IDEA = IDEAS / "region-totals.json"


async def test_the_embedded_models_blueprint_parses_against_task_blueprint():
    idea = load_idea(IDEAS / "weather-anomalies.json")
    messages = [{"role": "system", "content": fill("blueprint_system")},
                {"role": "user", "content": fill("blueprint_user", idea=idea.as_prompt_text(), variation="",
                                                 references="(none)")}]
    async with GenerateSettings().client(Budget(None)) as client:  # the settings `tasks generate` uses
        result = await client.chat(messages, schema=blueprint_schema())
    assert result.ok and (result.route, result.route_fallback, result.finish_reason) == ("grammar", False, "stop")
    assert loads_object(result.text)[1] == "direct", result.text[:500]
    blueprint = parse_blueprint(result.text, seed=3)  # raises BlueprintError (test fails) if not schema-valid
    assert blueprint.seed == 3 and blueprint.input_paths and blueprint.output_paths and not blueprint.parameters


def test_generate_with_the_embedded_model_ends_cleanly(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run([str(SKILLSPARK), "tasks", "generate", "--prompt-file", str(IDEA), "--model", "local/smollm2",
                           "--output", str(out), "--max-rounds", "2"],
                          capture_output=True, text=True, timeout=840, stdin=subprocess.DEVNULL)
    output = done.stdout + done.stderr
    assert done.returncode in (0, 1), output[-3000:]
    assert "Traceback" not in output
    [run] = (out / "_runs").iterdir()
    state = json.loads((run / "state.json").read_text())
    [candidate] = state["candidates"]
    if done.returncode == 1:
        record = json.loads((out / "_rejected" / candidate["name"] / "REJECTED.json").read_text())
        assert record["failed_gates"] and record["reason"] == candidate["reason"]
    else:
        checked = subprocess.run([str(SKILLSPARK), "tasks", "check", str(out / candidate["promoted_to"])],
                                 capture_output=True, text=True, timeout=600)
        assert checked.returncode == 0, checked.stdout[-2000:]
    records = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    events = [r["stage"] for r in records]
    assert events[0] == "run_start" and events[-1] == "run_end"
    answers = [r for r in records if r["stage"] == "blueprint_answer"]
    assert answers and all(a["valid"] and a["route"] == "grammar" and a["parse"] == "direct" for a in answers), answers
    assert len(answers) == candidate["rounds"]  # one answer per round: never re-asked for broken JSON
