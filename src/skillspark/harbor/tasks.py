"""Static reading and checking of a Harbor task directory, before anything is built or run.

Every problem becomes one line that names the file and says how to fix it, so that
`skillspark tasks check` can list all of them and a caller of `load_task` gets one clear
`UserError`. Harbor's own config model and linter do the parts they cover; this module adds what
a runnable task also needs (a Dockerfile whose COPY sources exist, a test script that writes a
reward, an oracle solution).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path

from harbor.constants import ORG_NAME_PATTERN
from harbor.models.task.config import TaskConfig
from harbor.models.task.task import strip_canary
from pydantic import BaseModel, ValidationError

from skillspark.errors import UserError, print_error
from skillspark.harbor import dockerfile

# Harbor lint rules that make a task unusable; everything else it reports is style advice.
_BLOCKING_LINT_RULES = {"invalid-task-config", "invalid-task-files"}
_WARNING_LINT_RULES = {"unknown-config-field"}
_REWARD_FILE = re.compile(r"reward\.(txt|json)")
LEGACY_ORG = "local"  # the org a task whose [task] name is not `org/name` runs under
_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_WEEK_S = 7 * 86400
# task.toml values past these bounds are typos, not requests (memory_mb = 10**12, cpus = -3, a negative timeout).
_LIMITS = {  # (section, key): (lowest, highest, unit)
    ("environment", "cpus"): (0.01, 1024, "cpus"),
    ("environment", "memory_mb"): (16, 1 << 20, "MB"),
    ("environment", "storage_mb"): (16, 1 << 24, "MB"),
    ("environment", "gpus"): (0, 64, "GPUs"),
    ("environment", "build_timeout_sec"): (1, _WEEK_S, "seconds"),
    ("agent", "timeout_sec"): (1, _WEEK_S, "seconds"),
    ("verifier", "timeout_sec"): (1, _WEEK_S, "seconds"),
}


class TaskInfo(BaseModel):
    """A task directory that passed the static checks, with what callers need from it."""

    name: str
    path: Path
    instruction: str
    config: TaskConfig
    dockerfile: Path | None
    base_images: list[str]
    warnings: list[str] = []


class TaskInspection(BaseModel):
    """The outcome of the static checks: `info` is set exactly when `problems` is empty."""

    path: Path
    name: str
    problems: list[str] = []
    warnings: list[str] = []
    info: TaskInfo | None = None


def load_task(path: Path | str) -> TaskInfo:
    """Read a task directory; raise `UserError` naming its first problem if it is not runnable."""
    inspection = inspect_task(path)
    if inspection.info is None:
        more = len(inspection.problems) - 1
        extra = f" (+{more} more; `skillspark tasks check {path}` lists all)" if more else ""
        raise UserError(f"task {inspection.name}: {inspection.problems[0]}{extra}")
    return inspection.info


class Screening(BaseModel):
    """A batch sorted before a run: tasks to run (each once), one line per task left out, warnings of the rest."""

    tasks: list[TaskInfo] = []
    refused: list[str] = []
    warnings: list[str] = []

    def announce(self) -> None:
        """Print warnings and refusals on stderr; a batch with nothing left to run is a `UserError`."""
        for line in self.warnings:
            print(f"warning: {line}", file=sys.stderr)
        if not self.tasks and len(self.refused) == 1:
            raise UserError(self.refused[0])  # a single bad task: its own line is the whole story
        for line in self.refused:
            print_error(line)
        if not self.tasks:
            raise UserError("no runnable task left in the batch; fix the problems listed above")

    def raise_if_refused(self) -> None:
        """Once the rest of the batch has run: exit 2 if any task was left out, so scripts notice."""
        if self.refused:
            raise UserError(f"{len(self.refused)} task(s) were left out (listed above); fix them and run them again")


def screen_tasks(task_dirs: list[Path], *, dockerfile_check: Callable[[Path], object] | None = None) -> Screening:
    """Sort a batch so that one bad task never stops the others (`run` and `explore` go on without it).

    `dockerfile_check` is the chosen environment's refusal of a Dockerfile it cannot build (the local
    sandbox: alpine, multi-stage, ...); it raises `UserError`.
    """
    screening = Screening()
    for task_dir in task_dirs:
        try:
            info = load_task(task_dir)
            if dockerfile_check is not None and info.dockerfile is not None:
                dockerfile_check(info.dockerfile)
        except UserError as exc:
            line = str(exc)
            screening.refused.append(line if line.startswith("task ") else f"task {Path(task_dir).name}: {line}")
            continue
        if all(info.path != kept.path for kept in screening.tasks):
            screening.tasks.append(info)
            screening.warnings += [f"task {info.name}: {warning}" for warning in info.warnings]
    return screening


def inspect_task(path: Path | str) -> TaskInspection:
    """Run every static check on one task directory and collect one line per problem."""
    task_dir = Path(path).expanduser()
    name = task_dir.resolve().name or str(task_dir)
    if not task_dir.is_dir():
        what = "is not a directory" if task_dir.exists() else "does not exist"
        return TaskInspection(
            path=task_dir,
            name=name,
            problems=[f"{task_dir} {what}; pass a Harbor task directory (instruction.md, task.toml, environment/, tests/)"],
        )
    task_dir = task_dir.resolve()
    problems: list[str] = []
    warnings: list[str] = []
    config = _read_config(task_dir, problems, warnings)
    instruction = _read_instruction(task_dir, problems)
    _check_tests(task_dir, problems)
    _check_solution(task_dir, problems)
    docker_file, images = _check_environment(task_dir, config, problems)
    _harbor_lint(task_dir, problems, warnings)
    if config is not None and config.task is not None:
        name = config.task.name.split("/")[-1]
    if problems:
        return TaskInspection(path=task_dir, name=name, problems=problems, warnings=warnings)
    info = TaskInfo(
        name=name,
        path=task_dir,
        instruction=instruction,
        config=config,
        dockerfile=docker_file,
        base_images=images,
        warnings=warnings,
    )
    return TaskInspection(path=task_dir, name=name, warnings=warnings, info=info)


def _read_config(task_dir: Path, problems: list[str], warnings: list[str]) -> TaskConfig | None:
    """task.toml through Harbor's own `TaskConfig` model, then the bounds Harbor does not check."""
    path = task_dir / "task.toml"
    if not path.is_file():
        problems.append("task.toml is missing; add one (at least `[verifier]` and `[agent]` timeouts)")
        return None
    text = read_utf8(path, "task.toml", problems)
    if text is None:
        return None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"task.toml is not valid TOML ({exc}); fix its syntax")
        return None
    legacy = legacy_name(raw)
    if legacy is not None:
        warnings.append(
            f"task.toml: [task] name {raw['task']['name']!r} is not in Harbor's org/name form; "
            f"accepted as '{legacy}' (write name = \"yourorg/{legacy}\" to silence this)"
        )
        raw["task"]["name"] = f"{LEGACY_ORG}/{legacy}"
    try:
        config = TaskConfig.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors(include_url=False, include_input=False):
            where = ".".join(str(part) for part in error["loc"]) or "task.toml"
            problems.append(f"task.toml: {where}: {error['msg']}; correct that field")
        return None
    bad_values = _out_of_range(config)
    problems.extend(bad_values)
    return None if bad_values else config


