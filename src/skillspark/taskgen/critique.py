"""Critique of a blueprint before anything is built: deterministic checks that block, an LLM review that advises.

The deterministic checks catch, from the text alone, the failures the original pipeline shipped: tests
that assert nothing (or class-style tests it wrapped into an always-passing function), output paths the
instruction never names, verifiers that need the network, oracles that never read their inputs (hard-coded
answers), answers printed in the instruction, unseeded data. The LLM review can only add warnings: a
model's opinion never rejects a task, the gates do.
"""

from __future__ import annotations

import ast
import re
from typing import Literal

from pydantic import BaseModel, Field

from skillspark.llm.structured import JsonSchema, loads_object, schema_for
from skillspark.taskgen.blueprint import TaskBlueprint
from skillspark.taskgen.idea import TaskIdea

Severity = Literal["error", "warning"]
Area = Literal["instruction", "environment", "generator", "oracle", "tests"]
_NETWORK_MODULES = {"requests", "urllib", "urllib3", "http", "httpx", "socket", "aiohttp", "ftplib"}
_UNSEEDED = re.compile(r"\b(time\.time|datetime\.now|datetime\.utcnow|date\.today|os\.urandom|uuid\.uuid[14]|"
                       r"secrets\.|random\.(?:random|randint|choice|shuffle|uniform|sample|gauss)\()")
_INSTALL = re.compile(r"\b(pip3?\s+install|apt-get\s+install|curl\s|wget\s)")


class Issue(BaseModel):
    severity: Severity
    area: str  # instruction | environment | generator | oracle | tests
    message: str


class Critique(BaseModel):
    """The critique of one blueprint version."""

    issues: list[Issue] = Field(default_factory=list)
    advisory: list[Issue] = Field(default_factory=list)  # from the LLM review; never blocking
    advisory_error: str | None = None  # why the LLM review is missing, when it is

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]


def critique(bp: TaskBlueprint, idea: TaskIdea | None = None) -> list[Issue]:
    """All deterministic findings, errors first; with the idea, also where the blueprint departs from it."""
    syntax = _syntax_issues(bp)
    code_checks = [] if syntax else [*_test_issues(bp), *_network_issues(bp), *_leak_issues(bp)]  # need the AST
    issues = [*syntax, *code_checks, *_path_issues(bp), *_oracle_issues(bp), *_generator_issues(bp),
              *(_idea_issues(bp, idea) if idea else [])]
    return sorted(issues, key=lambda i: i.severity != "error")


def _syntax_issues(bp: TaskBlueprint) -> list[Issue]:
    issues = []
    for area, field in (("generator", "data_generator"), ("oracle", "oracle"), ("tests", "tests")):
        try:
            compile(getattr(bp, field), f"<{field}>", "exec")
        except SyntaxError as exc:  # also NUL bytes (no line number then)
            where = f"line {exc.lineno}: " if exc.lineno else ""
            issues.append(_error(area, f"{field} is not valid Python ({where}{exc.msg}); write a complete Python script"))
    return issues


def _idea_issues(bp: TaskBlueprint, idea: TaskIdea) -> list[Issue]:
    issues = []
    missing = [p for p in idea.output_paths if p not in bp.output_paths]
    if missing:
        issues.append(_error("instruction", f"the idea asks for output path(s) {', '.join(missing)}; "
                                            "use exactly those in output_paths"))
    if bp.environment.allow_internet and not idea.needs_internet:
        issues.append(_error("environment", "allow_internet is true but the idea does not need the network; "
                                            "set it to false and use local data"))
    return issues


def _error(area: str, message: str) -> Issue:
    return Issue(severity="error", area=area, message=message)


def _test_issues(bp: TaskBlueprint) -> list[Issue]:
    tree = ast.parse(bp.tests)
    issues = []
    if any(isinstance(n, ast.ClassDef) and n.name.startswith("Test") for n in tree.body):
        issues.append(_error("tests", "tests: use top-level `def test_*():` functions, not test classes "
                                      "(the stdlib runner of the verifier only collects functions)"))
    tests = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]
    with_args = [t.name for t in tests if t.args.args or t.args.vararg or t.args.kwarg]
    if with_args:
        issues.append(_error("tests", f"tests: {', '.join(with_args)} take parameters (fixtures); "
                                      "test functions must take none"))
    vacuous = [t.name for t in tests if not _asserts(t)]
    if vacuous:
        issues.append(_error("tests", f"tests: {', '.join(vacuous)} assert nothing (vacuous); every test must "
                                      "assert on the output"))
    if len(tests) - len(vacuous) < 2:
        issues.append(_error("tests", f"tests: {len(tests) - len(vacuous)} test function(s) with an assertion; "
                                      "write at least 2 that check different properties of the output"))
    return issues


def _asserts(function: ast.FunctionDef) -> bool:
    """Whether the function asserts something that can fail (not `assert True` or a constant)."""
    for node in ast.walk(function):
        if isinstance(node, ast.Assert) and not isinstance(node.test, ast.Constant):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "raises":
            return True
    return False


