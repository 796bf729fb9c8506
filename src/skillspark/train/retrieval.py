"""Which skills the teacher sees in one episode (its privileged context): keyword, full, random or UCB1.

General skills (frontmatter `metadata: {general: true}`, or a name starting with `general`) apply to every
task and are always given. Task skills are chosen per episode:
- `keyword`: every task skill with a keyword among the words of the episode's objective/observation
  (whole words, case-insensitive); deterministic.
- `full`: all skills.
- `random`: one task skill drawn from `Random(f"{seed}/{episode_key}")`, so a draw depends on the seed
  and the episode only, not on how many episodes came before (a resumed run draws the same).
- `ucb`: UCB1 over task skills. Untried skills first, in list order; then argmax μ_i + c·√(ln N / n_i),
  n_i = times skill i was chosen, N = Σ n_i, μ_i = the mean reward in [0, 1] reported through `update`
  for the episodes it was chosen for; ties go to the earlier skill. Counting a pull at `select` spreads
  one batch of episodes over the untried skills instead of giving them all the first one.

What the reward is, is the caller's choice: episode success (0/1) by default; the trainer reports the
teacher's agreement with the outcome (`skill_reward.py`) for algorithms whose skill reaches only the
teacher, since a skill the student never sees cannot change the student's success.

Every retriever keeps pulls and mean reward per skill for the metrics, and a `state_dict` keyed by skill
name: a resumed run continues its statistics, and a retriever rebuilt over a grown skill list (the skill
bank) keeps the statistics of the skills it already knew.
"""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from collections import deque
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel

from skillspark.core.skill import Skill, skill_dirs
from skillspark.core.skillspec import split_frontmatter
from skillspark.errors import UserError
from skillspark.pdi.text import tokenize

STRATEGIES = ("keyword", "full", "random", "ucb")
# words of a name or description that say nothing about which task a skill is for
STOPWORDS = frozenset(
    """a about after again all also an and any are as at be been before being both but by can could did do
    does doing done each few for from further had has have having here how if in into is it its itself
    just may might more most must no nor not now of off on once only or other our out over own same should
    so some such than that the their them then there these they this those through to too under until up
    use used uses using very was way we were what when where which while who whom why will with would you
    your skill skills task tasks step steps agent""".split()
)


class TeacherSkill(BaseModel):
    """One SKILL.md as the teacher reads it."""

    name: str
    description: str
    body: str
    keywords: list[str]
    general: bool


def keywords_of(text: str) -> list[str]:
    """The content words of `text` (no stopwords, numbers or words under 3 letters), in first-seen order."""
    words = (w for w in tokenize(text) if len(w) >= 3 and not w.isdigit() and w not in STOPWORDS)
    return list(dict.fromkeys(words))


