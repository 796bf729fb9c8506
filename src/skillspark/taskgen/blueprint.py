"""TaskBlueprint: everything a generated task is rendered from, as one validated model.

Why the split into generator, oracle and tests: the data is produced by `data_generator` from a seed
(the same code at build time and again before verification, so an agent cannot tamper with the inputs
the verifier reads), the oracle computes its answer from that data, and the tests compute what they
expect from the same data. No expected value is ever written where the agent can see it, and a new seed
(`tasks vary`) gives a new instance with tests and oracle unchanged.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from skillspark.llm.structured import JsonSchema, loads_object, schema_for
from skillspark.taskgen.idea import slugify

DEFAULT_IMAGE = "python:3.11-slim-bookworm"  # stands in for the host's Debian 12 python3 in the local sandbox


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
    """A task before rendering. Paths are absolute paths inside the agent's machine.

    The model checks the record's shape (what a JSON schema and a decoding grammar can enforce); whether
    the three code fields are Python is the critique's first blocking check, so a model whose code does
    not parse still leaves a blueprint on record and gets the syntax error back in the repair round.
    """

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


# Fields the pipeline sets itself: never asked of the model.
_OURS = ("seed", "params", "agent_timeout_sec", "verifier_timeout_sec")
# An absolute path whose segments never start with "." (so no "..") and no trailing "/": what `_absolute`
# accepts, in the regex subset llama.cpp's grammar converter reads (anchored, no lookahead).
_PATH = {"pattern": r"^(/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,40}){1,5}$"}
_CODE_CHARS = 1500
# Bounds (characters, items) so an answer always ends: a small model that repeats itself hits the bound
# instead of max_tokens. Generous for a real model: SPARK's blueprints run to about a kilobyte per code field.
_LIMITS = {
    "name": {"maxLength": 48}, "title": {"maxLength": 80}, "category": {"maxLength": 32},
    "tags": {"maxItems": 4}, "tags.[]": {"maxLength": 24},
    "instruction": {"minLength": 20, "maxLength": 1200},
    "environment.base_image": {"maxLength": 64}, "environment.workdir": {"maxLength": 32},
    "environment.apt_packages": {"maxItems": 4}, "environment.pip_packages": {"maxItems": 4},
    "input_paths": {"minItems": 1, "maxItems": 4}, "input_paths.[]": _PATH,
    "output_paths": {"minItems": 1, "maxItems": 4}, "output_paths.[]": _PATH,
    "data_generator": {"maxLength": _CODE_CHARS}, "oracle": {"maxLength": _CODE_CHARS},
    "tests": {"maxLength": _CODE_CHARS},
    "assumptions": {"maxItems": 4}, "parameters": {"maxItems": 4},
    "parameters.name": {"pattern": r"^[a-z_][a-z0-9_]{0,31}$"}, "parameters.choices": {"maxItems": 8},
}
# The embedded 135M model: shorter fields, one or two paths, no parameters (it cannot keep a default
# inside its own range; `tasks vary` still gives new instances by seed).
_SMALL_LIMITS = {
    "title": {"maxLength": 60}, "instruction": {"minLength": 20, "maxLength": 400},
    "tags": {"maxItems": 2}, "environment.apt_packages": {"maxItems": 1},
    "environment.pip_packages": {"maxItems": 1}, "input_paths": {"minItems": 1, "maxItems": 2},
    "output_paths": {"minItems": 1, "maxItems": 1}, "data_generator": {"maxLength": 500},
    "oracle": {"maxLength": 500}, "tests": {"maxLength": 600}, "assumptions": {"maxItems": 1},
    "parameters": {"maxItems": 0},
}


def blueprint_schema() -> JsonSchema:
    """The JSON schema a blueprint answer is asked for with (see `llm.structured`)."""
    full = schema_for(TaskBlueprint, name="task_blueprint", exclude=_OURS, limits=_LIMITS)
    small = schema_for(TaskBlueprint, name="task_blueprint", exclude=_OURS, limits=_LIMITS | _SMALL_LIMITS,
                       max_string=64)
    return full.model_copy(update={"grammar_body": small.body})


def parse_blueprint(text: str, *, seed: int | None = None) -> TaskBlueprint:
    """The blueprint in a model's answer (bare JSON, fenced, or inside prose); BlueprintError says what is wrong."""
    data, _, problem = loads_object(text)
    if data is None:
        raise BlueprintError([f"{problem}; answer with one JSON object only"])
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
