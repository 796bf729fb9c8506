"""Prompt templates of the skillspark bash agent (plain `str.format` templates).

Why templates in one module: the loop in `bash_agent` stays about control flow, and anyone tuning the
prompts for a model (a 135M local model needs short, concrete instructions) edits text, not code.

The completion marker is a bash block whose last line is the single word `submit`: a tiny model can
produce it (it is one short token sequence it already saw in the examples), any lines above it still run
first, and it cannot collide with real output the way a magic string echoed by a command could.
"""

from __future__ import annotations

import logging

SUBMIT_COMMAND = "submit"
# The most of any one text (instruction, explore's block with memo and test file) sent in a prompt: a 50 MB
# instruction would be billed whole or refused by the endpoint. Head and tail are kept, the middle cut.
PROMPT_TEXT_MAX_BYTES = 64 * 1024

_log = logging.getLogger(__name__)

SYSTEM_TEMPLATE = """\
You are a careful engineer working in a Linux shell to complete a task.
Each reply: one or two sentences of reasoning, then exactly ONE bash code block, like this:

```bash
ls -la
```

Rules:
- Exactly one ```bash block per reply. It runs with `bash -c` in a fresh shell (cd and variables do not persist), with a {command_timeout_s}-second time limit.
- You will see the exit code and the output. Then reply again.
- Do not ask questions and do not start interactive programs (editors, pagers, REPLs).
- When the task is done, reply with a block whose last line is `{submit}`:

```bash
{submit}
```
"""

# Context blocks (skills line, memo, attempt notes) come first and the task last, in the shape of the
# demonstration: the embedded model followed it more often (7/8 right first commands vs 6/8).
INSTANCE_TEMPLATE = """\
{extra}Task:
{instruction}
Reply with reasoning and one ```bash block."""

# One worked exchange on a toy task, sent as real prior turns before the task. Why: a small model copies
# a shape it has just seen far more reliably than one described in rules (measured with the embedded
# 135M model on hello-greeting at temperature 0.2: 0/3 correct commands without it, 2/3 with it).
# Strong models lose nothing but ~80 tokens. The toy task shares no content with real tasks.
DEMONSTRATION: tuple[tuple[str, str], ...] = (
    ("user", ("Task:\nCreate the file `/tmp/name.txt` containing the word `bob`.\n"
              "Reply with reasoning and one ```bash block.")),
    ("assistant", "I write the word to the file with echo.\n\n```bash\necho bob > /tmp/name.txt\n```"),
    ("user", "exit code: 0\noutput:\n(no output)"),
    ("assistant", "The file is written. I check nothing else, so I am done.\n\n```bash\nsubmit\n```"),
)

# `--skills-mode inline`: the SKILL.md texts, in the task message before the task (agents/skill_context.py
# bounds them and says why there rather than in the system message).
INLINE_SKILLS_TEMPLATE = """\
Skills for this task follow: the SKILL.md files in {path} (also in {others}). When a skill says how to do
the task, follow it exactly.

{skills}{left_out}"""

INLINE_SKILL_TEMPLATE = """<skill name="{name}">
{text}
</skill>
"""

SKILL_CUT_MARKER = "[... the rest of this SKILL.md is cut here; read it whole in {path} ...]"
SKILLS_LEFT_OUT_LINE = "\nMore skills, not shown here (the prompt's budget is spent): {paths}\n"

# The demonstration of inline mode (every arm of an inline eval gets it, the no-skill arm too): the same toy
# task, with a toy skill in the place real skills take, and the reply running the skill's command as given.
# Why: with the plain demonstration the embedded model copied its `echo bob` into 5 of 8 decisive tasks
# instead of the skill's command (measured, docs/skills-in-context.md).
_TOY_SKILL = "---\nname: name-file\ndescription: The team's name.\n---\nThe name is `bob`. Record it with:\n\n" \
             "```bash\necho bob > /tmp/name.txt\n```"
_TOY_TASK = "Create the file `/tmp/name.txt` containing the team's name.\n" \
            "The name is documented in the team's skills, if any are available to you."

