"""The online proxy step by step, against values worked out by hand (token_overlap unless said)."""

import pytest

from skillspark.pdi.proxy import PdiSnapshot, ProxyTracker, zscore

from .helpers import memo
from .scenarios import FLIP, FLIP_EXPECTED

M0 = memo("alpha beta gamma delta", "run tests")
M1 = memo("alpha beta gamma epsilon", "run tests again", 2)
M2 = memo("alpha beta gamma epsilon", "run tests again", 3)


def three_steps(tracker: ProxyTracker) -> list[PdiSnapshot]:
    return [
        tracker.step("", M0, "alpha beta echo", ["t1", "t2"], [], attempt=0),
        tracker.step(M0, M1, "zeta", ["t1", "t2"], ["t1", "t2"], attempt=1),
        tracker.step(M1, M2, "alpha beta gamma epsilon", ["t2", "t1"], ["t1", "t2"], attempt=2),
    ]


def test_step0_exec_is_coverage_and_raw_is_the_plain_difference():
    s = ProxyTracker().step("", M0, "alpha beta echo", ["t1"], [], attempt=0)
    # commands {alpha, beta, echo} cover 2 of the 4 fact tokens {alpha, beta, gamma, delta}
    assert s.proxy_exec == pytest.approx(0.5)
    assert (s.proxy_plan, s.proxy_oss) == (0.0, 0.0)  # no previous memo
    assert s.raw_pdi == pytest.approx(0.5)  # one value: exec − plan − oss
    assert (s.step, s.weight, s.weighted_pdi, s.triggered, s.level, s.intervene) == (0, 0.0, 0.0, False, None, False)


def test_three_steps_by_hand_with_soft_then_strong():
    s0, s1, s2 = three_steps(ProxyTracker())
    # step 1: exec = |{zeta} ∩ facts| / 4 = 0; plan = J({run,tests}, {run,tests,again}) = 2/3;
    # oss = ½·J({α,β,γ,δ}, {α,β,γ,ε}) + ½·J({t1,t2} of attempt 0, {t1,t2}) = ½·3/5 + ½·1 = 0.8
    assert (s1.proxy_exec, s1.proxy_plan, s1.proxy_oss) == pytest.approx((0.0, 2 / 3, 0.8))
    # two values each: z(new) = −1 for exec (0.5 → 0), +1 for plan (0 → 2/3), +1 for oss (0 → 0.8)
    assert s1.raw_pdi == pytest.approx(-3.0)
    # w = min(1, 1/2) = 0.5, d = −1.5 < τ = −0.5: triggers; nothing before it triggered -> soft
    assert (s1.weight, s1.weighted_pdi) == pytest.approx((0.5, -1.5))
    assert (s1.triggered, s1.level, s1.intervene) == (True, "soft", True)
    # step 2: exec = 4/4 = 1; plan = J(same strategy) = 1; oss = ½·1 + ½·J({t1,t2}, {t1,t2}) = 1
    assert (s2.proxy_exec, s2.proxy_plan, s2.proxy_oss) == pytest.approx((1.0, 1.0, 1.0))
    # z(exec=1 in [0.5, 0, 1]): mean 0.5, std √(1/6) = 0.408248 → 1.224745
    # z(plan=1 in [0, 2/3, 1]): mean 5/9, std √14/9 = 0.415740 → 4/√14 = 1.069045
    # z(oss=1 in [0, 0.8, 1]): mean 0.6, std √((0.36 + 0.04 + 0.16)/3) = 0.432049 → 0.4/0.432049 = 0.925820
    # raw = 1.224745 − 1.069045 − 0.925820 = −0.770120; w = 1; previous step triggered -> strong
    assert s2.raw_pdi == pytest.approx(-0.770120, abs=1e-6)
    assert (s2.weight, s2.weighted_pdi) == pytest.approx((1.0, -0.770120), abs=1e-6)
    assert (s2.triggered, s2.level) == (True, "strong")
    assert (s0.attempt, s2.step) == (0, 2)


def test_flip_fixture_step_by_step():
    t, previous, got = ProxyTracker(), [], []
    before = ""
    for i, a in enumerate(FLIP):
        failed = [] if a.status == "INFRA_ERROR" else a.failed
        if a.memo is not None:
            got.append(t.step(before, a.memo, a.commands, failed, previous, attempt=i))
            before = a.memo
        previous = failed
    for s, e in zip(got, FLIP_EXPECTED, strict=True):
        assert (s.attempt, s.step) == (e.attempt, e.step)
        assert (s.proxy_exec, s.proxy_plan, s.proxy_oss, s.raw_pdi) == pytest.approx((e.exec_, e.plan, e.oss, e.raw),
                                                                                      abs=1e-5)  # fmt: skip
        assert s.level == e.level


def test_step_counter_counts_replaced_memos_only():
    t = ProxyTracker()
    t.step("", M0, "", [], [], attempt=0)
    assert t.step(M0, "", "", [], [], attempt=1).step == 1  # an empty new memo still replaced M0
    assert t.step("", M1, "", [], [], attempt=2).step == 1  # replacing an empty memo does not advance k
    assert t.step(M1, M2, "", [], [], attempt=3).step == 2


