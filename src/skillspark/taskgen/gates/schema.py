"""Gate `schema`: the task's files are all there and valid, and its tests assert something.

The static checks are `skillspark tasks check`'s (files present, task.toml through Harbor's model,
Dockerfile COPY sources). On top: the Python test files hold at least two test functions that each
contain an assertion. An assertion is an `assert`, a `raise`, a call whose name starts with
`assert` (unittest, numpy, pandas helpers), `pytest.raises`/`pytest.fail`, or a subprocess call
with `check=True`; a test also asserts when it calls a helper of its module (or a method of its
class) that asserts. A test with no assertion at all passes whatever the agent did.
"""

from __future__ import annotations

import ast
from pathlib import Path

from pydantic import BaseModel

from skillspark.harbor.tasks import TaskInspection
from skillspark.taskgen.gates.models import GateResult

MIN_ASSERTING_TESTS = 2
_FAILING_CALLS = {"raises", "fail", "check_call", "check_output"}


class AssertionTally(BaseModel):
    asserting: list[str] = []
    vacuous: list[str] = []
    problems: list[str] = []


def python_test_files(task_dir: Path) -> list[Path]:
    """Python test files under tests/, as pytest would collect them."""
    tests = task_dir / "tests"
    found = [p for p in tests.rglob("*.py") if p.name.startswith("test_") or p.name.endswith("_test.py")]
    return sorted(p for p in found if p.is_file())


def count_tests(task_dir: Path) -> AssertionTally:
    """Test functions of every test file, split by whether they assert."""
    count = AssertionTally()
    for path in python_test_files(task_dir):
        where = path.relative_to(task_dir)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(where))
        except (SyntaxError, UnicodeDecodeError) as exc:
            line = getattr(exc, "lineno", None)
            count.problems.append(f"{where}{f' line {line}' if line else ''} does not parse ({exc.__class__.__name__}); fix it")
            continue
        for name, asserts in _module_tests(tree):
            (count.asserting if asserts else count.vacuous).append(f"{where}::{name}")
    return count


def _module_tests(tree: ast.Module) -> list[tuple[str, bool]]:
    functions = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    helpers = _asserting(functions, method_calls=False)
    tests = [(name, name in helpers) for name in functions if name.startswith("test")]
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            methods = {n.name: n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
            asserting = _asserting(methods, method_calls=True, outer=helpers)
            tests += [(f"{node.name}.{name}", name in asserting) for name in methods if name.startswith("test")]
    return tests


def _asserting(functions: dict[str, ast.AST], *, method_calls: bool, outer: set[str] = frozenset()) -> set[str]:
    """Names of the functions that assert, directly or through helpers that do (a fixed point)."""
    found = {name for name, node in functions.items() if any(_is_assertion(n) for n in ast.walk(node))}
    while True:
        more = {
            name for name, node in functions.items()
            if name not in found and any(_calls(n, found, method_calls) or _calls(n, outer, False) for n in ast.walk(node))
        }
        if not more:
            return found
        found |= more


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _is_assertion(node: ast.AST) -> bool:
    if isinstance(node, (ast.Assert, ast.Raise)):
        return True
    if not isinstance(node, ast.Call):
        return False
    name = _call_name(node)
    if name.lower().startswith("assert") or name in _FAILING_CALLS:
        return True
    return any(k.arg == "check" and isinstance(k.value, ast.Constant) and k.value.value is True for k in node.keywords)


def _calls(node: ast.AST, names: set[str], method_calls: bool) -> bool:
    if not isinstance(node, ast.Call) or not names:
        return False
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in names
    return method_calls and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
        and func.value.id in ("self", "cls") and func.attr in names


def schema_gate(task_dir: Path, inspection: TaskInspection) -> GateResult:
    if inspection.info is None:
        return GateResult(name="schema", ok=False, detail="; ".join(inspection.problems))
    count = count_tests(task_dir)
    if count.problems:
        return GateResult(name="schema", ok=False, detail="; ".join(count.problems))
    total = len(count.asserting) + len(count.vacuous)
    detail = f"{total} test function(s), {len(count.asserting)} with an assertion"
    if count.vacuous:
        detail += f"; without one: {', '.join(count.vacuous[:5])}"
    if len(count.asserting) < MIN_ASSERTING_TESTS:
        where = "tests/test_*.py" if total else "tests/ (no Python test file found)"
        return GateResult(name="schema", ok=False,
                          detail=f"{detail}; {where} needs at least {MIN_ASSERTING_TESTS} test functions that each assert")
    return GateResult(name="schema", ok=True, detail=detail)
