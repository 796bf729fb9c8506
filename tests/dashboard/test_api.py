"""The read API over fixture runs: runs, task rows (paged, sorted, filtered), task pages, records, trials,
eval grid and statistics, skills. Expected values are read off the fixtures by hand."""

from __future__ import annotations

import json

from tests.dashboard.conftest import XSS, make_client, run_id_of


async def test_runs_lists_each_kind_with_status_and_counts(runs_root):
    client = make_client([runs_root])
    runs = {r["kind"]: r for r in client.get("/api/runs").json()}
    assert set(runs) == {"explore", "spark", "eval"}
    assert runs["spark"]["tasks"] == 3 and runs["spark"]["status"] == "finished"
    assert runs["spark"]["counts"] == {"exhausted": 3}
    assert runs["explore"]["tasks"] == 1 and runs["explore"]["counts"] == {"solved": 1}
    assert runs["explore"]["skills"] == 1 and runs["explore"]["cost_usd"] == 0.0
    assert runs["eval"]["trials_done"] == 8 and runs["eval"]["trials_total"] == 8
    assert runs["eval"]["status"] == "finished"
    assert runs["eval"]["cost_usd"] == 0.008
    one = client.get(f"/api/runs/{runs['spark']['id']}").json()
    assert one["path"] == str(runs_root / "spark")
    assert client.get("/api/runs/nope-000000").status_code == 404


async def test_spark_rows_match_the_golden_logs(runs_root):
    client = make_client([runs_root])
    rid = run_id_of(client, "spark")
    page = client.get(f"/api/runs/{rid}/tasks").json()
    rows = {t["task"]: t for t in page["tasks"]}
    assert page["total"] == 3 and set(rows) == {"find-topk-similiar-chemicals", "quantum-numerical-simulation", XSS}
    quantum = rows["quantum-numerical-simulation"]
    assert quantum["attempts"] == 10 and quantum["max_attempts"] == 10 and quantum["status"] == "exhausted"
    assert quantum["statuses"][:3] == ["FAIL", "INFRA_ERROR", "ERROR"] and quantum["reward"] == 0.0
    assert quantum["pdi_snapshots"] == 8 and quantum["pdi_level"] == "strong" and quantum["skill"] is False
    topk = rows["find-topk-similiar-chemicals"]
    assert topk["attempts"] == 3 and topk["pdi_snapshots"] == 3 and topk["max_attempts"] == 10


async def test_rows_page_sort_and_filter(runs_root):
    client = make_client([runs_root])
    rid = run_id_of(client, "spark")
    url = f"/api/runs/{rid}/tasks"
    by_attempts = client.get(url, params={"sort": "attempts", "order": "desc"}).json()["tasks"]
    assert [t["attempts"] for t in by_attempts] == [10, 3, 3]
    second = client.get(url, params={"offset": 1, "limit": 1}).json()
    assert second["total"] == 3 and [t["task"] for t in second["tasks"]] == ["find-topk-similiar-chemicals"]
    assert [t["task"] for t in client.get(url, params={"q": "QUANTUM"}).json()["tasks"]] == ["quantum-numerical-simulation"]
    assert client.get(url, params={"status": "solved"}).json()["total"] == 0
    assert client.get(url, params={"sort": "nonsense"}).status_code == 422
    assert client.get(url, params={"limit": 5000}).status_code == 422


async def test_explore_task_page_has_attempts_memos_snapshots_interventions_evidence_skill(runs_root):
    client = make_client([runs_root])
    rid = run_id_of(client, "explore")
    detail = client.get(f"/api/runs/{rid}/tasks/sum-task").json()
    assert [a["status"] for a in detail["attempts"]] == ["FAIL", "FAIL", "FAIL", "PASS"]
    assert detail["attempts"][3]["reward"] == 1.0 and detail["attempts"][0]["commands"] == "python3 solve.py"
    assert detail["attempts"][0]["trial"] == "sum-task/jobs/attempt-0-abc123"
    assert [s["level"] for s in detail["snapshots"]] == [None, "soft", "strong"]
    assert detail["snapshots"][1]["weighted_pdi"] == -1.5  # the loop's own hand-checked value
    assert [m["version"] for m in detail["memos"]] == [1, 2, 3]
    assert "alpha beta gamma delta" in detail["memos"][2]["text"]
    assert [(i["attempt"], i["level"]) for i in detail["interventions"]] == [(2, "soft"), (3, "strong")]
    assert "Change course" in detail["interventions"][1]["text"]
    assert [b["title"] for b in detail["evidence"]] == ["Task Pattern", "Execution Chain", "Verification",
                                                        "Lessons", "Environment", "Raw Support Tail"]
    assert detail["skill"]["text"].startswith("---\nname: sum-task") and detail["skill"]["problems"] == []
    # one skill alone in its run: z-scores are 0, and it still gets its φ values and a quadrant
    assert detail["skill"]["pdi"]["task"] == "sum-task" and detail["skill"]["pdi"]["quadrant"]
    assert detail["row"]["status"] == "solved" and detail["summary"]["state"] == "solved"
    offset, _, mtime = detail["cursor"].partition(":")
    assert int(offset) == (runs_root / "explore" / "sum-task" / "trajectory.jsonl").stat().st_size and int(mtime) > 0


