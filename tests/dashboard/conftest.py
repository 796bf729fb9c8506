"""Fixture runs for the dashboard: a copy of the golden SPARK logs, an explore run written by the real loop
(scripted models, fake Harbor trial dirs), an eval run written by the eval's own writers, and servers."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from skillspark.dashboard.app import create_app
from skillspark.dashboard.security import Policy, allowed_hosts
from skillspark.evaluate.results import EvalResult, append_result, write_config
from skillspark.explore.loop import TaskExplorer
from skillspark.explore.settings import ExploreSettings
from skillspark.llm.client import LLMClient
from tests.explore.test_loop import MEMOS, SKILL, ScriptedRunner

GOLDEN = Path(__file__).resolve().parents[3] / "shared" / "data" / "spark-trajectories"
if not GOLDEN.is_dir():
    GOLDEN = Path("/work/shared/data/spark-trajectories")
XSS = "<img src=x onerror=alert(1)>"
TOKEN = "test-token-0123456789abcdef"
BASE = "http://127.0.0.1:8765"
AUTH_HEADER = {"Authorization": f"Bearer {TOKEN}"}


def copy_tree(source: Path, target: Path) -> Path:
    """A writable copy (the golden files are read-only)."""
    shutil.copytree(source, target, copy_function=shutil.copyfile)
    return target


def spark_run(target: Path) -> Path:
    """The golden SPARK logs, plus a copy of one task under a folder named like an XSS payload."""
    copy_tree(GOLDEN, target)
    copy_tree(target / "find-topk-similiar-chemicals", target / XSS)
    return target


class TrialWritingRunner(ScriptedRunner):
    """ScriptedRunner whose attempts leave a Harbor-shaped trial dir (result.json, ATIF, verifier output)."""

    async def run(self, task_dir, *, attempt, extra_prompt, jobs_dir, **_):
        outcome = await super().run(task_dir, attempt=attempt, extra_prompt=extra_prompt, jobs_dir=jobs_dir)
        trial = jobs_dir / f"attempt-{attempt}-abc123"
        write_trial(trial, reward=outcome.reward or 0.0, commands=outcome.commands)
        return outcome.model_copy(update={"trial_dir": str(trial)})


def write_trial(trial: Path, *, reward: float, commands: list[str]) -> Path:
    (trial / "agent").mkdir(parents=True)
    (trial / "verifier").mkdir()
    (trial / "result.json").write_text(json.dumps({
        "task_name": "sum-task", "verifier_result": {"rewards": {"reward": reward}}, "exception_info": None}))
    steps = [{"step_id": 1, "source": "user", "message": "Sum the column."}] + [
        {"step_id": i + 2, "source": "agent", "message": f"run {c}",
         "tool_calls": [{"function_name": "bash", "arguments": {"command": c}}],
         "observation": {"results": [{"content": f"output of {c}"}]}} for i, c in enumerate(commands)]
    (trial / "agent" / "trajectory.json").write_text(json.dumps({"schema_version": "ATIF-v1.4", "steps": steps}))
    (trial / "verifier" / "test-stdout.txt").write_text("PASSED test_total" if reward >= 1 else "FAILED test_total")
    return trial


def make_task(root: Path) -> Path:
    task = root / "sum-task"
    (task / "tests").mkdir(parents=True)
    (task / "tests" / "test_outputs.py").write_text(
        "EXPECTED_TOTAL = 1234.5\n\ndef test_total():\n    assert read_total('/app/out.txt') == EXPECTED_TOTAL\n")
    (task / "environment").mkdir()
    (task / "environment" / "Dockerfile").write_text("FROM python:3.12-slim\nRUN pip install pandas\nWORKDIR /app\n")
    return task


async def explore_run(output: Path, server, *, pass_at: int = 3, runner: ScriptedRunner | None = None,
                      resume: bool = False, max_retries: int = 4) -> TaskExplorer:
    """Run the real loop on one task with scripted memos and skill: solved at attempt `pass_at` + 1."""
    if not resume:
        for text in MEMOS[:pass_at]:
            server.push(text)
        server.push(SKILL)
    task = make_task(output.parent / "tasks") if not (output.parent / "tasks" / "sum-task").exists() \
        else output.parent / "tasks" / "sum-task"
    settings = ExploreSettings(model=server.model, api_base=server.base_url, output=output, max_retries=max_retries,
                               resume=resume)
    client = LLMClient(server.model, api_base=server.base_url, max_retries=0)
    explorer = TaskExplorer(task, "sum-task", "Sum the 'amount' column of /app/data.csv into /app/out.txt.",
                            settings, runner or TrialWritingRunner(pass_at=pass_at), client, client)
    await explorer.run()
    return explorer


def eval_run(output: Path, explore_dir: Path) -> Path:
    """An eval of 2 tasks × 2 arms × k = 2 through the eval's own writers (hand-chosen passes)."""
    passes = {("sum-task", "none"): [False, False], ("sum-task", "generated"): [True, True],
              ("other-task", "none"): [True, False], ("other-task", "generated"): [True, True]}
    write_config(output, {
        "fingerprint": {"k": 2, "seed": 0, "models": ["local/smollm2"]},
        "tasks": [{"task": "sum-task"}, {"task": "other-task"}],
        "conditions": [{"label": "none", "kind": "none", "source": None},
                       {"label": "generated", "kind": "generated", "source": str(explore_dir)}],
        "missing_skills": {}, "total_trials": 8, "updated": "now",
    })
    for (task, condition), outcomes in passes.items():
        for trial, passed in enumerate(outcomes):
            folder = write_trial(output / "trials" / f"{task}-{condition}-{trial}", reward=float(passed),
                                 commands=[f"echo {condition}"])
            append_result(output, EvalResult(
                task=task, condition=condition, model="local/smollm2", trial=trial, reward=float(passed),
                passed=passed, status="pass" if passed else "fail", tokens_in=10, tokens_out=5, cost_usd=0.001,
                duration_s=1.0, skill_sha256=None, skill_read=condition == "generated", trial_dir=str(folder)))
    return output


@pytest.fixture
async def runs_root(tmp_path, scripted_llm) -> Path:
    """A served folder with a SPARK run, an explore run and an eval run."""
    root = tmp_path / "runs"
    spark_run(root / "spark")
    await explore_run(root / "explore", scripted_llm)
    eval_run(root / "eval", root / "explore")
    return root


def make_client(roots: list[Path], *, client_host: str = "127.0.0.1", token_configured: bool = False,
                allow_launch: bool = False, host: str = "127.0.0.1") -> TestClient:
    policy = Policy(TOKEN, allowed_hosts(host, []), token_configured=token_configured)
    app = create_app(roots, policy=policy, allow_launch=allow_launch)
    return TestClient(app, base_url=BASE, client=(client_host, 50000))


def run_id_of(client: TestClient, kind: str) -> str:
    return next(r["id"] for r in client.get("/api/runs").json() if r["kind"] == kind)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def serve() -> Iterator:
    """serve(roots, **create_app kwargs) → base URL of a real uvicorn server on loopback (stopped afterwards)."""
    import uvicorn

    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(roots: list[Path], **kwargs) -> str:
        port = free_port()
        policy = Policy(TOKEN, allowed_hosts("127.0.0.1", []), token_configured=False)
        app = create_app(roots, policy=policy, **kwargs)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)
