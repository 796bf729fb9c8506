"""Blueprint -> Harbor task directory. Pure text: the same blueprint always gives the same bytes.

What the agent can reach is only what the Dockerfile builds: the inputs, written at build time by the
seeded generator (copied to /tmp and removed after it ran). Expected values exist nowhere on disk: the
tests compute them at verification from the inputs, which `tests/test.sh` first restores by running the
same generator again, so an agent that edits its inputs cannot steer its own grade. The network is off
(`network_mode = "no-network"`) unless the blueprint needs it, and the verifier downloads nothing: pytest
when the image has it, else a stdlib runner shipped in `tests/`. The blueprint itself is kept in
`tests/blueprint.json` (never visible to the agent) so that `tasks vary` can make new instances.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

from pydantic import BaseModel

from skillspark.errors import UserError
from skillspark.files import write_atomic
from skillspark.taskgen.blueprint import TaskBlueprint

BLUEPRINT_FILE = "tests/blueprint.json"
TASK_ORG = "skillspark-gen"
_EXECUTABLE = {"solution/solve.sh", "tests/test.sh"}

_TEST_SH = """#!/bin/bash
# Verifier of a generated task: restore the inputs from the seed, run the tests, write the reward.
# Nothing is downloaded: pytest (with pytest-json-ctrf) when the image has it, else tests/run_tests.py.
set -u
LOGS=/logs/verifier
mkdir -p "$LOGS"
rm -f "$LOGS/ctrf.json"
cd {workdir}
if ! python3 /tests/generate_data.py > "$LOGS/generate_data.txt" 2>&1; then
  echo "the data generator failed while restoring the inputs:"; tail -n 20 "$LOGS/generate_data.txt"
  echo 0 > "$LOGS/reward.txt"
  exit 0
fi
if python3 -c "import pytest, ctrf" >/dev/null 2>&1; then
  python3 -m pytest -rA -p no:cacheprovider --ctrf "$LOGS/ctrf.json" /tests/test_outputs.py
else
  python3 /tests/run_tests.py /tests/test_outputs.py "$LOGS/ctrf.json"
fi
python3 /tests/run_tests.py --reward "$LOGS/ctrf.json" "$LOGS/reward.txt"
"""

_SOLVE_SH = """#!/bin/bash
# Reference solution: computes the outputs from the inputs (never from stored answers).
set -euo pipefail
cd {workdir}
python3 /solution/oracle.py
"""


class RenderReport(BaseModel):
    """What was written: each file with its sha256, so two renders can be compared."""

    task_dir: str
    task_name: str
    files: dict[str, str]


def render_task(blueprint: TaskBlueprint, task_dir: Path) -> RenderReport:
    """Write the task into `task_dir`, which must not exist yet (a render never mixes two versions)."""
    if task_dir.exists():
        raise FileExistsError(f"{task_dir} already exists")
    files = rendered_files(blueprint)
    for relative, text in files.items():
        path = task_dir / relative
        write_atomic(path, text, make_parents=True)
        path.chmod(0o755 if relative in _EXECUTABLE else 0o644)
    digests = {rel: hashlib.sha256(text.encode()).hexdigest() for rel, text in sorted(files.items())}
    return RenderReport(task_dir=str(task_dir), task_name=f"{TASK_ORG}/{blueprint.name}", files=digests)


def rendered_files(blueprint: TaskBlueprint) -> dict[str, str]:
    """Every file of the task by relative path."""
    generator = _generator(blueprint)
    workdir = blueprint.environment.workdir
    return {
        "instruction.md": fill_instruction(blueprint).rstrip() + "\n",
        "task.toml": _task_toml(blueprint),
        "environment/Dockerfile": _dockerfile(blueprint),
        "environment/generate_data.py": generator,
        "solution/solve.sh": _SOLVE_SH.format(workdir=workdir),
        "solution/oracle.py": blueprint.oracle.rstrip() + "\n",
        "tests/test.sh": _TEST_SH.format(workdir=workdir),
        "tests/test_outputs.py": blueprint.tests.rstrip() + "\n",
        "tests/generate_data.py": generator,
        "tests/run_tests.py": resources.files("skillspark.taskgen").joinpath("templates/run_tests.py").read_text(),
        BLUEPRINT_FILE: blueprint.to_json() + "\n",
    }


def fill_instruction(blueprint: TaskBlueprint) -> str:
    """The instruction with each `{{parameter}}` replaced by this instance's value."""
    text = blueprint.instruction
    for name, value in blueprint.resolved_params().items():
        text = text.replace("{{" + name + "}}", str(value))
    return text


def load_blueprint(task_dir: Path) -> TaskBlueprint:
    """The blueprint a generated task was rendered from (what `tasks vary` starts from)."""
    path = task_dir / BLUEPRINT_FILE
    if not path.is_file():
        raise UserError(f"{task_dir}: no {BLUEPRINT_FILE}; `tasks vary` needs a task made by `skillspark tasks generate`")
    try:
        return TaskBlueprint.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise UserError(f"{path}: not a valid blueprint ({type(exc).__name__}); regenerate the task") from None


def _generator(blueprint: TaskBlueprint) -> str:
    header = ("# Input data of this task instance, written at build time and again before verification.\n"
              f"SEED = {blueprint.seed}\n"
              f"PARAMS = {json.dumps(blueprint.resolved_params(), sort_keys=True)}\n\n")
    return header + blueprint.data_generator.rstrip() + "\n"


def _dockerfile(blueprint: TaskBlueprint) -> str:
    env = blueprint.environment
    lines = [f"FROM {env.base_image}", "", f"WORKDIR {env.workdir}"]
    if env.apt_packages:
        lines.append("RUN apt-get update && apt-get install -y --no-install-recommends "
                     f"{' '.join(env.apt_packages)} && rm -rf /var/lib/apt/lists/*")
    if env.pip_packages:
        lines.append(f"RUN python3 -m pip install --no-cache-dir {' '.join(env.pip_packages)}")
    lines += ["COPY generate_data.py /tmp/generate_data.py",
              "RUN python3 /tmp/generate_data.py && rm /tmp/generate_data.py", ""]
    return "\n".join(lines)


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _task_toml(blueprint: TaskBlueprint) -> str:
    network = "public" if blueprint.environment.allow_internet else "no-network"
    keywords = ", ".join(_toml_str(t) for t in blueprint.tags)
    return "\n".join([
        'schema_version = "1.4"',
        "",
        "[task]",
        f"name = {_toml_str(f'{TASK_ORG}/{blueprint.name}')}",
        f"description = {_toml_str(blueprint.title)}",
        f"keywords = [{keywords}]",
        "",
        "[metadata]",
        f"difficulty = {_toml_str(blueprint.difficulty)}",
        f"category = {_toml_str(blueprint.category)}",
        'generated_by = "skillspark tasks generate"',
        f"seed = {blueprint.seed}",
        "",
        "[verifier]",
        f"timeout_sec = {float(blueprint.verifier_timeout_sec)}",
        "",
        "[agent]",
        f"timeout_sec = {float(blueprint.agent_timeout_sec)}",
        "",
        "[environment]",
        "build_timeout_sec = 300.0",
        "cpus = 1",
        "memory_mb = 1024",
        "storage_mb = 512",
        f'network_mode = "{network}"',
        "",
    ])
