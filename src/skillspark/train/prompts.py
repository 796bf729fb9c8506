"""Turn prompts: the student's fitted to the prompt budget, the teacher's left-truncated as the reference does.

Student prompt = task + the last H turns + the current observation + the numbered admissible actions,
in the tokenizer's chat template. Teacher prompt = "[Privileged Skill Information]\\n{skill}\\n\\n" + the
student prompt text, as the SDAR reference builds it. Only the student's own length decides how much
history it keeps, so every algorithm trains on the same student prompts; a teacher prompt over the budget
is left-truncated as the reference does (rlsd_ray_trainer.build_teacher_batch), which cuts the skill
first: such prompts are flagged and counted in the metrics (`teacher_truncated`).
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
    teacher_truncated: bool = False  # the teacher prompt lost its beginning (the skill's) to the budget


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
    """The longest recent history with which the student prompt fits; the teacher's is that prompt with the
    skill prepended, left-truncated to the same budget when longer (the reference's rule)."""
    kept = history[-history_turns:] if history_turns > 0 else []
    while True:
        student = chat_prompt(tokenizer, _user_message(objective, kept, observation, admissible), free_text=not admissible)
        student_ids = tokenizer.encode(student, add_special_tokens=False)
        if len(student_ids) <= max_prompt_tokens:
            break
        if not kept:
            raise UserError(
                f"the prompt (task + observation) needs {len(student_ids)} tokens but --max-prompt-tokens is "
                f"{max_prompt_tokens}: raise --max-prompt-tokens"
            )
        kept = kept[1:]
    if not skill:
        return TurnPrompt(student_ids, None)
    teacher_ids = tokenizer.encode(teacher_text(student, skill), add_special_tokens=False)
    return TurnPrompt(student_ids, teacher_ids[-max_prompt_tokens:], len(teacher_ids) > max_prompt_tokens)
