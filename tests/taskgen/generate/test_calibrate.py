"""The optional `calibrate` gate: a reference agent's pass rate over k trials must fall in a band."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillspark.errors import UserError
from skillspark.taskgen.calibrate import Calibration, judge, parse_band
from skillspark.taskgen.generate_run import generate
from tests.taskgen.generate import blueprints as bp
from tests.taskgen.generate.conftest import IDEA, ScriptedGates, Script


def test_judge_against_hand_computed_rates():
    assert judge(1, 3, 0.1, 0.9).ok and judge(1, 3, 0.1, 0.9).detail == (
        "reference agent passed 1 of 3 (0.33); band [0.1, 0.9]")
    assert judge(0, 3, 0.1, 0.9).detail.startswith("too hard: reference agent passed 0 of 3 (0.00)")
    assert judge(3, 3, 0.1, 0.9).detail.startswith("too easy: ") and not judge(3, 3, 0.1, 0.9).ok
    assert judge(3, 3, 0.0, 1.0).ok  # the band is inclusive


@pytest.mark.parametrize("text", ["0.9,0.1", "0.5", "a,b", "0,2"])
def test_bad_band_is_one_line(text):
    with pytest.raises(UserError, match="--calibrate-band"):
        parse_band(text)


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize(("agent", "band", "verdict", "detail"), [
    ("oracle", (0.1, 0.9), "rejected", "too easy: reference agent passed 2 of 2"),
    ("nop", (0.1, 0.9), "rejected", "too hard: reference agent passed 0 of 2"),
    ("oracle", (0.0, 1.0), "accepted", "reference agent passed 2 of 2 (1.00)"),
])
async def test_calibration_runs_real_trials_after_the_gates(scripted_llm, settings, tmp_path, agent, band, verdict,
                                                            detail):
    settings.max_rounds = 1
    scripted_llm.responder = Script(bp.answer())
    calibration = Calibration(model="local/smollm2", agent=agent, k=2, low=band[0], high=band[1])
    outcome = await generate(IDEA, Path("idea.json"), settings, tmp_path / "out", references=[], resume=False,
                             gate_runner=ScriptedGates(), calibration=calibration)
    audit = json.loads((outcome.run_dir / "c0" / "v0" / "audit.json").read_text())
    assert audit["verdict"] == verdict and detail in audit["gates"]["calibrate"]["detail"]
    assert audit["failed_gates"] == ([] if verdict == "accepted" else ["calibrate"])
    assert len(list((outcome.run_dir / "c0" / "v0" / "calibrate").iterdir())) == 2  # k trial dirs
