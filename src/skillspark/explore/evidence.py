"""The six evidence blocks a skill is distilled from (SPARK): what worked, verified, in context.

Task Pattern (abstracted instruction), Execution Chain (key commands of the successful attempt:
classified, scored, low-signal ones removed), Verification (reward, passed tests), Lessons (failure
timeline, repeated failure signatures, confirmed cautions from the memo), Environment (from the
Dockerfile), Raw Support Tail (end of the successful attempt's output).
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from pathlib import Path

from pydantic import BaseModel

from skillspark.explore.records import Attempt
from skillspark.harbor.dockerfile import base_images, parse_instructions
from skillspark.pdi.log import ReflectStep
from skillspark.pdi.memo import parse_memo

LOW_SIGNAL = {"ls", "cat", "echo", "cd", "pwd", "clear", "true", "whoami", "date", "head", "tail", "wc",
              "sleep", "history", "exit", "printf", "tree", "which", "env", "id", "uname"}
_CATEGORY_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("install", re.compile(r"\b(pip3?|uv|apt-get|apt|npm|yarn|pnpm|conda|cargo|gem|go)\s+(install|add|get)\b")),
    ("verify", re.compile(r"\b(pytest|unittest|diff|cmp|sha256sum|md5sum|test\s+-|jq\s+-e|assert)\b")),
    ("edit", re.compile(r"(>\s*\S|<<\s*'?\w+|\bsed\s+-i\b|\btee\b|\bpatch\b|\bmv\b|\bcp\b|\bmkdir\b|\bchmod\b|\.write\()")),
    ("run", re.compile(r"\b(python3?|node|bash|sh|make|cargo\s+run|go\s+run|java|Rscript|\./\S+)\b")),
    ("inspect", re.compile(r"\b(ls|cat|head|tail|grep|rg|find|file|stat|wc|less|pip3?\s+(show|list|freeze)|--version|--help)\b")),
)
_CATEGORY_SCORE = {"install": 3.0, "edit": 3.0, "run": 2.5, "verify": 3.0, "inspect": 1.0, "other": 1.5}
MAX_CHAIN = 25
MAX_KEY_COMMANDS = 8
MAX_COMMAND_CHARS = 600
_NUMBER = re.compile(r"(?<![\w.])-?\d+\.\d+(?![\w.])|(?<![\w.])\d{2,}(?![\w.])")
_QUOTED = re.compile(r"\"[^\"\n]{1,80}\"|'[^'\n]{1,80}'")
_PKG_INSTALL = re.compile(r"(?:apt-get|apt|apk)\s+(?:-\S+\s+)*install\s+(.+)|pip3?\s+install\s+(.+)|npm\s+install\s+(.+)")
_SDK_HINTS = {"python": "Python", "node": "Node.js", "golang": "Go", "rust": "Rust", "openjdk": "Java",
              "eclipse-temurin": "Java", "ruby": "Ruby", "r-base": "R", "julia": "Julia", "dotnet": ".NET"}


class ChainStep(BaseModel):
    command: str
    category: str
    score: float


class Evidence(BaseModel):
    task_pattern: str
    execution_chain: list[ChainStep]
    reward: float
    passed_tests: list[str]
    lessons: str
    environment: str
    raw_support_tail: str

    def key_commands(self, limit: int = MAX_KEY_COMMANDS) -> list[str]:
        """The chain's commands that did the work (not inspections), the `limit` best scored, in run order;
        a skill must quote them."""
        doing = [s for s in self.execution_chain if s.category != "inspect"] or self.execution_chain[:1]
        best = {id(s) for s in sorted(doing, key=lambda s: -s.score)[:limit]}
        return [s.command for s in doing if id(s) in best]

    def render(self) -> str:
        chain = "\n".join(f"{i}. [{s.category}] {s.command}" for i, s in enumerate(self.execution_chain, 1))
        blocks = [
            ("Task Pattern", self.task_pattern),
            ("Execution Chain", chain or "(no commands recorded)"),
            ("Verification", verification(self.reward, self.passed_tests)),
            ("Lessons", self.lessons),
            ("Environment", self.environment),
            ("Raw Support Tail", self.raw_support_tail or "(no output recorded)"),
        ]
        return "\n\n".join(f"## {title}\n{body.strip()}" for title, body in blocks)


def abstract_instruction(instruction: str, limit: int = 1500) -> str:
    """The instruction with instance constants (numbers, quoted values) replaced by placeholders."""
    text = _QUOTED.sub("<value>", _NUMBER.sub("<n>", instruction.strip()))
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def classify(command: str) -> str:
    for category, pattern in _CATEGORY_RULES:
        if pattern.search(command):
            return category
    return "other"


def is_low_signal(command: str) -> bool:
    """Plain looks around (ls, cat FILE, echo, cd …) that carry no reusable procedure."""
    stripped = command.strip()
    if not stripped or stripped.startswith("#"):
        return True
    if re.search(r"[>|;&]|<<|\$\(", stripped):
        return False
    try:
        first = shlex.split(stripped)[0]
    except (ValueError, IndexError):
        first = stripped.split()[0]
    return Path(first).name in LOW_SIGNAL


def execution_chain(commands: list[str], limit: int = MAX_CHAIN) -> list[ChainStep]:
    """Key commands in run order: low-signal ones dropped, the `limit` best scored kept, repeats merged."""
    steps: list[ChainStep] = []
    seen: set[str] = set()
    for command in commands:
        text = command.strip()
        if is_low_signal(text) or text in seen:
            continue
        seen.add(text)
        category = classify(text)
        score = _CATEGORY_SCORE[category] + min(len(text), 400) / 400
        if len(text) > MAX_COMMAND_CHARS:
            text = text[:MAX_COMMAND_CHARS] + " …"
        steps.append(ChainStep(command=text, category=category, score=round(score, 3)))
    if len(steps) > limit:
        keep = {id(s) for s in sorted(steps, key=lambda s: -s.score)[:limit]}
        steps = [s for s in steps if id(s) in keep]
    return steps


def verification(reward: float, passed_tests: list[str]) -> str:
    lines = [f"Final reward: {reward:g}", f"Passed checks: {len(passed_tests)}"]
    lines.extend(f"- ✓ {name}" for name in passed_tests)
    return "\n".join(lines)


def lessons(attempts: list[Attempt], memo: str) -> str:
    """Failure timeline, failure signatures seen more than once, and the memo's confirmed facts."""
    failures = [a for a in attempts if a.status != "PASS"]
    if not failures:
        return "Solved at the first attempt: no failures to learn from."
    lines = ["Failure timeline:"]
    lines += [f"- attempt {a.attempt + 1}: {a.status}, reward {a.reward:g}, "
              f"{len(a.failed_tests)} failing check(s)" for a in failures]
    signatures = Counter(tuple(sorted(a.failed_tests)) for a in failures if a.failed_tests)
    repeated = [sig for sig, n in signatures.items() if n > 1]
    if repeated:
        lines.append("Repeated failure signatures:")
        lines += [f"- {signatures[sig]} attempts failed the same {len(sig)} check(s)" for sig in repeated]
    facts = parse_memo(memo).verified_facts if memo else ""
    if facts:
        lines += ["Confirmed facts and cautions (from the exploration memo):", facts]
    return "\n".join(lines)


