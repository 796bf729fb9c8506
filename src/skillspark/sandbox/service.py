"""A built layer brought up as a running sandbox, with the storage it writes to: one container's worth.

The Harbor environment starts one for a task's main container, and one more per sibling service of a
docker-compose task (compose.py); this is the one place that turns a layer into a running sandbox
and back into nothing.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from skillspark.sandbox.build import BuiltLayer
from skillspark.sandbox.hostmask import system_layers
from skillspark.sandbox.limits import Limits
from skillspark.sandbox.namespace import Bind, MountPlan
from skillspark.sandbox.sandbox import Sandbox
from skillspark.sandbox.storage import DiskStorage, disk_storage


@dataclass
class StartedSandbox:
    layer: BuiltLayer
    sandbox: Sandbox
    state_dir: Path
    storage: DiskStorage | None

    def close(self) -> None:
        """Kill everything in it, drop its mounts; its state dir goes off the caller's path (a thread)."""
        self.sandbox.close()
        if self.storage is not None:
            self.storage.release_host_mount()
        threading.Thread(target=shutil.rmtree, args=(self.state_dir, True), name="sandbox-cleanup").start()


async def start_sandbox(layer: BuiltLayer, cache_dir: Path, *, binds: list[Bind], storage_mb: int, limits: Limits,
                        isolator: str, online: bool) -> StartedSandbox:
    """Mount `layer` under a fresh writable layer of `storage_mb` and start its init."""
    state_dir = Path(tempfile.mkdtemp(prefix="skillspark-sbx-"))
    storage = None
    try:
        storage = await asyncio.to_thread(disk_storage, state_dir, storage_mb, cache_dir / "storage")
        plan = MountPlan(state_dir=state_dir, layers=[layer.path, *system_layers(cache_dir, layer.meta.base_image)],
                         upper_dir=storage.mount_point if storage else None, storage_mb=storage_mb, binds=binds)
        sandbox = await asyncio.to_thread(Sandbox, plan, limits, isolator, online)
    except BaseException:
        if storage is not None:
            storage.release_host_mount()
        shutil.rmtree(state_dir, ignore_errors=True)
        raise
    finally:
        if storage is not None:
            storage.release_host_mount()  # the sandbox holds its own mount of it now
    return StartedSandbox(layer=layer, sandbox=sandbox, state_dir=state_dir, storage=storage)
