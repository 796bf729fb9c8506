"""Harbor terminal tasks as a training environment (`harbor:PATH`): one shell command per turn, in the sandbox.

Why a real Harbor trial underneath: an episode *is* a `skillspark run` trial whose agent is the trainer.
`reset` starts the trial (environment built from the cached layer, started as for any trial); the trial's
agent, `DrivenAgent`, runs each command that `step` hands it; `submit` (or the turn limit) ends the agent's
run and Harbor verifies exactly as it always does (tests uploaded only then), so the reward is by
construction what `skillspark run` gives for the same commands. The trainer is synchronous and Harbor is
async: each env owns one event loop on a background thread, and every call is one coroutine run there.

PATH is a task dir or a folder of task dirs (the subfolders holding a task.toml, sorted by name);
`game_seed` picks one of them. Knobs: `turns` (after that many turns the env verifies by itself; the trainer
also calls `finish()` when its own `--max-turns` runs out first) and `timeout` (seconds per command; a
command past it is killed and returns exit code 124).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, override

from harbor.agents.base import BaseAgent
from harbor.environments.base import BaseEnvironment, ExecResult
from harbor.models.agent.context import AgentContext

from skillspark.config import get_settings
from skillspark.core.redact import one_line
from skillspark.errors import UserError
from skillspark.harbor.tasks import find_task_dirs, harbor_task_dir, load_task
from skillspark.harbor.trials import AgentSpec, TrialOutcome, run_trial
from skillspark.sandbox.dockerfile import parse_dockerfile
from skillspark.train.envs.base import Observation, StepResult
from skillspark.train.envs.spec import EnvSpec, Knob

KNOBS = {
    "turns": Knob(8, low=1, high=1000),  # 8: the trainer's default --max-turns
    "timeout": Knob(60, low=1, high=3600),
}
OUTPUT_TAIL_CHARS = 400
SUBMIT_WORDS = ("submit", "exit")
FIRST_OBSERVATION = (
    "You are in a shell in the task's environment. Each turn, reply with one shell command; you will see "
    "its exit code and output. Reply `submit` when the task is done."
)
EMPTY_COMMAND = "No command: reply with one shell command, or `submit` when the task is done."
_FENCE = re.compile(r"```[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_T = TypeVar("_T")


def parse_command(reply: str) -> tuple[str, bool]:
    """(command, submit) from the model's reply.

    The first fenced block if there is one (a reply cut off inside it counts), else the whole reply; a
    leading `$ ` prompt is dropped from every line. A last line `submit` or `exit` ends the episode once
    the lines before it have run. An empty command without submit is an invalid turn.
    """
    fenced = _FENCE.search(reply)
    lines = []
    for line in (fenced.group(1) if fenced else reply).splitlines():
        bare = line.lstrip()
        lines.append(bare[2:] if bare.startswith("$ ") else line.rstrip())
    while lines and not lines[-1].strip():
        lines.pop()
    submit = bool(lines) and lines[-1].strip() in SUBMIT_WORDS
    if submit:
        lines.pop()
    return "\n".join(lines).strip(), submit


def show_output(result: ExecResult) -> str:
    """The exit code and the tail of stdout+stderr: the end of an output is where errors are."""
    text = ((result.stdout or "") + (result.stderr or "")).strip() or "(no output)"
    if len(text) > OUTPUT_TAIL_CHARS:
        text = f"[... {len(text) - OUTPUT_TAIL_CHARS} characters cut ...]\n{text[-OUTPUT_TAIL_CHARS:]}"
    return f"exit code {result.return_code}\n{text}"


def task_dirs(root: Path, text: str) -> list[Path]:
    """The tasks of `harbor:PATH`: PATH itself if it is a task, else its subfolders holding a task.toml, by name."""
    if not root.is_dir():
        raise UserError(
            f"{root} in game spec {text!r} (--game) is not a directory: pass a Harbor task dir or a folder of them, "
            "e.g. harbor:examples/tasks"
        )
    found = [path for path in find_task_dirs([root]) if (path / "task.toml").is_file()]
    if not found:
        raise UserError(
            f"{root} in game spec {text!r} (--game) holds no Harbor task (no task.toml in it or its subfolders): "
            "pass a task dir or a folder of them"
        )
    return found


def check_spec(spec: EnvSpec, text: str) -> None:
    task_dirs(Path(spec.name), text)


@dataclass
class _Driver:
    """What a HarborEnv and its trial's DrivenAgent share: the instruction once, then (command, reply) pairs.

    A None command tells the agent to stop, which starts Harbor's verification.
    """

    instruction: asyncio.Future[str]
    commands: asyncio.Queue[tuple[str | None, asyncio.Future[ExecResult] | None]]


_DRIVERS: dict[str, _Driver] = {}  # Harbor builds the agent from an import path: it finds its driver by key


class DrivenAgent(BaseAgent):
    """The trial's agent: runs the commands its HarborEnv sends, one `exec` each, until told to stop."""

    def __init__(self, logs_dir: Path, model_name: str | None = None, *, driver: str, command_timeout_s: int = 60,
                 **kwargs: Any) -> None:
        super().__init__(logs_dir=logs_dir, model_name=model_name, **kwargs)
        self.driver = _DRIVERS[driver]
        self.command_timeout_s = int(command_timeout_s)

    @staticmethod
    @override
    def name() -> str:
        return "skillspark-train"

    @override
    def version(self) -> str:
        return "0.1.0"

    @override
    async def setup(self, environment: BaseEnvironment) -> None:
        """Nothing to install: the trainer is the agent."""

    @override
    async def run(self, instruction: str, environment: BaseEnvironment, context: AgentContext) -> None:
        self.driver.instruction.set_result(instruction)
        while True:
            command, reply = await self.driver.commands.get()
            if command is None or reply is None:
                return
            try:
                reply.set_result(await environment.exec(command, timeout_sec=self.command_timeout_s))
            except Exception as exc:  # the sandbox itself failed: the trial ends, as with any agent
                reply.set_exception(exc)
                raise


