"""Replay of logged runs: the SPARK golden logs must match completely; log shapes and bad records."""

import json

import pytest

from skillspark.pdi.log import RecordError
from skillspark.pdi.replay import COMPARED, replay

from .helpers import execution, memo, reflect, snapshot
from .scenarios import CORNERS_AS_SPARK, CORNERS_GUARDED, CORNERS_LOG, FLIP_EXPECTED, FLIP_LOG


def records_of(path):
    with path.open(encoding="utf-8") as handle:
        yield from ((n, json.loads(line)) for n, line in enumerate(handle, 1) if line.strip())


def assert_rows(rows, expected):
    """Each replayed snapshot equals its hand-computed values, and matches the logged one."""
    assert [(r.snapshot.attempt, r.snapshot.step) for r in rows] == [(e.attempt, e.step) for e in expected]
    for r, e in zip(rows, expected, strict=True):
        s = r.snapshot
        got = (s.proxy_exec, s.proxy_plan, s.proxy_oss, s.raw_pdi, s.weight, s.weighted_pdi)
        assert got == pytest.approx((e.exec_, e.plan, e.oss, e.raw, e.weight, e.weight * e.raw), abs=1e-5), e
        assert (s.triggered, s.level) == (e.level is not None, e.level)


@pytest.mark.parametrize(
    ("task", "n_snapshots", "attempts"),
    [
        ("find-topk-similiar-chemicals", 3, [0, 1, 2]),
        # attempts 1 (INFRA_ERROR) and 3 (ERROR, timeout) were never reflected on: no proxy step
        ("quantum-numerical-simulation", 8, [0, 2, 4, 5, 6, 7, 8, 9]),
    ],
)
def test_golden_logs_match_completely(golden_dir, task, n_snapshots, attempts):
    rows = list(replay(records_of(golden_dir / task / "trajectory.jsonl")))
    assert [r.snapshot.attempt for r in rows] == attempts
    assert [r.snapshot.step for r in rows] == list(range(n_snapshots))
    assert all(r.logged is not None for r in rows)
    for r in rows:
        worst = max(abs(getattr(r.snapshot, k) - getattr(r.logged, k)) for k in COMPARED)
        assert worst <= 1e-3, (task, r.snapshot.step, worst)
        assert (r.snapshot.triggered, r.snapshot.level) == (r.logged.triggered, r.logged.level)
        assert r.snapshot.step == r.logged.step
    assert all(r.matched for r in rows)


def test_golden_quantum_error_memos_score_like_the_original(golden_dir):
    rows = list(replay(records_of(golden_dir / "quantum-numerical-simulation" / "trajectory.jsonl")))
    # from attempt 6 on the "memo" is an error string: no facts, no strategy, same 7 failed tests
    tail = rows[4:]
    assert all((r.snapshot.proxy_exec, r.snapshot.proxy_plan) == (0.0, 0.0) for r in tail)
    assert all(r.snapshot.proxy_oss == pytest.approx(0.5) for r in tail)


def test_js_method_does_not_reproduce_a_token_overlap_log(golden_dir):
    rows = list(replay(records_of(golden_dir / "find-topk-similiar-chemicals" / "trajectory.jsonl"), "js_divergence"))
    assert [r.matched for r in rows] == [False, False, False]


M0, M1 = memo("alpha beta gamma delta", "run tests"), memo("alpha beta gamma epsilon", "run tests again", 2)


def test_flip_fixture_by_hand():
    rows = list(replay(enumerate(FLIP_LOG, 1)))
    assert_rows(rows, FLIP_EXPECTED)
    assert all(r.matched for r in rows)


def test_flip_fixture_resumed_after_ctrl_c_is_one_run():
    # skillspark writes a cancelled task_summary on Ctrl-C; --resume goes on in the same log
    cut = next(i for i, r in enumerate(FLIP_LOG) if r["type"] == "execution_result" and r["attempt"] == 3)
    log = [*FLIP_LOG[:cut], {"type": "task_summary", "task_name": "flip", "state": "cancelled"}, *FLIP_LOG[cut:]]
    assert_rows(list(replay(enumerate(log, 1))), FLIP_EXPECTED)


def test_flip_fixture_restarted_from_attempt_0_starts_a_fresh_tracker():
    # a run killed after attempt 1 (no task_summary), then the task run again from attempt 0 in the same
    # file, as SPARK does on --resume: the second run must not inherit the first one's values
    cut = next(i for i, r in enumerate(FLIP_LOG) if r["type"] == "execution_result" and r["attempt"] == 2)
    rows = list(replay(enumerate([*FLIP_LOG[:cut], *FLIP_LOG], 1)))
    assert_rows(rows[:2], FLIP_EXPECTED[:2])
    assert_rows(rows[2:], FLIP_EXPECTED)


def test_spark_stub_memo_and_empty_reply_as_spark_wrote_them():
    rows = list(replay(enumerate(CORNERS_LOG, 1)))
    assert_rows(rows, CORNERS_AS_SPARK)
    assert all(r.matched for r in rows)


