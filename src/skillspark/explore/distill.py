"""Distill a SKILL.md from the evidence of a solved task: valid per the Agent Skills spec and grounded.

The distiller model writes the skill. Its answer goes through the spec validator and the grounding gate
(`grounding`): URLs, paths and commands that appear nowhere in the evidence, and key commands of the
successful attempt that it fails to quote, are listed back to the model once (`max_tries` answers in
all). The last answer then has its invented items removed, its frontmatter repaired and the missing
commands added under "Commands that worked". When no answer came, the answer is no SKILL.md at all (no
frontmatter), or most of what it names was invented, the skill is instead assembled from the evidence
blocks themselves. Either way `metadata` says which, with the grounding counts and the skill's
trajectory-level φ values. Expected values the instruction does not state, and test names, are removed
so the skill teaches the procedure, not the answer.
"""

from __future__ import annotations

import re
import time
from typing import Any

from pydantic import BaseModel

from skillspark.core.redact import one_line, redact
from skillspark.core.skillspec import (
    MAX_BODY_LINES,
    MAX_DESCRIPTION,
    check_skill_text,
    compose,
    set_frontmatter,
    split_frontmatter,
)
from skillspark.explore.evidence import Evidence
from skillspark.explore.grounding import Corpus, GateResult, commands_section, gate
from skillspark.explore.memo import ChatModel
from skillspark.llm.client import LLMUnavailable
from skillspark.pdi.log import ReflectStep
from skillspark.pdi.text import Method
from skillspark.pdi.trajectory import SkillEvidence, phis

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
_SPEC_KEYS = ("name", "description", "license", "compatibility", "metadata", "allowed-tools")
_KIND_KEYS = {"url": "urls", "path": "paths", "command": "commands", "code": "code-blocks"}

SYSTEM_PROMPT = """You turn evidence from a verified, successful agent run into a reusable skill file: general
procedural guidance for the class of tasks this one belongs to. Write a SKILL.md in the Agent Skills format:

---
name: <the exact name given to you>
description: <one or two sentences: what the skill does and when to use it, at most 1024 characters>
---
# <title>
## When to use
## Procedure (numbered steps: what to do and why; quote the commands that worked verbatim in ```bash blocks)
## Verification (what to check before finishing)
## Common Pitfalls (from the Lessons: repeated or corrected mistakes)

Evidence priority: the Execution Chain and Verification first; the Lessons become pitfalls; the Raw Support
Tail only where it adds signal. Teach the next agent to choose the right path early, what to verify before
finishing, and which mistakes to avoid.
Grounding: every command, file path and URL you write must appear in the evidence. Copy them exactly,
invent none, add no links; code goes in only as it ran.
Exclude: expected values and answers of this instance, names of individual tests, failed or speculative
approaches as advice, fallbacks that produce low-quality results. Keep it under 200 lines. Reply with the
file only."""


class Distillation(BaseModel):
    text: str
    tries: int
    repaired: bool
    grounding: str  # "model" (its answer, gated) or "deterministic" (assembled from the evidence)
    problems: list[str]  # what was wrong with the model's last answer
    response: str
    system_prompt: str
    user_prompt: str
    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0


def skill_name(task_name: str) -> str:
    """A spec-valid skill name from a task name (lowercase, digits, single hyphens, <= 64 chars)."""
    slug = re.sub(r"[^a-z0-9]+", "-", task_name.lower()).strip("-")[:64].strip("-")
    return slug or "task-skill"


def _whole(value: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.]){re.escape(value)}(?![\w])")


def sanitize(text: str, *, constants: set[str], test_names: list[str]) -> str:
    """Remove expected values and test names (longest first, whole tokens only) from a skill's text."""
    names = {n for t in test_names for n in (t, t.split("::")[-1]) if n}
    for name in sorted(names, key=len, reverse=True):
        text = _whole(name).sub("the verifier's check", text)
    for value in sorted(constants, key=len, reverse=True):
        text = _whole(value).sub("<value>", text)
    return text


def hidden_values(constants: set[str], instruction: str) -> set[str]:
    """The verifier's expected values the instruction does not state: those are answers to keep out of a
    skill; a value the task itself asks for (the word to write) is part of the procedure."""
    return {c for c in constants if not _whole(c).search(instruction)}


