"""The SPARK loop for one task, `execute -> judge -> reflect -> retry`, and many tasks at once.

Each attempt is committed to attempts.json only when it is fully done (judged, reflected, logged), so a
resumed run starts exactly after the last committed attempt; the online PDI proxy is rebuilt by
replaying the committed reflect steps. On PASS the skill is distilled from the six evidence blocks. A key
the endpoint rejects (agent, summarizer or distiller) stops the whole run with `AuthenticationFailed`; the
attempt in flight is not kept, so `--resume` with a good key goes on from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from skillspark.agents.trials import model_endpoint, settle
from skillspark.core.skill import SKILL_FILE
from skillspark.explore import evidence
from skillspark.explore.distill import distill, skill_name
from skillspark.explore.folders import task_folders
from skillspark.explore.judge import Verdict, judge
from skillspark.explore.memo import (
    ChatModel,
    attempt_result,
    evidence_prompt,
    fill_memo,
    memo_template,
    reflect_prompt,
    rewrite_memo,
)
from skillspark.explore.prompts import retry_prompt
from skillspark.explore.records import (
    Attempt,
    AttemptsFile,
    ExecutionResult,
    PdiSnapshotRecord,
    PdiState,
    ReflectCall,
    SkillGenCall,
    TaskSummary,
)
from skillspark.explore.redact import answer_values, find_test_file, redacted_test_file
from skillspark.explore.runner import AttemptOutcome, AttemptRunner
from skillspark.explore.spend import SpendLedger
from skillspark.explore.settings import ExploreSettings
from skillspark.explore.store import TaskStore
from skillspark.files import write_atomic
from skillspark.llm.errors import AuthenticationFailed, BudgetExceeded
from skillspark.pdi.memo import attempt_failures
from skillspark.pdi.proxy import Level, ProxyTracker

MAX_INFRA_ERRORS = 2
MEMO_MAX_TOKENS = 512  # a memo is a few hundred tokens; more only lets a confused model ramble
SECTION_MAX_TOKENS = 96  # one answer of the sectioned memo: three short lines
SKILL_MAX_TOKENS = 1200  # a SKILL.md of a procedure, well under the spec's 500 lines
TERMINAL = ("solved", "exhausted", "infra_stopped", "failed")
CANCEL_FILE = "cancel"  # in a task's folder: stop that task after its attempt in flight (the dashboard's cancel)


class TaskProgress(BaseModel):
    """A live update for the progress display."""

    model_config = ConfigDict(frozen=True)

    task: str
    attempt: int
    max_attempts: int
    status: str
    pdi_level: str | None = None
    reward: float | None = None


ProgressFn = Callable[[TaskProgress], None]


class TaskExplorer:
    """Explores one task; `run()` returns its summary (also written as the log's last record).

    `folder` is its output folder under `settings.output` (default: the task name as a skill name); it
    also names the skill and the task's row in the progress display.
    """

    def __init__(self, task_dir: Path, name: str, instruction: str, settings: ExploreSettings,
                 runner: AttemptRunner, summarizer: ChatModel, distiller: ChatModel,
                 on_progress: ProgressFn | None = None, ledger: SpendLedger | None = None,
                 folder: str | None = None):
        self.task_dir, self.name, self.instruction = task_dir, name, instruction
        self.settings, self.runner = settings, runner
        self.summarizer, self.distiller = summarizer, distiller
        # the run's budget; explore_tasks shares one with the summarizer and distiller clients
        self.ledger = ledger or SpendLedger(settings.output, settings.max_cost_usd, resume=settings.resume)
        self.on_progress = on_progress or (lambda _: None)
        self.store = TaskStore(settings.output / (folder or skill_name(name)))
        self.tracker = ProxyTracker(settings.pdi_method, enabled=settings.pdi,
                                    observe_only=settings.pdi_observe_only)
        self.state = AttemptsFile(task_name=name, max_retries=settings.max_attempts, pdi=PdiState(
            enabled=settings.pdi, observe_only=settings.pdi_observe_only, method=settings.pdi_method))
        self.level: Level | None = None
        self._clock = time.monotonic()

    # --- state -------------------------------------------------------------------------------
    def _load(self) -> bool:
        """Load a previous run for --resume; True when that run had already finished."""
        previous = self.store.load_state() if self.settings.resume else None
        if previous is None:
            self.store.reset()
            return False
        self.state = previous
        if previous.state in TERMINAL:
            return True
        self.store.trim_log(len(previous.attempts), keep_skill=False)
        self.state.state, self.state.reason = "running", ""
        self.state.max_retries = self.settings.max_attempts
        self._replay_proxy()
        return False

    def _replay_proxy(self) -> None:
        """Rebuild the proxy's running statistics from the committed reflect steps."""
        for i, a in enumerate(self.state.attempts):
            if a.memo_version is None:
                continue
            before = self.state.memo_history[a.memo_version - 2] if a.memo_version >= 2 else ""
            after = self.state.memo_history[a.memo_version - 1]
            snap = self.tracker.step(before, after, a.agent_commands, attempt_failures(a.status, a.test_summary),
                                     self._failures_before(i), attempt=a.attempt)
            self.level = snap.level if snap.intervene else None

    def _failures_before(self, i: int) -> list[str]:
        """Failed tests of the attempt before attempt i, whatever its status: the proxy's F' (SPARK's)."""
        previous = self.state.attempts[i - 1] if i > 0 else None
        return attempt_failures(previous.status, previous.test_summary) if previous else []

    def _commit(self) -> None:
        now = time.monotonic()
        self.state.elapsed_s = round(self.state.elapsed_s + now - self._clock, 3)
        self._clock = now
        self.store.save_state(self.state)
        self.ledger.save()

    def _progress(self, status: str, reward: float | None = None) -> None:
        attempt = len(self.state.attempts) + (status == "running")
        self.on_progress(TaskProgress(task=self.store.root.name, attempt=attempt, status=status, reward=reward,
                                      max_attempts=self.settings.max_attempts, pdi_level=self.level))

    # --- the loop ------------------------------------------------------------------------------
    async def run(self) -> TaskSummary:
        if self._load():
            return self.summary()
        verifier = redacted_test_file(self.task_dir)
        test_file = find_test_file(self.task_dir)
        constants = answer_values(test_file.read_text(encoding="utf-8", errors="replace")) if test_file else set()
        try:
            last = self.state.attempts[-1] if self.state.attempts else None
            if last is not None and last.status == "PASS":  # stopped between the pass and its skill
                await self._distill(last, constants, outcome=None)
            while self.state.state == "running" and len(self.state.attempts) < self.settings.max_attempts:
                if self._cancel_requested():
                    break
                if self.ledger.budget.exhausted:
                    self._stop_for_budget(f"before attempt {len(self.state.attempts) + 1}")
                    break
                await self._attempt(verifier, constants)
            if self.state.state == "running":
                self.state.state = "exhausted"
                self.state.reason = f"no pass in {len(self.state.attempts)} attempts"
        except BudgetExceeded:  # an unfinished attempt is not committed; a pass is, and waits for its skill
            last = self.state.attempts[-1] if self.state.attempts else None
            passed = last is not None and last.status == "PASS"
            self._stop_for_budget(f"the skill of attempt {len(self.state.attempts)}, which passed" if passed
                                  else f"attempt {len(self.state.attempts) + 1}, which is not kept")
        except (AuthenticationFailed, asyncio.CancelledError) as stop:  # the attempt in flight is not kept
            why = str(stop) if isinstance(stop, AuthenticationFailed) else "cancelled (Ctrl-C or another task's error)"
            self.state.state, self.state.reason = "cancelled", f"{why}; --resume continues it"
            self._finish()
            raise
        self._finish()
        return self.summary()

    def _cancel_requested(self) -> bool:
        """A cancel file in the task's folder stops the task between attempts; it is taken, so --resume goes on."""
        request = self.store.root / CANCEL_FILE
        if not request.exists():
            return False
        request.unlink(missing_ok=True)
        self.state.state = "cancelled"
        self.state.reason = f"cancelled on request after {len(self.state.attempts)} attempt(s); --resume continues it"
        return True

    def _stop_for_budget(self, during: str) -> None:
        """No more LLM calls for this task: say where the budget ran out and how to go on."""
        self.state.state, self.state.reason = "budget_exhausted", self.ledger.stop_reason(during)

    def _finish(self) -> None:
        self._commit()
        self.store.append(self.summary())
        attempts = self.state.attempts
        self._progress(self.state.state, attempts[-1].reward if attempts else None)  # the table keeps the last reward

    async def _attempt(self, verifier: tuple[str, str] | None, constants: set[str]) -> None:
        k = len(self.state.attempts)
        intervention = self.level
        shown = verifier if k > 0 and self.settings.verifier_in_prompt() else None  # retries only
        extra = retry_prompt(attempt=k, max_attempts=self.settings.max_attempts, memo=self.state.exploration_memo,
                             verifier=shown, intervention=intervention)
        self._progress("running")
        remaining = self.ledger.budget.remaining_usd  # the agent keeps its own budget inside the trial
        budget = {} if remaining is None else {"max_cost_usd": remaining}
        outcome = await self.runner.run(self.task_dir, attempt=k, extra_prompt=extra, jobs_dir=self.store.jobs_dir,
                                        **budget)
        try:
            settle(self.ledger.budget, outcome.cost_usd, outcome.exception_type, outcome.exception_message)
        finally:
            self.ledger.save()
        verdict = judge(outcome)
        commands = "\n".join(outcome.commands)
        self.store.append(self._execution_record(k, outcome, verdict, commands, extra, intervention))
        attempt = Attempt(attempt=k, status=verdict.status, reward=verdict.reward, agent_commands=commands,
                          test_summary=verdict.test_summary, n_passed=len(verdict.passed_tests),
                          n_tests=verdict.n_tests, failed_tests=verdict.failed_tests, intervention=intervention,
                          input_tokens=outcome.n_input_tokens, output_tokens=outcome.n_output_tokens,
                          duration_s=round(outcome.duration_s, 3))
        if verdict.status == "PASS":
            self.state.attempts.append(attempt)
            self._commit()
            await self._distill(attempt, constants, outcome=outcome, passed=verdict.passed_tests)
            return
        if verdict.status == "INFRA_ERROR":
            self.state.attempts.append(attempt)
            n_infra = sum(a.status == "INFRA_ERROR" for a in self.state.attempts)
            if n_infra >= MAX_INFRA_ERRORS:
                self.state.state = "infra_stopped"
                self.state.reason = (f"{n_infra} infrastructure failures (last: {verdict.error or 'infra error'}); "
                                     "fix the environment, then run again with --resume")
            self._commit()
            self._progress(verdict.status, verdict.reward)
            return
        self.ledger.budget.check()  # the agent may have spent the rest: then no reflect call
        await self._reflect(attempt, verdict, outcome, commands)
        self.state.attempts.append(attempt)
        self._commit()
        self._progress(verdict.status, verdict.reward)

    def _execution_record(self, k: int, outcome: AttemptOutcome, verdict: Verdict, commands: str,
                          extra: str, intervention: Level | None) -> ExecutionResult:
        return ExecutionResult(
            attempt=k, success=verdict.success, reward=verdict.reward, status=verdict.status,
            n_passed=len(verdict.passed_tests), n_tests=verdict.n_tests, agent_stdout_full=outcome.agent_output,
            test_stdout_full=outcome.verifier_stdout, agent_commands=commands, test_summary=verdict.test_summary,
            result_json=outcome.model_dump(mode="json", exclude={"commands", "agent_output", "verifier_stdout", "ctrf"}),
            ctrf_json=outcome.ctrf, retry_injection=extra, error=verdict.error, failed_tests=verdict.failed_tests,
            intervention=intervention, trial_dir=outcome.trial_dir,
        )

    async def _reflect(self, attempt: Attempt, verdict: Verdict, outcome: AttemptOutcome, commands: str) -> None:
        before = self.state.exploration_memo
        n_failed = sum(a.status not in ("PASS", "INFRA_ERROR") for a in self.state.attempts) + 1
        result = attempt_result(verdict.status, verdict.reward, attempt.n_passed, attempt.n_tests)
        evidence = evidence_prompt(
            task_name=self.name, memo=before, attempt=attempt.attempt, max_attempts=self.settings.max_attempts,
            status=verdict.status, reward=verdict.reward, n_passed=attempt.n_passed, n_tests=attempt.n_tests,
            commands=commands, test_summary=verdict.test_summary, error=verdict.error,
            verifier_tail=outcome.verifier_stdout, instruction=self.instruction,
        )
        first = next((c.strip() for c in commands.splitlines() if c.strip()), "")
        ran = f"ran `{first[:80]}`" if first else "ran no command"
        template = memo_template(n_failed=n_failed, previous=before, commands=commands,
                                 attempt_line=f"- #{attempt.attempt + 1}: {result}; {ran}")
        if self.settings.sectioned_memo():
            update = await fill_memo(self.summarizer, template=template, evidence=evidence, n_failed=n_failed,
                                     previous=before, max_tries=self.settings.memo_tries)
        else:
            update = await rewrite_memo(self.summarizer, previous=before, n_failed=n_failed,
                                        user_prompt=reflect_prompt(evidence=evidence, template=template),
                                        max_tries=self.settings.memo_tries)
        if update.ok:
            self.state.memo_history.append(update.memo)
            attempt.memo_version = len(self.state.memo_history)
            self.store.save_memo(attempt.memo_version, update.memo)
            self.state.exploration_memo = update.memo
            failed = attempt_failures(verdict.status, verdict.test_summary)
            snap = self.tracker.step(before, update.memo, commands, failed,
                                     self._failures_before(len(self.state.attempts)), attempt=attempt.attempt)
            logged = snap.rounded().model_dump(exclude={"intervene"})
            self.state.pdi.history.append(logged)
            self.store.append(PdiSnapshotRecord(**snap.rounded().model_dump()))
            self.level = snap.level if snap.intervene else None
        attempt.input_tokens += update.input_tokens
        attempt.output_tokens += update.output_tokens
        self.store.append(ReflectCall(
            attempt=attempt.attempt, model=self.summarizer.model, system_prompt=update.system_prompt,
            user_prompt=update.user_prompt, response=update.response, input_tokens=update.input_tokens,
            output_tokens=update.output_tokens, latency_s=update.latency_s, memo_before=before,
            memo_after=self.state.exploration_memo, ok=update.ok, tries=update.tries, failure=update.failure,
        ))

    async def _distill(self, attempt: Attempt, constants: set[str], outcome: AttemptOutcome | None,
                       passed: list[str] | None = None) -> None:
        self._progress("distilling", attempt.reward)
        passed = passed if passed is not None else []
        name = self.store.root.name  # the spec wants a skill named like its folder
        bundle = evidence.collect(
            instruction=self.instruction, task_dir=self.task_dir,
            commands=outcome.commands if outcome else attempt.agent_commands.splitlines(),
            reward=attempt.reward, passed_tests=passed, attempts=self.state.attempts,
            memo=self.state.exploration_memo, output_tail=outcome.agent_output if outcome else "",
        )
        failed = {t for a in self.state.attempts for t in a.failed_tests}
        result = await distill(
            self.distiller, name=name, evidence=bundle, instruction=self.instruction, constants=constants,
            test_names=sorted(failed | set(passed)), success_commands=attempt.agent_commands,
            steps=evidence.reflect_steps(self.state.attempts, self.state.memo_history),
            pdi_method=self.settings.pdi_method, max_tries=self.settings.distill_tries,
        )
        path = self.store.root / SKILL_FILE
        write_atomic(path, result.text, make_parents=True)
        attempt.input_tokens += result.input_tokens
        attempt.output_tokens += result.output_tokens
        self.store.append(SkillGenCall(
            attempt=attempt.attempt, model=self.distiller.model, system_prompt=result.system_prompt,
            user_prompt=result.user_prompt, response=result.response, input_tokens=result.input_tokens,
            output_tokens=result.output_tokens, latency_s=result.latency_s, skill_name=name, skill_path=str(path),
            tries=result.tries, repaired=result.repaired, problems=result.problems,
        ))
        self.state.state, self.state.skill_path = "solved", str(path)
        how = (" (skill assembled from the evidence)" if result.grounding == "deterministic"
               else " (skill gated)" if result.repaired else "")
        self.state.reason = f"passed at attempt {attempt.attempt + 1}{how}"

    def summary(self) -> TaskSummary:
        s, a = self.state, self.state.attempts
        return TaskSummary(
            task_name=s.task_name, success=s.state == "solved", total_attempts=len(a),
            reward_trajectory=[x.reward for x in a], status_trajectory=[x.status for x in a],
            total_time_s=s.elapsed_s, total_input_tokens=sum(x.input_tokens for x in a),
            total_output_tokens=sum(x.output_tokens for x in a),
            exploration_config={"model": self.settings.model, "agent": "skillspark-bash",
                                "summary_model": self.summarizer.model, "max_retries": self.settings.max_attempts,
                                "pdi": self.settings.pdi, "pdi_observe_only": self.settings.pdi_observe_only,
                                "pdi_method": self.settings.pdi_method, "env": self.settings.env,
                                "max_cost_usd": self.settings.max_cost_usd,
                                "shuffle_seed": self.settings.shuffle_seed},
            state=s.state, reason=s.reason, skill_path=s.skill_path, interventions=[x.intervention for x in a],
            output_dir=str(self.store.root),
        )


async def explore_tasks(task_dirs: list[Path], settings: ExploreSettings, *, runner: AttemptRunner | None = None,
                        on_progress: ProgressFn | None = None) -> list[TaskSummary]:
    """Explore every task, `settings.parallelism` at once, within one `--max-cost` budget; one summary per
    task, in input order. An error of one task (a rejected key) cancels the others before it is raised."""
    from skillspark.explore.runner import HarborAttemptRunner
    from skillspark.harbor.tasks import harbor_task_dir, load_task
    from skillspark.llm.client import LLMClient
    from skillspark.llm.models import resolve_model

    tasks = [load_task(d) for d in task_dirs]
    folders = task_folders(tasks)  # named after the tasks as given, not after their Harbor-ready copies
    runnable = [harbor_task_dir(task.path, settings.output) for task in tasks]
    ledger = SpendLedger(settings.output, settings.max_cost_usd, resume=settings.resume)
    async with contextlib.AsyncExitStack() as stack:
        bases = {model: await stack.enter_async_context(model_endpoint(model, settings.api_base))
                 for model in dict.fromkeys((settings.model, settings.summarizer_model))}
        if runner is None:
            steps = resolve_model(settings.model).attempt_max_steps
            kwargs = {**({"max_steps": steps} if steps else {}), **settings.agent_kwargs,
                      **({"api_base": bases[settings.model]} if bases[settings.model] else {})}
            runner = HarborAttemptRunner(model=settings.model, env=settings.env, agent_kwargs=kwargs,
                                         timeout_multiplier=settings.timeout_multiplier)
        memo_tokens = SECTION_MAX_TOKENS if settings.sectioned_memo() else MEMO_MAX_TOKENS
        summarizer = await stack.enter_async_context(LLMClient(
            settings.summarizer_model, api_base=bases[settings.summarizer_model], max_tokens=memo_tokens,
            budget=ledger.budget, **settings.llm_limits(settings.summarizer_model)))
        distiller = await stack.enter_async_context(LLMClient(
            settings.model, api_base=bases[settings.model], max_tokens=SKILL_MAX_TOKENS,
            budget=ledger.budget, **settings.llm_limits(settings.model)))
        semaphore = asyncio.Semaphore(settings.parallelism)

        async def one(i: int) -> TaskSummary:
            async with semaphore:
                explorer = TaskExplorer(runnable[i], tasks[i].name, tasks[i].instruction, settings, runner,
                                        summarizer, distiller, on_progress, ledger, folder=folders[i])
                return await explorer.run()

        jobs = [asyncio.ensure_future(one(i)) for i in range(len(tasks))]
        try:
            return list(await asyncio.gather(*jobs))
        finally:  # no task outlives the clients and the embedded server closed below
            for job in jobs:
                job.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)
