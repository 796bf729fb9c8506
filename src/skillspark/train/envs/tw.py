"""TextWorld games, generated offline through TextWorld's challenge registry and cached by (game, knobs, seed).

`import textworld` happens only when a game is made, so specs parse (and `--help` runs) without it.
Generation (≈ 4 s a game) builds in a private temp folder beside the cache entry and renames it into
place, one builder at a time (`files.build_dir_atomically`): parallel threads or processes asking for
the same game never see half a game, and the later ones use the first one's game.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

from skillspark.config import get_settings
from skillspark.errors import UserError
from skillspark.files import build_dir_atomically
from skillspark.train.envs.actions import parse_action
from skillspark.train.envs.base import Observation, StepResult, invalid_step
from skillspark.train.envs.spec import EnvSpec, Knob

# Our game name → TextWorld's challenge name.
CHALLENGES = {
    "tw-simple": "tw-simple",
    "coin_collector": "tw-coin_collector",
    "treasure_hunter": "tw-treasure_hunter",
    "cooking": "tw-cooking",
}
# tw-simple's goal=none states no objective; a prompt still needs a task line, one that reveals nothing.
NO_GOAL = "The game does not say what to do: explore and find out what earns points."
ALIASES = {"tw-coin_collector": "coin_collector", "tw-treasure_hunter": "treasure_hunter", "tw-cooking": "cooking"}

GAMES: dict[str, dict[str, Knob]] = {
    "tw-simple": {
        "rewards": Knob("dense", choices=("dense", "balanced", "sparse")),
        "goal": Knob("detailed", choices=("detailed", "brief", "none")),
        "test": Knob(False),
    },
    "coin_collector": {"level": Knob(5, low=1, high=300)},
    "treasure_hunter": {"level": Knob(1, low=1, high=30)},
    "cooking": {
        "recipe": Knob(1, low=1, high=5),
        "take": Knob(0, low=0, high=5),
        "go": Knob(1, choices=(1, 6, 9, 12)),
        "open": Knob(False),
        "cook": Knob(False),
        "cut": Knob(False),
        "drop": Knob(False),
        "recipe_seed": Knob(0, low=0, high=2**32 - 1),
        "split": Knob("all", choices=("all", "train", "valid", "test")),
    },
}


def check_knobs(spec: EnvSpec, text: str) -> None:
    """What TextWorld would reject after seconds of work, rejected up front in one line."""
    knobs = spec.knobs
    if spec.name == "coin_collector":
        level = int(knobs["level"])
        rooms = ((level - 1) // 100 + 1) * ((level - 1) % 100 + 1)
        if rooms > 100:
            raise UserError(
                f"coin_collector level={level} in {text!r} (--game) needs {rooms} rooms but TextWorld 1.7 allows 100: "
                "use a level in 1-100, 101-150 or 201-233"
            )
    if spec.name == "cooking":
        if int(knobs["take"]) > int(knobs["recipe"]):
            raise UserError(
                f"cooking take={knobs['take']} exceeds recipe={knobs['recipe']} in {text!r} (--game): use take <= recipe"
            )
        if int(knobs["recipe_seed"]) > 0 and int(knobs["take"]) == 0:
            raise UserError(f"cooking recipe_seed>0 needs take>=1 in {text!r} (--game): set take=1 or more")


def default_cache_dir() -> Path:
    return get_settings().cache_dir / "textworld"


def game_file(spec: EnvSpec, game_seed: int, cache_dir: Path | None = None) -> Path:
    """The compiled `.z8` of this game, generated first if the cache lacks it."""
    slug = ",".join(f"{key}={value}" for key, value in sorted(spec.knobs.items())).lower()
    entry = (cache_dir or default_cache_dir()) / spec.name / slug / str(game_seed)
    path = entry / "game.z8"
    if not path.is_file():
        build_dir_atomically(entry, lambda folder: _generate_into(spec, game_seed, folder),
                             done=lambda folder: (folder / "game.z8").is_file(), durable=False)
    return path


def _generate_into(spec: EnvSpec, game_seed: int, folder: Path) -> None:
    """Generate into a fresh build folder; `generate` makes the game's folder itself, as it always has."""
    folder.rmdir()
    generate(spec, game_seed, folder / "game.z8")


