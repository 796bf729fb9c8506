"""Multi-step runs with every proxy snapshot worked out by hand (token_overlap), shared by the replay
tests (as SPARK-format logs) and the live-loop tests (as scripted attempts and summarizer replies).

J is Jaccard of token sets, cov(C → F) = |C ∩ F| / |F|; z over the task's values so far, population std.
"""

from __future__ import annotations

from typing import NamedTuple

from .helpers import execution, memo, reflect, snapshot


class Attempt(NamedTuple):
    commands: str
    failed: list[str]
    status: str = "FAIL"
    memo: str | None = None  # the summarizer's new memo (None: no reflect step)


class Expected(NamedTuple):
    attempt: int
    step: int
    exec_: float
    plan: float
    oss: float
    raw: float
    weight: float
    level: str | None


TA, TB, TC, TZ = (f"test_outputs.py::test_{x}" for x in "abcz")
M0 = memo("alpha beta gamma delta", "run tests")
M1 = memo("alpha beta gamma epsilon", "run tests again", 2)
M2 = memo("alpha beta gamma epsilon", "run tests again", 3)
M3 = memo("alpha delta", "check output format", 4)

# Step 0 already fails tests; the failing tests flip (a, b → b, c → c); attempt 2 is an infra error.
FLIP = [
    Attempt("alpha beta echo", [TA, TB], memo=M0),
    Attempt("zeta", [TB, TC], memo=M1),
    Attempt("", [TZ], status="INFRA_ERROR"),  # its ✗ line must not count: SPARK keeps only the error text
    Attempt("alpha beta gamma epsilon", [TB, TC], memo=M2),
    Attempt("alpha delta", [TC], memo=M3),
]
FLIP_EXPECTED = [
    # attempt 0, k = 0 (no previous memo): exec = cov({alpha,beta,echo} → {alpha,beta,gamma,delta}) = 2/4;
    # plan = oss = 0; one value: raw = 0.5 − 0 − 0; w = min(1, 0/2) = 0
    Expected(0, 0, 0.5, 0.0, 0.0, 0.5, 0.0, None),
    # attempt 1, k = 1: exec = cov({zeta} → facts) = 0; plan = J({run,tests}, {run,tests,again}) = 2/3;
    # oss = ½·J({α,β,γ,δ}, {α,β,γ,ε}) + ½·J({a,b}, {b,c}) = ½·3/5 + ½·1/3 = 0.466667 (the failed
    # tests of attempt 0 count: SPARK compares attempts[-2]); two values: z = −1, +1, +1 → raw = −3; w = 0.5,
    # d = −1.5 < −0.5 → soft
    Expected(1, 1, 0.0, 2 / 3, 0.3 + 1 / 6, -3.0, 0.5, "soft"),
    # attempt 3, k = 2: exec = 4/4 = 1; plan = 1; oss = ½·1 + ½·J(∅ of the infra attempt 2, {b,c}) = 0.5
    # z(exec=1 in [0.5, 0, 1]) = 0.5 / √(1/6) = 1.224745
    # z(plan=1 in [0, 2/3, 1]): mean 5/9, std √(0.518519/3) = 0.415740 → 0.444444/0.415740 = 1.069045
    # z(oss=0.5 in [0, 0.466667, 0.5]): mean 0.322222, squares 0.103827 + 0.020864 + 0.031605 = 0.156296,
    #   std √(0.156296/3) = 0.228252 → 0.177778/0.228252 = 0.778868
    # raw = 1.224745 − 1.069045 − 0.778868 = −0.623168; w = 1; step 1 triggered → strong
    Expected(3, 2, 1.0, 1.0, 0.5, -0.623168, 1.0, "strong"),
    # attempt 4, k = 3: exec = cov({alpha,delta} → {alpha,delta}) = 1; plan = J({run,tests,again},
    # {check,output,format}) = 0; oss = ½·J({α,β,γ,ε}, {α,δ}) + ½·J({b,c}, {c}) = ½·1/5 + ½·1/2 = 0.35
    # z(exec=1 in [0.5, 0, 1, 1]): mean 0.625, std √(0.6875/4) = 0.414578 → 0.904534
    # z(plan=0 in [0, 2/3, 1, 0]): mean 0.416667, std √(0.75/4) = 0.433013 → −0.962250
    # z(oss=0.35 in [0, 0.466667, 0.5, 0.35]): mean 0.329167, squares 0.108351 + 0.018906 + 0.029184
    #   + 0.000434 = 0.156875, std √(0.156875/4) = 0.198037 → 0.020833/0.198037 = 0.105199
    # raw = 0.904534 + 0.962250 − 0.105199 = 1.761585; w = 1; no trigger
    Expected(4, 3, 1.0, 0.0, 0.35, 1.761585, 1.0, None),
]