def environment(task_dir: Path) -> str:
    """Base image, installed packages and SDKs read from environment/Dockerfile."""
    dockerfile = task_dir / "environment" / "Dockerfile"
    if not dockerfile.is_file():
        return "No Dockerfile: the task runs in the default environment."
    instructions = parse_instructions(dockerfile.read_text(encoding="utf-8", errors="replace"))
    images = base_images(instructions)
    packages: list[str] = []
    for ins in instructions:
        if ins.keyword == "RUN":
            for m in _PKG_INSTALL.finditer(ins.value):
                words = (m.group(1) or m.group(2) or m.group(3)).split("&&")[0].split()
                packages += [w for w in words if not w.startswith("-") and w not in ("\\",)]
    sdks = sorted({sdk for image in images for key, sdk in _SDK_HINTS.items() if image.startswith(key)})
    workdirs = [ins.value for ins in instructions if ins.keyword == "WORKDIR"]
    lines = [f"Base image: {', '.join(images) or 'unknown'}"]
    if sdks:
        lines.append(f"SDKs: {', '.join(sdks)}")
    if packages:
        lines.append(f"Packages installed at build: {', '.join(dict.fromkeys(packages))}")
    if workdirs:
        lines.append(f"Working directory: {workdirs[-1]}")
    return "\n".join(lines)


def collect(
    *, instruction: str, task_dir: Path, commands: list[str], reward: float, passed_tests: list[str],
    attempts: list[Attempt], memo: str, output_tail: str, tail_chars: int = 1500,
) -> Evidence:
    tail = output_tail.strip()
    return Evidence(
        task_pattern=abstract_instruction(instruction),
        execution_chain=execution_chain(commands),
        reward=reward,
        passed_tests=passed_tests,
        lessons=lessons(attempts, memo),
        environment=environment(task_dir),
        raw_support_tail=tail[-tail_chars:],
    )


def reflect_steps(attempts: list[Attempt], memo_history: list[str]) -> list[ReflectStep]:
    """The reflect steps of an exploration (attempts that rewrote the memo), for the trajectory-level PDI."""
    return [
        ReflectStep(attempt=a.attempt, memo_before=memo_history[a.memo_version - 2] if a.memo_version >= 2 else "",
                    memo_after=memo_history[a.memo_version - 1], commands=a.agent_commands,
                    failed_tests=a.failed_tests)
        for a in attempts if a.memo_version is not None
    ]
