"""TaskBlueprint: everything a generated task is rendered from, as one validated model.

Why the split into generator, oracle and tests: the data is produced by `data_generator` from a seed
(the same code at build time and again before verification, so an agent cannot tamper with the inputs
the verifier reads), the oracle computes its answer from that data, and the tests compute what they
expect from the same data. No expected value is ever written where the agent can see it, and a new seed
(`tasks vary`) gives a new instance with tests and oracle unchanged.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from skillspark.taskgen.idea import slugify

DEFAULT_IMAGE = "python:3.11-slim-bookworm"  # stands in for the host's Debian 12 python3 in the local sandbox
_FENCE = re.compile(r"^```(?:json)?\s*\n(.*?)\n```\s*$", re.DOTALL)


class BlueprintError(ValueError):
    """The model's answer is not a usable blueprint; `problems` are fed back to it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class Environment(BaseModel):
    """What the agent's machine is built from."""

    base_image: str = DEFAULT_IMAGE
    workdir: str = "/app"
    apt_packages: list[str] = Field(default_factory=list)
    pip_packages: list[str] = Field(default_factory=list)
    allow_internet: bool = False


class Parameter(BaseModel):
    """One knob `tasks vary` may turn. Its value reaches the generator as PARAMS[name] and the
    instruction as `{{name}}`; tests and oracle must read it from the data, never assume it."""

    name: str = Field(pattern=r"^[a-z_][a-z0-9_]*$")
    kind: Literal["int", "choice"]
    default: int | str
    minimum: int | None = None
    maximum: int | None = None
    choices: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Parameter:
        if self.kind == "int":
            if self.minimum is None or self.maximum is None or self.minimum > self.maximum:
                raise ValueError(f"parameter {self.name}: an int needs minimum <= maximum")
            if not isinstance(self.default, int) or not self.minimum <= self.default <= self.maximum:
                raise ValueError(f"parameter {self.name}: default must be an int within [minimum, maximum]")
        elif not self.choices or self.default not in self.choices:
            raise ValueError(f"parameter {self.name}: a choice needs choices that include the default")
        return self

    def admits(self, value: object) -> bool:
        if self.kind == "int":
            return isinstance(value, int) and not isinstance(value, bool) and self.minimum <= value <= self.maximum
        return value in self.choices


class TaskBlueprint(BaseModel):
    """A task before rendering. Paths are absolute paths inside the agent's machine."""

    name: str
    title: str
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    category: str = "general"
    tags: list[str] = Field(default_factory=list)
    instruction: str = Field(min_length=20)
    environment: Environment = Field(default_factory=Environment)
    input_paths: list[str] = Field(min_length=1)
    output_paths: list[str] = Field(min_length=1)
    data_generator: str
    oracle: str
    tests: str
    assumptions: list[str] = Field(default_factory=list)
    parameters: list[Parameter] = Field(default_factory=list)
    seed: int = 0
    params: dict[str, int | str] = Field(default_factory=dict)
    agent_timeout_sec: float = 600.0
    verifier_timeout_sec: float = 180.0

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        return slugify(value)

    @field_validator("input_paths", "output_paths")
    @classmethod
    def _absolute(cls, paths: list[str]) -> list[str]:
        for path in paths:
            pure = PurePosixPath(path)
            if not pure.is_absolute() or ".." in pure.parts or path.endswith("/"):
                raise ValueError(f"{path!r} must be an absolute file path without '..'")
        return paths

    @field_validator("data_generator", "oracle", "tests")
    @classmethod
    def _python(cls, code: str, info) -> str:
        try:
            compile(code, f"<{info.field_name}>", "exec")
        except SyntaxError as exc:
            raise ValueError(f"invalid Python at line {exc.lineno}: {exc.msg}") from None
        return code

    @model_validator(mode="after")
    def _params(self) -> TaskBlueprint:
        known = {p.name: p for p in self.parameters}
        for name, value in self.params.items():
            if name not in known or not known[name].admits(value):
                raise ValueError(f"params[{name!r}] = {value!r} is outside the parameter schema")
        return self

    def resolved_params(self) -> dict[str, int | str]:
        """Every parameter's value for this instance: the chosen one, else its default."""
        return {p.name: self.params.get(p.name, p.default) for p in self.parameters}

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)


def parse_blueprint(text: str, *, seed: int | None = None) -> TaskBlueprint:
    """The blueprint in a model's answer (bare JSON or one fenced block); BlueprintError says what is wrong."""
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1)
    elif not body.startswith("{"):
        start, end = body.find("{"), body.rfind("}")
        body = body[start : end + 1] if 0 <= start < end else body
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise BlueprintError([f"the answer is not valid JSON ({exc.msg} at line {exc.lineno}); "
                              "answer with one JSON object only"]) from None
    if not isinstance(data, dict):
        raise BlueprintError(["the answer must be one JSON object"])
    if seed is not None:
        data["seed"] = seed
    try:
        return TaskBlueprint.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors()[:12]:
            where = ".".join(str(p) for p in error["loc"]) or "(top level)"
            problems.append(f"field {where}: {error['msg']}")
        raise BlueprintError(problems) from None