async def test_record_endpoint_returns_the_whole_record(runs_root):
    client = make_client([runs_root])
    rid = run_id_of(client, "spark")
    lines = (runs_root / "spark" / "quantum-numerical-simulation" / "trajectory.jsonl").read_text().splitlines()
    record = client.get(f"/api/runs/{rid}/tasks/quantum-numerical-simulation/records/2").json()
    assert record == json.loads(lines[2])
    assert client.get(f"/api/runs/{rid}/tasks/quantum-numerical-simulation/records/{len(lines)}").status_code == 404


async def test_trial_page_reads_result_steps_and_verifier(runs_root):
    client = make_client([runs_root])
    rid = run_id_of(client, "explore")
    trial = client.get(f"/api/runs/{rid}/trials/sum-task/jobs/attempt-3-abc123").json()
    assert trial["rewards"] == {"reward": 1.0} and trial["task_name"] == "sum-task"
    assert trial["steps_total"] == 3 and trial["steps"][1]["tool_calls"][0]["arguments"]["command"] == "cat data.csv"
    assert trial["verifier_stdout"] == "PASSED test_total"
    paged = client.get(f"/api/runs/{rid}/trials/sum-task/jobs/attempt-3-abc123", params={"offset": 2, "limit": 1}).json()
    assert [s["step_id"] for s in paged["steps"]] == [3]
    assert client.get(f"/api/runs/{rid}/trials/sum-task/jobs/missing").status_code == 404


async def test_eval_view_grid_and_statistics(runs_root):
    client = make_client([runs_root])
    rid = run_id_of(client, "eval")
    view = client.get(f"/api/runs/{rid}/eval").json()
    assert view["arms"] == [{"model": "local/smollm2", "condition": "none"},
                            {"model": "local/smollm2", "condition": "generated"}]
    cells = {g["task"]: [(c["passes"], c["trials"]) for c in g["cells"]] for g in view["grid"]}
    assert cells == {"other-task": [(1, 2), (2, 2)], "sum-task": [(0, 2), (2, 2)]}
    arms = {a["condition"]: a for a in view["summary"]["arms"]}
    assert arms["none"]["pass_rate"] == 0.25 and arms["generated"]["pass_rate"] == 1.0  # (0.5 + 0) / 2, (1 + 1) / 2
    assert abs(arms["none"]["wilson95"][0] - 0.0456) < 1e-3  # Wilson(1, 4) lower bound
    comparison = view["summary"]["comparisons"][0]
    assert comparison["delta"] == 0.75 and comparison["improved"] == 2  # mean of (1 − 0.5, 1 − 0)
    run = client.get(f"/api/runs/{rid}/eval").json()["grid"][1]["cells"][1]["runs"][0]
    assert run["trial_path"] == "trials/sum-task-generated-0"
    assert client.get(f"/api/runs/{rid}/trials/{run['trial_path']}").json()["rewards"] == {"reward": 1.0}
    assert client.get(f"/api/runs/{run_id_of(client, 'spark')}/eval").status_code == 404
    tasks = client.get(f"/api/runs/{rid}/tasks").json()
    assert tasks["total"] == 2


async def test_skills_lists_validation_pdi_and_eval_use(runs_root):
    client = make_client([runs_root])
    skills = client.get("/api/skills").json()
    assert len(skills) == 1
    skill = skills[0]
    assert skill["name"] == "sum-task" and skill["task"] == "sum-task" and skill["problems"] == []
    assert skill["description"].startswith("Sum numbers from a CSV") and skill["pdi"]["task"] == "sum-task"
    assert {(u["condition"], u["passes"], u["trials"]) for u in skill["evals"]} == {("none", 0, 2), ("generated", 2, 2)}


async def test_static_page_and_info(runs_root):
    client = make_client([runs_root])
    page = client.get("/")
    assert page.status_code == 200 and '<script src="/static/app.js" defer></script>' in page.text
    assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/api/info").json() == {"allow_launch": False, "roots": [str(runs_root)]}


def test_a_harbor_job_folder_lists_its_trials(tmp_path):
    from tests.dashboard.conftest import write_trial

    job = tmp_path / "root" / "jobs" / "run-20261202-080000-000000"
    write_trial(job / "hello__a1", reward=1.0, commands=["echo hello"])
    write_trial(job / "hello__b2", reward=0.0, commands=["echo nope"])
    (job / "summary.json").write_text("{}")
    client = make_client([tmp_path / "root"])
    runs = client.get("/api/runs").json()
    assert [(r["kind"], r["tasks"], r["counts"], r["cost_usd"]) for r in runs] == [("harbor", 2, {"pass": 1, "fail": 1}, None)]
    rid = runs[0]["id"]
    rows = client.get(f"/api/runs/{rid}/tasks", params={"sort": "reward", "order": "desc"}).json()["tasks"]
    assert [(t["task"], t["status"], t["reward"], t["task_name"]) for t in rows] == [
        ("hello__a1", "pass", 1.0, "sum-task"), ("hello__b2", "fail", 0.0, "sum-task")]
    assert client.get(f"/api/runs/{rid}/trials/hello__b2").json()["verifier_stdout"] == "FAILED test_total"
    assert client.get(f"/api/runs/{rid}/tasks/hello__a1").status_code == 404  # no explore task pages
