"""Skills from rollouts (Skill-SD): a versioned, deduplicated bank of SKILL.md folders on disk.

After each batch the trainer hands over its episodes. Per objective, the shortest won episode is
summarized into a success skill; an objective that failed in several episodes and won in none is
summarized into a caution skill (a recurring failure). The summarizer is a plain `prompt -> text`
function (`llm_summarizer` builds one on our LLM client). Its answer becomes a skill only when it is a
title and steps: an exception, an empty answer or an answer that reads as an error message is stored
nowhere, its text not even in the log; the event says only why it was rejected.

Layout of the bank folder: one folder per skill holding a SKILL.md valid per the Agent Skills spec
(keywords and origin in `metadata`), and `bank.jsonl`, one event per line: `added`, `deduplicated` or
`rejected`, each with the bank's version (its number of skills) after the event. A skill whose body
shares ≥ 80% of its word set (token Jaccard) with a banked skill is not added. Seed skills (a SPARK
explore output) enter the bank the same way, each considered once in the bank's life, so a restart
with the same seeds reloads the same skills without new events.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from skillspark.core.skillspec import MAX_DESCRIPTION, MAX_NAME, check_skill_text, compose
from skillspark.explore.distill import skill_name
from skillspark.files import append_line, write_atomic
from skillspark.pdi.text import token_overlap, tokenize
from skillspark.train.retrieval import TeacherSkill, keywords_of, load_skills, read_skill

DUPLICATE_JACCARD = 0.8
MAX_SKILL_LINES = 12  # a compact skill: a dozen short lines at most
MAX_LINE_CHARS = 240
MAX_KEYWORDS = 8
MAX_TITLE_WORDS = 12  # a longer first line is prose, not a title
MIN_FAILURES = 2  # failures of one objective in one batch that make a recurring failure
SUMMARY_MAX_TOKENS = 400
EVENTS = "bank.jsonl"

SYSTEM_PROMPT = "You turn what an agent did in a text environment into a short, reusable skill for similar tasks."
ANSWER_SHAPE = """Reply in exactly this shape, nothing else:
Title: <a few words naming the skill>
- <one step or rule>
- <one step or rule>
(2 to 6 lines that start with "- ")"""
# the first line of a provider's or client's error text, not of a skill ("Error handling" is a fine title)
_ERROR_ANSWER = re.compile(
    r"^\W*((error|exception|traceback|fatal)\b\s*[:(\[\-\d]"  # "Error: ...", "Exception(", "ERROR 42"
    r"|(http )?[45]\d\d\s*(:|-|\w+ error)"  # "429 Client Error", "HTTP 503: ..."
    r"|.*\b(rate.?limit|internal server error|service unavailable|bad gateway|too many requests|quota exceeded"
    r"|api key|request failed)\b)",
    re.IGNORECASE,
)
_TITLE = re.compile(r"^\W*(title|skill|name)\s*:\s*", re.IGNORECASE)
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
_PLACEHOLDER = re.compile(r"^\s*[-*]?\s*<[^>]*>\s*$")


class EpisodeSummary(BaseModel):
    """What the bank needs of one finished episode."""

    objective: str
    actions: list[str]
    won: bool
    final_observation: str = ""


class BankEvent(BaseModel):
    """One line of bank.jsonl."""

    event: Literal["added", "deduplicated", "rejected"]
    version: int
    source: Literal["seed", "rollouts"]
    name: str | None = None
    seed: str | None = None  # the seed skill's own name, for seed events
    objective: str | None = None
    reason: str | None = None
    duplicate_of: str | None = None
    similarity: float | None = None
    at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


class Rejected(Exception):
    """A summarizer answer that must not become a skill; the message is the reason, never the answer."""


def success_prompt(episode: EpisodeSummary) -> str:
    actions = "\n".join(f"{i}. {a}" for i, a in enumerate(episode.actions[-40:], 1)) or "(none)"
    return (f"The agent completed this task.\nObjective: {episode.objective}\nActions, in order:\n{actions}\n"
            f"Final observation: {episode.final_observation[-600:]}\n\n"
            f"Write the skill that would let an agent complete similar tasks quickly.\n{ANSWER_SHAPE}")


def failure_prompt(episodes: list[EpisodeSummary]) -> str:
    shown = "\n\n".join(
        f"Attempt {i}: last actions: {'; '.join(e.actions[-15:]) or '(none)'}\n"
        f"Final observation: {e.final_observation[-300:]}"
        for i, e in enumerate(episodes[:3], 1)
    )
    return (f"The agent failed this task {len(episodes)} times.\nObjective: {episodes[0].objective}\n\n{shown}\n\n"
            f"Write a caution skill: the mistake to avoid and what to do instead.\n{ANSWER_SHAPE}")


def parse_answer(answer: str) -> tuple[str, list[str]]:
    """(title, step lines) of a summarizer answer, or `Rejected` with the reason."""
    text = _THINK.sub("", answer).replace("```", "").strip()
    lines = [line.strip() for line in text.splitlines() if line.strip() and not _PLACEHOLDER.match(line)]
    if not lines:
        raise Rejected("empty answer")
    if _ERROR_ANSWER.match(lines[0]) or "Traceback (most recent call last)" in text:
        raise Rejected("the answer reads as an error message")
    title = _TITLE.sub("", lines[0]).strip("#*:- ").strip()
    steps = [line[:MAX_LINE_CHARS] for line in lines[1:MAX_SKILL_LINES + 1]]
    if not title or len(tokenize(title)) > MAX_TITLE_WORDS or not steps:
        raise Rejected("the answer is not a title followed by steps")
    return title, steps


def _to_summarize(episodes: list[EpisodeSummary]) -> tuple[list[EpisodeSummary], list[list[EpisodeSummary]]]:
    """The shortest win per objective, and the failures of each objective that recurred without a win."""
    by_objective: dict[str, list[EpisodeSummary]] = defaultdict(list)
    for episode in episodes:
        by_objective[episode.objective].append(episode)
    wins, failures = [], []
    for group in by_objective.values():
        won = [e for e in group if e.won]
        if won:
            wins.append(min(won, key=lambda e: len(e.actions)))
        elif len(group) >= MIN_FAILURES:
            failures.append(group)
    return wins, failures


class SkillBank:
    """The skill folders and event log under `root` (e.g. `<run output>/skillbank`); see the module doc."""

    def __init__(self, root: Path, seed_skills: Iterable[TeacherSkill] = ()) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._skills = load_skills(root) if any(root.glob("*/SKILL.md")) else []
        self.events = self._read_events()
        considered = {e.seed for e in self.events}
        for seed in seed_skills:
            if seed.name not in considered:
                self._offer(seed, "seed", self._free_name(seed.name, seed.general), seed=seed.name)

    def skills(self) -> list[TeacherSkill]:
        """The banked skills, by name (the order a reload gives)."""
        return list(self._skills)

    @property
    def version(self) -> int:
        return len(self._skills)

    def stats(self) -> dict[str, float]:
        """For metrics.jsonl: skills in the bank and events so far per kind (over restarts too)."""
        kinds = ("added", "deduplicated", "rejected")
        return {"skillbank/skills": float(self.version),
                **{f"skillbank/{kind}": float(sum(e.event == kind for e in self.events)) for kind in kinds}}

    def add_from_episodes(self, episodes: list[EpisodeSummary], summarize: Callable[[str], str]) -> list[str]:
        """Summarize this batch's wins and recurring failures; the names of the skills added."""
        wins, failures = _to_summarize(episodes)
        jobs = [(e.objective, success_prompt(e), "success") for e in wins]
        jobs += [(group[0].objective, failure_prompt(group), "caution") for group in failures]
        added = []
        for objective, prompt, outcome in jobs:
            try:
                title, steps = self._ask(summarize, prompt)
            except Rejected as why:
                self._log("rejected", "rollouts", objective=objective, reason=str(why))
                continue
            description = f"{'Caution: ' if outcome == 'caution' else ''}{title}. For tasks like: {objective}"
            skill = TeacherSkill(name=title, description=" ".join(description.split())[:MAX_DESCRIPTION],
                          body="\n".join(steps), keywords=keywords_of(objective)[:MAX_KEYWORDS], general=False)
            name = self._free_name(title, general=False)
            if self._offer(skill, "rollouts", name, objective=objective, outcome=outcome):
                added.append(name)
        return added

    @staticmethod
    def _ask(summarize: Callable[[str], str], prompt: str) -> tuple[str, list[str]]:
        try:
            answer = summarize(prompt)
        except Exception as exc:  # noqa: BLE001 - any failure of the summarizer is a rejected answer
            raise Rejected(f"the summarizer raised {type(exc).__name__}") from None
        if not isinstance(answer, str):
            raise Rejected("the summarizer returned no text")
        return parse_answer(answer)

    def _offer(self, skill: TeacherSkill, source: Literal["seed", "rollouts"], name: str, **about: str) -> bool:
        """Bank `skill` as folder `name` unless it is a near-duplicate or no valid SKILL.md; log the outcome."""
        outcome = about.pop("outcome", "")
        words = tokenize(skill.body)
        for banked in self._skills:
            similarity = token_overlap(words, tokenize(banked.body))
            if similarity >= DUPLICATE_JACCARD:
                self._log("deduplicated", source, name=name, duplicate_of=banked.name,
                          similarity=round(similarity, 4), **about)
                return False
        metadata = {**({"keywords": " ".join(skill.keywords)} if skill.keywords else {}),
                    "general": str(skill.general).lower(), "source": source,
                    **({"outcome": outcome} if outcome else {}), "bank-version": str(self.version + 1)}
        text = compose({"name": name, "description": skill.description, "metadata": metadata}, skill.body + "\n")
        if problems := check_skill_text(text, name):
            reason = "not a valid SKILL.md: " + "; ".join(f"{field}: {message}" for field, message in problems)
            self._log("rejected", source, name=name, reason=reason, **about)
            return False
        write_atomic(self.root / name / "SKILL.md", text, make_parents=True)
        self._skills = sorted([*self._skills, read_skill(self.root / name)], key=lambda s: s.name)
        self._log("added", source, name=name, **about)
        return True

    def _free_name(self, title: str, general: bool) -> str:
        """A spec-valid folder name from `title` that the bank does not hold; a task skill's never starts
        with "general" (that would make it general on reload)."""
        base = skill_name(title)[: MAX_NAME - 4].strip("-")
        base = f"task-{base}" if base.startswith("general") and not general else base
        taken = {s.name for s in self._skills}
        return next(n for n in (base, *(f"{base}-{i}" for i in range(2, 1000))) if n not in taken)

    def _log(self, event: str, source: str, **fields: str | float) -> None:
        record = BankEvent(event=event, version=self.version, source=source, **fields)  # type: ignore[arg-type]
        self.events.append(record)
        append_line(self.root / EVENTS, record.model_dump_json(exclude_none=True))

    def _read_events(self) -> list[BankEvent]:
        path = self.root / EVENTS
        if not path.is_file():
            return []
        lines = path.read_text(encoding="utf-8").splitlines()
        return [BankEvent.model_validate(json.loads(line)) for line in lines if line.strip()]


class SummarizerFailed(Exception):
    """The model gave no usable completion (empty or malformed); the bank rejects the call."""


class LLMSummarizer:
    """`prompt -> text` through our LLM client, for the synchronous trainer: one private event loop and one
    client for all calls, so the embedded model's server starts once; `close()` releases both."""

    def __init__(self, model: str, api_base: str | None = None, max_tokens: int = SUMMARY_MAX_TOKENS) -> None:
        from skillspark.llm.client import LLMClient

        self.client = LLMClient(model, api_base=api_base, max_tokens=max_tokens)
        self._loop = asyncio.new_event_loop()

    def __call__(self, prompt: str) -> str:
        messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}]
        result = self._loop.run_until_complete(self.client.chat(messages))
        if not result.ok:
            raise SummarizerFailed(result.error or "no completion")
        return result.text

    def close(self) -> None:
        if not self._loop.is_closed():
            self._loop.run_until_complete(self.client.aclose())
            self._loop.close()


def llm_summarizer(model: str, api_base: str | None = None) -> LLMSummarizer:
    """A summarizer on `model` (any litellm model string; `local/smollm2` is the embedded model)."""
    return LLMSummarizer(model, api_base)
