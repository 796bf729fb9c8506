"""`tasks generate`: idea -> blueprint -> critique -> render -> gates -> repair ... -> accept or reject.

One candidate task per seed (`-n`), each bounded by `max_rounds` blueprint versions and the run by
`--max-cost`. Every stage leaves its record under `DIR/_runs/<id>/` (see `run_store`), every LLM answer
is kept under a key that names its place, so `--resume` walks the same path and asks the model only what
it never answered. An accepted task is copied beside `DIR/` and renamed in (atomic); a rejected one goes
to `DIR/_rejected/<name>/` with `REJECTED.json` saying which check failed and why.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from skillspark.core.redact import one_line
from skillspark.files import write_atomic
from skillspark.llm.budget import Budget
from skillspark.llm.errors import AuthenticationFailed, BudgetExceeded, LLMUnavailable
from skillspark.llm.structured import JsonSchema, loads_object
from skillspark.taskgen.audit_result import AuditSummary, GateOutcome, GateRunner
from skillspark.taskgen.blueprint import BlueprintError, TaskBlueprint, blueprint_schema, parse_blueprint
from skillspark.taskgen.calibrate import GATE as CALIBRATE_GATE
from skillspark.taskgen.calibrate import Calibration, calibrate
from skillspark.taskgen.config import BUDGET_EXIT_CODE, GenerateSettings
from skillspark.taskgen.critique import Critique, critique, parse_advisory, review_schema
from skillspark.taskgen.idea import TaskIdea
from skillspark.taskgen.library import Reference
from skillspark.taskgen.promote import free_name, place_rejected, place_task
from skillspark.taskgen.prompts import fill
from skillspark.taskgen.render import render_task
from skillspark.taskgen.repair import OracleEvidence, oracle_evidence, repair_prompt
from skillspark.taskgen.run_store import RUNS_DIR, CachedCall, CandidateState, RunState, RunStore

REFERENCE_CHARS = 1500  # of each reference's instruction and tests shown to the model
BLUEPRINT_SCHEMA = blueprint_schema()  # sent with every blueprint and repair request (llm.structured)
REVIEW_SCHEMA = review_schema()


class Outcome(BaseModel):
    """What the command reports: the run's state, its folder, and an error that stopped it (one line)."""

    state: RunState
    run_dir: Path
    stopped_by: str | None = None

    @property
    def exit_code(self) -> int:
        statuses = {c.status for c in self.state.candidates}
        if "stopped" in statuses:
            return BUDGET_EXIT_CODE if self.stopped_by is None else 2
        return 1 if "rejected" in statuses else 0


def idea_digest(idea: TaskIdea) -> str:
    return hashlib.sha256(idea.as_prompt_text().encode()).hexdigest()[:16]


def reference_text(references: list[Reference]) -> str:
    """The references as the model sees them: instruction and tests, each cut to REFERENCE_CHARS."""
    if not references:
        return "(none)"
    blocks = []
    for ref in references:
        root = Path(ref.path)
        tests = sorted((root / "tests").glob("test*.py")) if (root / "tests").is_dir() else []
        parts = [f"### {ref.name}", _head(root / "instruction.md")]
        if tests:
            parts += [f"tests ({tests[0].name}):", "```python", _head(tests[0]), "```"]
        blocks.append("\n".join(parts))
    return "\n\n".join(blocks)