def test_failed_tests_are_sets_compared_with_the_attempt_before():
    t = ProxyTracker()
    t.step("", M0, "", ["x"], [], attempt=0)
    s = t.step(M0, M0, "", ["a", "b", "b"], ["b", "c"], attempt=1)
    # facts identical: ½·1; failed {a,b} vs {b,c}: J = 1/3 → oss = 0.5 + 1/6
    assert s.proxy_oss == pytest.approx(0.5 + 1 / 6)
    assert t.step(M0, M0, "", [], [], attempt=2).proxy_oss == pytest.approx(0.5)  # both empty: 0


def test_zscore_population_std_and_zero_std():
    assert zscore(3.0, [3.0]) == 0.0
    assert zscore(3.0, [3.0, 3.0]) == 0.0
    assert zscore(6.0, [3.0, 3.0, 6.0]) == pytest.approx(2 / 2**0.5)  # mean 4, std √2
    assert zscore(3.0, [1.0, 3.0]) == pytest.approx(1.0)


def test_warmup_weights_and_threshold():
    def two(tracker):
        tracker.step("", M0, "alpha beta echo", [], [], attempt=0)
        return tracker.step(M0, M1, "zeta", [], [], attempt=1)

    # raw −3 (as above: z = −1, +1, +1), w = min(1, 1/4) = 0.25, d = −0.75 < −0.5
    s = two(ProxyTracker(warmup=4))
    assert (s.weight, s.weighted_pdi, s.triggered) == (0.25, pytest.approx(-0.75), True)
    assert not two(ProxyTracker(warmup=4, tau=-1.0)).triggered  # −0.75 is not below −1
    t = ProxyTracker()
    weights = [t.step(before, M0, "", [], [], attempt=i).weight for i, before in enumerate(["", M0, M0, M0, M0])]
    assert weights == [0.0, 0.5, 1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="at least 1"):
        ProxyTracker(warmup=0)


def test_step_zero_never_triggers():
    # a raw PDI far below τ at step 0 still gives w = 0, d = 0
    s = ProxyTracker(tau=10.0).step("", M0, "zeta", [], [], attempt=0)
    assert s.raw_pdi == 0.0 and s.weight == 0.0 and not s.triggered


def test_observe_only_records_levels_without_intervening():
    snaps = three_steps(ProxyTracker(observe_only=True))
    assert [(s.triggered, s.level, s.intervene) for s in snaps] == [
        (False, None, False), (True, "soft", False), (True, "strong", False)
    ]  # fmt: skip


def test_disabled_computes_but_never_triggers():
    on, off = three_steps(ProxyTracker()), three_steps(ProxyTracker(enabled=False))
    assert [s.weighted_pdi for s in off] == [s.weighted_pdi for s in on]
    assert all(not s.triggered and s.level is None and not s.intervene for s in off)


def test_js_method_step0():
    s = ProxyTracker("js_divergence").step("", memo("a c", "x"), "a b", [], [], attempt=0)
    # commands [a, b] vs facts [a, c]; vocabulary {a, b, c}; n = 2 + 3·0.002 = 2.006
    # P = (1.002, 1.002, 0.002)/2.006, Q = (1.002, 0.002, 1.002)/2.006, M = (1.002, 0.502, 0.502)/2.006
    # a: P = Q = M, contributes 0.  KL(P‖M) = p_b·ln(p_b/m_b) + p_c·ln(p_c/m_c) with p_b = 0.499501,
    # p_b/m_b = 1.002/0.502 = 1.996016, p_c = 0.000997, p_c/m_c = 0.002/0.502 = 0.003984:
    # KL(P‖M) = 0.499501·0.691154 + 0.000997·(−5.525462) = 0.345232 − 0.005509 = 0.339723 = KL(Q‖M)
    # JS = ½(KL(P‖M) + KL(Q‖M)) = 0.339723;  ψ = 0.660277
    assert s.proxy_exec == pytest.approx(0.660277, abs=2e-6)


def test_js_method_compares_the_words_of_failed_tests_and_an_empty_side_is_uniform():
    t = ProxyTracker("js_divergence")
    t.step("", M0, "", ["t1"], [], attempt=0)
    # facts identical (ψ = 1); failed "a::x" → words [a, x] vs none: P = (½, ½) uniform,
    # Q = (1.002, 1.002)/2.004 = (½, ½) → JS 0, ψ = 1: oss = ½·1 + ½·1 = 1
    assert t.step(M0, M0, "", [], ["a::x"], attempt=1).proxy_oss == pytest.approx(1.0)
    # the same words in two ids: [a, x] both sides → ψ = 1
    assert t.step(M0, M0, "", ["a::x"], ["x::a"], attempt=2).proxy_oss == pytest.approx(1.0)


def test_rounded_copy_matches_log_precision():
    s = three_steps(ProxyTracker())[2].rounded()
    assert s.raw_pdi == -0.7701 and s.proxy_plan == 1.0