def _is_true(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("true", "yes", "1")


def read_skill(folder: Path) -> TeacherSkill:
    """The skill in `folder`/SKILL.md; keywords from `metadata.keywords`, else the content words of name and
    description."""
    fields, body, _ = split_frontmatter(Skill(path=folder).text())  # never through a link, never past the cap
    fields = fields or {}
    metadata = fields.get("metadata") if isinstance(fields.get("metadata"), dict) else {}
    name = str(fields.get("name") or folder.name).strip()
    description = str(fields.get("description") or "").strip()
    listed = metadata.get("keywords")
    if isinstance(listed, list):
        listed = " ".join(map(str, listed))
    keywords = list(dict.fromkeys(tokenize(str(listed or "")))) or keywords_of(f"{name} {description}")
    general = _is_true(metadata.get("general")) or name.lower().startswith("general")
    return TeacherSkill(name=name, description=description, body=body.strip(), keywords=keywords, general=general)


def load_skills(root: Path) -> list[TeacherSkill]:
    """Every SKILL.md under `root` (a skill folder, a folder of them, or an explore output), in folder order.

    Only SKILL.md files are read: an explore output's trajectories, memos and verifier files next to them
    never reach the teacher. Skills with neither description nor body are left out.
    """
    skills = [skill for skill in map(read_skill, skill_dirs(root)) if skill.description or skill.body]
    if not skills:
        raise UserError(f"--skills {root}: the SKILL.md files there are empty; the teacher needs skill text")
    return skills


def render_skills(skills: list[TeacherSkill]) -> str:
    """The privileged text: "## name\\ndescription\\n\\nbody" per skill, joined by blank lines."""
    return "\n\n".join(f"## {s.name}\n{s.description}\n\n{s.body}".strip() for s in skills).strip()


class Retriever(Protocol):
    def select(self, episode_key: str, text: str) -> list[TeacherSkill]: ...

    def update(self, episode_key: str, reward: float) -> None: ...

    def stats(self) -> dict[str, float]: ...


class TallyRetriever(ABC):
    """Pulls and reward sums per skill, shared by every strategy; a subclass only says what to choose."""

    def __init__(self, skills: list[TeacherSkill]) -> None:
        self.skills = list(skills)
        self.general = [s for s in self.skills if s.general]
        self.task = [s for s in self.skills if not s.general]
        self.pulls = {s.name: 0 for s in self.skills}
        self.rewarded = {s.name: 0 for s in self.skills}
        self.reward_sum = {s.name: 0.0 for s in self.skills}
        self._pending: dict[str, deque[list[str]]] = {}

    @abstractmethod
    def choose(self, episode_key: str, text: str) -> list[TeacherSkill]:
        """The skills for this episode, before any tally."""

    def select(self, episode_key: str, text: str) -> list[TeacherSkill]:
        chosen = self.choose(episode_key, text)
        for skill in chosen:
            self.pulls[skill.name] += 1
        self._pending.setdefault(episode_key, deque()).append([s.name for s in chosen])
        return chosen

    def update(self, episode_key: str, reward: float) -> None:
        """Credit the skills chosen for `episode_key` (its oldest unreported selection) with `reward` in [0, 1]
        (success as 0/1, or a teacher-side signal)."""
        if not 0.0 <= reward <= 1.0:
            raise ValueError(f"update({episode_key!r}, {reward}): the reward must lie in [0, 1]")
        queue = self._pending.get(episode_key)
        if not queue:
            raise ValueError(f"update({episode_key!r}): no selection of that episode awaits its outcome")
        for name in queue.popleft():
            self.rewarded[name] += 1
            self.reward_sum[name] += float(reward)
        if not queue:
            del self._pending[episode_key]

    def mean_reward(self, name: str) -> float:
        """Mean reward of the reported episodes with this skill; 0 before the first report."""
        return self.reward_sum[name] / self.rewarded[name] if self.rewarded[name] else 0.0

    def stats(self) -> dict[str, float]:
        row: dict[str, float] = {}
        for name in self.pulls:
            row[f"pulls/{name}"] = float(self.pulls[name])
            row[f"mean_reward/{name}"] = self.mean_reward(name)
        return row

    def state_dict(self) -> dict[str, dict[str, float]]:
        return {"pulls": dict(self.pulls), "rewarded": dict(self.rewarded), "reward_sum": dict(self.reward_sum)}

    def load_state_dict(self, state: dict[str, dict[str, float]]) -> None:
        """Continue saved statistics; skills the state does not know start untried."""
        for table, kind in (("pulls", int), ("rewarded", int), ("reward_sum", float)):
            mine, saved = getattr(self, table), state.get(table, {})
            for name in mine:
                mine[name] = kind(saved.get(name, 0))


class KeywordRetriever(TallyRetriever):
    def choose(self, episode_key: str, text: str) -> list[TeacherSkill]:
        words = set(tokenize(text))
        return self.general + [s for s in self.task if words.intersection(s.keywords)]


class FullRetriever(TallyRetriever):
    def choose(self, episode_key: str, text: str) -> list[TeacherSkill]:
        return list(self.skills)


class RandomRetriever(TallyRetriever):
    def __init__(self, skills: list[TeacherSkill], seed: int) -> None:
        super().__init__(skills)
        self.seed = seed

    def choose(self, episode_key: str, text: str) -> list[TeacherSkill]:
        if not self.task:
            return list(self.general)
        return self.general + [random.Random(f"{self.seed}/{episode_key}").choice(self.task)]


class UCBRetriever(TallyRetriever):
    def __init__(self, skills: list[TeacherSkill], c: float) -> None:
        super().__init__(skills)
        self.c = c

    def index(self, name: str, total: int) -> float:
        """μ_i + c·√(ln N / n_i) for a skill already tried."""
        return self.mean_reward(name) + self.c * math.sqrt(math.log(total) / self.pulls[name])

    def choose(self, episode_key: str, text: str) -> list[TeacherSkill]:
        if not self.task:
            return list(self.general)
        untried = [s for s in self.task if self.pulls[s.name] == 0]
        if untried:
            return self.general + untried[:1]
        total = sum(self.pulls[s.name] for s in self.task)
        best = max(self.task, key=lambda s: self.index(s.name, total))  # max keeps the first of equals
        return self.general + [best]

    def stats(self) -> dict[str, float]:
        return {**super().stats(), "ucb_c": self.c}


def make_retriever(strategy: str, skills: list[TeacherSkill], seed: int, ucb_c: float = 2**0.5) -> TallyRetriever:
    """The retriever for `--retrieval STRATEGY` over `skills`."""
    if strategy not in STRATEGIES:
        raise UserError(f"--retrieval {strategy}: unknown strategy; choose one of {', '.join(STRATEGIES)}")
    if not skills:
        raise UserError(f"--retrieval {strategy}: there are no skills to retrieve from; pass --skills DIR with SKILL.md files")
    names = [s.name for s in skills]
    if repeated := sorted({n for n in names if names.count(n) > 1}):
        raise UserError(f"--skills: several skills are named {', '.join(repeated)}; give each skill its own name")
    if ucb_c < 0:
        raise UserError(f"UCB exploration constant {ucb_c} is negative; use c >= 0 (default √2)")
    if strategy == "keyword":
        return KeywordRetriever(skills)
    if strategy == "full":
        return FullRetriever(skills)
    if strategy == "random":
        return RandomRetriever(skills, seed)
    return UCBRetriever(skills, ucb_c)