def spark_log(attempts: list[Attempt], expected: list[Expected], first_before: str = "") -> list[dict]:
    """The records SPARK writes for these attempts: execution_result, then pdi_snapshot and reflect_call."""
    records, before, by_attempt = [], first_before, {e.attempt: e for e in expected}
    for i, a in enumerate(attempts):
        records.append(execution(i, a.commands, a.failed, a.status))
        if a.memo is None:
            continue
        e = by_attempt[i]
        records.append(snapshot(i, e.step, e.exec_, e.plan, e.oss, e.raw, e.weight, e.level))
        records.append(reflect(i, before, a.memo))
        before = a.memo
    return records


FLIP_LOG = [*spark_log(FLIP, FLIP_EXPECTED), {"type": "task_summary", "task_name": "flip"}]

# SPARK's own corners: attempt 0 fails to execute, so SPARK writes a stub memo (no reflect call) that the
# next rewrite replaces; attempt 2's summarizer call fails and SPARK stores its empty reply as the memo.
STUB = ("## Exploration Memo (1 failed attempt)\n\n### Attempts Log\n- #1: Execution error — timeout\n\n"
        "### Next Strategy\nFix the execution environment issues first.")  # fmt: skip
N1 = memo("environment fixed", "run tests then fix output")
N3 = memo("solve py works", "run tests then fix output", 3)
CORNERS_LOG = [
    execution(0, "", status="ERROR", summary="Execution failed: Harbor process timed out"),
    execution(1, "fix the environment then run tests", [TA]),
    snapshot(1, 1, 0.5, 0.1, 0.0, 0.4, 0.5, None),
    reflect(1, STUB, N1),
    execution(2, "run tests", [TA]),
    snapshot(2, 2, 0.0, 0.0, 0.5, -1.0, 1.0, "soft"),
    reflect(2, N1, ""),
    execution(3, "python solve.py", [TB]),
    snapshot(3, 2, 2 / 3, 0.0, 0.0, 2.394794, 1.0, None),
    reflect(3, "", N3),
    {"type": "task_summary", "task_name": "corners"},
]
CORNERS_AS_SPARK = [
    # attempt 1, k = 1 (the stub counts as a replaced memo): exec = cov({fix,the,environment,then,run,tests}
    # → {environment,fixed}) = 1/2; plan = J({fix,the,execution,environment,issues,first},
    # {run,tests,then,fix,output}) = 1/10; oss = ½·J(∅ facts of the stub, {environment,fixed}) + ½·J(∅ of
    # the "Execution failed" attempt 0, {a}) = 0; one value: raw = 0.5 − 0.1 − 0 = 0.4; w = 0.5, d = 0.2
    Expected(1, 1, 0.5, 0.1, 0.0, 0.4, 0.5, None),
    # attempt 2, k = 2, new memo "": exec = 0 (no facts); plan = J(strategy, ∅) = 0;
    # oss = ½·J({environment,fixed}, ∅) + ½·J({a}, {a}) = 0.5
    # z: exec [0.5, 0] → −1, plan [0.1, 0] → −1, oss [0, 0.5] → +1; raw = −1 + 1 − 1 = −1;
    # d = −1 → soft
    Expected(2, 2, 0.0, 0.0, 0.5, -1.0, 1.0, "soft"),
    # attempt 3 replaces the empty memo: k stays 2 and plan = oss = 0; exec = cov({python,solve,py} →
    # {solve,py,works}) = 2/3
    # z(exec=2/3 in [0.5, 0, 2/3]): mean 0.388889, std √(0.240741/3) = 0.283279 → 0.277778/0.283279 = 0.980581
    # z(plan=0 in [0.1, 0, 0]) = −0.033333/0.047140 = −0.707107; z(oss=0 in [0, 0.5, 0]) = −0.707107
    # raw = 0.980581 + 0.707107 + 0.707107 = 2.394795; not triggered
    Expected(3, 2, 2 / 3, 0.0, 0.0, 2.394795, 1.0, None),
]
CORNERS_GUARDED = [
    Expected(1, 1, 0.5, 0.1, 0.0, 0.4, 0.5, None),  # as above
    # the empty reply of attempt 2 is no step and N1 stays; attempt 3 replaces N1: k = 2
    # exec = 2/3; plan = J(same strategy) = 1; oss = ½·J({environment,fixed}, {solve,py,works}) + ½·J({a}
    # of attempt 2, {b}) = 0; z: exec [0.5, 2/3] → +1, plan [0.1, 1] → +1, oss [0, 0] → 0; raw = 0
    Expected(3, 2, 2 / 3, 1.0, 0.0, 0.0, 1.0, None),
]
