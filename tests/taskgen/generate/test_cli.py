"""`skillspark tasks generate` through the real entry point: exit codes, bad input lines, reference flags.

The original pipeline crashed on its reference-task flags (AttributeError on a slots dataclass); here
`--reference-task` pins a task that the model sees and the dedup gate receives, and `--library` retrieves
the closest tasks and records which.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillspark.taskgen import audit_result
from tests.taskgen.generate import blueprints as bp
from tests.taskgen.generate.conftest import ScriptedGates, Script, rejected
from tests.taskgen.test_check_cli import run_cli

EXAMPLES = Path(__file__).parents[3] / "examples"
IDEA = EXAMPLES / "ideas" / "region-totals.json"


@pytest.fixture
def gates(monkeypatch) -> ScriptedGates:
    runner = ScriptedGates()
    monkeypatch.setattr(audit_result, "default_gate_runner", lambda env, timeout_multiplier=1.0, gates=None: runner)
    return runner


def generate(server, out: Path, *extra: str, monkeypatch, capsys) -> tuple[int, str, str]:
    return run_cli(["tasks", "generate", "--prompt-file", str(IDEA), "--model", server.model, "--api-base",
                    server.base_url, "--output", str(out), "--llm-retries", "0", *extra], monkeypatch, capsys)


def test_accepted_exit_0_with_reference_task_and_library(scripted_llm, gates, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SKILLSPARK_CACHE_DIR", str(tmp_path / "cache"))
    scripted_llm.responder = Script(bp.answer())
    pinned = EXAMPLES / "tasks" / "hello-greeting"
    code, out, _ = generate(scripted_llm, tmp_path / "out", "--reference-task", str(pinned), "--library",
                            str(EXAMPLES / "tasks"), monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, out
    assert (tmp_path / "out" / "region-totals" / "tests" / "blueprint.json").is_file()
    [run] = (tmp_path / "out" / "_runs").iterdir()
    refs = json.loads((run / "state.json").read_text())["references"]
    assert refs[0] == {"name": "hello-greeting", "path": str(pinned.resolve()), "score": None}
    retrieved = [r["name"] for r in refs[1:]]
    assert len(retrieved) == 3 and retrieved[0] == "csv-sales-report" and "hello-greeting" not in retrieved
    assert all(r["score"] > 0 for r in refs[1:])
    assert gates.calls[0]["references"] == [Path(r["path"]) for r in refs]
    prompt = scripted_llm.requests[0].messages[1]["content"]
    assert "### hello-greeting" in prompt and "### csv-sales-report" in prompt
    assert list((tmp_path / "cache" / "taskgen-library").glob("*.json"))  # the index is kept


def test_rejected_exit_1(scripted_llm, gates, tmp_path, monkeypatch, capsys):
    gates.audits = [rejected("mutants", "4 of 4 mutants still pass")]
    scripted_llm.responder = Script(bp.answer())
    code, out, _ = generate(scripted_llm, tmp_path / "out", "--max-rounds", "1", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1
    assert "rejected" in out and "mutants" in out
    assert (tmp_path / "out" / "_rejected" / "region-totals" / "REJECTED.json").is_file()


@pytest.mark.parametrize(("args", "line"), [
    (["--reference-task", "/nonexistent/task"],
     "error: --reference-task /nonexistent/task: no such directory; pass a Harbor task folder\n"),
    (["--library", "/nonexistent/lib"],
     "error: --library /nonexistent/lib: not a directory; pass a folder of Harbor task folders\n"),
])
def test_bad_reference_flags_are_one_line_exit_2(scripted_llm, gates, tmp_path, monkeypatch, capsys, args, line):
    code, _, err = generate(scripted_llm, tmp_path / "out", *args, monkeypatch=monkeypatch, capsys=capsys)
    assert (code, err) == (2, line)
    assert not scripted_llm.requests


def test_malformed_idea_file_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    idea = tmp_path / "idea.json"
    idea.write_text('{"prompt": "x", "tools": "python3"}')
    code, _, err = run_cli(["tasks", "generate", "--prompt-file", str(idea), "--output", str(tmp_path / "o")],
                           monkeypatch, capsys)
    assert code == 2
    assert err == f"error: --prompt-file {idea}: key 'tools': Input should be a valid list; fix the idea file (1 problem(s) in all)\n"


def test_unreachable_model_is_one_line_exit_2_and_resumable(scripted_llm, gates, tmp_path, monkeypatch, capsys):
    from tests.fakes.scripted_openai import Reply

    scripted_llm.responder = lambda request: Reply(status=503)
    code, out, err = generate(scripted_llm, tmp_path / "out", monkeypatch=monkeypatch, capsys=capsys)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and errors[0].startswith("error: model openai/scripted at ")
    assert err.endswith(errors[0] + "\n") and "Traceback" not in err
    assert "stopped" in out
    scripted_llm.responder = Script(bp.answer())
    code, _, _ = generate(scripted_llm, tmp_path / "out", "--resume", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0 and len(list((tmp_path / "out" / "_runs").iterdir())) == 1


def test_resume_without_an_earlier_run(scripted_llm, gates, tmp_path, monkeypatch, capsys):
    code, _, err = generate(scripted_llm, tmp_path / "out", "--resume", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and "--resume: no earlier run of this idea" in err


def test_generate_through_the_api_writes_what_the_cli_writes(scripted_llm, gates, tmp_path, monkeypatch, capsys):
    import os

    from rich.console import Console

    from skillspark import GenerateSettings, generate_tasks

    scripted_llm.responder = Script(bp.answer(), bp.answer())
    settings = GenerateSettings(model=scripted_llm.model, api_base=scripted_llm.base_url, output=tmp_path / "api",
                                llm_retries=0)
    outcome = generate_tasks(IDEA, settings, console=Console(file=open(os.devnull, "w")))  # noqa: SIM115
    assert outcome.exit_code == 0 and [c.status for c in outcome.state.candidates] == ["accepted"]
    code, out, _ = generate(scripted_llm, tmp_path / "cli", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, out

    def written(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
                if p.is_file() and "_runs" not in p.parts}

    def recorded(root: Path) -> dict:
        [run] = (root / "_runs").iterdir()
        state = json.loads((run / "state.json").read_text())
        return {**state, "run_id": None, "settings": {**state["settings"], "output": None}}

    assert written(tmp_path / "api") == written(tmp_path / "cli") != {}
    assert recorded(tmp_path / "api") == recorded(tmp_path / "cli")
