"""Every flag backed by a config field agrees with it (default, help, bounds), and the commands that have a
config take all their settings from it, so a flag cannot drift from what the Python API does without flags.

A flag is field-backed when it was declared with `params.field_option(Model, "field", ...)`.
"""

from __future__ import annotations

import annotated_types
import pytest

from skillspark.params import default_of
from tests.cli_tree import leaf_commands

# command -> the options that are the command line's own (not settings of the run): each with its reason.
# Every other option of these commands must be field-backed.
CONFIG_COMMANDS: dict[str, dict[str, str]] = {
    "run": {
        "model": "default from SKILLSPARK_MODEL (Settings), not the config's",
        "env": "default from SKILLSPARK_ENV (Settings)",
        "output": "default from SKILLSPARK_JOBS_DIR (Settings)",
    },
    "explore": {
        "model": "default from SKILLSPARK_MODEL (Settings)",
        "env": "default from SKILLSPARK_ENV (Settings)",
        "seed": "only orders a shuffled run; becomes the config's shuffle_seed",
        "shuffle": "turns --seed (or a fresh one) into the config's shuffle_seed",
        "tasks": "a repeated flag (list_values) into the config's task list",
        "dashboard": "serves a page beside the run; not a setting of the run",
    },
    "eval run": {
        "model": "several students; default from SKILLSPARK_MODEL (Settings)",
        "env": "default from SKILLSPARK_ENV (Settings)",
        "condition": "parsed by parse_conditions into the request's conditions",
        "dashboard": "serves a page beside the run; not a setting of the run",
    },
    "tasks check": {"env": "default from SKILLSPARK_ENV (Settings)"},
    "tasks audit": {
        "env": "default from SKILLSPARK_ENV (Settings)",
        "gates": "a repeated flag (list_values: the old comma form warns) into the config's gate list",
    },
    "tasks generate": {
        "prompt_file": "the idea file: the function's first argument, as the task paths are run's",
        "model": "default from SKILLSPARK_MODEL (Settings)",
        "env": "default from SKILLSPARK_ENV (Settings)",
    },
    "tasks vary": {"env": "default from SKILLSPARK_ENV (Settings)"},
    "train run": {
        "resume": "how to start (continue the run in --output), not a setting of the run",
        "config_file": "a TOML file of the settings themselves",
    },
    "train compare": {
        "algos": "the variants compared: each becomes its own TrainConfig (algo, distill_coef)",
        "seeds": "runs per variant, seeded 0..N-1: each run's TrainConfig.seed",
        "eval_episodes": "games each final policy plays after training; not a training setting",
        "output": "the comparison's folder; each run's TrainConfig.output is a folder under it",
        "config_file": "a TOML file of the settings themselves",
    },
}


def _field_backed():
    for path, command in leaf_commands():
        for param in command.params:
            info = getattr(param.type_descriptor, "parameter_info", None)
            backing = getattr(info, "config_field", None)
            if param.param_type_name == "option" and backing:
                yield " ".join(path), param, backing


FIELD_BACKED = list(_field_backed())


def test_some_flags_are_field_backed():
    assert len(FIELD_BACKED) >= 20


@pytest.mark.parametrize(("command", "param", "backing"), FIELD_BACKED,
                         ids=[f"{c}:{p.name}" for c, p, _ in FIELD_BACKED])
def test_flag_agrees_with_its_field(command, param, backing):
    model, field = backing
    info = model.model_fields[field]
    assert param.default == default_of(model, field), f"{command} {param.opts[0]}: default differs from {model.__name__}.{field}"
    assert param.help and param.help.startswith(info.description), f"{command} {param.opts[0]}: help is not the field's"
    for rule in info.metadata:
        if isinstance(rule, annotated_types.Ge):
            assert param.min == rule.ge, f"{command} {param.opts[0]}: lower bound differs from {model.__name__}.{field}"
        if isinstance(rule, annotated_types.Le):
            assert param.max == rule.le, f"{command} {param.opts[0]}: upper bound differs from {model.__name__}.{field}"


@pytest.mark.parametrize("command", sorted(CONFIG_COMMANDS))
def test_config_commands_take_every_setting_from_their_config(command):
    commands = {" ".join(path): cmd for path, cmd in leaf_commands()}
    own = CONFIG_COMMANDS[command]
    loose = [p.opts[-1] for p in commands[command].params
             if p.param_type_name == "option" and p.name not in own
             and not getattr(p.type_descriptor.parameter_info, "config_field", None)]
    assert not loose, f"{command}: options not read from the config: {loose}"
    unknown = set(own) - {p.name for p in commands[command].params}
    assert not unknown, f"{command}: CONFIG_COMMANDS names options it does not have: {unknown}"
