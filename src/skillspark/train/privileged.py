"""Where the teacher's privileged text comes from, per episode: retrieval over skills that may grow.

Skills come from `--skills` (only SKILL.md files are read) and, with `--skills-from-rollouts`, from the
skill bank that summarizes each batch's wins and recurring failures (Skill-SD). A retriever (keyword,
full, random, UCB) picks the skills of each episode; UCB learns from a reward per episode and is rebuilt,
statistics kept, when the bank grows. An episode given no skill is its own teacher (update.py).
"""

from __future__ import annotations

from skillspark.errors import UserError
from skillspark.train.config import TrainConfig
from skillspark.train.retrieval import load_skills, make_retriever, render_skills
from skillspark.train.skillbank import EpisodeSummary, SkillBank, llm_summarizer


class SkillSource:
    def __init__(self, config: TrainConfig, processes: int) -> None:
        self.config = config
        skills = load_skills(config.skills) if config.skills is not None else []
        self.bank = self.summarize = None
        if config.skills_from_rollouts:
            if processes > 1:
                raise UserError("--skills-from-rollouts runs in one process for now; launch without accelerate's extra processes")
            self.bank = SkillBank(config.output / "skillbank", seed_skills=skills)
            self.summarize = llm_summarizer(config.summarizer)
            skills = self.bank.skills()
        self.retriever = make_retriever(config.retrieval, skills, config.seed, config.ucb_c) if skills else None

    def choose(self, episode_key: str, text: str) -> str | None:
        if self.retriever is None:
            return None
        return render_skills(self.retriever.select(episode_key, text)) or None

    def observe(self, episodes, rewards: dict[str, float] | None = None) -> None:
        """After a batch: reward the retriever's choices, let the bank learn, follow the bank's growth.

        `rewards`: per episode id, the teacher-side signal of skill_reward.py (½, no information, for an
        episode it lacks); None: episode success.
        """
        if self.retriever is not None:
            for episode in episodes:
                if episode.skill is not None:
                    reward = float(episode.won) if rewards is None else rewards.get(episode.episode_id, 0.5)
                    self.retriever.update(episode.episode_id, reward)
        if self.bank is None:
            return
        summaries = [
            EpisodeSummary(objective=e.objective, actions=[t.action for t in e.history], won=e.won, final_observation=e.observation)
            for e in episodes
        ]
        if self.bank.add_from_episodes(summaries, self.summarize):
            previous = self.retriever
            self.retriever = make_retriever(self.config.retrieval, self.bank.skills(), self.config.seed, self.config.ucb_c)
            if previous is not None:
                self.retriever.load_state_dict(previous.state_dict())

    def stats(self) -> dict[str, float]:
        stats = dict(self.retriever.stats()) if self.retriever is not None else {}
        return stats | (self.bank.stats() if self.bank is not None else {})

    def state_dict(self) -> dict:
        return {"retriever": self.retriever.state_dict() if self.retriever is not None else None}

    def load_state_dict(self, state: dict) -> None:
        if self.retriever is not None and state.get("retriever"):
            self.retriever.load_state_dict(state["retriever"])

    def close(self) -> None:
        if self.summarize is not None:
            self.summarize.close()
