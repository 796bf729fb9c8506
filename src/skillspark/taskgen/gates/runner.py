"""Run the gates on one task or a batch: static gates first, then three trials shared by the rest.

Per task: `schema`, `lint`, `dedup` read files. Then, at once, as one batch of the trial runner `run`,
`eval` and `explore` use (`agents.trials`): the probe trial (Harbor's oracle
plus the measurements of `probe.py`: outputs, mutants, offline), the nop trial, and a second
oracle trial (determinism), which verifies some of the probe's mutants when it reaches the same
state (`mutant_queue.py`: two verifier runs at a time); with the local sandbox, one rebuild of the environment in a scratch
cache (skipped once a build key is known to rebuild the same). A gate whose prerequisite failed
(mutants, leak, determinism, offline all need an oracle that passes) is reported as not run.
"""

from __future__ import annotations

import asyncio
import posixpath
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from skillspark.agents.trials import run_batch, run_trial_retrying
from skillspark.core.redact import one_line
from skillspark.harbor.dockerfile import parse_instructions
from skillspark.harbor.envs import LOCAL_ENV
from skillspark.harbor.tasks import TaskInfo, harbor_task_dir, inspect_task
from skillspark.harbor.trials import NOP, TrialOutcome
from skillspark.llm.budget import Budget
from skillspark.taskgen.gates.dedup import dedup_gate
from skillspark.taskgen.gates.determinism import determinism_gate, differences, rebuild_differences
from skillspark.taskgen.gates.image import layer_files
from skillspark.taskgen.gates.leak import leak_gate, visible_sources
from skillspark.taskgen.gates.lint import lint_gate
from skillspark.taskgen.gates.models import GATE_NAMES, AuditReport, GateResult, TaskAudit
from skillspark.taskgen.gates.mutant_queue import discard, open_queue
from skillspark.taskgen.gates.mutants import mutants_gate
from skillspark.taskgen.gates.probe import PROBE_FILE, ProbeResult, is_noise, probe_spec
from skillspark.taskgen.gates.runs import nop_gate, offline_gate, oracle_gate
from skillspark.taskgen.gates.schema import schema_gate

TRIAL_GATES = ("oracle", "nop", "mutants", "leak", "determinism", "offline")
ProgressCallback = Callable[[str, str], None]
_INSTRUCTION_PATH = re.compile(r"(?<![\w.\-/])/[\w.\-/]*[\w\-]")


def task_workdir(info: TaskInfo) -> str:
    """The agent's working directory: task.toml's, else the Dockerfile's last WORKDIR, else /."""
    workdir = "/"
    if info.dockerfile is not None:
        for instruction in parse_instructions(info.dockerfile.read_text(encoding="utf-8", errors="replace")):
            if instruction.keyword == "WORKDIR":
                workdir = posixpath.normpath(posixpath.join(workdir, instruction.value.strip()))
    return info.config.environment.workdir or workdir


async def audit_task(
    task_dir: Path,
    *,
    gates: Sequence[str] = GATE_NAMES,
    env: str = LOCAL_ENV,
    references: Sequence[Path] = (),
    work_dir: Path,
    timeout_multiplier: float = 1.0,
    on_progress: ProgressCallback | None = None,
) -> TaskAudit:
    """Every gate in `gates` on one task; `references`: tasks it must not be a near copy of."""
    started = time.monotonic()
    notify = on_progress or (lambda _task, _phase: None)
    inspection = inspect_task(task_dir)
    notify(inspection.name, "static")
    results: dict[str, GateResult] = {}
    phases: dict[str, float] = {}
    if "schema" in gates:
        results["schema"] = schema_gate(inspection.path, inspection)
    info = inspection.info
    if info is None:
        why = f"the task's files are not valid ({one_line('; '.join(inspection.problems), 200)})"
        results.update({g: GateResult.not_run(g, why) for g in gates if g not in ("schema", "dedup")})
    else:
        harbor_dir = harbor_task_dir(info.path, work_dir)
        workdir = task_workdir(info)
        if "lint" in gates:
            results["lint"] = lint_gate(info, harbor_dir, workdir)
        if any(g in gates for g in TRIAL_GATES):
            notify(inspection.name, "trials")
            phases["static"] = time.monotonic() - started
            results.update(await _trial_gates(info, harbor_dir, workdir, gates, env, work_dir, timeout_multiplier,
                                              phases))
    if "dedup" in gates:
        results["dedup"] = dedup_gate(inspection.path, list(references))
    ordered = [results[g] for g in GATE_NAMES if g in results]
    notify(inspection.name, "done")
    return TaskAudit.of(inspection.name, ordered, path=str(inspection.path), duration_s=time.monotonic() - started,
                        phases=phases)


