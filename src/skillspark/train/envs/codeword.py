"""`fake:codeword`: a game that only the skill can win, with rules held out from training for validation.

Why it exists: on `fake:choice` a 135M teacher barely uses the skill (0.25 → 0.29), so teacher-side
methods cannot differ from GRPO there. Here the teacher with the skill knows the answer and the student
without it does not, so distillation has something to carry.

The game: a guard stands before `options` coloured doors and says a password, e.g. "karedlo". One door
opens; the others end the game. The door is named by the colour hidden in the password (ka·red·lo); the
observation never says so. Each password is one *rule* of the family, and each rule has its own SKILL.md
("The guard's password karedlo means your action is: open red door. The password hides the colour:
ka-red-lo."), found by keyword retrieval on the password. SmolLM2-135M copies that action when the skill
sits right before "Your action:" after the solved toy gate of `demonstration()` (16/16 held-out games); a
student without the skill sees an unknown word and is at chance, 1/options.

Held-out rules: training games draw their password from `rules` training passwords built from one set of
syllables; validation games (the reserved seed range of `manifest.py`) from `held_out` passwords built
from another, disjoint set. A student that improves on validation has learnt the procedure the skills
teach (find the colour inside the password), not a table of passwords seen in training.
With `turns` > 1 the guard repeats the password at each of `turns` gates, the doors reshuffled.
"""

from __future__ import annotations

import random
from pathlib import Path

from skillspark.files import write_atomic
from skillspark.train.envs.base import Demonstration, Observation, StepResult, invalid_step
from skillspark.train.envs.scripted import ScriptedEnv
from skillspark.train.envs.seeds import VALIDATION_SEEDS
from skillspark.train.envs.spec import EnvSpec, Knob

COLOURS = ("red", "blue", "green", "yellow", "black", "white", "pink", "brown")
SYLLABLES = {
    "training": ("ka", "lo", "mi", "nu", "po", "ri", "su", "te", "va", "zo"),
    "validation": ("bex", "dru", "fip", "gow", "hul", "jat", "kev", "mub"),  # never in a training password
}
KNOBS = {
    "turns": Knob(1, low=1, high=10),
    "options": Knob(4, low=2, high=len(COLOURS)),
    "rules": Knob(16, low=1, high=len(SYLLABLES["training"]) ** 2 * len(COLOURS)),
    # 0: no held-out rules, validation games use the training passwords (what a model too small to learn the
    # procedure can still learn: the planted control, docs/training-control.md)
    "held_out": Knob(16, low=0, high=len(SYLLABLES["validation"]) ** 2 * len(COLOURS)),
}


def rules(split: str, count: int) -> list[tuple[str, str, str, str]]:
    """The first `count` rules of a split as (password, prefix, colour, suffix); the same in every process."""
    syllables = SYLLABLES[split]
    every = [(a, colour, b) for a in syllables for colour in COLOURS for b in syllables]
    random.Random(f"codeword-rules/{split}").shuffle(every)
    return [(f"{a}{colour}{b}", a, colour, b) for a, colour, b in every[:count]]


def split_of(game_seed: int) -> str:
    return "validation" if game_seed in VALIDATION_SEEDS else "training"


def skill_text(password: str, prefix: str, colour: str, suffix: str) -> str:
    """The rule, with the action written out as the game takes it: a 135M model copies an action, it does not
    rephrase "open the red door" into one (docs/training-decisive.md)."""
    return (
        f"The guard's password {password} means your action is: open {colour} door\n"
        f"The password hides the colour: {prefix}-{colour}-{suffix}. Any other door ends the game."
    )


# A toy gate solved by copying its toy skill's action: a colour no game uses, syllables no password uses.
TOY = ("xogoldyu", "xo", "gold", "yu")
TOY_DOORS = ("blue", "gold", "grey")


class CodewordEnv(ScriptedEnv):
    def __init__(self, spec: EnvSpec, game_seed: int) -> None:
        super().__init__(spec, game_seed)
        rng = self._rng
        turns, options = int(spec.knobs["turns"]), int(spec.knobs["options"])
        held_out = int(spec.knobs["held_out"])
        split = split_of(game_seed) if held_out else "training"  # held_out=0: validation on the training rules
        pool = rules(split, int(spec.knobs["rules" if split == "training" else "held_out"]))
        self.password, _, self.colour, _ = rng.choice(pool)
        others = [c for c in COLOURS if c != self.colour]
        self._doors = [rng.sample([self.colour, *rng.sample(others, options - 1)], options) for _ in range(turns)]
        self.max_score = float(turns)
        self.objective = f"Get past {turns} gate(s): at each, open the one door the guard's password points to. A wrong door ends the game."
        self._turn = 0

    def _show(self) -> str:
        doors = ", ".join(self._doors[self._turn])
        return f"Gate {self._turn + 1} of {len(self._doors)}. The guard says the password '{self.password}'. Doors: {doors}."

    def _commands(self) -> list[str]:
        return [f"open {colour} door" for colour in self._doors[self._turn]]

    def reset(self) -> Observation:
        self._turn, self._done, self._admissible = 0, False, self._commands()
        return Observation(self._show(), list(self._admissible), self.objective, self.demonstration())

    def demonstration(self) -> Demonstration:
        """A one-gate toy game, solved: shown before every prompt (docs/training-decisive.md says why)."""
        password, _, colour, _ = TOY
        return Demonstration(
            objective=self.objective,
            observation=f"Gate 1 of 1. The guard says the password '{password}'. Doors: {', '.join(TOY_DOORS)}.",
            admissible=[f"open {door} door" for door in TOY_DOORS],
            skill=skill_text(*TOY),
            action=f"open {colour} door",
        )

    def step(self, action: str) -> StepResult:
        command = self._parse(action)
        if command is None:
            return invalid_step(self._admissible)
        if command != f"open {self.colour} door":
            return self._end(f"You {command}. A trapdoor opens: the game is over.", 0.0, False)
        self._turn += 1
        if self._turn == len(self._doors):
            return self._end(f"You {command}. The last gate opens: you win!", 1.0, True)
        return self._go_on(f"You {command}. It opens. {self._show()}", 1.0, self._commands())

    def walkthrough(self) -> list[str]:
        return [f"open {self.colour} door"] * len(self._doors)


def write_codeword_skills(spec: EnvSpec, skills_dir: Path) -> list[Path]:
    """One SKILL.md per rule of `spec` (training and held-out), keyed by its password for keyword retrieval."""
    written = []
    for split, knob in (("training", "rules"), ("validation", "held_out")):
        for password, prefix, colour, suffix in rules(split, int(spec.knobs[knob])):
            name = f"codeword-{password}"
            path = skills_dir / name / "SKILL.md"
            text = (
                f"---\nname: {name}\ndescription: What the guard's password {password} means in the codeword game.\n"
                f"metadata:\n  keywords: [{password}]\n---\n\n{skill_text(password, prefix, colour, suffix)}\n"
            )
            write_atomic(path, text, make_parents=True)
            written.append(path)
    return written
