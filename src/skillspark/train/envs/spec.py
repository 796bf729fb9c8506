"""The `--game` string: `FAMILY:NAME[?KNOB=VALUE&KNOB=VALUE]`, e.g. `textworld:coin_collector?level=5`.

Each game declares its knobs (type, default, allowed values); a spec is checked against them once, here,
so a typo fails in one line before any game is generated. The canonical form (every knob, sorted) names
the game family in ids and cache folders: two spellings of the same settings share one cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from skillspark.errors import UserError

SPEC_SHAPE = "FAMILY:NAME[?KNOB=VALUE&KNOB=VALUE], e.g. textworld:tw-simple?rewards=dense"
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}

KnobValue = int | str | bool


@dataclass(frozen=True)
class Knob:
    """One difficulty setting; its type is its default's type (int, str or bool).

    Allowed values: `choices` when given, else for an int the range `low`-`high`.
    """

    default: KnobValue
    choices: tuple[KnobValue, ...] = ()
    low: int = 0
    high: int = 0

    def allowed(self) -> str:
        if self.choices:
            return "|".join(_show(choice) for choice in self.choices)
        if isinstance(self.default, bool):
            return "true|false"
        return f"{self.low}-{self.high}"

    def parse(self, raw: str) -> KnobValue:
        """The typed value of `raw`, or ValueError when it is not allowed (the caller names the spec)."""
        text = raw.strip().lower()
        if isinstance(self.default, bool):
            if text not in _TRUE | _FALSE:
                raise ValueError
            return text in _TRUE
        value: KnobValue = int(text) if isinstance(self.default, int) else text
        if self.choices:
            if value not in self.choices:
                raise ValueError
        elif isinstance(value, int) and not self.low <= value <= self.high:
            raise ValueError
        return value


@dataclass(frozen=True)
class EnvSpec:
    family: str
    name: str
    knobs: dict[str, KnobValue] = field(default_factory=dict)

    @property
    def canonical(self) -> str:
        """`family:name?k=v&...` with every knob (defaults included) in name order."""
        base = f"{self.family}:{self.name}"
        if not self.knobs:
            return base
        return base + "?" + "&".join(f"{key}={_show(value)}" for key, value in sorted(self.knobs.items()))


def _show(value: KnobValue) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def split_spec(spec: str) -> tuple[str, str, dict[str, str]]:
    """(family, name, raw knobs) of `spec`, or UserError for a malformed string.

    The name keeps its case (a `harbor:PATH` name is a path); the registry lowercases game names.
    """
    head, _, query = spec.strip().partition("?")
    family, colon, name = head.partition(":")
    if not colon or not family or not name:
        raise UserError(f"bad game spec {spec!r} (--game): expected {SPEC_SHAPE}")
    raw: dict[str, str] = {}
    for pair in filter(None, query.replace(",", "&").split("&")):
        key, equals, value = pair.partition("=")
        key = key.strip().lower().replace("-", "_")
        if not equals or not key or not value.strip():
            raise UserError(f"bad knob {pair!r} in game spec {spec!r} (--game): write KNOB=VALUE, e.g. level=5")
        if key in raw:
            raise UserError(f"knob {key!r} given twice in game spec {spec!r} (--game): keep one")
        raw[key] = value
    return family.strip().lower(), name.strip(), raw


def apply_knobs(spec: str, family: str, name: str, schema: dict[str, Knob], raw: dict[str, str]) -> EnvSpec:
    """The EnvSpec with every knob typed and checked (defaults filled in), or UserError naming the knob."""
    game = f"{family}:{name}"
    allowed = ", ".join(f"{key}={knob.allowed()}" for key, knob in schema.items()) or "none"
    for key in raw:
        if key not in schema:
            raise UserError(f"unknown knob {key!r} for {game} in game spec {spec!r} (--game); its knobs: {allowed}")
    knobs: dict[str, KnobValue] = {}
    for key, knob in schema.items():
        if key not in raw:
            knobs[key] = knob.default
            continue
        try:
            knobs[key] = knob.parse(raw[key])
        except ValueError:
            raise UserError(
                f"knob {key}={raw[key]} of {game} is not allowed (game spec {spec!r}, --game): use {key}={knob.allowed()}"
            ) from None
    return EnvSpec(family, name, knobs)
