"""`tasks generate` with the embedded model (SmolLM2-135M): it ends cleanly, never with a traceback.

A 135M model rarely writes a usable blueprint; the contract is a clean end either way: exit 1 with a
rejection record naming the failed check, or exit 0 with an accepted task that passes `tasks check`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
SKILLSPARK = Path(sys.executable).with_name("skillspark")
IDEA = Path(__file__).parents[3] / "examples" / "ideas" / "region-totals.json"


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
    events = [json.loads(line)["stage"] for line in (run / "events.jsonl").read_text().splitlines()]
    assert events[0] == "run_start" and events[-1] == "run_end"
