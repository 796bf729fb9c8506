"""The Python API (`from skillspark import run_agent, explore_skills, evaluate_skills`) writes what the CLI writes.

The same exploration and the same A/B eval of the bundled hello-greeting task run twice: through the API
in this process and through `skillspark explore` / `skillspark eval` in a subprocess (and an oracle
`skillspark run` likewise). Every model call
(the bash agent, the memo summarizer, the distiller) goes to the scripted endpoint in this process, which
solves the task at once, so both sides end the same way; the real bash agent runs in Harbor trials in the
local sandbox. Compared: the file names each side wrote and the JSON fields a reader uses, not times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from skillspark.agents.prompts import DEMONSTRATION, system_prompt
from tests.explore.test_budget import by_role
from tests.fakes.scripted_openai import Reply, ScriptedRequest

pytestmark = pytest.mark.timeout(600)

SKILLSPARK = Path(sys.executable).with_name("skillspark")
TASK = Path(__file__).resolve().parents[1] / "examples" / "tasks" / "hello-greeting"
MODEL = "openai/gpt-4o-mini"
AGENT_SYSTEM = system_prompt(60.0)[:60]
ENV = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "HARBOR_TELEMETRY": "0", "COLUMNS": "200"}


def solver(request: ScriptedRequest) -> Reply:
    """The agent writes the greeting, then submits; the summarizer and distiller answer by their role."""
    system = str(request.messages[0].get("content", "")) if request.messages else ""
    if not system.startswith(AGENT_SYSTEM):
        return by_role(request)
    turns = request.messages[1 + len(DEMONSTRATION):]
    if any(m.get("role") == "assistant" for m in turns):
        return Reply(text="Done.\n```bash\nsubmit\n```")
    return Reply(text="Write it.\n```bash\necho hello > /app/greeting.txt\n```")


def cli(*argv: str) -> None:
    done = subprocess.run([str(SKILLSPARK), *argv], capture_output=True, text=True, timeout=500,
                          env=os.environ | ENV)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def files(root: Path) -> list[str]:
    """What a run wrote, by name; Harbor's trial folders (named with random suffixes) by depth only."""
    names = set()
    for path in root.rglob("*"):
        parts = path.relative_to(root).parts
        if "jobs" in parts or "trials" in parts:
            cut = parts.index("jobs" if "jobs" in parts else "trials")
            parts = (*parts[:cut + 1], "*") if len(parts) > cut + 1 else parts
        names.add("/".join(parts))
    return sorted(names)


def explored(out: Path) -> dict:
    state = json.loads((out / "hello-greeting" / "attempts.json").read_text())
    kinds = [json.loads(line)["type"] for line in (out / "hello-greeting" / "trajectory.jsonl").read_text().splitlines()]
    return {"state": state["state"], "statuses": [a["status"] for a in state["attempts"]],
            "rewards": [a["reward"] for a in state["attempts"]], "records": kinds,
            "skill": (out / "hello-greeting" / "SKILL.md").read_text()}


def evaluated(out: Path) -> dict:
    summary = json.loads((out / "summary.json").read_text())
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    fingerprint = json.loads((out / "eval.json").read_text())["fingerprint"]
    return {"arms": sorted((a["condition"], a["n_trials"], a["pass_rate"]) for a in summary["arms"]),
            "results": sorted((r["task"], r["condition"], r["trial"], r["status"], r["reward"], r["skill_sha256"])
                              for r in results),
            "fingerprint": {k: v for k, v in fingerprint.items() if k != "conditions"}}


