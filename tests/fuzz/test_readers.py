"""Property-based: every reader of user- or agent-written files either parses or raises the one documented error.

Arbitrary bytes or text must never end in anything else (a traceback in the CLI). The documented outcomes:
- task.toml (and the whole static task check): a `TaskInspection`, problems as one line each, never an exception;
- the Dockerfile tokenizer: instructions, never an exception; the sandbox's build plan on top: `UserError`;
- the CTRF reader: None or (passed, failed) lists of names, for any JSON object;
- the JSONL reader: (line number, value) pairs, or `UserError` naming the line.
"""

import json
import shutil
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillspark.errors import UserError
from skillspark.harbor import dockerfile
from skillspark.harbor.tasks import inspect_task
from skillspark.harbor.trials import ctrf_results
from skillspark.pdi.evidence import read_jsonl
from skillspark.sandbox.dockerfile import parse_dockerfile_text

GOOD_TASK = Path(__file__).parents[1] / "taskgen" / "tasks" / "answer-42"
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
# task.toml tables with the keys that matter and values of any TOML type (strings quoted, numbers as written)
def _toml_float(value: float) -> str:
    if value != value:
        return "nan"
    return {float("inf"): "inf", float("-inf"): "-inf"}.get(value, repr(value))


toml_scalars = (st.integers(-(10**15), 10**15).map(str) | st.floats().map(_toml_float)
                | st.booleans().map(lambda b: str(b).lower()) | st.text(max_size=12).map(json.dumps))
TOML_KEYS = {"task": ["name", "version"], "agent": ["timeout_sec"], "verifier": ["timeout_sec"],
             "environment": ["cpus", "memory_mb", "storage_mb", "gpus", "build_timeout_sec", "memory"]}


@st.composite
def task_tomls(draw) -> str:
    lines = []
    for section, keys in TOML_KEYS.items():
        chosen = draw(st.lists(st.sampled_from(keys), unique=True, max_size=len(keys)))
        if chosen:
            lines.append(f"[{section}]")
            lines += [f"{key} = {draw(toml_scalars)}" for key in chosen]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def task(tmp_path_factory) -> Path:
    """One copy of the good task; each example overwrites one of its files."""
    return Path(shutil.copytree(GOOD_TASK, tmp_path_factory.mktemp("task") / "t"))


def _assert_inspection(task: Path, relative: str, content: bytes) -> None:
    (task / relative).write_bytes(content)
    inspection = inspect_task(task)  # never raises
    assert (inspection.info is None) == bool(inspection.problems)
    assert all(problem and "\n" not in problem for problem in inspection.problems)


@FAST
@given(content=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_task_toml_bytes_give_an_inspection(task, content):
    _assert_inspection(task, "task.toml", content)


@FAST
@given(text=task_tomls())
def test_task_toml_values_give_an_inspection(task, text):
    _assert_inspection(task, "task.toml", text.encode())


@FAST
@given(content=st.binary(max_size=200))
def test_instruction_bytes_give_an_inspection(task, content):
    _assert_inspection(task, "instruction.md", content)


dockerfile_text = st.lists(
    st.sampled_from(["FROM debian:12", "FROM alpine AS a", "RUN <<EOF", "EOF", "RUN <<-'X' cat", "\tX", "COPY --from=a x y",
                     "COPY [\"a\", \"b\"]", "ADD http://x/y /z", "ENV A=1 B=\"2", "ARG V=${X:-y}", "WORKDIR $V",
                     "SHELL [\"bash\", \"-c\"]", "RUN echo \\", "# comment", "", "USER 1000", "RUN [\"x\""])
    | st.text(alphabet=string.printable + "\u00e9\u2603\x00", max_size=40),
    max_size=12,
).map("\n".join)


@FAST
@given(text=dockerfile_text)
def test_dockerfile_tokenizer_never_raises(text):
    instructions = dockerfile.parse_instructions(text)
    lines = [inst.line for inst in instructions]
    assert lines == sorted(lines) and all(1 <= line <= max(1, len(text.splitlines())) for line in lines)
    for inst in instructions:
        assert inst.keyword == inst.keyword.upper()
        dockerfile.arguments(inst.value)
    dockerfile.base_images(instructions)
    dockerfile.copy_sources(instructions)


@FAST
@given(text=dockerfile_text)
def test_sandbox_build_plan_is_a_plan_or_a_user_error(text):
    try:
        plan = parse_dockerfile_text(text, "Dockerfile")
    except UserError as exc:
        assert str(exc).startswith("Dockerfile") and "\n" not in str(exc)
    else:
        assert plan.base_image


@FAST
@given(report=st.dictionaries(st.sampled_from(["results", "tests", "summary"]) | st.text(max_size=5), json_values, max_size=3)
       | st.fixed_dictionaries({"results": st.fixed_dictionaries({"tests": json_values})})
       | st.fixed_dictionaries({"results": json_values}))
def test_ctrf_reader_gives_names_or_none(report):
    result = ctrf_results(report)
    if result is not None:
        passed, failed = result
        assert all(isinstance(name, str) for name in passed + failed)


@FAST
@given(content=st.binary(max_size=400)
       | st.lists(json_values.map(json.dumps) | st.text(max_size=30), max_size=6).map(lambda ls: "\n".join(ls).encode())
       | st.integers(1, 3000).map(lambda depth: ("[" * depth + "]" * depth).encode()))
def test_jsonl_reader_gives_records_or_a_user_error(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("log") / "trajectory.jsonl"
    path.write_bytes(content)
    try:
        records = list(read_jsonl(path))
    except UserError as exc:
        assert str(exc).startswith(f"{path} line ") and "\n" not in str(exc)
    else:
        assert [number for number, _ in records] == sorted({number for number, _ in records})
