"""Reading ATIF trajectories (`trajectory.json`) back: the commands an agent ran and its last output.

Why: SPARK's memo ("Commands From Last Attempt") and its distillation evidence (Execution Chain, Raw
Support Tail) come from what the agent actually did. These readers work on the raw JSON, not on Harbor's
strict models, so trajectories of other agents (terminus-2's `keystrokes`, Claude Code's `Bash`,
Codex's `exec_command` argument lists) are read as well as skillspark's own `bash` tool calls.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from skillspark.errors import UserError

_COMMAND_KEYS = ("command", "cmd", "keystrokes")
_SHELLS = ("bash", "sh", "zsh", "/bin/bash", "/bin/sh", "/usr/bin/bash")


def commands_from_trajectory(path: Path | str) -> list[str]:
    """The shell commands of every tool call in the trajectory at `path`, in order."""
    return trajectory_commands(load_trajectory(path))


def final_output_tail(path: Path | str, n_chars: int) -> str:
    """The last `n_chars` characters of all observation output in the trajectory at `path`, in order."""
    return trajectory_output_tail(load_trajectory(path), n_chars)


def trajectory_commands(data: dict[str, Any]) -> list[str]:
    """The shell commands of every tool call in parsed trajectory `data`, in order."""
    commands = []
    for step in _steps(data):
        for call in step.get("tool_calls") or []:
            command = _command_of(call.get("arguments") or {}) if isinstance(call, dict) else ""
            if command:
                commands.append(command)
    return commands


def trajectory_output_tail(data: dict[str, Any], n_chars: int) -> str:
    """The last `n_chars` characters of all observation output in parsed trajectory `data`."""
    texts = []
    for step in _steps(data):
        observation = step.get("observation")
        for result in (observation.get("results") or [] if isinstance(observation, dict) else []):
            texts.append(_text_of(result.get("content")) if isinstance(result, dict) else "")
    joined = "\n".join(t for t in texts if t)
    return joined[-n_chars:] if n_chars > 0 else ""


def is_trajectory(data: Any) -> bool:
    """Whether parsed JSON has the shape these readers need: an object with a `steps` list."""
    return isinstance(data, dict) and isinstance(data.get("steps"), list)


def load_trajectory(path: Path | str) -> dict[str, Any]:
    """The parsed trajectory at `path` (a file the user named); UserError when it is not one."""
    file = Path(path)
    try:
        data = json.loads(file.read_text())
    except OSError as exc:
        raise UserError(f"{file}: cannot read the trajectory ({exc.strerror}); pass an agent's trajectory.json") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{file}: not valid JSON (line {exc.lineno}); pass an ATIF trajectory.json") from None
    if not is_trajectory(data):
        raise UserError(f"{file}: no 'steps' list; this is not an ATIF trajectory.json")
    return data


def _steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in data.get("steps") or [] if isinstance(s, dict)]


def _command_of(arguments: dict[str, Any]) -> str:
    for key in _COMMAND_KEYS:
        value = arguments.get(key)
        if isinstance(value, str):
            return value.strip()
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            # ["bash", "-lc", "script"] is a shell running one script: the script is the command.
            if len(value) == 3 and value[0] in _SHELLS and value[1] in ("-c", "-lc"):
                return value[2].strip()
            return shlex.join(value)
    return ""


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""