def strip_wrapper(text: str) -> str:
    """The reply without reasoning tags and without a wrapping ``` fence, whose closing line may be
    missing (SPARK strips both ends); a last fence that closes the skill's own code block stays."""
    lines = _THINK.sub("", text).strip().splitlines()
    if lines and lines[0].startswith("```"):
        lines = lines[1:]
        fences = sum(line.strip().startswith("```") for line in lines)
        if fences % 2 and lines[-1].strip() == "```":
            lines = lines[:-1]
    return "\n".join(lines).strip() + "\n"


def repair(text: str, name: str, fallback_description: str) -> str:
    """Make `text` spec-valid: fix name, bound the description, drop unknown keys, cap the body."""
    parsed, body, _ = split_frontmatter(text)
    data = parsed or {}
    fixed: dict[str, Any] = {k: data[k] for k in _SPEC_KEYS if k in data}
    fixed["name"] = name
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        description = fallback_description
    fixed["description"] = " ".join(description.split())[:MAX_DESCRIPTION]
    for key in ("license", "compatibility", "allowed-tools"):
        if key in fixed and not isinstance(fixed[key], str):
            del fixed[key]
    if "metadata" in fixed:
        meta = fixed["metadata"]
        fixed["metadata"] = {str(k): str(v) for k, v in meta.items()} if isinstance(meta, dict) else None
        if not fixed["metadata"]:
            del fixed["metadata"]
    lines = body.strip().splitlines()[: MAX_BODY_LINES - 1] or [f"# {name}", "", fallback_description]
    return compose(fixed, "\n".join(lines) + "\n")


def describe(evidence: Evidence) -> str:
    """A spec description from the task pattern: what the skill does and when to use it."""
    pattern = " ".join(evidence.task_pattern.split())
    if len(pattern) > 300:
        pattern = pattern[:300].rsplit(" ", 1)[0] + " …"
    return f"Commands and checks that solved a verified task of this kind. Use when a task asks: {pattern}"


def assemble(name: str, evidence: Evidence) -> str:
    """The deterministic skill: task pattern, the successful command chain verbatim, verification,
    lessons and environment, all from the evidence blocks."""
    n = len(evidence.passed_tests)
    body = "\n\n".join([
        f"# {name.replace('-', ' ').capitalize()}",
        f"## When to use\n{evidence.task_pattern.strip()}",
        commands_section([s.command for s in evidence.execution_chain]).strip(),
        f"## Verification\nThe verifier gave reward {evidence.reward:g} with {n} check(s) passing.",
        f"## Lessons\n{evidence.lessons.strip()}",
        f"## Environment\n{evidence.environment.strip()}",
    ])
    lines = body.splitlines()[: MAX_BODY_LINES - 1]
    return compose({"name": name, "description": describe(evidence)[:MAX_DESCRIPTION]}, "\n".join(lines) + "\n")


def with_commands(text: str, commands: list[str]) -> str:
    """`text` with a "Commands that worked" section appended (its body cut to keep under the line cap)."""
    _, body, _ = split_frontmatter(text)
    section = commands_section(commands)
    room = MAX_BODY_LINES - 2 - len(section.splitlines())
    lines = body.rstrip("\n").splitlines()[: max(room, 0)]
    return text[: len(text) - len(body)] + "\n".join(lines) + "\n\n" + section


def _feedback(spec: list[str], checked: GateResult) -> list[str]:
    lines = [f"spec: {p}" for p in spec]
    lines += [f"not in the evidence, remove it: {c.kind} `{c.text[:200]}`" for c in checked.removed]
    lines += [f"quote this command that worked, verbatim: `{c}`" for c in checked.missing]
    return lines


def _metadata(grounding: str, note: str, checked: GateResult | None, added: int, scores: dict[str, str]) -> dict:
    counts = checked.removed_counts() if checked else {}
    meta = {"grounding": grounding, "grounding-note": one_line(note)}
    meta |= {f"grounding-invented-{key}": str(counts.get(kind, 0)) for kind, key in _KIND_KEYS.items()}
    meta["grounding-commands-added"] = str(added)
    return meta | scores


def phi_metadata(text: str, *, name: str, success_commands: str, steps: list[ReflectStep], method: Method) -> dict:
    """φ_exec, φ_plan and φ_oss of the skill text (before its metadata), as strings."""
    score = phis(SkillEvidence(task=name, skill_text=text, success_commands=success_commands, steps=steps), method)
    return {"pdi-method": method, "pdi-phi-exec": f"{score.phi_exec:.4f}",
            "pdi-phi-plan": f"{score.phi_plan:.4f}", "pdi-phi-oss": f"{score.phi_oss:.4f}"}