def _path_issues(bp: TaskBlueprint) -> list[Issue]:
    issues = []
    for path in bp.output_paths:
        missing = [where for where, text in (("instruction", bp.instruction), ("oracle", bp.oracle),
                                             ("tests", bp.tests)) if path not in text]
        if missing:
            issues.append(_error("instruction" if "instruction" in missing else missing[0],
                                 f"output path {path} does not appear in the {', '.join(missing)}; the instruction, "
                                 "oracle and tests must name the same output path"))
        if path in bp.input_paths:
            issues.append(_error("generator", f"{path} is both an input and an output; the verifier restores the "
                                              "inputs before it checks, so write outputs to a separate path"))
    for path in bp.input_paths:
        if path not in bp.data_generator:
            issues.append(_error("generator", f"input path {path} does not appear in data_generator; it must "
                                              "write every input path"))
        if path not in bp.instruction:
            issues.append(Issue(severity="warning", area="instruction",
                                message=f"input path {path} is not named in the instruction"))
    return issues


def _imports(code: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def _network_issues(bp: TaskBlueprint) -> list[Issue]:
    if bp.environment.allow_internet:
        return []
    issues = []
    for area, code in (("tests", bp.tests), ("oracle", bp.oracle), ("generator", bp.data_generator)):
        used = sorted(_imports(code) & _NETWORK_MODULES)
        if used or re.search(r"https?://", code) or _INSTALL.search(code):
            what = ", ".join(used) or "a URL or an installer"
            issues.append(_error(area, f"{area} uses the network ({what}) but the task runs offline; "
                                       "use only the standard library and local files"))
    return issues


def _oracle_issues(bp: TaskBlueprint) -> list[Issue]:
    names = {p for path in bp.input_paths for p in (path, path.rsplit("/", 1)[-1])}
    if not any(name in bp.oracle for name in names):
        return [_error("oracle", "the oracle never reads an input path (a hard-coded answer?); it must compute "
                                 f"the outputs from {', '.join(bp.input_paths)}")]
    return []


def _literals(code: str) -> set[str]:
    """Distinctive constants asserted in the tests: numbers with 3+ digits and strings of 8+ characters."""
    found = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Constant) and not isinstance(node.value, bool):
            value = node.value
            if isinstance(value, int | float) and len(re.sub(r"\D", "", repr(value))) >= 3:
                found.add(repr(value))
            elif isinstance(value, str) and len(value) >= 8 and not value.startswith("/"):
                found.add(value)
    return found


def _leak_issues(bp: TaskBlueprint) -> list[Issue]:
    issues = []
    literals = _literals(bp.tests)
    asserted_keys = {k for k in literals if re.fullmatch(r"[A-Za-z_][\w.-]*", k)}  # key names, not answers
    answers = sorted(literals - asserted_keys)
    in_oracle = [v for v in answers if v in bp.oracle]
    if in_oracle:
        issues.append(_error("oracle", f"the oracle contains values the tests expect ({', '.join(in_oracle[:3])}); "
                                       "compute them from the inputs instead of hard-coding them"))
    shown = [v for v in answers if v in bp.instruction or v in bp.data_generator]
    if shown:
        issues.append(_error("instruction", f"expected values ({', '.join(shown[:3])}) appear in what the agent "
                                            "sees (instruction or input data); keep answers out of its reach"))
    numbers = [v for v in answers if re.fullmatch(r"-?[\d.e+-]+", v)]
    if numbers:
        issues.append(Issue(severity="warning", area="tests",
                            message=f"tests compare against literal numbers ({', '.join(numbers[:3])}); compute "
                                    "expected values from the inputs so that any seed passes"))
    return issues


def _generator_issues(bp: TaskBlueprint) -> list[Issue]:
    issues = []
    if "SEED" not in bp.data_generator:
        issues.append(_error("generator", "data_generator never uses SEED; draw all randomness from "
                                          "random.Random(SEED) so each seed gives one fixed dataset"))
    if _UNSEEDED.search(bp.data_generator):
        issues.append(_error("generator", "data_generator uses time, unseeded random or OS entropy; use only "
                                          "random.Random(SEED) so builds are reproducible"))
    return issues


class _ReviewIssue(BaseModel):
    area: Area
    message: str


class _Review(BaseModel):
    """The shape of the LLM review's answer (its schema is sent with the request)."""

    issues: list[_ReviewIssue]


def review_schema() -> JsonSchema:
    """The review's schema; the embedded model gets at most 3 short issues (advice, and it runs every round)."""
    full = schema_for(_Review, name="blueprint_review",
                      limits={"issues": {"maxItems": 10}, "issues.message": {"maxLength": 500}})
    small = schema_for(_Review, name="blueprint_review",
                       limits={"issues": {"maxItems": 3}, "issues.message": {"maxLength": 200}})
    return full.model_copy(update={"grammar_body": small.body})


def parse_advisory(text: str) -> list[Issue]:
    """Issues from the LLM review's JSON answer, all downgraded to warnings; junk gives none."""
    data, _, _ = loads_object(text)
    items = data.get("issues") if data is not None else None
    issues = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("message"), str) and item["message"].strip():
            issues.append(Issue(severity="warning", area=str(item.get("area", "general"))[:32],
                                message=item["message"].strip()[:500]))
    return issues[:10]
