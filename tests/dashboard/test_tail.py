"""Reading growing logs: only appended bytes are read, a torn line waits, a trimmed or replaced file is read
again, an oversized line is listed not parsed, and what a huge log sends to the page stays bounded."""

from __future__ import annotations

import json
import os

from skillspark.dashboard import tail as tail_module
from skillspark.dashboard.digest import EVIDENCE_TITLES, RECORD_FIELD_MAX, clip, digest, evidence_blocks
from skillspark.dashboard.tail import JsonlTail
from skillspark.files import write_atomic
from tests.dashboard.conftest import make_client, run_id_of


def kinds(t: JsonlTail) -> list:
    return [line.digest.get("attempt") for line in t.lines]


def test_reads_only_appended_lines_and_waits_for_a_torn_one(tmp_path, monkeypatch):
    path = tmp_path / "log.jsonl"
    path.write_text('{"type": "x", "attempt": 0}\n{"type": "x", "attempt": 1}\n')
    parsed = []
    t = JsonlTail(path, lambda r: parsed.append(r["attempt"]) or r)
    t.refresh()
    assert kinds(t) == [0, 1] and t.end == path.stat().st_size
    with path.open("a") as handle:
        handle.write('{"type": "x", "attempt": 2}\n{"type": "x", "att')  # a writer mid-line
    t.refresh()
    assert kinds(t) == [0, 1, 2] and parsed == [0, 1, 2]  # nothing parsed twice, the torn line not at all
    with path.open("a") as handle:
        handle.write('empt": 3}\n')
    t.refresh()
    assert kinds(t) == [0, 1, 2, 3] and parsed == [0, 1, 2, 3]
    start, lines = t.after(t.lines[1].end)
    assert start == 2 and [line.digest["attempt"] for line in lines] == [2, 3]
    assert t.after(t.end) == (4, [])


def test_a_trimmed_or_replaced_log_is_read_again(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps({"attempt": i}) + "\n" for i in range(3)))
    t = JsonlTail(path, dict).refresh()
    write_atomic(path, json.dumps({"attempt": 0}) + "\n")  # a resume trims through a rename
    assert kinds(t.refresh()) == [0]
    path.unlink()
    assert kinds(t.refresh()) == [] and t.end == 0


def test_oversized_and_garbage_lines_are_listed_not_parsed(tmp_path, monkeypatch):
    monkeypatch.setattr(tail_module, "MAX_LINE_BYTES", 100)
    path = tmp_path / "log.jsonl"
    path.write_text('{"attempt": 0}\n' + json.dumps({"attempt": 1, "pad": "x" * 500}) + "\nnot json\n[1]\n{\"attempt\": 4}\n")
    t = JsonlTail(path, dict).refresh()
    # the long line: 23 characters before the padding, 500 of it, 2 after, and its newline = 526 bytes
    assert [line.digest for line in t.lines] == [{"attempt": 0}, {"type": "oversized", "bytes": 526},
                                                 {"type": "unreadable"}, {"type": "unreadable"}, {"attempt": 4}]


def test_record_reads_one_line_from_disk(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps({"attempt": i, "text": "y" * i}) + "\n" for i in range(4)))
    t = JsonlTail(path, lambda r: {"attempt": r["attempt"]}).refresh()
    assert t.read_record(2) == {"attempt": 2, "text": "yy"}
    assert t.read_record(4) is None and t.read_record(-1) is None


def test_clip_keeps_head_and_tail():
    text = "a" * 50 + "b" * 50
    clipped = clip(text, 40)
    assert clipped.startswith("a" * 10 + "\n[… 60 characters not shown …]\n") and clipped.endswith("b" * 30)
    assert clip("short", 40) == "short" and clip(None, 40) == "" and clip(3, 40) == "3"


def test_evidence_blocks_are_cut_at_the_six_headings():
    prompt = "Skill name: x\n\n# Evidence\n\n" + "\n\n".join(f"## {t}\nbody of {t}" for t in EVIDENCE_TITLES) + \
        "\n\n## Not A Block\nstill raw tail"
    blocks = evidence_blocks(prompt)
    assert [b["title"] for b in blocks] == list(EVIDENCE_TITLES)
    assert blocks[0]["body"] == "body of Task Pattern"
    assert blocks[-1]["body"] == "body of Raw Support Tail\n\n## Not A Block\nstill raw tail"


def test_digest_of_an_unknown_record_keeps_only_its_type():
    assert digest({"type": "custom", "attempt": 2, "secret_blob": "z" * 10}) == {"type": "custom", "attempt": 2}


def test_a_huge_log_sends_bounded_pages(tmp_path):
    run = tmp_path / "root" / "big"
    task = run / "huge-task"
    task.mkdir(parents=True)
    (run / "spend.json").write_text('{"spent_usd": 0}')
    big = "z" * (3 * 2**20)
    with (task / "trajectory.jsonl").open("w") as handle:
        for attempt in range(4):
            handle.write(json.dumps({"type": "execution_result", "attempt": attempt, "status": "FAIL", "reward": 0.0,
                                     "agent_stdout_full": big, "test_stdout_full": big, "agent_commands": big,
                                     "retry_injection": big}) + "\n")
            handle.write(json.dumps({"type": "reflect_call", "attempt": attempt, "memo_after": big, "memo_before": big,
                                     "user_prompt": big, "response": big}) + "\n")
    assert os.path.getsize(task / "trajectory.jsonl") > 90 * 2**20
    client = make_client([tmp_path / "root"])
    rid = run_id_of(client, "explore")
    detail = client.get(f"/api/runs/{rid}/tasks/huge-task")
    assert detail.status_code == 200 and len(detail.content) < 1_000_000  # out of ~100 MB on disk
    assert len(detail.json()["attempts"]) == 4
    record = client.get(f"/api/runs/{rid}/tasks/huge-task/records/0").json()
    assert len(record["agent_stdout_full"]) < RECORD_FIELD_MAX + 100
    page = client.get(f"/api/runs/{rid}/tasks", params={"limit": 1})
    assert page.json()["tasks"][0]["attempts"] == 4 and len(page.content) < 2000


def test_a_thousand_task_run_is_served_in_pages(tmp_path):
    run = tmp_path / "root" / "wide"
    run.mkdir(parents=True)
    (run / "spend.json").write_text('{"spent_usd": 0}')
    line = json.dumps({"type": "execution_result", "attempt": 0, "status": "FAIL", "reward": 0.0}) + "\n"
    for i in range(1000):
        (run / f"task-{i:04d}").mkdir()
        (run / f"task-{i:04d}" / "trajectory.jsonl").write_text(line)
    client = make_client([tmp_path / "root"])
    rid = run_id_of(client, "explore")
    first = client.get(f"/api/runs/{rid}/tasks").json()
    assert first["total"] == 1000 and len(first["tasks"]) == 200
    last = client.get(f"/api/runs/{rid}/tasks", params={"offset": 900, "limit": 200}).json()
    assert [t["task"] for t in last["tasks"]][:2] == ["task-0900", "task-0901"] and len(last["tasks"]) == 100
    assert client.get(f"/api/runs/{rid}").json()["counts"] == {"running": 1000}