class HarborEnv:
    """One task of `harbor:PATH`, one Harbor trial per episode (see the module docstring)."""

    max_score = 1.0

    def __init__(self, spec: EnvSpec, game_seed: int, cache_dir: Path | None = None) -> None:
        tasks = task_dirs(Path(spec.name), spec.canonical)
        info = load_task(tasks[game_seed % len(tasks)])
        if info.config.steps:
            raise UserError(f"task {info.name} has [[steps]]: harbor: training envs play single-step tasks only")
        if info.dockerfile is not None:
            parse_dockerfile(info.dockerfile)  # what the local sandbox cannot build, refused before any trial
        self.spec = spec.canonical
        self.game_id = f"{spec.canonical}#{info.name}"
        self.task_dir = harbor_task_dir(info.path, (cache_dir or get_settings().cache_dir) / "harbor-tasks")
        self.outcome: TrialOutcome | None = None  # the last finished episode's trial
        self._turns = int(spec.knobs["turns"])
        self._timeout = int(spec.knobs["timeout"])
        self._env_kwargs = {"cache_dir": str(cache_dir / "sandbox")} if cache_dir else {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._trials_dir: Path | None = None
        self._trial: asyncio.Task[TrialOutcome] | None = None
        self._driver: _Driver | None = None
        self._steps = 0
        self._done = True

    # ---- the TextEnv protocol (the trainer's thread) ----------------------------------------------

    def reset(self) -> Observation:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, name=f"harbor-env {self.game_id}", daemon=True)
            self._thread.start()
            self._trials_dir = Path(tempfile.mkdtemp(prefix="skillspark-harbor-env-"))
        self._call(self._abandon())
        instruction = self._call(self._start())
        self._steps, self._done, self.outcome = 0, False, None
        return Observation(FIRST_OBSERVATION, [], instruction.strip())

    def step(self, action: str) -> StepResult:
        if self._done:
            raise RuntimeError(f"{self.game_id}: step() after the episode ended; call reset() first")
        command, submit = parse_command(action)
        self._steps += 1
        last = self._steps >= self._turns
        shown, ended = "", False
        if command:
            result = self._call(self._run(command))
            shown, ended = (show_output(result), False) if result is not None else ("", True)
        elif not submit and not last:
            return StepResult(EMPTY_COMMAND, 0.0, False, False, [], True)
        if not (submit or last or ended):
            return StepResult(shown, 0.0, False, False, [], False)
        return self._verified(shown, "submitted" if submit else None if ended else "turn limit reached", not command and not submit)

    def finish(self) -> StepResult:
        """The trainer's turn budget ran out before `submit`: verify now, as the `turns` knob would."""
        if self._done:
            raise RuntimeError(f"{self.game_id}: finish() after the episode ended")
        return self._verified("", "the trainer's turn budget ran out", False)

    def _verified(self, shown: str, why: str | None, invalid: bool) -> StepResult:
        """End the episode: Harbor verifies; the reward is the verifier's."""
        self.outcome = outcome = self._call(self._finish())
        self._done = True
        reward = outcome.reward or 0.0
        ending = f"Episode over ({why or f'the trial ended: {outcome.status}'}); the verifier's reward is {reward:g}."
        return StepResult(f"{shown}\n\n{ending}".strip(), reward, True, reward >= 1.0, [], invalid)

    def close(self) -> None:
        """End a trial still running (Harbor stops its sandbox), then the loop, its thread and the trial dirs."""
        self._done = True
        if self._loop is None:
            return
        try:
            self._call(self._abandon())
            self._call(self._loop.shutdown_default_executor())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join()
            self._loop.close()
            self._loop = self._thread = None
            if self._trials_dir is not None:
                shutil.rmtree(self._trials_dir, ignore_errors=True)

    # ---- on the env's loop ----------------------------------------------------------------------

    def _call(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def _start(self) -> str:
        """Start the trial and wait until its agent has the instruction (the sandbox is up by then)."""
        key = uuid.uuid4().hex
        driver = self._driver = _Driver(asyncio.get_running_loop().create_future(), asyncio.Queue())
        _DRIVERS[key] = driver
        agent = AgentSpec(import_path=f"{__name__}:DrivenAgent", kwargs={"driver": key, "command_timeout_s": self._timeout})
        assert self._trials_dir is not None
        trial = self._trial = asyncio.ensure_future(
            run_trial(self.task_dir, agent=agent, trials_dir=self._trials_dir, env_kwargs=self._env_kwargs)
        )
        trial.add_done_callback(lambda _: _DRIVERS.pop(key, None))
        await asyncio.wait({driver.instruction, trial}, return_when=asyncio.FIRST_COMPLETED)
        if driver.instruction.done():
            return driver.instruction.result()
        outcome = trial.result()
        detail = one_line(f"{outcome.exception_type}: {outcome.exception_message}", 300)
        raise UserError(
            f"task {outcome.task_name}: its environment did not start ({outcome.status}, {detail}); "
            f"check it with `skillspark sandbox exec {self.task_dir} -- true`"
        )

    async def _run(self, command: str) -> ExecResult | None:
        """The command's result, or None when the trial ended first (agent timeout, sandbox failure)."""
        assert self._driver is not None and self._trial is not None
        reply: asyncio.Future[ExecResult] = asyncio.get_running_loop().create_future()
        await self._driver.commands.put((command, reply))
        await asyncio.wait({reply, self._trial}, return_when=asyncio.FIRST_COMPLETED)
        if reply.done() and reply.exception() is None:
            return reply.result()
        return None

    async def _finish(self) -> TrialOutcome:
        """Stop the agent; Harbor verifies and stops the sandbox; the trial's outcome."""
        assert self._driver is not None and self._trial is not None
        if not self._trial.done():
            await self._driver.commands.put((None, None))
        return await self._trial

    async def _abandon(self) -> None:
        """Cancel a trial that is still running: Harbor stops its sandbox, nothing is verified."""
        trial, self._trial = self._trial, None
        if trial is not None and not trial.done():
            trial.cancel()
            try:
                await trial
            except asyncio.CancelledError:
                pass


def make(spec: EnvSpec, game_seed: int, cache_dir: Path | None = None) -> HarborEnv:
    return HarborEnv(spec, game_seed, cache_dir)