def _head(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[:REFERENCE_CHARS].strip()
    except OSError:
        return "(unreadable)"


class Generator:
    """One run of `tasks generate` (new or resumed)."""

    def __init__(self, idea: TaskIdea, settings: GenerateSettings, output: Path, store: RunStore, state: RunState,
                 gate_runner: GateRunner, on_event: Callable[[str, dict[str, Any]], None] | None = None,
                 calibration: Calibration | None = None) -> None:
        self.idea = idea
        self.settings = settings
        self.output = output
        self.store = store
        self.state = state
        self.gate_runner = gate_runner
        self.calibration = calibration
        self.on_event = on_event or (lambda _stage, _fields: None)
        self.budget = Budget(settings.max_cost_usd, spent_usd=state.spent_usd)
        self.client = settings.client(self.budget)
        self.stopped_by: str | None = None

    # ---- the run ---------------------------------------------------------------------------------
    async def run(self) -> Outcome:
        gate = asyncio.Semaphore(self.settings.parallelism)

        async def one(candidate: CandidateState) -> None:
            async with gate:
                await self._guarded(candidate)

        try:
            await asyncio.gather(*(one(c) for c in self.state.candidates))
        finally:
            await self.client.aclose()
        self.store.event("run_end", statuses=[c.status for c in self.state.candidates])
        return Outcome(state=self.state, run_dir=self.store.root, stopped_by=self.stopped_by)

    async def _guarded(self, cand: CandidateState) -> None:
        """A budget or endpoint stop ends this candidate unfinished (resumable), never the process."""
        try:
            await self._candidate(cand)
        except BudgetExceeded as exc:
            self._stop(cand, str(exc))
        except (LLMUnavailable, AuthenticationFailed) as exc:
            self.stopped_by = self.stopped_by or str(exc)
            self._stop(cand, str(exc))

    def _stop(self, cand: CandidateState, reason: str) -> None:
        cand.status, cand.reason = "stopped", f"{reason}; run again with --resume to continue"
        self._save()
        self._event("stopped", cand, reason=reason)

    def _save(self) -> None:
        self.state.spent_usd = round(self.budget.spent_usd, 8)
        self.store.save(self.state)

    def _event(self, stage: str, cand: CandidateState, **fields: Any) -> None:
        fields = {"candidate": cand.index, **fields}
        self.store.event(stage, **fields)
        self.on_event(stage, fields)

    # ---- one candidate ---------------------------------------------------------------------------
    async def _candidate(self, cand: CandidateState) -> None:
        if cand.status in ("accepted", "rejected"):
            return
        cand.status = "pending"
        if cand.promoted_to and (self.output / cand.promoted_to).is_dir():
            self._accepted(cand)
            return
        previous, problems, failed, evidence = "", [], [], OracleEvidence()
        bp: TaskBlueprint | None = None
        for version in range(self.settings.max_rounds):
            cand.rounds = version + 1
            self._save()
            vdir = self.store.version_dir(cand.index, version)
            prompt = self._draft_prompt(cand) if version == 0 else repair_prompt(problems, failed, evidence, previous)
            write_atomic(vdir / "prompt.md", prompt, make_parents=True)
            if version:
                self._event("repair", cand, version=version, failed_gates=failed)
            draft, answer, parse_problems = await self._blueprint(cand, version, prompt)
            evidence = OracleEvidence()
            if draft is None:
                previous, problems, failed = answer or "(no answer)", parse_problems, ["blueprint"]
                self._event("blueprint", cand, version=version, ok=False, problems=parse_problems)
                continue
            bp = draft
            previous = bp.to_json()
            write_atomic(vdir / "blueprint.json", previous)
            cand.name = bp.name
            self._event("blueprint", cand, version=version, ok=True, name=bp.name)
            review = await self._critique(cand, version, bp)
            write_atomic(vdir / "critique.json", review.model_dump_json(indent=2))
            self._event("critique", cand, version=version, errors=len(review.errors), advisory=len(review.advisory))
            notes = [f"reviewer (advisory, {i.area}): {i.message}" for i in review.advisory]
            if review.errors:
                problems, failed = [f"critique ({i.area}): {i.message}" for i in review.errors] + notes, ["critique"]
                continue
            task_dir = self._render(cand, version, bp)
            audit = await self._audit(cand, version, task_dir)
            if audit.verdict == "accepted":
                self._promote(cand, task_dir)
                return
            failed = audit.failed_gates
            problems = [f"gate {n}: {audit.gates[n].detail}" if n in audit.gates else f"gate {n}" for n in failed]
            problems += notes
            evidence = oracle_evidence(vdir / "audit")
        self._reject(cand, bp, problems, failed)

    def _draft_prompt(self, cand: CandidateState) -> str:
        n = len(self.state.candidates)
        variation = (f"This is candidate {cand.index + 1} of {n} made from the same idea (seed {cand.seed}): "
                     "pick a scenario, data shape and output that another candidate would be unlikely to pick.\n"
                     if n > 1 else "")
        return fill("blueprint_user", idea=self.idea.as_prompt_text(), variation=variation,
                    references=reference_text(self.state.references))

    def _name(self, cand: CandidateState) -> str:
        return self.idea.slug if len(self.state.candidates) == 1 else f"{self.idea.slug}-{cand.index + 1}"

    async def _ask(self, key: str, messages: list[dict[str, str]], schema: JsonSchema) -> CachedCall:
        """One LLM call for a JSON answer of `schema`, or its kept answer when an earlier run made it."""
        kept = self.store.cached(key)
        if kept is not None:
            return kept
        result = await self.client.chat(messages, schema=schema)
        call = self.store.remember(key, result, self.client.records[-1].model_dump())
        self._save()
        return call

    async def _blueprint(self, cand: CandidateState, version: int, prompt: str
                         ) -> tuple[TaskBlueprint | None, str, list[str]]:
        """A parsed blueprint, asking again (with the parse problems) up to `schema_tries` times."""
        messages = [{"role": "system", "content": fill("blueprint_system")}, {"role": "user", "content": prompt}]
        answer, problems = "", []
        for attempt in range(1 + self.settings.schema_tries):
            call = await self._ask(f"c{cand.index}-v{version}-blueprint-{attempt}", messages, BLUEPRINT_SCHEMA)
            answer = call.text
            if not call.ok:
                problems = [f"the model returned no usable answer ({call.error})"]
            else:
                try:
                    bp = parse_blueprint(call.text, seed=cand.seed)
                    self._answer_event(cand, version, attempt, call, problems=[])
                    return bp.model_copy(update={"name": self._name(cand)}), answer, []
                except BlueprintError as exc:
                    problems = exc.problems
            self._answer_event(cand, version, attempt, call, problems=problems)
            messages = [*messages, {"role": "assistant", "content": answer or "(empty)"},
                        {"role": "user", "content": "Your answer could not be used: " + "; ".join(problems)
                         + ". Answer again with the whole blueprint as one JSON object."}]
        return None, answer, problems

    def _answer_event(self, cand: CandidateState, version: int, attempt: int, call: CachedCall,
                      problems: list[str]) -> None:
        """The audit line of one blueprint answer: its route, how its JSON was found, whether it validated."""
        parse = loads_object(call.text)[1] if call.ok else "failed"
        self.store.event("blueprint_answer", candidate=cand.index, version=version, attempt=attempt, route=call.route,
                         route_fallback=call.route_fallback, parse=parse, valid=not problems, problems=problems[:3])

    async def _critique(self, cand: CandidateState, version: int, bp: TaskBlueprint) -> Critique:
        review = Critique(issues=critique(bp, self.idea))
        if not self.settings.llm_critique:
            return review
        messages = [{"role": "system", "content": fill("critique_system")},
                    {"role": "user", "content": fill("critique_user", idea=self.idea.as_prompt_text(),
                                                     blueprint=bp.to_json())}]
        try:
            call = await self._ask(f"c{cand.index}-v{version}-critique", messages, REVIEW_SCHEMA)
        except LLMUnavailable as exc:  # advisory: its absence is recorded, it never stops the task
            review.advisory_error = str(exc)
            return review
        if call.ok:
            review.advisory = parse_advisory(call.text)
        else:
            review.advisory_error = call.error
        return review

    def _render(self, cand: CandidateState, version: int, bp: TaskBlueprint) -> Path:
        vdir = self.store.version_dir(cand.index, version)
        task_dir, report_path = vdir / "task", vdir / "render.json"
        if report_path.is_file() and task_dir.is_dir():
            return task_dir
        if task_dir.exists():
            shutil.rmtree(task_dir)  # a render cut short by a crash
        report = render_task(bp, task_dir)
        write_atomic(report_path, report.model_dump_json(indent=2))
        self._event("render", cand, version=version, files=len(report.files))
        return task_dir

    async def _audit(self, cand: CandidateState, version: int, task_dir: Path) -> AuditSummary:
        vdir = self.store.version_dir(cand.index, version)
        path, work = vdir / "audit.json", vdir / "audit"
        if path.is_file():
            return AuditSummary.model_validate_json(path.read_text(encoding="utf-8"))
        if work.exists():
            shutil.rmtree(work)
        self._event("gates", cand, version=version, state="running")
        try:
            audit = await self.gate_runner(task_dir, references=self._references(cand), work_dir=work)
        except Exception as exc:  # noqa: BLE001 - a task the gate machinery cannot even load is a rejected task
            detail = one_line(f"{type(exc).__name__}: {exc}", 500)
            audit = AuditSummary(verdict="rejected", failed_gates=["gates"],
                                 gates={"gates": GateOutcome(ok=False, detail=f"the gates could not run: {detail}")})
        if audit.verdict == "accepted" and self.calibration is not None:
            audit = await self._calibrate(task_dir, audit, vdir / "calibrate")
        write_atomic(path, audit.model_dump_json(indent=2))
        self._event("gates", cand, version=version, verdict=audit.verdict, failed_gates=audit.failed_gates)
        return audit

    async def _calibrate(self, task_dir: Path, audit: AuditSummary, work: Path) -> AuditSummary:
        """The optional calibrate gate, charged to the run's budget."""
        self.budget.check()
        outcome, spent = await calibrate(task_dir, self.calibration, work, self.budget.remaining_usd)
        self.budget.add(spent)
        self._save()
        failed = [] if outcome.ok else [CALIBRATE_GATE]
        return AuditSummary(verdict="accepted" if outcome.ok else "rejected", failed_gates=failed,
                            gates={**audit.gates, CALIBRATE_GATE: outcome})

    def _references(self, cand: CandidateState) -> list[Path]:
        """The dedup gate's comparison set: the references plus the tasks this run already accepted."""
        refs = [Path(r.path) for r in self.state.references]
        refs += [self.output / c.promoted_to for c in self.state.candidates
                 if c is not cand and c.status == "accepted" and c.promoted_to]
        return refs

    # ---- ends ------------------------------------------------------------------------------------
    def _promote(self, cand: CandidateState, task_dir: Path) -> None:
        if cand.promoted_to is None:
            taken = {c.promoted_to for c in self.state.candidates if c.promoted_to}
            cand.promoted_to = free_name(self.output, cand.name or self._name(cand), taken)
            self._save()  # first the intent, then the rename: a crash in between is finished on resume
        place_task(task_dir, self.output / cand.promoted_to, self.state.run_id)
        self._accepted(cand)

    def _accepted(self, cand: CandidateState) -> None:
        cand.status, cand.reason, cand.failed_gates = "accepted", None, []
        self._save()
        self._event("accepted", cand, task=cand.promoted_to)

    def _reject(self, cand: CandidateState, bp: TaskBlueprint | None, problems: list[str], failed: list[str]) -> None:
        first = problems[0] if problems else "no blueprint"
        cand.status, cand.failed_gates = "rejected", failed
        cand.reason = one_line(f"after {cand.rounds} round(s), failed {', '.join(failed) or 'checks'}: {first}", 500)
        name = cand.name = cand.name or self._name(cand)
        record = {"task": name, "run": self.state.run_id, "rounds": cand.rounds, "failed_gates": failed,
                  "reason": cand.reason, "problems": problems}
        place_rejected(self.output, name, self._last_render(cand), record, self.state.run_id)
        self._save()
        self._event("rejected", cand, reason=cand.reason, failed_gates=failed)

    def _last_render(self, cand: CandidateState) -> Path | None:
        for version in reversed(range(cand.rounds)):
            task = self.store.version_dir(cand.index, version) / "task"
            if (self.store.version_dir(cand.index, version) / "render.json").is_file():
                return task
        return None


def open_run(idea: TaskIdea, idea_file: Path, settings: GenerateSettings, output: Path,
             references: list[Reference], *, resume: bool) -> tuple[RunStore, RunState]:
    """A new run folder (with its state), or the latest run of this idea for --resume."""
    digest = idea_digest(idea)
    if resume:
        store = RunStore.latest(output, digest)
        state = store.load()
        for index in range(len(state.candidates), settings.n):  # a larger -n on resume adds candidates
            state.candidates.append(CandidateState(index=index, seed=settings.seed + index))
        for cand in state.candidates:
            if cand.status == "stopped":
                cand.status = "pending"
        return store, state
    run_id = RunStore.new_run_id()
    store = RunStore(output / RUNS_DIR / run_id)
    state = RunState(run_id=run_id, idea_digest=digest, idea_file=str(idea_file),
                     settings=settings.model_dump(mode="json"), references=references,
                     candidates=[CandidateState(index=i, seed=settings.seed + i) for i in range(settings.n)])
    write_atomic(store.root / "idea.json", idea.as_prompt_text(), make_parents=True)
    store.save(state)
    store.event("run_start", run_id=run_id, references=[r.model_dump() for r in references])
    return store, state


async def generate(idea: TaskIdea, idea_file: Path, settings: GenerateSettings, output: Path, *,
                   references: list[Reference], resume: bool, gate_runner: GateRunner,
                   on_event: Callable[[str, dict[str, Any]], None] | None = None,
                   calibration: Calibration | None = None) -> Outcome:
    """Run (or resume) generation; the returned Outcome says what was accepted, rejected or stopped."""
    output.mkdir(parents=True, exist_ok=True)
    store, state = open_run(idea, idea_file, settings, output, references, resume=resume)
    if resume:
        state.settings = settings.model_dump(mode="json")
    return await Generator(idea, settings, output, store, state, gate_runner, on_event, calibration).run()