def generate(spec: EnvSpec, game_seed: int, path: Path) -> None:
    """Make and compile one game at `path` (plus its `.json`, which the player needs)."""
    textworld = _import_textworld()
    settings: dict[str, Any] = dict(spec.knobs)
    if spec.name == "cooking" and settings["split"] == "all":
        settings["split"] = None  # TextWorld's "draw from every split"
    options = textworld.GameOptions()
    options.seeds = game_seed
    options.path = str(path)
    options.file_ext = ".z8"
    _, make_game, _ = textworld.challenges.CHALLENGES[CHALLENGES[spec.name]]
    try:
        with warnings.catch_warnings():  # tw-simple replays its walkthrough in jericho while it makes the game
            warnings.filterwarnings("ignore", message=r"Game .* is not fully supported")
            game = make_game(settings=settings, options=options)
            textworld.generator.compile_game(game, options)
    except Exception as error:  # TextWorld signals a bad draw with ValueError, AssertionError, its own errors
        reason = (str(error).strip().splitlines() or [""])[0][:200]
        raise UserError(
            f"TextWorld could not generate {spec.canonical} game {game_seed}: {type(error).__name__}: {reason}; "
            "try other knobs or game seeds"
        ) from None
    path.with_suffix(".ni").unlink(missing_ok=True)  # the Inform 7 source: not needed to play


def _import_textworld() -> Any:
    try:
        import textworld
        import textworld.challenges  # noqa: F401  (registers the challenges)
    except ImportError:
        raise UserError("TextWorld is not installed: install the train extra (uv sync --extra train)") from None
    return textworld


def _clean(feedback: str) -> str:
    """Game text without the interpreter's trimmings (the trailing `>` prompt and status line, runs of
    blank lines): every token saved is prompt room for the history."""
    prompt = feedback.rfind("\n>")
    lines = (feedback[:prompt] if prompt >= 0 else feedback).splitlines()
    return re.sub(r"\n\n+", "\n\n", "\n".join(line.strip() for line in lines)).strip()


def _from_first_room(feedback: str) -> str:
    """The first feedback opens with an ASCII-art title and the objective (which has its own field)."""
    return feedback[max(feedback.find("-="), 0) :]


class TextWorldEnv:
    """One compiled game played through `textworld.start`; reward per step is the score increment."""

    def __init__(self, spec: EnvSpec, game_seed: int, path: Path) -> None:
        textworld = _import_textworld()
        self.spec = spec.canonical
        self.game_id = f"{spec.canonical}#{game_seed}"
        infos = textworld.EnvInfos(
            feedback=True,
            admissible_commands=True,
            won=True,
            lost=True,
            score=True,
            max_score=True,
            objective=True,
            extras=["walkthrough"],  # the generator's own; policy_commands would cost 2.5x steps/s (replanned per step)
        )
        with warnings.catch_warnings():  # jericho warns that it cannot track TextWorld's scores: TextWorld does
            warnings.filterwarnings("ignore", message=r"Game .* is not fully supported")
            self._env = textworld.start(str(path), request_infos=infos)
            state = self._env.reset()
        self.max_score = float(state["max_score"])
        self.objective = str(state["objective"]).strip() or NO_GOAL
        self._walkthrough = list(state["extra.walkthrough"])
        self._score = 0.0
        self._admissible: list[str] = []
        self._done = True

    def reset(self) -> Observation:
        state = self._env.reset()
        self._score, self._done = float(state["score"]), False
        self._admissible = list(state["admissible_commands"])
        return Observation(_clean(_from_first_room(state["feedback"])), list(self._admissible), self.objective)

    def step(self, action: str) -> StepResult:
        if self._done:
            raise RuntimeError(f"{self.game_id}: step() after the episode ended; call reset() first")
        command = parse_action(action, self._admissible)
        if command is None:
            return invalid_step(self._admissible)
        state, score, done = self._env.step(command)
        reward, self._score = float(score) - self._score, float(score)
        won, lost = bool(state["won"]), bool(state["lost"])
        self._done = done or won or lost
        self._admissible = [] if self._done else list(state["admissible_commands"])
        return StepResult(_clean(str(state["feedback"])), reward, self._done, won, list(self._admissible), False)

    def walkthrough(self) -> list[str]:
        return list(self._walkthrough)

    def close(self) -> None:
        self._env.close()


def make(spec: EnvSpec, game_seed: int, cache_dir: Path | None = None) -> TextWorldEnv:
    return TextWorldEnv(spec, game_seed, game_file(spec, game_seed, cache_dir))
