"""The skillspark agent: a minimal bash agent as a Harbor `BaseAgent`.

Why this shape (after mini-swe-agent): the whole loop is `run` -> `step` -> `query` / `execute` /
`observe`, and everything that ends or bends the loop is a named exception, so the control flow reads
top to bottom. The model answers with short reasoning and one ```bash block; the block runs through the
environment API only (`exec`, `upload_dir`), so the same agent works in the local bwrap sandbox and in
Harbor's docker or cloud environments. The run ends when the model submits (a block whose last line is
`submit`), at the step limit, after too many malformed replies in a row, or when the model is unavailable;
the reason is recorded in the ATIF trajectory and in the agent context. A rejected key is not a way for
one run to end but an error of the whole batch: `AuthenticationFailed` leaves the agent, Harbor records it
as the trial's exception (by type name), and `skillspark run` / `explore` stop on it.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, override

from harbor.agents.base import BaseAgent
from harbor.agents.capabilities import AgentCapabilities
from harbor.environments.base import BaseEnvironment
from harbor.models.agent.context import AgentContext

from skillspark import config as _config  # noqa: F401  (offline litellm defaults when Harbor loads us by path)
from skillspark.agents import prompts
from skillspark.agents.actions import Action, FormatError, cap_output, parse_action
from skillspark.agents.history import trim_messages
from skillspark.agents.skill_context import (
    INLINE_SKILL_MAX_CHARS,
    INLINE_TOTAL_MAX_CHARS,
    SKILLS_MODES,
    InlineSkills,
    inline_skills,
    read_environment_skills,
    read_host_skills,
)
from skillspark.agents.skills import PRIMARY_SKILLS_DIR, SKILLS_DIRS, inject_skills
from skillspark.agents.trajectory import TrajectoryRecorder
from skillspark.core.redact import redact
from skillspark.errors import UserError
from skillspark.llm.budget import Budget
from skillspark.llm.client import AuthenticationFailed, LLMClient
from skillspark.llm.records import ChatResult

TRAJECTORY_FILE = "trajectory.json"
TIMEOUT_EXIT_CODES = (124, 137, -9)


class Finished(Exception):
    """Ends the run; `exit_status` names why, the message gives details."""

    exit_status = "finished"


class Submitted(Finished):
    exit_status = "submitted"


class StepLimit(Finished):
    exit_status = "step_limit"


class FormatErrorLimit(Finished):
    exit_status = "format_error_limit"


class ModelUnavailable(Finished):
    exit_status = "model_unavailable"


class CommandTimeout(Exception):
    """The command ran past its time limit; the message holds the output seen so far."""


class SkillsparkAgent(BaseAgent):
    """One small bash agent; see the module docstring. Kwargs are the knobs of `skillspark run`."""

    capabilities = AgentCapabilities(atif=True, skills=True)

    def __init__(
        self,
        logs_dir: Path,
        model_name: str | None = None,
        *,
        max_steps: int = 30,
        command_timeout_s: float = 60.0,
        extra_prompt: str = "",
        temperature: float = 0.2,
        max_tokens: int = 512,
        api_base: str | None = None,
        max_cost_usd: float | None = None,
        max_format_errors: int = 3,
        keep_last_turns: int = 4,
        max_context_chars: int = 12_000,
        max_output_chars: int = 3_000,
        demonstration: bool = True,
        skills_mode: str = "pointer",
        inline_max_skill_chars: int = INLINE_SKILL_MAX_CHARS,
        inline_max_total_chars: int = INLINE_TOTAL_MAX_CHARS,
        **kwargs: Any,
    ):
        super().__init__(logs_dir=logs_dir, model_name=model_name, **kwargs)
        self.max_steps = int(max_steps)
        self.command_timeout_s = float(command_timeout_s)
        self.extra_prompt = extra_prompt or ""
        self.temperature = float(temperature)
        self.max_tokens = int(max_tokens)
        self.api_base = api_base
        self.max_cost_usd = max_cost_usd
        self.max_format_errors = int(max_format_errors)
        self.keep_last_turns = int(keep_last_turns)
        self.max_context_chars = int(max_context_chars)
        self.max_output_chars = int(max_output_chars)
        self.demonstration = bool(demonstration)
        if skills_mode not in SKILLS_MODES:
            raise ValueError(f"skills_mode={skills_mode!r}: use one of {', '.join(SKILLS_MODES)}")
        self.skills_mode = skills_mode
        self.inline_max_skill_chars = int(inline_max_skill_chars)
        self.inline_max_total_chars = int(inline_max_total_chars)
        self._inline: InlineSkills | None = None
        self.messages: list[dict[str, str]] = []
        self.n_calls = 0
        self._format_errors = 0

    @staticmethod
    @override
    def name() -> str:
        return "skillspark"

    @override
    def version(self) -> str:
        return "0.1.0"

    @override
    async def setup(self, environment: BaseEnvironment) -> None:
        """Place the skills (if any) where agents look for them; in inline mode, also read them for the prompt."""
        if self.skills_dir:
            await inject_skills(environment, self.skills_dir)
            if self.skills_mode == "inline":
                self._inline = await self._read_inline(environment, self.skills_dir)

    async def _read_inline(self, environment: BaseEnvironment, source: str) -> InlineSkills:
        cap = self.inline_max_skill_chars
        host = Path(source)
        found = read_host_skills(host, cap) if host.is_dir() else \
            await read_environment_skills(environment, PRIMARY_SKILLS_DIR, cap)
        return inline_skills(found, path=PRIMARY_SKILLS_DIR, others=list(SKILLS_DIRS[1:]), max_skill_chars=cap,
                             max_total_chars=self.inline_max_total_chars)

    @override
    async def run(self, instruction: str, environment: BaseEnvironment, context: AgentContext) -> None:
        """Loop `step` until a `Finished` exception; always leave a trajectory and filled context."""
        self._env, self._context = environment, context
        self._recorder = TrajectoryRecorder(
            self.logs_dir / TRAJECTORY_FILE,
            agent_name=self.name(),
            version=self.version(),
            model_name=self.model_name,
            session_id=self.session_id,
        )
        self._recorder.extra["skills_mode"] = self.skills_mode
        if self._inline is not None:
            self._recorder.extra["skills_inline"] = self._inline.record()
        self._add_message("system", prompts.system_prompt(self.command_timeout_s))
        if self.demonstration:  # prior turns for the model, not steps of this run: kept out of the steps
            turns = prompts.DEMONSTRATION if self.skills_mode == "pointer" else \
                prompts.skill_demonstration(PRIMARY_SKILLS_DIR, list(SKILLS_DIRS[1:]))
            self.messages += [{"role": role, "content": text} for role, text in turns]
            self._recorder.extra["demonstration_turns"] = len(turns)
        self._head = len(self.messages) + 1  # ... and the task message below
        self._add_message("user", prompts.instance_prompt(instruction, self._extra_blocks()))
        exit_status, reason = "finished", ""
        try:
            if not self.model_name:
                raise ModelUnavailable("no model given; pass --model (e.g. local/smollm2)")
            async with self._make_client() as self._client:
                while True:
                    await self.step()
        except Finished as stop:
            exit_status, reason = stop.exit_status, str(stop)
        except BaseException as exc:  # recorded, then Harbor reports it (agent error, timeout)
            exit_status, reason = "error", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self._finish(exit_status, reason)

    async def step(self) -> None:
        """One model call and what follows from it."""
        if self.n_calls >= self.max_steps:
            raise StepLimit(f"reached max_steps={self.max_steps}")
        result = await self.query()
        try:
            action = parse_action(result.text or "")
        except FormatError as exc:
            self._format_errors += 1
            problem = f"{result.error}." if not result.ok else str(exc)
            self.observe(result, None, prompts.format_error_message(problem), format_error=True)
            if self._format_errors > self.max_format_errors:
                raise FormatErrorLimit(f"{self._format_errors} malformed replies in a row") from None
            return
        self._format_errors = 0
        started = time.monotonic()
        observation = await self.execute(action) if action.command else None
        self.observe(result, action, observation, command_s=time.monotonic() - started)
        if action.submit:
            raise Submitted("the model submitted")

    async def query(self) -> ChatResult:
        """Ask the model, with the history trimmed to fit a small context window."""
        messages = trim_messages(
            self.messages, head=self._head, keep_last_turns=self.keep_last_turns, max_chars=self.max_context_chars
        )
        self.n_calls += 1
        try:
            result = await self._client.chat(messages)
        except AuthenticationFailed:
            raise
        except UserError as exc:  # LLMUnavailable, BudgetExceeded, a missing API key
            raise ModelUnavailable(f"{type(exc).__name__}: {exc}") from None
        self._count_usage(result)
        return result

    async def execute(self, action: Action) -> str:
        """Run the command in the environment; the observation text (timeouts included)."""
        try:
            exit_code, output = await self._run_command(action.command)
        except CommandTimeout as exc:
            return prompts.timeout_message(self.command_timeout_s, cap_output(str(exc), self.max_output_chars))
        return prompts.observation_message(exit_code, cap_output(output, self.max_output_chars))

    def observe(
        self,
        result: ChatResult,
        action: Action | None,
        observation: str | None,
        *,
        command_s: float | None = None,
        format_error: bool = False,
    ) -> None:
        """Append the turn to the history and to the trajectory."""
        reply = result.text or ""
        self.messages.append({"role": "assistant", "content": reply})
        if observation is not None:
            self.messages.append({"role": "user", "content": observation})
        extra: dict[str, Any] = {}
        if not result.ok:
            extra["model_error"] = result.error
        if format_error:
            extra["format_error"] = True
        if command_s is not None:
            extra["command_s"] = round(command_s, 4)
        self._recorder.agent_step(
            reply,
            command=action.command if action else None,
            submit=bool(action and action.submit),
            observation=observation,
            prompt_tokens=result.prompt_tokens or 0,
            completion_tokens=result.completion_tokens or 0,
            cost_usd=result.cost_usd,
            latency_s=result.latency_s,
            extra=extra,
        )

    async def _run_command(self, command: str) -> tuple[int, str]:
        """(exit code, stdout+stderr) of one `bash -c` command; CommandTimeout past the time limit."""
        limit = self.command_timeout_s
        started = time.monotonic()
        try:
            result = await asyncio.wait_for(
                self._env.exec(command, timeout_sec=max(1, round(limit))), timeout=limit + 10
            )
        except TimeoutError:
            raise CommandTimeout("") from None
        except RuntimeError as exc:  # Harbor's docker environment reports timeouts this way
            if "timed out" in str(exc).lower():
                raise CommandTimeout("") from None
            raise
        output = (result.stdout or "") + (result.stderr or "")
        if result.return_code in TIMEOUT_EXIT_CODES and time.monotonic() - started >= limit * 0.95:
            raise CommandTimeout(output)
        return result.return_code, output

    def _make_client(self) -> LLMClient:
        """The model client; for `local/smollm2` it starts (or reuses) the embedded server itself."""
        budget = Budget(self.max_cost_usd) if self.max_cost_usd is not None else None
        return LLMClient(
            self.model_name or "",
            api_base=self.api_base,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            budget=budget,
        )

    def _extra_blocks(self) -> list[str]:
        blocks = []
        if self._inline is not None:
            blocks.append(self._inline.text)
        elif self.skills_dir:
            blocks.append(prompts.skills_line(PRIMARY_SKILLS_DIR, list(SKILLS_DIRS[1:])))
        blocks.append(self.extra_prompt)
        return blocks

    def _add_message(self, role: str, text: str) -> None:
        self.messages.append({"role": role, "content": text})
        self._recorder.message(role, text)

    def _count_usage(self, result: ChatResult) -> None:
        ctx = self._context
        ctx.n_input_tokens = (ctx.n_input_tokens or 0) + (result.prompt_tokens or 0)
        ctx.n_output_tokens = (ctx.n_output_tokens or 0) + (result.completion_tokens or 0)
        if result.cost_usd is not None:
            ctx.cost_usd = (ctx.cost_usd or 0.0) + result.cost_usd

    def _finish(self, exit_status: str, reason: str) -> None:
        """Record how the run ended in the context (Harbor writes it to result.json) and the trajectory."""
        summary = {"exit_status": exit_status, "reason": redact(reason), "n_model_calls": self.n_calls}
        self._context.metadata = (self._context.metadata or {}) | summary
        self._recorder.extra.update(summary)
        self._recorder.write()
