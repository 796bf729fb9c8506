"""Gate `lint`: Harbor's own linter (offline, every rule) and ours: the paths the tests check are named in the instruction.

Harbor's findings that make a task wrong fail the gate (invalid config or files, tests copied into
the agent's image, overlapping artifacts); its advice (a verifier that installs packages or
downloads at verify time, unpinned dependencies, a root agent) is listed in the detail without
failing: whether the verifier really needs the network is what the `offline` gate measures.

Ours: every absolute path the test files name outside the system dirs (what the tests read: the
outputs, and the inputs they compare against) must appear in instruction.md, either as written or
relative to the task's WORKDIR. An agent cannot write `/app/result.txt` if the instruction asks
for `/app/answer.txt`.
"""

from __future__ import annotations

import ast
import posixpath
import re
from pathlib import Path

from skillspark.core.redact import one_line
from skillspark.harbor.tasks import TaskInfo
from skillspark.taskgen.gates.models import GateResult
from skillspark.taskgen.gates.schema import python_test_files

_BLOCKING = {"invalid-task-config", "invalid-task-files", "agent-image-test-leak", "overlapping-artifacts",
             "artifact-log-overlap", "compose-privileged", "compose-symlink-bind-mount"}
# Paths under these are the system, the verifier's own files or scratch space: not the task's outputs.
SYSTEM_DIRS = ("/tests", "/logs", "/solution", "/tmp", "/dev", "/proc", "/sys", "/run", "/usr", "/bin", "/sbin",
               "/lib", "/lib64", "/etc", "/var", "/opt", "/boot", "/snap")
_ABS_PATH = re.compile(r"^/[\w.\-/]*[\w\-]$")
_END = r"(?![\w\-]|\.\w)"  # where a path ends: not inside a longer name (a sentence's full stop is fine)
_SHELL_PATH = re.compile(r"(?<![\w.\-/$])/[\w.\-/]*[\w\-]")


def is_system_path(path: str) -> bool:
    return any(path == d or path.startswith(d + "/") for d in SYSTEM_DIRS)


def checked_paths(task_dir: Path) -> list[str]:
    """Absolute paths outside the system dirs named as string literals in the tests (Python and test.sh)."""
    found: set[str] = set()
    for path in python_test_files(task_dir):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue  # the schema gate reports it
        found |= {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                  and _ABS_PATH.match(n.value)}
    script = task_dir / "tests" / "test.sh"
    if script.is_file():
        text = "\n".join(line.split("#", 1)[0] for line in script.read_text(errors="replace").splitlines())
        found |= set(_SHELL_PATH.findall(text))
    return sorted(p.rstrip("/") for p in found if p != "/" and not is_system_path(p))


def named_in(path: str, instruction: str, workdir: str) -> bool:
    """Whether the instruction names `path`: as written, relative to `workdir`, or by its file name
    in a folder it names ("writes `readings.csv` into /app/out")."""
    if _mentions(path, instruction, workdir):
        return True
    folder, name = posixpath.split(path)
    return folder != "/" and _mentions(folder, instruction, workdir) and bool(_token(name).search(instruction))


def _token(text: str) -> re.Pattern:
    return re.compile(r"(?<![\w.\-/])(\./)?" + re.escape(text) + _END)


def _mentions(path: str, instruction: str, workdir: str) -> bool:
    if re.search(re.escape(path) + _END, instruction):
        return True
    relative = posixpath.relpath(path, workdir) if workdir not in ("", "/") else path.lstrip("/")
    return not relative.startswith("..") and relative != "." and bool(_token(relative).search(instruction))


def lint_gate(info: TaskInfo, harbor_dir: Path, workdir: str) -> GateResult:
    """`harbor_dir` is the task as Harbor loads it (a legacy `[task] name` already rewritten)."""
    from harbor.lint import lint_task
    from harbor.lint.compose import ComposeLoadError

    problems: list[str] = []
    advice: list[str] = []
    try:
        findings = lint_task(harbor_dir)
    except ComposeLoadError as exc:
        findings, advice = [], [f"compose checks skipped: {one_line(str(exc))}"]
    for finding in findings:
        where = Path(finding.path).name
        line = f"{finding.rule.value} ({where}): {one_line(finding.message, 200)}"
        (problems if finding.rule.value in _BLOCKING else advice).append(line)
    missing = [p for p in checked_paths(info.path) if not named_in(p, info.instruction, workdir)]
    if missing:
        problems.append(f"the tests check {', '.join(missing)} but instruction.md never names "
                        f"{'it' if len(missing) == 1 else 'them'}; name every output path in the instruction")
    if problems:
        return GateResult(name="lint", ok=False, detail="; ".join(problems))
    return GateResult(name="lint", ok=True, detail="clean" + (f" (advice: {'; '.join(advice)})" if advice else ""))