def test_explore_and_evaluate_through_the_api_write_what_the_cli_writes(scripted_llm, tmp_path, monkeypatch):
    from skillspark import EvalRequest, ExploreSettings, evaluate_skills, explore_skills, parse_conditions

    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    scripted_llm.responder = solver
    api, shell = tmp_path / "api", tmp_path / "cli"
    quiet = Console(file=open(os.devnull, "w"))  # noqa: SIM115 - closed with the process

    [summary] = explore_skills([TASK], ExploreSettings(model=MODEL, api_base=scripted_llm.base_url, max_retries=1,
                                                       llm_retries=0, output=api / "explore"), console=quiet)
    assert summary.state == "solved"
    cli("explore", str(TASK), "--model", MODEL, "--api-base", scripted_llm.base_url, "--max-attempts", "1",
        "--llm-retries", "0", "--output", str(shell / "explore"))
    assert files(api / "explore") == files(shell / "explore")
    assert explored(api / "explore") == explored(shell / "explore")
    assert explored(api / "explore")["statuses"] == ["PASS"]

    request = EvalRequest(models=[MODEL], api_base=scripted_llm.base_url, k=1, seed=5, output=api / "eval",
                          conditions=parse_conditions(["none", f"generated={api / 'explore'}"]))
    written = evaluate_skills([TASK], request, console=quiet)
    assert {arm["condition"] for arm in written["arms"]} == {"none", "generated"}
    cli("eval", str(TASK), "--model", MODEL, "--api-base", scripted_llm.base_url, "-k", "1", "--seed", "5",
        "--condition", "none", "--condition", f"generated={shell / 'explore'}", "--output", str(shell / "eval"))
    assert files(api / "eval") == files(shell / "eval")
    assert evaluated(api / "eval") == evaluated(shell / "eval")
    assert "report.html" in files(api / "eval") and "skills/generated/hello-greeting/hello-greeting/SKILL.md" in files(
        api / "eval")


def heavy_modules(code: str) -> str:
    probe = f"import sys, skillspark; {code}; print(sorted({{m.split('.')[0] for m in sys.modules}} & HEAVY))"
    done = subprocess.run([sys.executable, "-c", "HEAVY = {'harbor', 'torch', 'litellm', 'typer'}; " + probe],
                          capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.strip()


def test_importing_skillspark_is_light_and_the_api_loads_no_training_stack():
    assert heavy_modules("pass") == "[]"
    assert "torch" not in heavy_modules("skillspark.explore_skills, skillspark.evaluate_skills, skillspark.run_agent")


def test_an_unknown_name_is_an_attribute_error():
    import skillspark

    with pytest.raises(AttributeError, match="no attribute 'explore_task'"):
        skillspark.explore_task  # noqa: B018
    assert {"run_agent", "explore_skills", "evaluate_skills"} <= set(dir(skillspark))


def test_run_through_the_api_writes_what_the_cli_writes(tmp_path):
    from skillspark import RunConfig, RunResult, run_agent

    quiet = Console(file=open(os.devnull, "w"))  # noqa: SIM115 - closed with the process
    result = run_agent([TASK], RunConfig(agent="oracle", jobs_dir=tmp_path / "api"), console=quiet)
    assert isinstance(result, RunResult) and result.not_started == 0
    assert [(row.task, row.trials, row.mean_reward) for row in result.tasks] == [("skillspark/hello-greeting", 1, 1.0)]
    cli("run", str(TASK), "--agent", "oracle", "--output", str(tmp_path / "cli"))
    [shell] = (tmp_path / "cli").glob("run-*")
    wrote = [json.loads((folder / "summary.json").read_text()) for folder in (result.trials_dir, shell)]
    rows = [[{k: row[k] for k in ("task", "trials", "rewards", "statuses", "n_passed")} for row in w["tasks"]]
            for w in wrote]
    assert rows[0] == rows[1] == [{"task": "skillspark/hello-greeting", "trials": 1, "rewards": [1.0], "statuses": ["ok"],
                                   "n_passed": 1}]
    requests = [{k: v for k, v in w["request"].items() if k not in ("tasks", "jobs_dir")} for w in wrote]
    assert requests[0] == requests[1]
    inside = [sorted({name.partition("/")[2] for name in files(folder)}) for folder in (result.trials_dir, shell)]
    assert inside[0] == inside[1] and "result.json" in inside[0]  # in the trial folder (named at random)
