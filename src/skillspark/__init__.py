"""skillspark: grounded skills from verified agent trajectories.

The Python API is one function per command, each taking the config its command builds from flags:
`run_agent` (`skillspark run`), `explore_skills` (`skillspark explore`), `evaluate_skills`
(`skillspark eval`), `train_policy` (`skillspark train run`; not `train`, the name of its package),
`check_tasks`, `audit_tasks`, `generate_tasks` and `vary_task` (`skillspark tasks ...`). They
load on first use, so `import skillspark` stays light (no harbor, no litellm, no torch).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> (module, name there)
_API = {
    "run_agent": ("skillspark.agents.service", "run_agent"),
    "RunConfig": ("skillspark.agents.runner", "RunConfig"),
    "RunResult": ("skillspark.agents.service", "RunResult"),
    "explore_skills": ("skillspark.explore.service", "explore_skills"),
    "ExploreSettings": ("skillspark.explore.settings", "ExploreSettings"),
    "evaluate_skills": ("skillspark.evaluate.service", "evaluate"),
    "EvalRequest": ("skillspark.evaluate.runner", "EvalRequest"),
    "parse_conditions": ("skillspark.evaluate.conditions", "parse_conditions"),
    "train_policy": ("skillspark.train.service", "train_policy"),
    "TrainConfig": ("skillspark.train.config", "TrainConfig"),
    "TrainResult": ("skillspark.train.service", "TrainResult"),
    "check_tasks": ("skillspark.taskgen.service", "check_tasks"),
    "CheckConfig": ("skillspark.taskgen.config", "CheckConfig"),
    "audit_tasks": ("skillspark.taskgen.service", "audit_tasks"),
    "AuditConfig": ("skillspark.taskgen.config", "AuditConfig"),
    "generate_tasks": ("skillspark.taskgen.service", "generate_tasks"),
    "GenerateSettings": ("skillspark.taskgen.config", "GenerateSettings"),
    "vary_task": ("skillspark.taskgen.service", "vary_task"),
    "VaryConfig": ("skillspark.taskgen.config", "VaryConfig"),
}
__all__ = ["__version__", *_API]

if TYPE_CHECKING:
    from skillspark.agents.runner import RunConfig
    from skillspark.agents.service import RunResult, run_agent
    from skillspark.evaluate.conditions import parse_conditions
    from skillspark.evaluate.runner import EvalRequest
    from skillspark.evaluate.service import evaluate as evaluate_skills
    from skillspark.explore.settings import ExploreSettings
    from skillspark.explore.service import explore_skills
    from skillspark.taskgen.config import AuditConfig, CheckConfig, GenerateSettings, VaryConfig
    from skillspark.taskgen.service import audit_tasks, check_tasks, generate_tasks, vary_task
    from skillspark.train.config import TrainConfig
    from skillspark.train.service import TrainResult, train_policy


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'skillspark' has no attribute {name!r}")
    module, attribute = _API[name]
    value = getattr(import_module(module), attribute)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
