"""Check the `--agent` flag before a run starts: a Harbor agent name or an importable `module:Class`.

Why: Harbor resolves the agent only inside each trial, so a typo became one infra error per trial and
a run that exited 0. Importing a `module:Class` here runs the same code Harbor would run a moment later.
"""

from __future__ import annotations

import importlib

from skillspark.errors import UserError


def check_agent(name: str) -> None:
    """Raise UserError unless `name` is one of Harbor's agent names or an importable `module:Class`."""
    if ":" in name:
        module_name, _, class_name = name.partition(":")
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # noqa: BLE001  (whatever the module raises, the flag is what is wrong)
            raise UserError(f"--agent {name}: cannot import {module_name} ({type(exc).__name__}: {exc}); "
                            "pass an importable module:Class or a Harbor agent name") from None
        if not isinstance(getattr(module, class_name, None), type):
            raise UserError(f"--agent {name}: {module_name} has no class {class_name}; pass module:Class") from None
        return
    from harbor.models.agent.name import AgentName

    names = [member.value for member in AgentName]
    if name not in names:
        raise UserError(f"--agent {name!r} is not a Harbor agent; use one of: {', '.join(names)} "
                        "(or a module:Class import path)")
