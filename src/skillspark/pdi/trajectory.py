"""Trajectory-level PDI of distilled skills: is a SKILL.md grounded in what worked, or in plans?

For one skill with text S, the commands C of its successful attempt, and the reflect steps of its
exploration (memo versions M_0..M_{K-1}):

    φ_exec = ψ(C → S)                                   (coverage of S's tokens for token_overlap)
    φ_plan = ψ(Next Strategy of every memo version, joined → S)
    φ_oss  = mean of the online proxy's oss_k over k = 1..K−1   (0 when K < 2)

φ_exec is 0 without commands and φ_plan is 0 without any Next Strategy (a task solved at its first
attempt inherits no plan): with js_divergence an empty side would otherwise score as a uniform text.

φ_oss is the same pairwise stability the online proxy uses (½ facts similarity between consecutive
memos + ½ failed-test-set similarity), averaged over the exploration, so the two scores agree on what
"ossified" means. Over a set of skills, PDI = z(φ_exec) − z(φ_plan) − z(φ_oss) (population std,
std 0 → z 0). Quadrants split φ_plan and φ_exec at the set's median: "high" means above the median.
The target quadrant is low plan, high exec.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from pydantic import BaseModel

from skillspark.pdi.log import ReflectStep
from skillspark.pdi.memo import section
from skillspark.pdi.proxy import ProxyTracker
from skillspark.pdi.replay import MemoTrail
from skillspark.pdi.text import Method, similarity, tokenize


def without_metadata(skill_text: str) -> str:
    """The SKILL.md without its frontmatter's `metadata:` block: the scores distillation writes there
    must not score themselves (explore computes φ on the skill before adding them)."""
    lines = skill_text.split("\n")
    if not lines or lines[0].strip() != "---" or "---" not in (line.strip() for line in lines[1:]):
        return skill_text
    end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    kept, inside = [], False
    for line in lines[1:end]:
        if line.startswith("metadata:"):
            inside = True
            continue
        if inside and (line.startswith((" ", "\t")) or not line.strip()):
            continue
        inside = False
        kept.append(line)
    return "\n".join([lines[0], *kept, *lines[end:]])


class SkillEvidence(BaseModel):
    """What one task's exploration left behind for scoring its skill."""

    task: str
    skill_text: str
    success_commands: str
    steps: list[ReflectStep] = []


class SkillScore(BaseModel):
    """The trajectory-level PDI of one skill within a set."""

    task: str
    phi_exec: float
    phi_plan: float
    phi_oss: float
    pdi: float = 0.0
    quadrant: str = ""


def phis(evidence: SkillEvidence, method: Method = "js_divergence") -> SkillScore:
    """φ_exec, φ_plan and φ_oss of one skill (PDI and quadrant need the whole set: `score_skills`)."""
    skill = tokenize(without_metadata(evidence.skill_text))
    trail, tracker = MemoTrail(), ProxyTracker(method, enabled=False)
    steps = [s for s in map(trail.resolve, evidence.steps) if s is not None]
    strategies = tokenize("\n".join(section(s.memo_after, "Next Strategy") for s in steps))
    commands = tokenize(evidence.success_commands)
    oss = [
        tracker.step(s.memo_before, s.memo_after, s.commands, s.failed_tests, s.previous_failed_tests,
                     attempt=s.attempt).proxy_oss
        for s in steps
    ]  # fmt: skip
    return SkillScore(
        task=evidence.task,
        phi_exec=similarity(method, commands, skill, coverage=True) if commands else 0.0,
        phi_plan=similarity(method, strategies, skill) if strategies else 0.0,
        phi_oss=statistics.fmean(oss[1:]) if len(oss) > 1 else 0.0,
    )


def zscores(values: Sequence[float]) -> list[float]:
    """Population z-scores; all 0 when the values do not vary."""
    if not values:
        return []
    mean = statistics.fmean(values)
    std = statistics.pstdev(values)
    return [(v - mean) / std if std > 0 else 0.0 for v in values]


def quadrant(plan: float, exec_: float, plan_median: float, exec_median: float) -> str:
    """E.g. "low plan / high exec" (the target), splitting at the set's medians."""
    p = "high" if plan > plan_median else "low"
    e = "high" if exec_ > exec_median else "low"
    return f"{p} plan / {e} exec"


def score_skills(evidence: Sequence[SkillEvidence], method: Method = "js_divergence") -> list[SkillScore]:
    """Score a set of skills: φ values, PDI z-scored over the set, and quadrant labels."""
    scores = [phis(e, method) for e in evidence]
    if not scores:
        return []
    z_exec = zscores([s.phi_exec for s in scores])
    z_plan = zscores([s.phi_plan for s in scores])
    z_oss = zscores([s.phi_oss for s in scores])
    plan_med = statistics.median(s.phi_plan for s in scores)
    exec_med = statistics.median(s.phi_exec for s in scores)
    for s, ze, zp, zo in zip(scores, z_exec, z_plan, z_oss, strict=True):
        s.pdi = ze - zp - zo
        s.quadrant = quadrant(s.phi_plan, s.phi_exec, plan_med, exec_med)
    return scores
