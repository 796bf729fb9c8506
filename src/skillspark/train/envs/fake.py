"""Scripted pure-python games: instant, deterministic per seed, for tests and quick training runs.

Each follows a rule written in `FAKE_SKILLS[name]`, so a model given that text as privileged context
can beat chance while a model without it must discover the rule from reward: the setting where
skill-conditioned self-distillation (SDAR, Skill-SD) should help.
- `choice`: each turn a lamp shows a colour and the agent presses one of `options` buttons; the
  skill maps colours to buttons. A wrong button ends the game; won after `turns` right presses.
- `corridor`: walk `length` rooms to the goal; a breeze blows from the way forward, the other new exit
  of each room drops into a pit (lost). The skill says to walk into the breeze.
- `codeword`: the decisive-teacher game (codeword.py): one skill per password names the door, and
  validation games use passwords never seen in training.
"""

from __future__ import annotations

from pathlib import Path

from skillspark.files import write_atomic
from skillspark.train.envs.codeword import KNOBS as CODEWORD_KNOBS
from skillspark.train.envs.codeword import CodewordEnv
from skillspark.train.envs.base import Observation, StepResult, invalid_step
from skillspark.train.envs.scripted import ScriptedEnv
from skillspark.train.envs.spec import EnvSpec, Knob

CHOICE_RULE = {
    "red": "circle",
    "green": "square",
    "blue": "triangle",
    "yellow": "star",
    "white": "moon",
    "black": "sun",
    "purple": "heart",
    "orange": "key",
}
_OPPOSITE = {"north": "south", "south": "north", "east": "west", "west": "east"}

FAKE_SKILLS = {
    "choice": "\n".join(
        [
            "# Lamp and buttons",
            "The lamp's colour names the one button that is safe to press. Press the button of its symbol:",
            *(f"- {colour} lamp: press {symbol}" for colour, symbol in CHOICE_RULE.items()),
            "Any other button ends the game at once, so never guess: read the colour, then press its symbol.",
        ]
    ),
    "corridor": "\n".join(
        [
            "# Corridor of pits",
            "In every room a breeze blows from the way forward. Walk into the breeze: if the breeze blows",
            "from the east, go east. Every other new exit drops into a pit and ends the game.",
            "Going back the way you came is safe but wastes a turn.",
        ]
    ),
}

GAMES: dict[str, dict[str, Knob]] = {
    "choice": {"turns": Knob(3, low=1, high=50), "options": Knob(4, low=2, high=len(CHOICE_RULE))},
    "corridor": {"length": Knob(3, low=1, high=50)},
    "codeword": CODEWORD_KNOBS,
}


class ChoiceEnv(ScriptedEnv):
    def __init__(self, spec: EnvSpec, game_seed: int) -> None:
        super().__init__(spec, game_seed)
        turns, options = int(spec.knobs["turns"]), int(spec.knobs["options"])
        self.max_score = float(turns)
        self.objective = (
            f"Open the vault by pressing the right button on each of {turns} turns. "
            "A wrong button ends the game."
        )
        self._colours: list[str] = []
        self._buttons: list[list[str]] = []
        for _ in range(turns):
            colour = self._rng.choice(sorted(CHOICE_RULE))
            others = [symbol for symbol in CHOICE_RULE.values() if symbol != CHOICE_RULE[colour]]
            buttons = [CHOICE_RULE[colour], *self._rng.sample(others, options - 1)]
            self._rng.shuffle(buttons)
            self._colours.append(colour)
            self._buttons.append([f"press {symbol}" for symbol in buttons])
        self._turn = 0

    def _show(self) -> str:
        turn = self._turn
        buttons = ", ".join(command.removeprefix("press ") for command in self._buttons[turn])
        return f"Turn {turn + 1} of {len(self._colours)}. The lamp glows {self._colours[turn]}. Buttons: {buttons}."

    def reset(self) -> Observation:
        self._turn, self._done, self._admissible = 0, False, self._buttons[0]
        return Observation(self._show(), list(self._admissible), self.objective)

    def step(self, action: str) -> StepResult:
        command = self._parse(action)
        if command is None:
            return invalid_step(self._admissible)
        if command != f"press {CHOICE_RULE[self._colours[self._turn]]}":
            return self._end(f"You {command}. A buzzer sounds: wrong button. The game is over.", 0.0, False)
        self._turn += 1
        if self._turn == len(self._colours):
            return self._end(f"You {command}. Click. The vault opens: you win!", 1.0, True)
        return self._go_on(f"You {command}. Click. {self._show()}", 1.0, self._buttons[self._turn])

    def walkthrough(self) -> list[str]:
        return [f"press {CHOICE_RULE[colour]}" for colour in self._colours]


