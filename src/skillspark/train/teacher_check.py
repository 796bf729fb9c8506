"""Is the teacher better than the student here? Measured before a teacher-side run spends its budget.

SDAR, OPSD, Skill-SD and RLSD learn from the gap between the policy with the skill (teacher) and without
it (student). Where the skill does not make the model better, that gap is noise and such a run can only
look like GRPO (README: SmolLM2 on fake:choice, 0.250 → 0.292). So `train run` and `train compare` first
play a few validation games greedily, once with each game's skill in the policy's prompt (what the
teacher sees, chosen by the run's own retrieval) and once without, and print both success rates with
95% Wilson intervals.

The rule: the teacher is better when the lower end of its interval lies above the upper end of the
student's (the two intervals do not overlap). With 16 games that needs a gap of about 0.45 (e.g. 14/16
against 4/16), with 40 about 0.3: a margin the games can show, not a point estimate.
`--teacher-check require` refuses the run (one line, exit 2) when the rule fails; `warn` (default) says
so and goes on; `off` skips the check. The result is written to teacher_check.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from skillspark.errors import UserError
from skillspark.evaluate.stats import wilson
from skillspark.files import write_atomic
from skillspark.train.config import TrainConfig
from skillspark.train.retrieval import load_skills, make_retriever, render_skills

MODES = ("require", "warn", "off")
DEFAULT_GAMES = 16


class Rate(BaseModel):
    wins: int
    games: int
    rate: float
    wilson_95: tuple[float, float]

    @classmethod
    def of(cls, wins: int, games: int) -> Rate:
        low, high = wilson(wins, games)
        return cls(wins=wins, games=games, rate=wins / games, wilson_95=(round(low, 4), round(high, 4)))

    def show(self) -> str:
        return f"{self.rate:.3f} [{self.wilson_95[0]:.3f}, {self.wilson_95[1]:.3f}] ({self.wins}/{self.games})"


class TeacherCheck(BaseModel):
    """One check's record (teacher_check.json)."""

    env: str
    model: str
    retrieval: str
    teacher: Rate  # the policy with each game's skill in its prompt
    student: Rate  # the same policy without it
    passed: bool
    rule: str = "teacher's Wilson 95% lower bound > student's upper bound"

    def summary(self) -> str:
        verdict = "the teacher is better" if self.passed else "the teacher is NOT better beyond the noise of these games"
        return (
            f"teacher check on {self.teacher.games} validation games of {self.env}: with the skill {self.teacher.show()}, "
            f"without {self.student.show()}: {verdict}"
        )


def judge(env: str, model: str, retrieval: str, teacher_wins: int, student_wins: int, games: int) -> TeacherCheck:
    """The record and verdict for win counts out of `games` each (pure: the rule lives here)."""
    teacher, student = Rate.of(teacher_wins, games), Rate.of(student_wins, games)
    return TeacherCheck(
        env=env, model=model, retrieval=retrieval, teacher=teacher, student=student,
        passed=teacher.wilson_95[0] > student.wilson_95[1],
    )


def measure(model, tokenizer, config: TrainConfig, games: int) -> TeacherCheck:
    """Play `games` validation games greedily with and without each game's skill (the run's retrieval)."""
    from skillspark.train.evaluation import evaluate_policy

    retriever = make_retriever(config.retrieval, load_skills(config.skills), config.seed, config.ucb_c)

    def choose(key: str, text: str) -> str | None:
        return render_skills(retriever.choose(key, text)) or None  # choose, not select: no pulls are counted

    common = dict(max_turns=config.max_turns, max_prompt_tokens=config.max_prompt_tokens, skills=None)
    taught = evaluate_policy(model, tokenizer, config.game, games, choose_skill=choose, **common)
    alone = evaluate_policy(model, tokenizer, config.game, games, **common)
    return judge(config.game, config.model, config.retrieval, taught["wins"], alone["wins"], games)


def applies(config: TrainConfig, uses_teacher: bool) -> bool:
    """A check is due for a teacher-side algorithm with skills on disk, unless switched off."""
    return config.teacher_check != "off" and uses_teacher and config.skills is not None


def run_teacher_check(model, tokenizer, config: TrainConfig, folder: Path, *, write: bool = True) -> TeacherCheck:
    """Measure, print, write `folder`/teacher_check.json; refuse in one line under `require` when it fails."""
    check = measure(model, tokenizer, config, config.teacher_check_games)
    if write:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / "teacher_check.json", json.dumps(check.model_dump(mode="json") | {"mode": config.teacher_check}, indent=2) + "\n")
        print(check.summary(), flush=True)
    if not check.passed:
        advice = (
            "teacher-side algorithms cannot beat GRPO where the skill does not help the teacher; "
            "use a model that follows the skill, better skills or retrieval, or pass --teacher-check warn"
        )
        if config.teacher_check == "require":
            raise UserError(f"--teacher-check require: {check.summary()}; {advice}")
        if write:
            print(f"warning: {check.summary()}; {advice}", file=sys.stderr, flush=True)
    return check
