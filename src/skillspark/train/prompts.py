"""Turn prompts for the student and the teacher, kept within the prompt budget without dropping the skill.

Student prompt = task + the last H turns + the current observation + the numbered admissible actions,
in the tokenizer's chat template. Teacher prompt = "[Privileged Skill Information]\\n{skill}\\n\\n" + the
student prompt text, as the SDAR reference builds it. The reference left-truncates the teacher prompt, so
a long prompt silently loses the skill first; here the student's history is shortened until both fit,
and a skill that cannot fit even then is an error.
"""

from __future__ import annotations

from dataclasses import dataclass

from skillspark.errors import UserError
from skillspark.train.envs.actions import format_admissible

SYSTEM = "You are an agent playing a text game. Reply with exactly one action from the list, nothing else."
SYSTEM_SHELL = "You are an agent in a Linux shell. Reply with exactly one shell command, or `submit` when the task is done."
TEACHER_HEADER = "[Privileged Skill Information]\n"


@dataclass(frozen=True)
class Turn:
    observation: str
    action: str


def _user_message(objective: str, history: list[Turn], observation: str, admissible: list[str]) -> str:
    parts = [f"Task: {objective.strip()}"]
    if history:
        parts.append("Recent turns:\n" + "\n".join(f"Observation: {t.observation.strip()}\nAction: {t.action}" for t in history))
    parts.append(f"Observation: {observation.strip()}")
    if admissible:  # a free-text environment (a shell) has no list of actions
        parts.append("Admissible actions:\n" + format_admissible(admissible))
    parts.append("Your action:")
    return "\n\n".join(parts)


def chat_prompt(tokenizer, user_message: str, free_text: bool = False) -> str:
    messages = [{"role": "system", "content": SYSTEM_SHELL if free_text else SYSTEM}, {"role": "user", "content": user_message}]
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def teacher_text(student_text: str, skill: str) -> str:
    return f"{TEACHER_HEADER}{skill.strip()}\n\n{student_text}"


@dataclass(frozen=True)
class TurnPrompt:
    student_ids: list[int]
    teacher_ids: list[int] | None


def build_turn_prompt(
    tokenizer,
    *,
    objective: str,
    history: list[Turn],
    observation: str,
    admissible: list[str],
    history_turns: int,
    skill: str | None,
    max_prompt_tokens: int,
) -> TurnPrompt:
    """The longest recent history with which the student prompt (and the teacher's, with the skill) fits."""
    kept = history[-history_turns:] if history_turns > 0 else []
    while True:
        student = chat_prompt(tokenizer, _user_message(objective, kept, observation, admissible), free_text=not admissible)
        student_ids = tokenizer.encode(student, add_special_tokens=False)
        teacher_ids = tokenizer.encode(teacher_text(student, skill), add_special_tokens=False) if skill else None
        longest = max(len(student_ids), len(teacher_ids or ()))
        if longest <= max_prompt_tokens:
            return TurnPrompt(student_ids, teacher_ids)
        if not kept:
            what = "the teacher prompt (skill text + observation)" if skill else "the prompt (task + observation)"
            raise UserError(
                f"{what} needs {longest} tokens but --max-prompt-tokens is {max_prompt_tokens}: "
                "raise --max-prompt-tokens or shorten the skill (it is never cut silently)"
            )
        kept = kept[1:]
