"""Trajectory-level PDI against values worked out by hand (token_overlap)."""

import pytest

from skillspark.pdi.log import ReflectStep
from skillspark.pdi.trajectory import (
    SkillEvidence,
    phis,
    quadrant,
    score_skills,
    zscores,
)

from .helpers import memo


def step(attempt, before, after, failed=(), previous=()):
    return ReflectStep(attempt=attempt, memo_before=before, memo_after=after, commands="c", failed_tests=list(failed),
                       previous_failed_tests=list(previous))  # fmt: skip


def test_phis_by_hand():
    ma, mb, mc = memo("f1 f2", "alpha x"), memo("f1 f3", "beta y", 2), memo("f1 f3", "beta y", 3)
    ev = SkillEvidence(
        task="t",
        skill_text="alpha beta gamma delta",
        success_commands="alpha beta zeta",
        steps=[step(0, "", ma, ["t1"]), step(1, ma, mb, ["t2"], ["t1"]), step(2, mb, mc, ["t2"], ["t2"])],
    )
    s = phis(ev, "token_overlap")
    # exec: commands cover {alpha, beta} of the skill's 4 tokens = 0.5
    # plan: strategies {alpha, x, beta, y} vs skill {alpha, beta, gamma, delta}: 2 common of 6 = 1/3
    # oss: step 1 = ½·J({f1,f2},{f1,f3}) + ½·J({t1},{t2}) = ½·1/3 = 1/6; step 2 = ½·1 + ½·1 = 1; mean = 7/12
    assert (s.phi_exec, s.phi_plan, s.phi_oss) == pytest.approx((0.5, 1 / 3, 7 / 12))


def test_failed_rewrite_of_our_log_is_no_step_and_empty_sides_score_zero():
    ma = memo("f1", "alpha")
    kept = ReflectStep(attempt=1, memo_before=ma, memo_after=ma, commands="c", failed_tests=[], ok=False)
    ev = SkillEvidence(task="t", skill_text="alpha beta", success_commands="",
                       steps=[step(0, "", ma).model_copy(update={"ok": True}), kept])  # fmt: skip
    s = phis(ev, "js_divergence")
    # one step left, so φ_oss = 0; no commands: φ_exec = 0 (JS would score an empty side as uniform)
    assert (s.phi_exec, s.phi_oss) == (0.0, 0.0)
    # [alpha] vs [alpha, beta], vocabulary {alpha, beta}: P = (1.002, 0.002)/1.004, Q = (½, ½)
    # P = (0.998008, 0.001992), M = (0.749004, 0.250996)
    # KL(P‖M) = 0.998008·ln(1.332445) + 0.001992·ln(0.007936) = 0.998008·0.287016 − 0.001992·4.836284 = 0.276812
    # KL(Q‖M) = ½·ln(0.5/0.749004) + ½·ln(0.5/0.250996) = ½·(−0.404137) + ½·0.689160 = 0.142512
    # JS = ½(0.276812 + 0.142512) = 0.209662; ψ = 0.790338
    assert s.phi_plan == pytest.approx(0.790338, abs=3e-6)


def test_no_reflect_steps_gives_zero_plan_and_oss():
    s = phis(SkillEvidence(task="t", skill_text="a b", success_commands="a"), "token_overlap")
    assert (s.phi_exec, s.phi_plan, s.phi_oss) == (0.5, 0.0, 0.0)


def test_zscores_population_and_constant():
    assert zscores([1.0, 2.0, 3.0]) == pytest.approx([-1.224745, 0.0, 1.224745], abs=1e-6)  # std √(2/3)
    assert zscores([0.4, 0.4]) == [0.0, 0.0]
    assert zscores([]) == []


def test_quadrant_split_is_strictly_above_median():
    assert quadrant(0.1, 0.9, 0.5, 0.5) == "low plan / high exec"
    assert quadrant(0.5, 0.5, 0.5, 0.5) == "low plan / low exec"
    assert quadrant(0.6, 0.4, 0.5, 0.5) == "high plan / low exec"


def three_skills():
    """φ by hand: A exec 1, plan 1; B exec 0.5, plan 0; C exec 0, plan J({a,b},{a,b,c,d}) = 0.5; oss 0."""
    return [
        SkillEvidence(task="A", skill_text="a b c d", success_commands="a b c d",
                      steps=[step(0, "", memo("f", "a b c d"))]),
        SkillEvidence(task="B", skill_text="a b c d", success_commands="a b"),
        SkillEvidence(task="C", skill_text="a b c d", success_commands="x", steps=[step(0, "", memo("f", "a b"))]),
    ]  # fmt: skip


def test_score_skills_by_hand():
    a, b, c = score_skills(three_skills(), "token_overlap")
    assert [(s.phi_exec, s.phi_plan, s.phi_oss) for s in (a, b, c)] == [
        (1.0, 1.0, 0.0),
        (0.5, 0.0, 0.0),
        (0.0, 0.5, 0.0),
    ]
    # z(exec) = (1.2247, 0, −1.2247); z(plan) = (1.2247, −1.2247, 0); z(oss) = 0 (constant)
    assert [s.pdi for s in (a, b, c)] == pytest.approx([0.0, 1.224745, -1.224745], abs=1e-6)
    # medians: exec 0.5, plan 0.5
    assert [s.quadrant for s in (a, b, c)] == ["high plan / high exec", "low plan / low exec", "low plan / low exec"]
    assert score_skills([]) == []


def test_metadata_written_by_distillation_does_not_score_itself():
    from skillspark.pdi.trajectory import without_metadata

    plain = "---\nname: greet\ndescription: Write a greeting.\n---\n# Greet\n\necho hello > /app/greeting.txt\n"
    with_meta = ("---\nname: greet\ndescription: Write a greeting.\nmetadata:\n  grounding: deterministic\n"
                 "  pdi-phi-exec: '0.3571'\n---\n# Greet\n\necho hello > /app/greeting.txt\n")
    assert without_metadata(with_meta) == plain
    assert without_metadata(plain) == plain
    assert without_metadata("no frontmatter\nmetadata: x\n") == "no frontmatter\nmetadata: x\n"