class CorridorEnv(ScriptedEnv):
    def __init__(self, spec: EnvSpec, game_seed: int) -> None:
        super().__init__(spec, game_seed)
        length = int(spec.knobs["length"])
        self.max_score = float(length)
        self.objective = f"Reach the goal room at the end of a corridor of {length} rooms. Pits lurk behind some exits."
        # Room i leads forward through _forward[i]; its back exit is the opposite of _forward[i - 1].
        self._forward: list[str] = []
        self._pit: list[str] = []
        for room in range(length):
            back = _OPPOSITE[self._forward[-1]] if room else None
            free = [direction for direction in sorted(_OPPOSITE) if direction != back]
            forward, pit = self._rng.sample(free, 2)
            self._forward.append(forward)
            self._pit.append(pit)
        self._room = self._best = 0

    def _exits(self) -> list[str]:
        room = self._room
        exits = {self._forward[room], self._pit[room]} | ({_OPPOSITE[self._forward[room - 1]]} if room else set())
        return [f"go {direction}" for direction in sorted(exits)]

    def _show(self) -> str:
        exits = ", ".join(command.removeprefix("go ") for command in self._exits())
        return (
            f"You are in room {self._room + 1} of {len(self._forward) + 1}. "
            f"A breeze blows from the {self._forward[self._room]}. Exits: {exits}."
        )

    def reset(self) -> Observation:
        self._room = self._best = 0
        self._done, self._admissible = False, self._exits()
        return Observation(self._show(), list(self._admissible), self.objective)

    def step(self, action: str) -> StepResult:
        command = self._parse(action)
        if command is None:
            return invalid_step(self._admissible)
        direction = command.removeprefix("go ")
        if direction == self._pit[self._room]:
            return self._end(f"You go {direction} and fall into a pit. The game is over.", 0.0, False)
        self._room += 1 if direction == self._forward[self._room] else -1
        reward = 1.0 if self._room > self._best else 0.0
        self._best = max(self._best, self._room)
        if self._room == len(self._forward):
            return self._end(f"You go {direction} and reach the goal room: you win!", reward, True)
        return self._go_on(f"You go {direction}. {self._show()}", reward, self._exits())

    def walkthrough(self) -> list[str]:
        return [f"go {direction}" for direction in self._forward]


def make(spec: EnvSpec, game_seed: int) -> ChoiceEnv | CorridorEnv | CodewordEnv:
    return {"choice": ChoiceEnv, "corridor": CorridorEnv, "codeword": CodewordEnv}[spec.name](spec, game_seed)


def write_fake_skill(name: str, skills_dir: Path) -> Path:
    """`skills_dir/fake-NAME/SKILL.md` holding `FAKE_SKILLS[name]` (Agent Skills frontmatter), for `--skills`."""
    skill_name = f"fake-{name}"
    description = f"The rule that wins the fake:{name} training game. Use when playing fake:{name}."
    path = skills_dir / skill_name / "SKILL.md"
    text = f"---\nname: {skill_name}\ndescription: {description}\n---\n\n{FAKE_SKILLS[name]}\n"
    write_atomic(path, text, make_parents=True)
    return path
