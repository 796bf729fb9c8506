"""Turn prompts: the student's fitted to the prompt budget, the teacher's left-truncated as the reference does.

Student prompt = task + the last H turns + the current observation + the numbered admissible actions +
"Your action:", in the tokenizer's chat template, after the environment's solved toy turn when it has one
(`Demonstration`). Teacher prompt = the same with "[Privileged Skill Information]\\n{skill}" placed in the
user message right before "Your action:".

Why not where the SDAR reference puts it (before the chat markup): measured on the embedded SmolLM2-135M
(docs/training-decisive.md), a skill there, or before the observation, changes nothing (it recites the
first listed action with or without it); the same skill right before "Your action:", after a toy turn
solved by copying a toy skill's action, is followed in 16/16 games. The log-probs the trainer's teacher
gives and the teacher check's games use this one layout (`build_turn_prompt`), so the check measures the
teacher the trainer distils from.

Only the student's own length decides how much history it keeps, so every algorithm trains on the same
student prompts; a teacher prompt over the budget is left-truncated as the reference does
(rlsd_ray_trainer.build_teacher_batch): such prompts are flagged and counted (`teacher_truncated`).
"""

from __future__ import annotations

from dataclasses import dataclass

from skillspark.errors import UserError
from skillspark.train.envs.actions import format_admissible
from skillspark.train.envs.base import Demonstration

SYSTEM = "You are an agent playing a text game. Reply with exactly one action from the list, nothing else."
SYSTEM_SHELL = "You are an agent in a Linux shell. Reply with exactly one shell command, or `submit` when the task is done."
TEACHER_HEADER = "[Privileged Skill Information]\n"


@dataclass(frozen=True)
class Turn:
    observation: str
    action: str


def _user_message(objective: str, history: list[Turn], observation: str, admissible: list[str], skill: str | None) -> str:
    parts = [f"Task: {objective.strip()}"]
    if history:
        parts.append("Recent turns:\n" + "\n".join(f"Observation: {t.observation.strip()}\nAction: {t.action}" for t in history))
    parts.append(f"Observation: {observation.strip()}")
    if admissible:  # a free-text environment (a shell) has no list of actions
        parts.append("Admissible actions:\n" + format_admissible(admissible))
    if skill:
        parts.append(f"{TEACHER_HEADER}{skill.strip()}")
    parts.append("Your action:")
    return "\n\n".join(parts)


def chat_prompt(tokenizer, user_message: str, free_text: bool = False, demonstration: Demonstration | None = None) -> str:
    messages = [{"role": "system", "content": SYSTEM_SHELL if free_text else SYSTEM}]
    if demonstration is not None:  # the same toy turn, its toy skill followed, in student and teacher prompts alike
        shown = _user_message(demonstration.objective, [], demonstration.observation, demonstration.admissible, demonstration.skill)
        messages += [{"role": "user", "content": shown}, {"role": "assistant", "content": demonstration.action}]
    messages.append({"role": "user", "content": user_message})
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


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
    demonstration: Demonstration | None = None,
) -> TurnPrompt:
    """The longest recent history with which the student prompt fits; the teacher's is that prompt with the
    skill before "Your action:", left-truncated to the same budget when longer (the reference's rule)."""
    kept = history[-history_turns:] if history_turns > 0 else []

    def render(turns: list[Turn], text: str | None) -> list[int]:
        message = _user_message(objective, turns, observation, admissible, text)
        return tokenizer.encode(chat_prompt(tokenizer, message, not admissible, demonstration), add_special_tokens=False)

    while True:
        student_ids = render(kept, None)
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
    teacher_ids = render(kept, skill)
    return TurnPrompt(student_ids, teacher_ids[-max_prompt_tokens:], len(teacher_ids) > max_prompt_tokens)
