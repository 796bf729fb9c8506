"""`tasks vary`: N unseen instances of a generated task's family, each through the gates.

An instance is the parent's blueprint with a new seed and, where the blueprint declares parameters, new
parameter values; instruction template, generator, oracle and tests are locked. Values come from the
model when `--model` is given (checked against the parameter schema; a value outside it is replaced by a
seeded draw and the replacement recorded) or from a seeded draw. Seeds, names and files depend only on
`--seed` (and the model's answers), so the same command twice writes byte-identical tasks. Instances skip
the dedup gate (they are meant to resemble their parent) but must differ from it and pass every other gate.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from skillspark.files import append_line, write_atomic
from skillspark.llm.client import LLMClient
from skillspark.llm.errors import LLMUnavailable
from skillspark.llm.records import CallRecord
from skillspark.llm.structured import JsonSchema, loads_object
from skillspark.taskgen.audit_result import GateRunner
from skillspark.taskgen.blueprint import Parameter, TaskBlueprint
from skillspark.taskgen.critique import critique
from skillspark.taskgen.promote import place_rejected, place_task
from skillspark.taskgen.prompts import fill
from skillspark.taskgen.render import load_blueprint, render_task, rendered_files

MAX_SEED = 2**31 - 1


class Instance(BaseModel):
    name: str
    seed: int
    params: dict[str, int | str] = Field(default_factory=dict)
    params_from: str = "seed"  # "model", "seed", or "seed (model proposed ...)"
    route: str | None = None  # how the model was asked for JSON, when it was (see llm.structured)
    route_fallback: bool = False  # the endpoint refused the schema; asked again without it
    verdict: str = "pending"
    failed_gates: list[str] = Field(default_factory=list)
    reason: str | None = None


def instance_seeds(seed: int, n: int, parent_seed: int) -> list[int]:
    """n distinct seeds drawn from `seed`, none equal to the parent's."""
    rng, seeds = random.Random(seed), []
    while len(seeds) < n:
        s = rng.randint(1, MAX_SEED)
        if s != parent_seed and s not in seeds:
            seeds.append(s)
    return seeds


def draw_params(parameters: list[Parameter], seed: int) -> dict[str, int | str]:
    rng = random.Random(seed)
    return {p.name: rng.randint(p.minimum, p.maximum) if p.kind == "int" else rng.choice(p.choices)
            for p in parameters}


def params_schema(parameters: list[Parameter]) -> JsonSchema:
    """`{"params": {...}}` with one property per parameter: an int in its range or one of its choices."""
    properties = {p.name: {"type": "integer", "minimum": p.minimum, "maximum": p.maximum} if p.kind == "int"
                  else {"type": "string", "enum": list(p.choices)} for p in parameters}
    inner = {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}
    return JsonSchema(name="task_params", body={"type": "object", "properties": {"params": inner},
                                                "required": ["params"], "additionalProperties": False})


def check_proposal(parameters: list[Parameter], text: str) -> dict[str, int | str] | str:
    """The model's proposed values, or why they cannot be used."""
    data, _, _ = loads_object(text)
    values = data.get("params") if data is not None else None
    if not isinstance(values, dict):
        return "no {\"params\": {...}} object in the answer"
    known = {p.name: p for p in parameters}
    unknown = sorted(set(values) - set(known))
    if unknown:
        return f"unknown parameter(s) {', '.join(unknown)}"
    bad = [f"{k}={v!r}" for k, v in values.items() if not known[k].admits(v)]
    if bad:
        return f"outside the schema: {', '.join(bad)}"
    return {p.name: values.get(p.name, p.default) for p in parameters}


async def vary(task_dir: Path, *, n: int, seed: int, output: Path, gate_runner: GateRunner,
               client: LLMClient | None = None) -> list[Instance]:
    """Make, gate and place n instances of the task at `task_dir` into `output`."""
    parent = load_blueprint(task_dir)
    work = output / "_runs" / f"vary-{parent.name}-seed{seed}"
    log = work / "events.jsonl"
    instances = []
    for index, instance_seed in enumerate(instance_seeds(seed, n, parent.seed)):
        instance = Instance(name=f"{parent.name}-s{instance_seed}", seed=instance_seed)
        instance.params, instance.params_from, call = await _params(parent, instance_seed, index, instances, client)
        if call is not None:
            instance.route, instance.route_fallback = call.route, call.route_fallback
        instances.append(instance)
        await _make(parent, instance, output, work, gate_runner)
        append_line(log, instance.model_dump_json())
    return instances


async def _params(parent: TaskBlueprint, seed: int, index: int, earlier: list[Instance],
                  client: LLMClient | None) -> tuple[dict[str, int | str], str, CallRecord | None]:
    """Values, where they came from, and the record of the model's call (None: no model asked)."""
    drawn = draw_params(parent.parameters, seed)
    if client is None or not parent.parameters:
        return drawn, "seed", None
    schema = json.dumps([p.model_dump(exclude_defaults=True) for p in parent.parameters], indent=2)
    used = json.dumps([parent.resolved_params(), *[i.params for i in earlier]])
    messages = [{"role": "system", "content": fill("vary_system")},
                {"role": "user", "content": fill("vary_user", title=parent.title, schema=schema, used=used,
                                                 index=str(index + 1))}]
    try:
        result = await client.chat(messages, temperature=0.0, schema=params_schema(parent.parameters))
    except LLMUnavailable as exc:
        return drawn, f"seed (model unavailable: {exc})", client.records[-1] if client.records else None
    record = client.records[-1]
    proposal = check_proposal(parent.parameters, result.text) if result.ok else (result.error or "no answer")
    if isinstance(proposal, str):
        return drawn, f"seed (model proposal refused: {proposal})", record
    return proposal, "model", record


async def _make(parent: TaskBlueprint, instance: Instance, output: Path, work: Path, gate_runner: GateRunner) -> None:
    try:
        child = TaskBlueprint.model_validate(parent.model_dump() | {
            "seed": instance.seed, "params": instance.params, "name": instance.name})
    except ValidationError as exc:
        _reject(instance, output, None, ["blueprint"], f"the instance is not a valid blueprint: {exc.errors()[0]['msg']}")
        return
    errors = [i.message for i in critique(child) if i.severity == "error"]
    if errors:
        _reject(instance, output, None, ["critique"], errors[0])
        return
    if rendered_files(child) == rendered_files(parent):
        _reject(instance, output, None, ["differs"], "the instance renders to the same files as its parent")
        return
    staging = work / instance.name
    if staging.exists():
        shutil.rmtree(staging)
    task = staging / "task"
    render_task(child, task)
    audit = await gate_runner(task, references=(), work_dir=staging / "audit")
    write_atomic(staging / "audit.json", audit.model_dump_json(indent=2))
    if audit.verdict != "accepted":
        detail = "; ".join(f"{g}: {audit.gates[g].detail}" for g in audit.failed_gates if g in audit.gates)
        _reject(instance, output, task, audit.failed_gates, detail or "rejected by the gates")
        return
    target = output / instance.name
    if target.exists():
        shutil.rmtree(target)  # the same seed made it before: replace it with this run's bytes
    place_task(task, target, "vary")
    instance.verdict = "accepted"


def _reject(instance: Instance, output: Path, task: Path | None, failed: list[str], reason: str) -> None:
    instance.verdict, instance.failed_gates, instance.reason = "rejected", failed, reason
    place_rejected(output, instance.name, task, instance.model_dump(), "vary")
