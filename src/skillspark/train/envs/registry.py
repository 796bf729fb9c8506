"""From an `--game` string and a game seed to a running environment; every bad spec is one UserError line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from skillspark.errors import UserError
from skillspark.train.envs import fake, harbor_env, tw
from skillspark.train.envs.base import TextEnv
from skillspark.train.envs.spec import EnvSpec, Knob, apply_knobs, split_spec


@dataclass(frozen=True)
class Family:
    games: dict[str, dict[str, Knob]]
    make: Callable[[EnvSpec, int, Path | None], TextEnv]
    check: Callable[[EnvSpec, str], None] = lambda spec, text: None  # constraints between knobs
    aliases: dict[str, str] = field(default_factory=dict)  # other spellings of a game's name
    path_knobs: dict[str, Knob] | None = None  # set when NAME is a path (kept as written), not a game


FAMILIES = {
    "fake": Family(fake.GAMES, lambda spec, seed, cache_dir: fake.make(spec, seed)),
    "textworld": Family(tw.GAMES, tw.make, tw.check_knobs, tw.ALIASES),
    "harbor": Family({}, harbor_env.make, harbor_env.check_spec, path_knobs=harbor_env.KNOBS),
}


def parse_env_spec(spec: str) -> EnvSpec:
    family_name, name, raw = split_spec(spec)
    family = FAMILIES.get(family_name)
    if family is None:
        raise UserError(f"unknown env family {family_name!r} in {spec!r} (--game): choose one of {', '.join(FAMILIES)}")
    if family.path_knobs is not None:
        parsed = apply_knobs(spec, family_name, name, family.path_knobs, raw)
    else:
        name = family.aliases.get(name.lower(), name.lower())
        if name not in family.games:
            games = ", ".join(f"{family_name}:{game}" for game in family.games)
            raise UserError(f"unknown {family_name} game {name!r} in {spec!r} (--game): choose one of {games}")
        parsed = apply_knobs(spec, family_name, name, family.games[name], raw)
    family.check(parsed, spec)
    return parsed


def make_env(spec: str, game_seed: int, cache_dir: Path | None = None) -> TextEnv:
    """A ready environment for game `game_seed` of `spec`; TextWorld games are generated once into `cache_dir`
    (Harbor tasks keep their sandbox layers under `cache_dir/sandbox`)."""
    parsed = parse_env_spec(spec)
    if not 0 <= game_seed < 2**32:
        raise UserError(f"game seed {game_seed} of {spec!r} is out of range: use 0 <= seed < 2**32")
    return FAMILIES[parsed.family].make(parsed, game_seed, cache_dir)


def codeword_spec(game: str) -> EnvSpec:
    """The parsed spec of a fake:codeword game, or one UserError line: only its skills state each rule's action."""
    spec = parse_env_spec(game)
    if (spec.family, spec.name) != ("fake", "codeword"):
        raise UserError(f"--game {game}: this needs fake:codeword (its skills state each rule's action); pass --game fake:codeword?...")
    return spec