def _out_of_range(config: TaskConfig) -> list[str]:
    """One line per task.toml value outside what any machine or run could honour (see `_LIMITS`)."""
    found = []
    for (section, key), (low, high, unit) in _LIMITS.items():
        value = getattr(getattr(config, section), key)
        if value is None or (math.isfinite(value) and low <= value <= high):
            continue
        found.append(
            f"task.toml: {section}.{key} = {value} is out of range; use a number from {low:g} to {high:g} ({unit})"
        )
    return found


def legacy_name(raw: dict) -> str | None:
    """For a `[task] name` that Harbor refuses (not `org/name`), the short name it runs under; else None."""
    task = raw.get("task")
    name = task.get("name") if isinstance(task, dict) else None
    if not isinstance(name, str) or (re.match(ORG_NAME_PATTERN, name) and ".." not in name):
        return None
    short = _NAME_CHARS.sub("-", name.rsplit("/", 1)[-1]).replace("..", ".").lstrip("._-")
    return short or "task"


def read_utf8(path: Path, where: str, problems: list[str]) -> str | None:
    """The file's text, or None with one problem line saying where it is not UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        problems.append(
            f"{where} is not valid UTF-8 (byte 0x{data[exc.start]:02x} on line {line}); re-save it as UTF-8"
        )
        return None


def _read_instruction(task_dir: Path, problems: list[str]) -> str:
    path = task_dir / "instruction.md"
    if not path.is_file():
        problems.append("instruction.md is missing; add the task description the agent will read")
        return ""
    text = read_utf8(path, "instruction.md", problems)
    if text is None:
        return ""
    text = strip_canary(text).strip()
    if not text:
        problems.append("instruction.md is empty; describe what the agent must do")
    return text


def _check_tests(task_dir: Path, problems: list[str]) -> None:
    script = task_dir / "tests" / "test.sh"
    if not script.is_file():
        problems.append("tests/test.sh is missing; add a verifier script that writes /logs/verifier/reward.txt")
        return
    test_files = [p for p in (task_dir / "tests").rglob("*") if p.is_file()]
    if not any(_REWARD_FILE.search(p.read_text(errors="replace")) for p in test_files):
        problems.append(
            "tests/test.sh never writes a reward; write 1 or 0 to /logs/verifier/reward.txt "
            "(or a JSON object to /logs/verifier/reward.json)"
        )


def _check_solution(task_dir: Path, problems: list[str]) -> None:
    if not (task_dir / "solution" / "solve.sh").is_file():
        problems.append("solution/solve.sh is missing; add the oracle script that solves the task")


def _check_environment(task_dir: Path, config: TaskConfig | None, problems: list[str]) -> tuple[Path | None, list[str]]:
    """The Dockerfile must exist (unless task.toml names a prebuilt image) and its COPY/ADD sources too."""
    context = task_dir / "environment"
    path = context / "Dockerfile"
    prebuilt = config.environment.docker_image if config is not None else None
    if not path.is_file():
        if prebuilt:
            return None, [prebuilt]
        problems.append("environment/Dockerfile is missing; add one (or set environment.docker_image in task.toml)")
        return None, []
    text = read_utf8(path, "environment/Dockerfile", problems)
    if text is None:
        return path, []
    instructions = dockerfile.parse_instructions(text)
    images = dockerfile.base_images(instructions)
    if not images:
        problems.append("environment/Dockerfile has no FROM line; start it with e.g. `FROM ubuntu:24.04`")
    for item in dockerfile.missing_copy_sources(path, context):
        problems.append(
            f"environment/Dockerfile line {item.line}: {item.keyword} source '{item.source}' "
            f"does not exist in environment/; add the file or fix the path"
        )
    return path, images


def _harbor_lint(task_dir: Path, problems: list[str], warnings: list[str]) -> None:
    """Harbor's own offline linter, for what it checks beyond the above (symlinks, unknown fields)."""
    from harbor.lint import lint_task
    from harbor.lint.compose import ComposeLoadError
    from harbor.lint.models import LintRule

    rules = {LintRule(rule) for rule in _BLOCKING_LINT_RULES | _WARNING_LINT_RULES}
    try:
        findings = lint_task(task_dir, selected_rules=rules)
    except ComposeLoadError as exc:
        warnings.append(f"docker-compose checks skipped: {exc}")
        return
    except UnicodeDecodeError as exc:  # a file the checks above do not read (they name the ones they do)
        if not any("not valid UTF-8" in p for p in problems):
            problems.append(f"a task file is not valid UTF-8 ({exc.reason} at byte {exc.start}); re-save it as UTF-8")
        return
    reported = " ".join(problems)
    for finding in findings:
        where = _relative(Path(finding.path), task_dir)
        line = f"{where}: {finding.message}"
        if finding.rule.value in _WARNING_LINT_RULES:
            warnings.append(line)
        elif where not in reported and "task.toml" not in where:
            # Missing files and TOML errors are already reported above with a fix; keep the rest.
            problems.append(line)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)


