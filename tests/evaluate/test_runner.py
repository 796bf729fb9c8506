"""`skillspark eval` end to end with a scripted student in the local sandbox: arms, staging, resume."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest

from skillspark import config as _config  # noqa: F401  (offline litellm before anything imports it)
from skillspark.errors import UserError
from skillspark.evaluate.conditions import parse_conditions
from skillspark.evaluate.results import RESULTS_FILE, EvalResult, read_results
from skillspark.evaluate.runner import EvalRequest, plan_eval, run_eval
from skillspark.harbor.tasks import load_task
from tests.agents.greet_task import make_task

pytestmark = pytest.mark.timeout(600)
STUDENT = "tests.evaluate.student_agent:StudentAgent"
FIELDS = {"task", "condition", "model", "trial", "reward", "passed", "status", "tokens_in", "tokens_out",
          "cost_usd", "duration_s", "skill_sha256", "skill_read", "trial_dir", "skills_mode"}
SKILL = ("---\nname: greet\ndescription: Write the greeting file.\n---\n"
         "# Greet\n```bash\necho hello > /app/greeting.txt\n```\n")


def explore_output(root: Path) -> Path:
    """An explore run's folder for the greet task: the skill, and the answers that must never be staged."""
    folder = root / "greet"
    (folder / "memos").mkdir(parents=True)
    (folder / "scripts").mkdir()
    (folder / "jobs" / "trial-1" / "verifier").mkdir(parents=True)
    (folder / "SKILL.md").write_text(SKILL)
    (folder / "scripts" / "greet.sh").write_text("echo hello > /app/greeting.txt\n")
    (folder / "scripts" / "leak.txt").symlink_to(folder / "attempts.json")
    (folder / "trajectory.jsonl").write_text('{"type": "execution_result"}\n')
    (folder / "attempts.json").write_text('{"task_name": "greet", "max_retries": 3}')
    (folder / "memos" / "memo_v0.md").write_text("answer: hello\n")
    (folder / "jobs" / "trial-1" / "verifier" / "reward.txt").write_text("1\n")
    (root / "spend.json").write_text('{"spent_usd": 0.5}')
    return root


def request(tmp_path: Path, runs: Path, **update) -> EvalRequest:
    fields = {"models": ["scripted/student"], "agent": STUDENT, "k": 2, "output": tmp_path / "out", "seed": 7,
              "conditions": parse_conditions(["none", f"generated={runs}"]), "parallelism": 2}
    return EvalRequest(**(fields | update))


def run(req: EvalRequest, tasks: list[Path]) -> list[EvalResult]:
    plan = plan_eval(req, [load_task(t) for t in tasks])
    return asyncio.run(run_eval(req, plan))


@pytest.fixture
def setup(tmp_path):
    task = make_task(tmp_path / "tasks")
    return task, explore_output(tmp_path / "runs")


def test_generated_skill_helps_and_only_its_files_are_staged(tmp_path, setup):
    task, runs = setup
    req = request(tmp_path, runs)
    results = run(req, [task])

    by_arm = {c: [r for r in results if r.condition == c] for c in ("none", "generated")}
    assert [r.passed for r in by_arm["none"]] == [False, False]
    assert [r.status for r in by_arm["none"]] == ["fail", "fail"]
    assert [r.passed for r in by_arm["generated"]] == [True, True]
    assert {r.skill_read for r in by_arm["none"]} == {False}
    assert {r.skill_read for r in by_arm["generated"]} == {True}
    assert by_arm["none"][0].skill_sha256 is None and by_arm["generated"][0].skill_sha256
    lines = (req.output / RESULTS_FILE).read_text().splitlines()
    assert len(lines) == 4 and set(json.loads(lines[0])) == FIELDS

    staged = req.output / "skills" / "generated" / "greet"
    files = sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file())
    assert files == ["greet/SKILL.md", "greet/scripts/greet.sh"]
    config = json.loads((req.output / "eval.json").read_text())
    assert config["conditions"][1]["teacher_cost_usd"] == 0.5
    assert config["fingerprint"]["skills"]["generated/greet"] == by_arm["generated"][0].skill_sha256


def test_resume_repeats_and_loses_nothing(tmp_path, setup):
    task, runs = setup
    req = request(tmp_path, runs)
    first = run(req, [task])
    path = req.output / RESULTS_FILE
    kept = path.read_text().splitlines()[:2]
    path.write_text("\n".join(kept) + '\n{"task": "greet", "condit')  # a kill mid-write after two trials

    resumed = run(req.model_copy(update={"resume": True}), [task])

    assert len(resumed) == 2
    keys = [r.key for r in read_results(req.output)]
    assert len(keys) == len(set(keys)) == 4 == len(first)
    assert {r.key for r in resumed}.isdisjoint({EvalResult.model_validate_json(line).key for line in kept})


def test_changed_skill_or_existing_output_is_refused(tmp_path, setup):
    task, runs = setup
    req = request(tmp_path, runs, k=1)
    run(req, [task])
    with pytest.raises(UserError, match="already holds an eval; pass --resume"):
        plan_eval(req, [load_task(task)])
    (runs / "greet" / "SKILL.md").write_text(SKILL + "\nMore text.\n")
    with pytest.raises(UserError) as refused:
        plan_eval(req.model_copy(update={"resume": True}), [load_task(task)])
    assert "configuration changed since the first run (skills generated/greet" in str(refused.value)
    assert "\n" not in str(refused.value)
    assert (req.output / "skills" / "generated" / "greet" / "greet" / "SKILL.md").read_text() == SKILL  # untouched