SKILLS_LINE = (
    "Skills that may help are available as folders with a SKILL.md each in {path} "
    "(also in {others}); read the relevant SKILL.md first."
)

OBSERVATION_TEMPLATE = """\
exit code: {exit_code}
output:
{output}"""

TIMEOUT_TEMPLATE = """\
The command timed out after {timeout_s} seconds and was stopped.
output so far:
{output}
Try a faster command, or run long work in the background with output to a file."""

FORMAT_ERROR_TEMPLATE = """\
Format error: {problem}
Reply with short reasoning and exactly ONE block:

```bash
your command here
```

When the task is done, the block's last line must be `{submit}`."""

ELIDED_OBSERVATION = "(output of an earlier step elided to save context)"


def system_prompt(command_timeout_s: float) -> str:
    """The system message: reply format, shell semantics and the completion marker."""
    return SYSTEM_TEMPLATE.format(command_timeout_s=_seconds(command_timeout_s), submit=SUBMIT_COMMAND)


def skill_demonstration(path: str, others: list[str]) -> tuple[tuple[str, str], ...]:
    """DEMONSTRATION for inline mode: the toy task with a toy skill shown as real skills are, the skill followed."""
    block = inline_skills_block(path, others, [inline_skill("name-file", _TOY_SKILL)], [])
    reply = "The skill gives the command; I run it exactly.\n\n```bash\necho bob > /tmp/name.txt\n```"
    return (("user", instance_prompt(_TOY_TASK, [block])), ("assistant", reply), *DEMONSTRATION[2:])


def instance_prompt(instruction: str, extra_blocks: list[str]) -> str:
    """The first user message: extra blocks (skills line, memo, ...), then the task instruction, each capped."""
    extra = "".join(f"{cap_prompt_text(block.strip(), 'extra prompt')}\n\n" for block in extra_blocks if block and block.strip())
    return INSTANCE_TEMPLATE.format(instruction=cap_prompt_text(instruction.strip(), "instruction"), extra=extra)


def cap_prompt_text(text: str, what: str, max_bytes: int = PROMPT_TEXT_MAX_BYTES) -> str:
    """`text` within `max_bytes` of UTF-8: head and tail kept, `[... N bytes cut ...]` between, a warning logged."""
    data = text.encode()
    if len(data) <= max_bytes:
        return text
    half = max_bytes // 2
    cut = len(data) - 2 * half
    _log.warning("warning: the %s is %d bytes; the model gets its first and last %d bytes (%d cut)",
                 what, len(data), half, cut)
    head = data[:half].decode(errors="ignore")
    tail = data[-half:].decode(errors="ignore")
    return f"{head}\n[... {cut} bytes cut ...]\n{tail}"


def observation_message(exit_code: int, output: str) -> str:
    return OBSERVATION_TEMPLATE.format(exit_code=exit_code, output=output or "(no output)")


def timeout_message(timeout_s: float, output: str) -> str:
    return TIMEOUT_TEMPLATE.format(timeout_s=_seconds(timeout_s), output=output or "(no output)")


def format_error_message(problem: str) -> str:
    return FORMAT_ERROR_TEMPLATE.format(problem=problem, submit=SUBMIT_COMMAND)


def skills_line(path: str, others: list[str]) -> str:
    return SKILLS_LINE.format(path=path, others=", ".join(others))


def inline_skill(name: str, text: str) -> str:
    return INLINE_SKILL_TEMPLATE.format(name=name, text=text)


def skill_cut_marker(path: str) -> str:
    return SKILL_CUT_MARKER.format(path=path)


def inline_skills_block(path: str, others: list[str], skills: list[str], left_out: list[str]) -> str:
    more = SKILLS_LEFT_OUT_LINE.format(paths=", ".join(left_out)) if left_out else ""
    return INLINE_SKILLS_TEMPLATE.format(path=path, others=", ".join(others), skills="\n".join(skills), left_out=more)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
