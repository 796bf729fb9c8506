"""Gates judged from the audit's trials: `oracle`, `nop` and `offline`.

`oracle` and `nop` say what `skillspark tasks check` says about the same trials (one judge for
both commands); `offline` compares the verifier's reward on the oracle's final state with the
network on and off, both measured by the probe inside the oracle trial.
"""

from __future__ import annotations

from skillspark.harbor.trials import TrialOutcome
from skillspark.taskgen.check import build_failure_reason, failed_tests, judge
from skillspark.taskgen.gates.models import GateResult
from skillspark.taskgen.gates.probe import ProbeResult


def oracle_gate(oracle: TrialOutcome, nop: TrialOutcome) -> GateResult:
    if reason := build_failure_reason(oracle):
        return GateResult(name="oracle", ok=False, detail=reason)
    reasons = [r for r in judge(oracle, nop)[1] if r.startswith("oracle: ")]
    if reasons:
        return GateResult(name="oracle", ok=False, detail="; ".join(r.removeprefix("oracle: ") for r in reasons))
    build = f"build {oracle.environment_setup_s:.1f} s, " if oracle.environment_setup_s is not None else ""
    return GateResult(name="oracle", ok=True, detail=f"reward {oracle.reward:g} ({build}trial {oracle.duration_s:.1f} s)")


def nop_gate(oracle: TrialOutcome, nop: TrialOutcome) -> GateResult:
    if build_failure_reason(oracle):
        return GateResult.not_run("nop", "needs an environment that builds (see oracle)")
    reasons = [r for r in judge(oracle, nop)[1] if r.startswith("nop: ")]
    if reasons:
        return GateResult(name="nop", ok=False, detail="; ".join(r.removeprefix("nop: ") for r in reasons))
    failing = failed_tests(nop.ctrf)
    shown = f"; failing: {', '.join(failing[:5])}" if failing else ""
    return GateResult(name="nop", ok=True, detail=f"untouched environment scores {nop.reward:g}{shown}")


def offline_gate(probe: ProbeResult, final_reward: float | None, *, task_offline: bool) -> GateResult:
    """`final_reward`: the trial's own (online) verification, used when the probe measured no online reward."""
    online_reward = probe.online_reward if probe.online_reward is not None else final_reward
    online = "none" if online_reward is None else f"{online_reward:g}"
    if probe.offline_error and probe.offline_error.startswith("cannot turn the network off"):
        return GateResult.not_run("offline", probe.offline_error)
    if probe.offline_reward is None:
        return GateResult(name="offline", ok=False,
                          detail=f"reward {online} online, but without network the verifier wrote none "
                                 f"({probe.offline_error}); bake the verifier's dependencies into the tests or the image")
    if probe.offline_reward != online_reward:
        return GateResult(name="offline", ok=False,
                          detail=f"reward {online} online but {probe.offline_reward:g} without network; "
                                 "the verifier must not need the network (bake its dependencies in)")
    note = " (the task's network is off anyway)" if task_offline else ""
    return GateResult(name="offline", ok=True, detail=f"reward {online} online and offline{note}")
