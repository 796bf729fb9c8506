"""The package's own import graph keeps its layers: no cycles, nothing imports upward, commands only from the CLI.

The graph is read with `ast` from src/skillspark (every import statement, function-level and TYPE_CHECKING
ones included, since a lazy import is still a dependency); importing `a.b.c` also counts as importing the
packages `a.b` and `a`, whose `__init__` runs first. docs/architecture.md explains the layers.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
ROOT = "skillspark"

# The one table of layers, lowest first. A module may import its own layer and the ones below, never above.
# The key is the first name under skillspark (a sub-package or a flat module).
LAYERS: dict[str, int] = {
    # 0 the ground floor: shared nouns (skills, redaction), one-line errors, atomic files, settings, limits
    "core": 0, "errors": 0, "files": 0, "limits": 0, "params": 0, "config": 0,
    # 1 services with no area above them: model calls, Harbor tasks and trials, the PDI formulas
    "llm": 1, "harbor": 1, "pdi": 1,
    # 2 the local sandbox, a Harbor environment
    "sandbox": 2,
    # 3 the skillspark agent and its trial runner
    "agents": 3,
    # 4 the areas: skill generation, evaluation, task construction, training
    "explore": 4, "evaluate": 4, "taskgen": 4, "train": 4,
    # 5 the dashboard, which reads what the areas write
    "dashboard": 5,
    # 6 entry points: the CLI, the demo, the package's own __init__ (and every command module, see `layer`)
    "cli": 6, "renamed_flags": 6, "demo": 6, ROOT: 6,
}
CLI_LAYER = max(LAYERS.values())
FLOOR = 0
# Module names that are entry points wherever they sit: they parse flags or start the program.
ENTRY_NAMES = ("commands", "__main__")
# Who may import a command module: the CLI that registers it, and `python -m` entry points.
COMMAND_IMPORTERS = ("skillspark.cli",)

# Known exceptions, each with its reason. Keep this short; fix the code instead where you can.
ALLOWED_CYCLES: dict[frozenset[str], str] = {}


def module_names(src: Path, root: str = ROOT) -> dict[str, bool]:
    """Every module under src/root: dotted name -> whether it is a package (`__init__.py`)."""
    found = {}
    for path in sorted((src / root).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = package
    return found


def _targets(module: str, package: bool, node: ast.Import | ast.ImportFrom, modules: dict[str, bool]) -> list[str]:
    """The modules of ours one import statement loads (the named module, or the package it names a symbol of)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.split(".") if package else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            prefix = ".".join([*base, node.module] if node.module else base)
        else:
            prefix = node.module or ""
        names = [f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in modules else prefix for alias in node.names]
    out = []
    for name in names:
        while name and name not in modules:  # `import a.b.c` of a symbol path: the longest module prefix
            name = name.rpartition(".")[0]
        parts = name.split(".")
        out += [".".join(parts[:i]) for i in range(2, len(parts) + 1)]  # the packages above run first
    return out


def import_graph(src: Path, root: str = ROOT) -> dict[str, set[str]]:
    """module -> the modules of ours it imports, anywhere in its file (its own enclosing packages aside)."""
    modules = module_names(src, root)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, package in modules.items():
        path = src / Path(*name.split("."), "__init__.py" if package else "")
        path = path if package else path.with_suffix(".py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                graph[name] |= {t for t in _targets(name, package, node, modules) if not _encloses(t, name)}
    return graph


def _encloses(target: str, module: str) -> bool:
    """`target` is `module` or a package holding it: already initialising when `module` runs, so no edge."""
    return module == target or module.startswith(target + ".")


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan), i.e. the import cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def is_entry(module: str) -> bool:
    return module.rpartition(".")[2] in ENTRY_NAMES


def area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def layer(module: str) -> int:
    """A command module or `__main__` sits with the CLI, whatever package holds it; the rest by `LAYERS`."""
    return CLI_LAYER if is_entry(module) else LAYERS[area(module)]


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(SRC)


def test_every_part_of_the_package_has_a_layer(graph):
    unplaced = sorted({area(m) for m in graph} - set(LAYERS))
    assert not unplaced, f"add {unplaced} to LAYERS in {Path(__file__).name} (and to docs/architecture.md)"


def test_no_import_cycles(graph):
    found = [sorted(c) for c in cycles(graph) if c not in ALLOWED_CYCLES]
    assert not found, f"import cycles (move the shared part down into a module both can import): {found}"
    stale = [sorted(c) for c in ALLOWED_CYCLES if c not in cycles(graph)]
    assert not stale, f"allowed cycles that no longer exist; remove them from ALLOWED_CYCLES: {stale}"


def test_no_module_imports_one_from_a_higher_layer(graph):
    upward = sorted((m, t, layer(m), layer(t)) for m, targets in graph.items() for t in targets
                    if layer(t) > layer(m))
    assert not upward, "imports from a higher layer (importer, imported, their layers): " + "; ".join(
        f"{m} -> {t} ({lm} < {lt})" for m, t, lm, lt in upward)


def test_only_the_cli_imports_a_command_module(graph):
    found = sorted((m, t) for m, targets in graph.items() for t in targets
                   if is_entry(t) and m not in COMMAND_IMPORTERS and not m.endswith(".__main__"))
    assert not found, ("command modules imported by another module (move the shared function into a non-command "
                       f"module of its area): {found}")


def test_areas_do_not_import_each_other_in_a_circle(graph):
    """Within a layer, areas may use each other one way only (evaluate -> explore, never back)."""
    unit = {m: "floor" if layer(m) == FLOOR else area(m) for m in graph}
    areas: dict[str, set[str]] = defaultdict(set)
    for m, targets in graph.items():
        areas[unit[m]] |= {unit[t] for t in targets if unit[t] != unit[m] and not is_entry(m)}
    assert not cycles(areas), f"areas importing each other: {[sorted(c) for c in cycles(areas)]}"


# The checks above must be able to fail: the same functions over a small package with planted faults.

def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "skillspark" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_graph_sees_relative_function_level_and_package_imports(tmp_path):
    src = _package(tmp_path, {
        "__init__.py": "", "core/__init__.py": "", "core/skill.py": "X = 1\n",
        "agents/__init__.py": "", "agents/runner.py": "from ..core import skill\n",
        "agents/tools.py": "def f():\n    from skillspark.dashboard.server import g\n",
        "dashboard/__init__.py": "", "dashboard/server.py": "import skillspark.agents.tools\n",
    })
    graph = import_graph(src)
    assert graph["skillspark.agents.runner"] == {"skillspark.core", "skillspark.core.skill"}
    assert graph["skillspark.agents.tools"] == {"skillspark.dashboard", "skillspark.dashboard.server"}
    assert cycles(graph) == [frozenset({"skillspark.agents.tools", "skillspark.dashboard.server"})]
    assert layer("skillspark.agents.tools") < layer("skillspark.dashboard.server")  # the upward import is seen


def test_a_command_module_imported_elsewhere_is_found(tmp_path):
    src = _package(tmp_path, {
        "__init__.py": "", "cli.py": "from skillspark.pdi import commands\n",
        "demo.py": "from .pdi.commands import f\n",
        "pdi/__init__.py": "", "pdi/commands.py": "def f(): ...\n",
    })
    graph = import_graph(src)
    importers = sorted(m for m, targets in graph.items() if "skillspark.pdi.commands" in targets)
    assert importers == ["skillspark.cli", "skillspark.demo"]
    assert [m for m in importers if m not in COMMAND_IMPORTERS] == ["skillspark.demo"]
    assert layer("skillspark.pdi.commands") == CLI_LAYER
