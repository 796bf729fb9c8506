"""A simulated remote Harbor environment: the local sandbox behind a slow, unreliable link.

Why: a remote environment (daytona, modal, e2b) fails in ways the local sandbox never does: creating
the sandbox times out, a command's stream drops, an upload is refused, and every call pays a network
round trip. The soak benchmark (benchmarks/soak.py) and the resume test load this class by import path,
`--env tests.fakes.flaky_remote_env:FlakyRemoteEnvironment` (with the repo root on PYTHONPATH), to check
that `eval` retries such failures, counts them as infrastructure and never as the agent's fault.

The commands still run in the real bwrap sandbox, so rewards are real. Knobs come from the process
environment (`eval` passes no kwargs to an environment named by import path):

    SKILLSPARK_FLAKY_LATENCY_S   mean added latency per call (uniform in [0, 2x]); default 0.05
    SKILLSPARK_FLAKY_P_START     probability that start() fails; default 0.05
    SKILLSPARK_FLAKY_P_EXEC      probability that one exec() fails; default 0.02
    SKILLSPARK_FLAKY_P_UPLOAD    probability that one upload fails; default 0.05
    SKILLSPARK_FLAKY_LEDGER      a file that gets one line per call: "<session> start|exec|upload ok|failed"
"""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path

from skillspark.files import append_line
from skillspark.sandbox.environment import LocalSandboxEnvironment


class RemoteSandboxError(RuntimeError):
    """The remote sandbox service failed a request (what a cloud environment's SDK raises)."""


class FlakyRemoteEnvironment(LocalSandboxEnvironment):
    """LocalSandboxEnvironment with added latency and random start, exec and upload failures."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._rng = random.Random()  # seeded from the OS: every trial fails independently
        self._latency_s = float(os.environ.get("SKILLSPARK_FLAKY_LATENCY_S", "0.05"))
        self._p = {op: float(os.environ.get(f"SKILLSPARK_FLAKY_P_{op.upper()}", default))
                   for op, default in (("start", "0.05"), ("exec", "0.02"), ("upload", "0.05"))}
        ledger = os.environ.get("SKILLSPARK_FLAKY_LEDGER")
        self._ledger = Path(ledger) if ledger else None

    async def _call(self, op: str) -> None:
        """One round trip: wait, then maybe fail; every call goes into the ledger."""
        await asyncio.sleep(self._rng.uniform(0, 2 * self._latency_s))
        failed = self._rng.random() < self._p[op]
        if self._ledger is not None:
            append_line(self._ledger, f"{self.session_id} {op} {'failed' if failed else 'ok'}")
        if failed:
            raise RemoteSandboxError(f"simulated remote failure: {op} (connection reset by peer)")

    async def start(self, force_build: bool) -> None:
        await self._call("start")
        await super().start(force_build)

    async def exec(self, command, cwd=None, env=None, timeout_sec=None, user=None):
        await self._call("exec")
        return await super().exec(command, cwd=cwd, env=env, timeout_sec=timeout_sec, user=user)

    async def upload_file(self, source_path, target_path) -> None:
        await self._call("upload")
        await super().upload_file(source_path, target_path)

    async def upload_dir(self, source_dir, target_dir) -> None:
        await self._call("upload")
        await super().upload_dir(source_dir, target_dir)