async def _trial_gates(info: TaskInfo, harbor_dir: Path, workdir: str, gates: Sequence[str], env: str,
                       work_dir: Path, timeout_multiplier: float, phases: dict[str, float]) -> dict[str, GateResult]:
    """The trial gates' results; `phases` gets the wall seconds of the trials and of the rebuild."""
    started = time.monotonic()
    trials_dir = work_dir / "trials"
    verifier_timeout = info.config.verifier.timeout_sec * timeout_multiplier
    agent_timeout = (info.config.agent.timeout_sec or 600.0) * timeout_multiplier
    named = sorted(set(_INSTRUCTION_PATH.findall(info.instruction)) | {workdir})

    share = open_queue() if "mutants" in gates and "determinism" in gates else None

    def probe(mutants: bool, measure: bool = True) -> Awaitable[TrialOutcome]:
        spec = probe_spec(info.path, extra_paths=named, mutants=mutants, verifier_timeout_sec=verifier_timeout,
                          agent_timeout_sec=agent_timeout, measure=measure, share=share)
        return run_trial_retrying(harbor_dir, spec, env=env, trials_dir=trials_dir, timeout_multiplier=timeout_multiplier)

    async def first_probe() -> TrialOutcome:
        try:
            return await probe("mutants" in gates)
        finally:  # also when its agent never ran: the helper must not wait for mutants
            if share is not None:
                await discard(share)

    # At once: the probe, the nop trial and (determinism) a second oracle trial, which helps with the mutants
    # or records its starting files only. Oracle and nop call no model: the budget is there for the runner.
    trials: dict[str, Callable[[], Awaitable[TrialOutcome]]] = {
        "oracle": first_probe,
        "nop": lambda: run_trial_retrying(harbor_dir, NOP, env=env, trials_dir=trials_dir,
                                          timeout_multiplier=timeout_multiplier),
    }
    if "determinism" in gates:
        trials["again"] = lambda: probe(False, measure=share is not None)
    done = dict(await run_batch(list(trials), lambda name, _dollars_left: trials[name](), budget=Budget(None),
                                parallelism=len(trials)))
    oracle, nop, again = done["oracle"], done["nop"], done.get("again")
    phases["trials"] = time.monotonic() - started
    found = _probe_of(oracle)
    results = {"oracle": oracle_gate(oracle, nop), "nop": nop_gate(oracle, nop)}
    prerequisite = None
    if not results["oracle"].ok:
        prerequisite = "needs an oracle that passes (see oracle)"
    elif found is None or not found.measured:
        why = "; ".join(found.notes) if found is not None and found.notes else "nothing recorded"
        prerequisite = f"the probe in the oracle trial failed ({one_line(why, 200)}); see {oracle.trial_dir}"
    if prerequisite:
        results.update({g: GateResult.not_run(g, prerequisite) for g in ("mutants", "leak", "determinism", "offline")})
        return {g: r for g, r in results.items() if g in gates}
    if "mutants" in gates:
        results["mutants"] = mutants_gate(found.mutants, found.outputs, found.notes)
    if "leak" in gates:
        results["leak"] = _leak(info, workdir, oracle, found)
    if "offline" in gates:
        results["offline"] = offline_gate(found, oracle.reward, task_offline=_task_offline(info))
    if "determinism" in gates:
        started = time.monotonic()
        results["determinism"] = await _determinism(info, env, work_dir, oracle, found, again)
        phases["determinism rebuild"] = time.monotonic() - started
    return {g: r for g, r in results.items() if g in gates}


def _probe_of(outcome: TrialOutcome) -> ProbeResult | None:
    path = outcome.trial_dir / "agent" / PROBE_FILE
    return ProbeResult.model_validate_json(path.read_text()) if path.is_file() else None


def _task_offline(info: TaskInfo) -> bool:
    from harbor.models.task.config import NetworkMode

    return info.config.environment.network_mode == NetworkMode.NO_NETWORK


def _leak(info: TaskInfo, workdir: str, oracle: TrialOutcome, probe: ProbeResult) -> GateResult:
    layer = Path(probe.layer_dir) if probe.layer_dir else None
    out_dir = probe.output_dir(oracle.trial_dir)
    in_layer = dict(layer_files(layer)) if layer is not None else {}
    outputs, originals = {}, {}
    for path in probe.outputs:
        data = (out_dir / path.lstrip("/")).read_bytes()
        if b"\0" in data:
            continue  # binary output: its pieces are not text
        outputs[path] = data.decode("utf-8", errors="replace")
        if path in probe.modified:
            before = in_layer.get(path)
            originals[path] = before.read_text(errors="replace") if before is not None and before.is_file() else ""
    sources = visible_sources(info.path, info.instruction, workdir, layer)
    return leak_gate(outputs, originals, sources, image_scanned=layer is not None)


async def _determinism(info: TaskInfo, env: str, work_dir: Path, oracle: TrialOutcome, probe: ProbeResult,
                       again: TrialOutcome) -> GateResult:
    rebuild, remembered = None, False
    if env == LOCAL_ENV and probe.layer_dir and info.dockerfile is not None:
        rebuild, remembered = await rebuild_differences(
            info.dockerfile.parent, Path(probe.layer_dir), scratch=work_dir / "rebuild",
            timeout_sec=info.config.environment.build_timeout_sec)
    second = _probe_of(again)
    start = differences(*({p: d for p, d in run.before.items() if not is_noise(p)} for run in (probe, second))) \
        if second is not None else []
    return determinism_gate(rebuild=rebuild, remembered=remembered, start_differences=start,
                            oracle_rewards=(oracle.reward, again.reward))


async def audit_tasks(
    task_dirs: Sequence[Path],
    *,
    gates: Sequence[str] = GATE_NAMES,
    env: str = LOCAL_ENV,
    references: Sequence[Path] = (),
    work_dir: Path,
    parallelism: int = 1,
    timeout_multiplier: float = 1.0,
    on_progress: ProgressCallback | None = None,
) -> AuditReport:
    """Audit every task, at most `parallelism` at once; each is compared (dedup) with the references
    and the tasks listed before it."""
    limit = asyncio.Semaphore(max(1, parallelism))
    task_dirs = list(task_dirs)

    async def one(index: int, task_dir: Path) -> TaskAudit:
        async with limit:
            return await audit_task(task_dir, gates=gates, env=env, references=[*references, *task_dirs[:index]],
                                    work_dir=work_dir, timeout_multiplier=timeout_multiplier, on_progress=on_progress)

    audits = await asyncio.gather(*(one(i, t) for i, t in enumerate(task_dirs)))
    return AuditReport(env=env, work_dir=str(work_dir), tasks=list(audits))