def harbor_task_dir(task_dir: Path, scratch: Path) -> Path:
    """A directory Harbor can load for `task_dir`: itself, or for a legacy `[task] name`, a copy under `scratch`.

    Harbor refuses a task.toml whose name is not `org/name`; tasks in the wild predate that rule. The
    copy hard-links every file (so it costs no space) and drops the `[task]` section, so Harbor names the
    task after the copy's directory: the legacy short name. Its place depends on the task's path and
    files, so parallel and later trials of the same task share it.
    """
    config_path = task_dir / "task.toml"
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return task_dir  # Harbor reports an unreadable task itself
    name = legacy_name(raw)
    if name is None:
        return task_dir
    target = scratch / ".legacy-tasks" / _tree_digest(task_dir) / name
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".copy-", dir=target.parent)) / name
    shutil.copytree(task_dir, staging, symlinks=True, copy_function=_link_or_copy)
    raw.pop("task")
    (staging / "task.toml").unlink()  # a hard link to the original: replace it, never write through it
    (staging / "task.toml").write_text(TaskConfig.model_validate(raw).model_dump_toml(), encoding="utf-8")
    try:
        staging.rename(target)
    except OSError:  # another trial of the same task made it first
        pass
    shutil.rmtree(staging.parent, ignore_errors=True)
    return target


def _tree_digest(task_dir: Path) -> str:
    """Short hash of the task's path and every file's name, size and mtime: a changed task gets a new copy."""
    digest = hashlib.sha256(str(task_dir.resolve()).encode())
    for root, dirs, files in os.walk(task_dir):
        dirs.sort()
        for name in sorted(files):
            stat = os.lstat(os.path.join(root, name))
            digest.update(f"{os.path.relpath(os.path.join(root, name), task_dir)}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:12]


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def find_task_dirs(paths: list[Path]) -> list[Path]:
    """Expand each argument: a task dir stays itself; any other dir becomes its subdirectories.

    Every subdirectory of a collection counts, even a broken one, so that its problems are
    reported instead of it being silently skipped; a path that does not exist is kept as is
    for the same reason.
    """
    found: list[Path] = []
    for path in paths:
        if not path.is_dir() or _looks_like_task(path):
            found.append(path)
            continue
        children = sorted(c for c in path.iterdir() if c.is_dir() and not c.name.startswith((".", "_")))
        found.extend(children or [path])
    return found


def _looks_like_task(path: Path) -> bool:
    markers = ("task.toml", "instruction.md", "environment", "tests", "solution")
    return any((path / marker).exists() for marker in markers)