def test_memo_guard_on_a_spark_log_drops_the_empty_memo():
    rows = list(replay(enumerate(CORNERS_LOG, 1), memo_guard=True))
    assert_rows([r for r in rows if r.snapshot], CORNERS_GUARDED)
    # attempt 2's logged snapshot has no step any more; attempt 3's differs
    assert [(r.logged.attempt, r.matched) for r in rows] == [(1, True), (3, False), (2, False)]


SK0, SK1 = memo("alpha beta", "plan one"), memo("alpha gamma", "plan two", 2)
OURS = [  # a skillspark log: attempt 1's rewrite failed (ok false) and SK0 was kept
    execution(0, "alpha", ["t1"]), reflect(0, "", SK0, ok=True),
    execution(1, "beta", ["t1"]), reflect(1, SK0, SK0, ok=False, response="[LLM ERROR] 502"),
    execution(2, "gamma", ["t2"]), reflect(2, SK0, SK1, ok=True),
]  # fmt: skip


def test_our_failed_rewrite_is_no_step_by_default():
    a0, a2 = (r.snapshot for r in replay(enumerate(OURS, 1)))
    # attempt 2, k = 1: exec = cov({gamma} → {alpha,gamma}) = 1/2; plan = J({plan,one}, {plan,two}) = 1/3;
    # oss = ½·J({alpha,beta}, {alpha,gamma}) + ½·J({t1} of attempt 1, {t2}) = ½·1/3 = 1/6
    assert (a0.attempt, a2.attempt, a2.step) == (0, 2, 1)
    assert (a2.proxy_exec, a2.proxy_plan, a2.proxy_oss) == pytest.approx((0.5, 1 / 3, 1 / 6))


def test_our_failed_rewrite_without_the_guard_takes_the_reply_as_memo():
    a0, a1, a2 = (r.snapshot for r in replay(enumerate(OURS, 1), memo_guard=False))
    # attempt 1: the reply "[LLM ERROR] 502" becomes the memo: no facts, no strategy
    # exec = 0; plan = J({plan,one}, ∅) = 0; oss = ½·J({alpha,beta}, ∅) + ½·J({t1}, {t1}) = 0.5
    assert (a1.step, a1.proxy_exec, a1.proxy_plan, a1.proxy_oss) == (1, 0.0, 0.0, 0.5)
    # attempt 2 replaces that reply: k = 2; exec = 1/2; plan = J(∅, {plan,two}) = 0;
    # oss = ½·J(∅, {alpha,gamma}) + ½·J({t1}, {t2}) = 0
    assert (a2.step, a2.proxy_exec, a2.proxy_plan, a2.proxy_oss) == (2, 0.5, 0.0, 0.0)


def test_snapshot_logged_after_its_reflect_call_is_attached():
    snap = {"type": "pdi_snapshot", "attempt": 1, "step": 1, "proxy_exec": 0.0, "proxy_plan": 2 / 3,
            "proxy_oss": 0.3, "raw_pdi": -3.0, "weight": 0.5, "weighted_pdi": -1.5, "triggered": True, "level": "soft"}  # fmt: skip
    recs = [execution(0, "alpha beta echo"), reflect(0, "", M0), execution(1, "zeta"), reflect(1, M0, M1), snap]
    rows = list(replay(enumerate(recs, 1)))
    assert [r.logged is None for r in rows] == [True, False]
    assert rows[1].matched is True and rows[0].matched is None


def test_logged_snapshot_without_a_step_is_an_unmatched_row():
    recs = [execution(0, "ls", status="INFRA_ERROR"), snapshot(0, 0, 0, 0, 0, 0, 0, None),
            {"type": "task_summary", "task_name": "a"}]  # fmt: skip
    (row,) = replay(enumerate(recs, 1))
    assert row.snapshot is None and row.logged.attempt == 0 and row.matched is False


def test_task_summary_starts_a_fresh_tracker():
    one = [execution(0, "alpha beta echo"), reflect(0, "", M0), execution(1, "zeta"), reflect(1, M0, M1)]
    recs = [*one, {"type": "task_summary", "task_name": "a"}, *one]
    rows = list(replay(enumerate(recs, 1)))
    assert [r.snapshot.step for r in rows] == [0, 1, 0, 1]
    assert rows[3].snapshot == rows[1].snapshot


def test_pass_attempt_and_unknown_types_are_no_steps():
    recs = [execution(0, "ls"), reflect(0, "", M0), execution(1, "ls", status="PASS"), {"type": "skill_gen_call"}]
    assert len(list(replay(enumerate(recs, 1)))) == 1


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([reflect(0, "", M0)], "line 1: reflect_call for attempt 0 has no execution_result before it"),
        ([execution(0, "ls"), execution(1, "ls"), reflect(0, "", M0)], "line 3: reflect_call for attempt 0"),
        (
            [execution(0, "ls"), {"type": "reflect_call", "attempt": 0}],
            "line 2: reflect_call record: field 'memo_after'",
        ),
        ([["not", "a", "record"]], "line 1: not a trajectory record"),
        ([{"type": "execution_result", "attempt": "zero"}], "line 1: execution_result record: field 'attempt'"),
    ],
)
def test_bad_records_name_their_line(records, message):
    with pytest.raises(RecordError) as err:
        list(replay(enumerate(records, 1)))
    assert str(err.value).startswith(message)
