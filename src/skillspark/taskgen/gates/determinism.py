"""Gate `determinism`: the environment builds twice to the same data, and the oracle passes twice.

With the local sandbox the build is repeated for real, in a scratch cache, and the two layers are
compared file by file (content hashes; caches, logs and bytecode left out). A build that came out
the same is remembered under the cache dir by its build key (the key hashes the Dockerfile and the
whole build context, so any change builds again), so an audit with a warm cache does not rebuild.
A build that differs is never remembered: it is checked again next time. With another
environment, the files the agent sees at the start of the two oracle trials are compared instead.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from skillspark.config import get_settings
from skillspark.files import write_atomic
from skillspark.taskgen.gates.image import layer_digest
from skillspark.taskgen.gates.models import GateResult


def _memo(key: str) -> Path:
    return get_settings().cache_dir / "taskgen" / "determinism" / f"{key}.json"


def differences(first: dict[str, str], second: dict[str, str], limit: int = 5) -> list[str]:
    """Paths that differ between two path -> digest maps (missing on one side, or other content)."""
    changed = sorted(p for p in first.keys() | second.keys() if first.get(p) != second.get(p))
    return changed[:limit] + ([f"+{len(changed) - limit} more"] if len(changed) > limit else [])


async def rebuild_differences(environment_dir: Path, layer_dir: Path, *, scratch: Path,
                              timeout_sec: float) -> tuple[list[str], bool]:
    """Rebuild the task's environment in a scratch cache; (paths whose content differs, remembered?)."""
    from skillspark.sandbox.build import ensure_layer

    key = layer_dir.parent.name
    if _memo(key).is_file():
        return [], True
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rebuild-", dir=scratch) as cache:
        dockerfile = environment_dir / "Dockerfile"
        again = await ensure_layer(environment_dir, Path(cache), dockerfile_text=dockerfile.read_text(),
                                   force=True, timeout_sec=timeout_sec)
        changed = differences(layer_digest(layer_dir), layer_digest(again.path))
    if not changed:
        write_atomic(_memo(key), json.dumps({"key": key, "same": True}), make_parents=True)
    return changed, False


def determinism_gate(*, rebuild: list[str] | None, remembered: bool, start_differences: list[str],
                     oracle_rewards: tuple[float | None, float | None]) -> GateResult:
    """`rebuild`: paths differing between two builds (None: not rebuilt); the rest from two oracle trials."""
    problems = []
    if rebuild:
        problems.append(f"two builds of the environment differ in {', '.join(rebuild)}; seed every random "
                        "generator and avoid time or machine-dependent data in the Dockerfile")
    if start_differences:
        problems.append(f"the agent's starting files differ between two trials: {', '.join(start_differences)}")
    first, second = oracle_rewards
    if second is None or second < 1.0:
        problems.append(f"the oracle passed once, then scored {second} on a second trial; make solve.sh and "
                        "the tests independent of timing and randomness")
    if problems:
        return GateResult(name="determinism", ok=False, detail="; ".join(problems))
    build = ("same data on a second build" + (" (remembered from an earlier audit)" if remembered else "")
             if rebuild is not None else "same starting files in two trials")
    return GateResult(name="determinism", ok=True, detail=f"{build}; oracle {first:g} and {second:g}")