def test_build_failure_is_retried_then_recorded_as_infra_error_and_the_rest_goes_on(tmp_path, setup):
    task, runs = setup
    broken = make_task(tmp_path / "tasks", "broken", dockerfile_extra="RUN exit 3\n")
    req = request(tmp_path, runs, k=1, infra_retries=1, conditions=parse_conditions(["none"]))
    results = {r.task: r for r in run(req, [task, broken])}

    assert results["broken"].status == "infra_error" and results["broken"].passed is False
    assert results["greet"].status == "fail"  # the student gives up without a skill; the eval went on
    broken_trials = [d for d in (req.output / "trials").iterdir() if d.name.startswith("broken")]
    assert len(broken_trials) == 2  # the first try and one retry


def test_tokens_cost_and_max_cost_stop(tmp_path, setup):
    task, runs = setup
    req = request(tmp_path, runs, k=3, parallelism=1, max_cost_usd=0.025)
    results = run(req, [task])

    assert len(results) == 3  # $0.01 each: the fourth would start past the $0.025 budget
    assert {(r.tokens_in, r.tokens_out, r.cost_usd) for r in results} == {(100, 20, 0.01)}
    resumed = run(req.model_copy(update={"resume": True}), [task])
    assert resumed == []  # what the first run spent counts against the same budget
    more = run(req.model_copy(update={"resume": True, "max_cost_usd": 1.0}), [task])
    assert len(more) == 3 and len(read_results(req.output)) == 6


def test_every_arm_gets_the_same_agent_and_knobs_but_its_skills(tmp_path):
    from skillspark.evaluate.runner import agent_spec

    req = EvalRequest(models=["openai/gpt-4o-mini"], conditions=parse_conditions(["none", "placebo"]),
                      output=tmp_path / "out", max_steps=7, command_timeout_s=9.0)
    none = agent_spec(req, "openai/gpt-4o-mini", None, "http://127.0.0.1:9/v1", 1.0)
    placebo = agent_spec(req, "openai/gpt-4o-mini", tmp_path / "staged", "http://127.0.0.1:9/v1", 1.0)
    assert placebo.kwargs.pop("skills_dir") == str((tmp_path / "staged").resolve())
    assert none == placebo and none.kwargs["max_steps"] == 7 and none.kwargs["command_timeout_s"] == 9.0
    student = agent_spec(req.model_copy(update={"agent": STUDENT}), "m", tmp_path / "staged", None, None)
    assert student.import_path == STUDENT and student.kwargs == {"skills_dir": str((tmp_path / "staged").resolve())}


def test_a_harbor_agent_by_name_is_refused_for_skill_arms(tmp_path):
    req = EvalRequest(models=["m"], conditions=parse_conditions(["none", "placebo"]), output=tmp_path / "out",
                      agent="nop")
    with pytest.raises(UserError, match="--agent nop with --condition placebo"):
        plan_eval(req, [])


@pytest.mark.slow
def test_real_eval_with_the_embedded_model(tmp_path):
    """k = 2, two example tasks, none vs placebo, through the real SmolLM2 server: every trial is scored."""
    from rich.console import Console

    from skillspark.evaluate.service import write_outputs

    examples = Path(__file__).resolve().parents[2] / "examples" / "tasks"
    req = EvalRequest(models=["local/smollm2"], conditions=parse_conditions(["none", "placebo"]), k=2,
                      output=tmp_path / "out", max_steps=3, command_timeout_s=20, parallelism=2)
    results = run(req, [examples / "hello-greeting", examples / "word-frequency-pipeline"])

    assert len(results) == 8 and {r.status for r in results} <= {"pass", "fail", "error"}
    assert all(r.tokens_out > 0 for r in results)
    assert {r.skill_sha256 is None for r in results if r.condition == "none"} == {True}
    assert len({r.skill_sha256 for r in results if r.condition == "placebo"}) == 1
    write_outputs(req.output, console=Console(file=io.StringIO()))
    summary = json.loads((req.output / "summary.json").read_text())
    assert {a["condition"]: a["n_trials"] for a in summary["arms"]} == {"none": 4, "placebo": 4}


def test_trial_order_is_seeded_and_interleaves_the_arms(tmp_path, setup):
    task, runs = setup
    other = make_task(tmp_path / "tasks", "greet-b")
    tasks = [load_task(task), load_task(other)]
    orders = [[u.key for u in plan_eval(request(tmp_path, runs, k=5, seed=s), tasks).units] for s in (1, 1, 2)]

    assert orders[0] == orders[1] != orders[2]
    assert sorted(orders[0]) == sorted(orders[2]) and len(orders[0]) == (2 + 1) * 5  # greet-b: none only
    arms = [key[1] for key in orders[0]]
    assert arms[:10].count("none") not in (0, 10)  # not one arm after the other
    plan = plan_eval(request(tmp_path, runs, k=5, seed=1), tasks)
    assert plan.missing == {"generated": ["greet-b"]}  # explore made no skill for it: reported, not run
    assert {u.task for u in plan.units if u.condition == "generated"} == {"greet"}


def test_a_harbor_agent_by_name_runs_the_none_arm(tmp_path, setup):
    task, runs = setup
    req = request(tmp_path, runs, agent="oracle", k=1, models=["no-model"], conditions=parse_conditions(["none"]))
    [result] = run(req, [task])
    assert (result.status, result.passed, result.skill_read, result.skill_sha256) == ("pass", True, False, None)