def _rejection(checked: GateResult | None, failure: str) -> str:
    """Why the model's last answer cannot become the skill; "" when it can."""
    if checked is None:
        return failure or "no answer from the distiller"
    head, body, _ = split_frontmatter(checked.text)
    if head is None:
        return "the model's answer is no SKILL.md (no readable frontmatter, even when told)"
    if checked.mostly_invented():
        n = len(checked.removed) + len(checked.grounded)
        return f"{len(checked.removed)} of {n} URLs, paths and commands in the model's skill were not in the evidence"
    if not body.strip():
        return "nothing of the model's skill was left after removing what the evidence lacks"
    return ""


def _mend(checked: GateResult, name: str, key_commands: list[str], description: str) -> tuple[str, int]:
    """The gated answer with its frontmatter repaired and, when it lacks some, the key commands added
    (with how many were missing)."""
    text = checked.text
    if check_skill_text(text, name):
        text = repair(text, name, description)
    if checked.missing:
        return with_commands(text, key_commands), len(checked.missing)
    return text, 0


async def distill(
    model: ChatModel, *, name: str, evidence: Evidence, instruction: str, constants: set[str],
    test_names: list[str], success_commands: str, steps: list[ReflectStep], pdi_method: Method,
    max_tries: int = 2,
) -> Distillation:
    """Ask for a SKILL.md, re-ask with its problems, then gate, repair or assemble it (see the module doc)."""
    hidden = hidden_values(constants, instruction)

    def clean(text: str) -> str:  # the one space every comparison happens in: no answers, no secrets
        return redact(sanitize(text, constants=hidden, test_names=test_names))

    corpus = Corpus(clean(evidence.render() + "\n" + instruction))
    key_commands = [clean(c) for c in evidence.key_commands()]
    quoted = "\n".join(key_commands)
    user_prompt = (f"Skill name (use exactly): {name}\n\n# Evidence\n\n{evidence.render()}\n\n"
                   f"# Commands that worked (quote them verbatim)\n```bash\n{quoted}\n```\n\n"
                   "Write the SKILL.md that would help another agent solve similar tasks.")
    messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM_PROMPT},
                                      {"role": "user", "content": user_prompt}]
    result = Distillation(text="", tries=0, repaired=False, grounding="model", problems=[], response="",
                          system_prompt=SYSTEM_PROMPT, user_prompt=user_prompt)
    checked: GateResult | None = None
    failure = ""
    started = time.monotonic()
    for _ in range(max_tries):
        result.tries += 1
        try:
            reply = await model.chat(messages)
        except LLMUnavailable as exc:  # retried or timed out already: do not wait on it again
            failure = f"distiller unavailable ({type(exc).__name__})"
            break
        result.input_tokens += reply.prompt_tokens
        result.output_tokens += reply.completion_tokens
        result.response = reply.text or ""
        if not reply.ok or not reply.text.strip():
            failure = f"distiller call failed ({reply.error or 'empty reply'})"
            continue
        result.text = clean(strip_wrapper(reply.text))
        checked = gate(result.text, corpus, key_commands)
        spec = [f"{field}: {message}" for field, message in check_skill_text(result.text, name)]
        result.problems = _feedback(spec, checked)
        if not result.problems:
            break
        messages = [*messages[:2], {"role": "assistant", "content": reply.text},
                    {"role": "user", "content": "Fix these problems of your SKILL.md:\n- "
                     + "\n- ".join(result.problems) + f"\nReply with the corrected SKILL.md only (name: {name})."}]
    result.latency_s = round(time.monotonic() - started, 3)

    rejection = _rejection(checked, failure)
    if checked is None or rejection:
        result.grounding, result.repaired, note, added = "deterministic", True, rejection, 0
        text = clean(assemble(name, evidence))
    else:
        text, added = _mend(checked, name, key_commands, clean(describe(evidence)))
        result.repaired = text != result.text
        note = "the model's skill" + (", gated" if result.repaired else ", unchanged")
    scores = phi_metadata(text, name=name, success_commands=success_commands, steps=steps, method=pdi_method)
    result.text = set_frontmatter(text, {"metadata": _metadata(result.grounding, note, checked, added, scores)})
    return result
