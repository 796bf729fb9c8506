"""The audit's probe: Harbor's oracle agent plus what the gates need from the oracle's final state.

It runs as the agent of an ordinary Harbor trial (loaded by import path, like any plug-in), so
the environment, the build cache and the final verification are Harbor's and the sandbox's, not
ours. Around the oracle it records: a digest of the files the agent could see before the oracle
ran (determinism), the files the oracle wrote (copied out: mutants, leak), the verifier's reward
on that state online and with the network off (offline), and the verifier's reward on each mutant
of each output file, restoring the original after each. Before each verifier run, whatever earlier
runs created under the agent's dirs and /tmp is removed (a test's scratch dir left by one run
must not decide the next). Then Harbor's own verifier scores the restored state: that is the
oracle's reward. Everything lands in `agent/audit-probe.json`, with the seconds of each step.
The determinism gate's second oracle trial runs a probe too: with `share`, it helps verify the
first probe's mutants (mutant_queue.py); without, it records only the starting files, which is
all that gate needs from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import time
from collections.abc import Iterator
from pathlib import Path

from harbor.agents.oracle import OracleAgent
from harbor.environments.base import BaseEnvironment
from harbor.models.agent.context import AgentContext
from harbor.models.task.config import NetworkMode, NetworkPolicy
from harbor.models.trial.paths import TrialPaths
from harbor.verifier.verifier import Verifier
from pydantic import BaseModel, Field

from skillspark.core.redact import one_line
from skillspark.harbor.trials import AgentSpec, scalar_reward
from skillspark.taskgen.gates.lint import SYSTEM_DIRS
from skillspark.taskgen.gates.mutant_queue import MutantJob, MutantQueue, Published, queue_for
from skillspark.taskgen.gates.mutants import MutantOutcome, mutants_of

PROBE_IMPORT_PATH = "skillspark.taskgen.gates.probe:AuditProbeAgent"
PROBE_FILE = "audit-probe.json"
MAX_OUTPUT_FILES = 8
MAX_OUTPUT_BYTES = 4 * 2**20
MAX_LISTED_FILES = 20_000
_NOISE_PARTS = {"__pycache__", "node_modules", ".git"}
_NOISE_SUFFIXES = (".pyc", ".pyo")


class TimedStep(BaseModel):
    """One step of the probe and its wall seconds (`tasks audit`'s time, broken down)."""

    step: str
    seconds: float


class ProbeResult(BaseModel):
    oracle_exit_code: int | None = None
    before: dict[str, str] = Field(default_factory=dict)  # path -> sha256, files the agent could see
    outputs: list[str] = Field(default_factory=list)  # files the oracle created or changed (copied to outputs/)
    modified: list[str] = Field(default_factory=list)  # the outputs that existed before
    measured: bool = False  # the verifier runs below happened (the probe did not fail first)
    online_reward: float | None = None  # measured here only when the offline run did not pass
    online_error: str | None = None
    offline_reward: float | None = None
    offline_error: str | None = None
    mutants_offline: bool = False
    mutants: list[MutantOutcome] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    layer_dir: str | None = None  # the local sandbox's built layer: the image's own files
    timings: list[TimedStep] = Field(default_factory=list)

    def output_dir(self, trial_dir: Path) -> Path:
        return trial_dir / "agent" / "audit-outputs"


def probe_spec(task_dir: Path, *, extra_paths: list[str], mutants: bool, verifier_timeout_sec: float,
               agent_timeout_sec: float, measure: bool = True, share: str | None = None) -> AgentSpec:
    """The `AgentSpec` that runs this probe; the agent phase gets time for the verifier runs too.

    Both timeouts are already scaled by the run's timeout multiplier. `share`: the key of the
    audit's mutant queue (the probe with `mutants` publishes there, another one helps).
    """
    runs = (2 + (4 * MAX_OUTPUT_FILES if mutants or share else 0)) if measure else 0
    return _ProbeAgentSpec(
        import_path=PROBE_IMPORT_PATH,
        kwargs={"task_dir": str(task_dir), "extra_paths": extra_paths, "mutants": mutants, "measure": measure,
                "share": share, "verifier_timeout_sec": verifier_timeout_sec, "oracle_timeout_sec": agent_timeout_sec},
        timeout_sec=agent_timeout_sec + runs * verifier_timeout_sec,
    )


class _ProbeAgentSpec(AgentSpec):
    timeout_sec: float

    def to_harbor(self):
        config = super().to_harbor()
        config.override_timeout_sec = self.timeout_sec
        return config


def _roots(extra_paths: list[str]) -> str:
    """Shell words: the non-system top-level dirs of the environment, plus `extra_paths`."""
    skip = "|".join(SYSTEM_DIRS)
    extra = " ".join(shlex.quote(p) for p in extra_paths)
    return (f"$(for d in /*; do case \"$d\" in {skip}) ;; *) [ -d \"$d\" ] && [ ! -L \"$d\" ] && echo \"$d\";; "
            f"esac; done) {extra}")


def _snapshot_command(extra_paths: list[str]) -> str:
    """sha256 of every regular file (up to a cap) under the roots."""
    return (f"find {_roots(extra_paths)} -xdev -type f -size -{MAX_OUTPUT_BYTES // 1024}k -print0 2>/dev/null "
            f"| head -z -n {MAX_LISTED_FILES} | xargs -0 -r sha256sum 2>/dev/null; true")


def _paths_command(extra_paths: list[str]) -> str:
    """Every path (files and dirs) under the roots and /tmp, NUL-separated."""
    return f"find {_roots(extra_paths)} /tmp -xdev -mindepth 1 -print0 2>/dev/null | head -z -n {MAX_LISTED_FILES}; true"


def is_noise(path: str) -> bool:
    parts = path.strip("/").split("/")
    return any(p.startswith(".") or p in _NOISE_PARTS for p in parts) or path.endswith(_NOISE_SUFFIXES)


class AuditProbeAgent(OracleAgent):
    """Harbor's oracle, with the audit's measurements around it (see the module docstring)."""

    @staticmethod
    def name() -> str:
        return "skillspark-audit-probe"

    def __init__(self, logs_dir: Path, task_dir: str, *, extra_paths: list[str] = (), mutants: bool = True,
                 measure: bool = True, share: str | None = None, verifier_timeout_sec: float = 180.0,
                 oracle_timeout_sec: float | None = None, **kwargs):
        logs_dir = Path(logs_dir)
        super().__init__(logs_dir, task_dir=Path(task_dir), trial_paths=TrialPaths(logs_dir.parent),
                         agent_timeout_sec=oracle_timeout_sec, **kwargs)
        self._extra_paths = list(extra_paths)
        self._run_mutants = mutants
        self._measure_state = measure
        self._queue = queue_for(share)
        self._after: dict[str, str] = {}  # the final state's files, noise left out (the queue's fingerprint)
        self._verifier_timeout = verifier_timeout_sec
        self._result = ProbeResult()
        self._baseline: set[str] = set()

    async def run(self, instruction: str, environment: BaseEnvironment, context: AgentContext) -> None:
        result = self._result
        layer = getattr(environment, "layer", None)
        result.layer_dir = str(layer.path) if layer is not None else None
        try:
            with self._timed("snapshot before"):
                result.before = await self._snapshot(environment)
            with self._timed("oracle"):
                await super().run(instruction, environment, context)
            exit_file = self.logs_dir / "exit-code.txt"
            result.oracle_exit_code = int(exit_file.read_text()) if exit_file.is_file() else 0
            if not self._measure_state:
                return
            try:
                with self._timed("snapshot after, outputs copied"):
                    await self._collect_outputs(environment, await self._snapshot(environment))
                await self._measure(environment)
                with self._timed("reset"):
                    await self._reset(environment)  # Harbor's own verification sees the oracle's state, as usual
            except Exception as exc:  # the task's verdict must not hang on a fault of ours: say it, go on
                result.notes.append(f"probe failed: {type(exc).__name__}: {one_line(str(exc), 200)}")
        finally:
            if self._run_mutants and self._queue is not None:
                await self._queue.close()  # a helper waiting for mutants must not wait for ever
            (self.logs_dir / PROBE_FILE).write_text(result.model_dump_json(indent=2))

    @contextlib.contextmanager
    def _timed(self, step: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self._result.timings.append(TimedStep(step=step, seconds=round(time.monotonic() - started, 3)))

    async def _snapshot(self, environment: BaseEnvironment) -> dict[str, str]:
        listing = await environment.exec(_snapshot_command(self._extra_paths), user="root")
        files = {}
        for line in (listing.stdout or "").splitlines():
            digest, _, path = line.partition("  ")
            if len(digest) == 64 and path.startswith("/"):
                files[path] = digest
        if len(files) >= MAX_LISTED_FILES:
            self._result.notes.append(f"more than {MAX_LISTED_FILES} files in the environment; only the first listed")
        return files

    async def _collect_outputs(self, environment: BaseEnvironment, after: dict[str, str]) -> None:
        result = self._result
        self._after = {p: digest for p, digest in after.items() if not is_noise(p)}
        named = set(self._extra_paths)
        changed = [p for p, digest in after.items() if result.before.get(p) != digest and not is_noise(p)]
        changed.sort(key=lambda p: (not any(p == n or p.startswith(n.rstrip("/") + "/") for n in named), p))
        if len(changed) > MAX_OUTPUT_FILES:
            result.notes.append(f"{len(changed)} output files; mutated the first {MAX_OUTPUT_FILES} "
                                f"(those named in the instruction first)")
        out_dir = result.output_dir(self.logs_dir.parent)
        for path in changed[:MAX_OUTPUT_FILES]:
            target = out_dir / path.lstrip("/")
            await environment.download_file(path, target)
            result.outputs.append(path)
            if path in result.before:
                result.modified.append(path)

    async def _measure(self, environment: BaseEnvironment) -> None:
        """Verifier offline on the oracle's state (online too if that fails), then on every mutant.

        Mutants run offline when the verifier already gives 1.0 without network: faster (no verify-time
        installs) and, by that measurement, the same verdict. Otherwise they run online. The online
        reward of a verifier that passes offline is the trial's own final verification.
        """
        result = self._result
        self._baseline = await self._paths(environment)
        if not self._run_mutants:
            if self._queue is not None:
                await self._help(environment, self._queue)
            return
        try:
            with self._timed("verify offline"):
                result.offline_reward, result.offline_error = await self._verify(environment, "offline", offline=True)
        except ValueError as exc:  # this environment cannot switch its network after start
            result.offline_error = f"cannot turn the network off here: {one_line(str(exc))}"
        result.mutants_offline = result.offline_reward is not None and result.offline_reward >= 1.0
        if not result.mutants_offline:
            with self._timed("verify online"):
                result.online_reward, result.online_error = await self._verify(environment, "online")
        result.measured = True
        if not (result.mutants_offline or (result.online_reward or 0.0) >= 1.0):
            return
        out_dir = result.output_dir(self.logs_dir.parent)
        jobs: list[MutantJob] = []
        for path in result.outputs:
            for mutant in mutants_of(path, (out_dir / path.lstrip("/")).read_bytes()):
                jobs.append(MutantJob(index=len(jobs), path=path, kind=mutant.kind, content=mutant.content))
        queue = self._queue or MutantQueue()
        await queue.publish(Published(fingerprint=self._after, outputs=tuple(result.outputs),
                                      offline=result.mutants_offline), jobs)
        await self._verify_mutants(environment, queue, offline=result.mutants_offline, wait_for_helper=True)
        result.mutants = queue.outcomes()

    async def _help(self, environment: BaseEnvironment, queue: MutantQueue) -> None:
        """Verify some of the other probe's mutants, if this trial's final state is the same and passes.

        Joining costs a verifier run on this state first, so a helper joins only while at least two
        mutants wait: with fewer, the probe is done as soon.
        """
        published = await queue.published()
        if published is None or queue.remaining() < 2:
            return
        if published.fingerprint != self._after or published.outputs != tuple(self._result.outputs):
            self._result.notes.append("the final state differs from the probe's: no mutant verified here")
            return
        with self._timed("verify offline" if published.offline else "verify online"):
            reward, error = await self._verify(environment, "baseline", offline=published.offline)
        if reward is None or reward < 1.0:
            self._result.notes.append(f"the verifier gave {reward} here ({error or 'no error'}): no mutant verified here")
            return
        await self._verify_mutants(environment, queue, offline=published.offline, wait_for_helper=False)

    async def _verify_mutants(self, environment: BaseEnvironment, queue: MutantQueue, *, offline: bool,
                              wait_for_helper: bool) -> None:
        """Take mutants off the queue and verify each on this state, restoring the original after each;
        `wait_for_helper`: also wait for the mutants another probe took (and take any it gives back)."""
        out_dir = self._result.output_dir(self.logs_dir.parent)
        scratch = self.logs_dir / "audit-mutant"
        while (job := queue.take()) is not None or (wait_for_helper and await queue.more_to_take()):
            if job is None:
                continue
            try:
                with self._timed("verify mutant"):
                    scratch.write_bytes(job.content)
                    await environment.upload_file(scratch, job.path)
                    reward, error = await self._verify(environment, f"mutant-{job.index}", offline=offline)
                    await environment.upload_file(out_dir / job.path.lstrip("/"), job.path)
            except BaseException:
                await queue.give_back(job)
                raise
            await queue.finish(job, MutantOutcome(path=job.path, kind=job.kind, reward=reward, error=error))
        scratch.unlink(missing_ok=True)

    async def _paths(self, environment: BaseEnvironment) -> set[str]:
        listing = await environment.exec(_paths_command(self._extra_paths), user="root")
        return {p for p in (listing.stdout or "").split("\0") if p.startswith("/")}

    async def _reset(self, environment: BaseEnvironment) -> None:
        """Remove what earlier verifier runs created (a test's scratch dir must not outlive its run)."""
        new = await self._paths(environment) - self._baseline
        topmost = sorted(p for p in new if p.rsplit("/", 1)[0] not in new)
        for start in range(0, len(topmost), 200):
            quoted = " ".join(shlex.quote(p) for p in topmost[start:start + 200])
            await environment.exec(f"rm -rf -- {quoted}", user="root")

    async def _verify(self, environment: BaseEnvironment, name: str, *, offline: bool = False
                      ) -> tuple[float | None, str | None]:
        """The verifier's reward on the current state (None and why, if it wrote none); `offline`: network off."""
        await self._reset(environment)
        if not offline:
            return await self._run_verifier(environment, name)
        policy = environment.network_policy
        await environment.set_network_policy(NetworkPolicy(network_mode=NetworkMode.NO_NETWORK))
        try:
            return await self._run_verifier(environment, name)
        finally:
            await environment.set_network_policy(policy)

    async def _run_verifier(self, environment: BaseEnvironment, name: str) -> tuple[float | None, str | None]:
        paths = TrialPaths(self.logs_dir / "audit-verifier" / name)
        paths.mkdir()
        verifier = Verifier(task=self._task, trial_paths=paths, environment=environment, logger=self.logger)
        try:
            verdict = await asyncio.wait_for(verifier.verify(), timeout=self._verifier_timeout)
        except Exception as exc:  # a verifier that crashes or writes no reward rejects what it was shown
            return None, f"{type(exc).__name__}: {one_line(str(exc), 200)}"
        return scalar_reward(verdict.rewards or {}), None
