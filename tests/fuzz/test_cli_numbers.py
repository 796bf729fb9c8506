"""Property-based, over every numeric option of every command (walked from the typer/click tree):
a value is either accepted as given, inside the bounds the option declares, or refused with one
`error:` line and exit code 2 before the command runs. Never a traceback, never typer's boxed usage.

`train run` and `train compare` leave their numbers to TrainConfig (flags, a --config file and a
resumed config.json share one validation): there every value gives a config or one UserError.
"""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillspark.cli import main
from skillspark.errors import UsageError, UserError, usage_error_line
from tests.cli_tree import leaf_commands, numeric_options, parse

CONFIG_VALIDATED = {("train", "run"), ("train", "compare")}
MUST_HAVE_MAX = {"k", "parallelism", "seed", "port"}  # counts that size memory, and what libraries bound
OPTIONS = [(path, command, option) for path, command in leaf_commands() if tuple(path) not in CONFIG_VALIDATED
           for option in numeric_options(command)]
TRAIN_OPTIONS = [option for path, command in leaf_commands() if tuple(path) == ("train", "run")
                 for option in numeric_options(command)]
FUZZ = settings(max_examples=25, deadline=None)
values = (st.integers() | st.integers(-3, 3) | st.sampled_from([0, 2**31, 2**32, 2**53 + 1, 2**63, 10**9])
          | st.floats(allow_nan=True, allow_infinity=True))


def _typed(text: str, kind: type) -> int | float | None:
    """What the option should read `text` as (None: not a number of its type)."""
    try:
        if kind is float:
            number = float(text)
        elif re.fullmatch(r"[+-]?\d+", text.strip()):
            number = int(text)  # exact: int(float(...)) would round 2**53 + 1 to 2**53
        else:
            number = int(float(text)) if float(text).is_integer() else None
    except (ValueError, OverflowError):
        return None
    return None if isinstance(number, float) and math.isnan(number) else number


def _label(item) -> str:
    path, _, option = item
    return f"{' '.join(path)} {option.opts[0]}"


def test_the_walk_finds_the_options_the_issue_names():
    labels = {_label(item) for item in OPTIONS}
    assert {"run -k", "eval run -k", "run --parallelism", "dashboard --port", "train serve --port",
            "tasks audit --parallelism", "explore --max-attempts"} <= labels
    assert len(OPTIONS) >= 30 and len(TRAIN_OPTIONS) >= 20


@pytest.mark.parametrize("item", OPTIONS, ids=_label)
def test_every_number_has_declared_bounds(item):
    _, _, option = item
    assert option.min is not None, "a lower bound: 0, a negative count or NaN must fail at parse time"
    if option.name in MUST_HAVE_MAX:
        assert option.max is not None


@pytest.mark.parametrize("item", OPTIONS, ids=_label)
@FUZZ
@given(value=values)
def test_a_number_is_accepted_in_bounds_or_refused_in_one_line(item, value):
    path, command, option = item
    text = str(value)
    number = _typed(text, option.type_descriptor.annotation)
    in_bounds = number is not None and option.min <= number and (option.max is None or number <= option.max)
    try:
        parsed = parse(path, command, [option.opts[0], text])[option.name]
    except UsageError as exc:
        assert not (in_bounds and isinstance(value, int)), f"{text} is a valid {option.opts[0]}"
        line = usage_error_line(exc)  # what cli.main prints after "error: "
        assert "\n" not in line and option.opts[0] in line and line.startswith(f"skillspark {' '.join(path)}: ")
    else:
        assert in_bounds and parsed == number  # lax parsing ("2.0" for 2) is fine, a changed value is not


@pytest.mark.parametrize("item", OPTIONS, ids=_label)
def test_the_command_line_refuses_out_of_bounds_in_one_line_and_exit_2(item, capsys):
    path, _, option = item
    outside = option.min - 1 if option.type_descriptor.annotation is int else "nan"
    with pytest.raises(SystemExit) as exited:
        main([*path, option.opts[0], str(outside)])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.startswith(f"error: skillspark {' '.join(path)}: ") and err.count("\n") == 1, err
    assert option.opts[0] in err and "Traceback" not in err and "╭" not in err


@pytest.mark.parametrize("option", TRAIN_OPTIONS, ids=lambda o: o.opts[0])
@FUZZ
@given(value=values)
def test_train_numbers_give_a_config_or_one_user_error(option, value):
    from skillspark.train.config import build_config

    if _typed(str(value), option.type_descriptor.annotation) is None:
        return  # refused while parsing, as above
    try:
        build_config({option.name: value}, None)
    except UserError as exc:
        assert "\n" not in str(exc) and option.opts[0] in str(exc)
