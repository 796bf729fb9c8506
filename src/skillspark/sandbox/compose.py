"""Bring up a docker-compose task's services as sandboxes on one private network, and tear them down.

What `docker compose up --detach --wait` does for Harbor, done with our parts: every service's
image is built by the Dockerfile-lite builder (concurrently; equal builds are one build), then the
services start in dependency order, each in its own sandbox (service.py) on the trial's private
network (compose_network.py), with an /etc/hosts that resolves every service name to its address.
A service waits for its `depends_on` conditions (started, healthy, completed successfully); once
all are up, every service that has a health check is healthy (`--wait`). A service's command
(its `entrypoint`/`command`, else the Dockerfile's ENTRYPOINT/CMD) runs in the background of its
sandbox, its output appended to `<log_dir>/<service>.log`. Named volumes are directories of the
trial bound into each service that names them; a task file bound read-write is a copy, so the
task's own files never change.

`main` is the caller's (the Harbor environment's): it is started through `start_main` at its turn
and stopped by the caller, so the environment keeps running agent commands in it as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from harbor.environments.base import ServiceOperationsUnsupportedError

from skillspark.errors import UserError
from skillspark.harbor.dockerfile import arguments, parse_instructions
from skillspark.sandbox.build import BuiltLayer, ensure_layer
from skillspark.sandbox.compose_file import HARBOR_MAIN_COMMAND, MAIN, ComposeProject, ServiceSpec
from skillspark.sandbox.compose_network import PrivateNetwork, address
from skillspark.sandbox.dockerfile import parse_dockerfile_text
from skillspark.sandbox.limits import Limits
from skillspark.sandbox.namespace import Bind
from skillspark.sandbox.process import ProcessResult
from skillspark.sandbox.sandbox import DEFAULT_PATH, Sandbox, host_trust_env
from skillspark.sandbox.service import StartedSandbox, start_sandbox
from skillspark.sandbox.upload import UploadError, copy_file_in

_log = logging.getLogger(__name__)
_HEALTH_POLL_S = 0.5
_LOG_TAIL = 600


class ComposeStartError(RuntimeError):
    """A service did not come up as its dependants need (exited, unhealthy); the message names it."""


@dataclass
class ServiceSettings:
    """How every service of the trial is built and run (the main's come from the environment itself)."""

    cache_dir: Path
    isolator: str = "auto"
    offline: bool = False  # the task's network_mode is no-network: services run in their offline namespace
    storage_mb: int = 10240
    pids_max: int = 1024
    build_timeout_sec: float = 600.0
    log_dir: Path | None = None


@dataclass
class _Running:
    spec: ServiceSpec
    started: StartedSandbox
    process: asyncio.Task | None = None
    log: IO[bytes] | None = None
    log_path: Path | None = None


@dataclass
class ComposeServices:
    """The services of one compose trial (see module docstring); `close` leaves no process or mount."""

    project: ComposeProject
    settings: ServiceSettings
    layers: dict[str, BuiltLayer] = field(default_factory=dict)
    network: PrivateNetwork | None = None
    _running: dict[str, _Running] = field(default_factory=dict)
    _work_dir: Path | None = None

    @property
    def main(self) -> ServiceSpec:
        return self.project.services[MAIN]

    def check_images(self) -> None:
        """Refuse, before anything is built, a service whose Dockerfile or image the builder cannot stand in for."""
        for spec in self.project.services.values():
            context, text = self._dockerfile(spec)
            where = str(context / spec.dockerfile) if spec.context else f"docker-compose.yaml: services.{spec.name}.image"
            parse_dockerfile_text(text, where, spec.build_args)

    async def build(self, *, force: bool = False, build_args: dict[str, str] | None = None) -> None:
        """Build (or find cached) every service's layer, all at once."""
        names = list(self.project.services)
        layers = await asyncio.gather(*(self._build(self.project.services[n], force, build_args) for n in names))
        self.layers = dict(zip(names, layers))

    async def _build(self, spec: ServiceSpec, force: bool, extra_args: dict[str, str] | None) -> BuiltLayer:
        context, text = self._dockerfile(spec)
        return await ensure_layer(context, self.settings.cache_dir, dockerfile_text=text,
                                  build_args={**spec.build_args, **(extra_args or {})}, force=force,
                                  timeout_sec=self.settings.build_timeout_sec, isolator=self.settings.isolator)

    def _dockerfile(self, spec: ServiceSpec) -> tuple[Path, str]:
        if spec.context is None:  # `image:` only: the builder stands in for it as for a bare FROM
            empty = self.settings.cache_dir / "compose-empty-context"
            empty.mkdir(parents=True, exist_ok=True)
            return empty, f"FROM {spec.image}\n"
        path = spec.context / spec.dockerfile
        if not path.is_file():
            raise UserError(f"{path} is missing (the build of compose service '{spec.name}'); add it or fix "
                            f"services.{spec.name}.build")
        return spec.context, path.read_text()

    async def start(self, start_main: Callable[[BuiltLayer, list[Bind]], Awaitable[StartedSandbox]]) -> StartedSandbox:
        """Start every service in dependency order (`main` through `start_main`); wait for the health checks."""
        if not self.layers:
            raise RuntimeError("build() the services before start()")
        self._work_dir = Path(tempfile.mkdtemp(prefix="skillspark-compose-"))
        for volume in self.project.volumes:
            (self._work_dir / "volumes" / volume).mkdir(parents=True)
        self.network = await asyncio.to_thread(PrivateNetwork)
        order = self.project.start_order()
        hosts = self._hosts_file(order)
        for name in order:
            spec = self.project.services[name]
            await self._wait_for_dependencies(spec)
            if name == MAIN:
                started = await start_main(self.layers[name], self._binds(spec))
            else:
                started = await start_sandbox(
                    self.layers[name], self.settings.cache_dir, binds=self._binds(spec),
                    storage_mb=self.settings.storage_mb, isolator=self.settings.isolator,
                    online=not self.settings.offline,
                    limits=Limits(cpus=spec.cpus, memory_mb=spec.memory_mb, pids_max=self.settings.pids_max))
            running = self._running[name] = _Running(spec=spec, started=started)
            await asyncio.to_thread(self._wire, running, order.index(name), hosts)
            self._launch(running)
        for running in self._running.values():  # `up --wait`: every health check passes before the trial goes on
            if running.spec.healthcheck is not None:
                await self._wait_healthy(running)
        return self._running[MAIN].started

    # ---- network ---------------------------------------------------------------------------------

    def _hosts_file(self, order: list[str]) -> Path:
        assert self._work_dir is not None
        lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"]
        for index, name in enumerate(order):
            names = " ".join(dict.fromkeys([name, *self.project.services[name].aliases]))
            lines.append(f"{address(index)}\t{names}")
        path = self._work_dir / "hosts"
        path.write_text("\n".join(lines) + "\n")
        return path

    def _wire(self, running: _Running, index: int, hosts: Path) -> None:
        """Plug both of the sandbox's network namespaces into the bridge; the one its processes serve from
        gets the address the names resolve to. Then its /etc/hosts and the single files bound into it, written
        by the host (upload.py)."""
        assert self.network is not None
        sandbox = running.started.sandbox
        pid = sandbox.holder.init_pid()
        online, offline = f"/proc/{pid}/ns/net", f"/proc/{pid}/fd/{sandbox.holder.offline_fd}"
        serving, other = (offline, online) if self.settings.offline else (online, offline)
        self.network.attach(serving, address(index))
        self.network.attach(other, address(index, secondary=True))
        files = [(Path(m.source), m.target) for m in running.spec.mounts if m.binds_a_file]
        root = sandbox.root_fd()
        try:
            copy_file_in(root, sandbox.holder.mapping, hosts, "/etc/hosts")
            for source, target in files:  # a bound file keeps its mode, as under Docker (a script stays runnable)
                copy_file_in(root, sandbox.holder.mapping, source, target, keep_mode=True)
        except UploadError as exc:
            raise ComposeStartError(f"compose service '{running.spec.name}': cannot write a file into it: {exc}") from None
        finally:
            os.close(root)

    # ---- volumes -----------------------------------------------------------------------------------

    def _binds(self, spec: ServiceSpec) -> list[Bind]:
        """Directories bound into the service (a bound single file is copied in by `_wire` instead)."""
        assert self._work_dir is not None, "start() makes the volumes first"
        binds = []
        for index, mount in enumerate(spec.mounts):
            if mount.binds_a_file:
                continue
            if mount.kind == "volume":
                source = self._work_dir / "volumes" / mount.source
            elif mount.read_only:
                source = Path(mount.source)
            else:  # a private copy: the sandbox never writes the task's own files
                source = self._work_dir / "binds" / f"{spec.name}-{index}"
                shutil.copytree(mount.source, source)
            binds.append(Bind(source, mount.target, mount.read_only))
        return binds

    # ---- processes ---------------------------------------------------------------------------------

    def service_env(self, spec: ServiceSpec) -> dict[str, str]:
        layer = self.layers[spec.name]
        return {"PATH": DEFAULT_PATH, "HOME": "/root", "LANG": "C.UTF-8", **host_trust_env(), **layer.meta.env,
                **spec.environment}

    def _where(self, spec: ServiceSpec) -> tuple[str, str | None]:
        meta = self.layers[spec.name].meta
        return spec.working_dir or meta.workdir, spec.user or meta.user

    def command(self, spec: ServiceSpec) -> list[str]:
        """What the service runs: compose's entrypoint/command over the Dockerfile's ENTRYPOINT/CMD."""
        _, text = self._dockerfile(spec)
        image_entry, image_cmd = image_command(text)
        entry = spec.entrypoint if spec.entrypoint is not None else image_entry
        cmd = spec.command if spec.command is not None else (image_cmd if spec.entrypoint is None else None)
        return [*(entry or []), *(cmd or [])]

    def _launch(self, running: _Running) -> None:
        spec = running.spec
        argv = self.command(spec)
        if not argv or (spec.name == MAIN and argv == HARBOR_MAIN_COMMAND):
            return  # nothing to run (main's agent commands come from Harbor)
        log_dir = self.settings.log_dir or self._work_dir
        assert log_dir is not None
        log_dir.mkdir(parents=True, exist_ok=True)
        running.log_path = log_dir / f"{spec.name}.log"
        running.log = open(running.log_path, "ab")
        cwd, user = self._where(spec)
        running.process = asyncio.create_task(running.started.sandbox.run(
            ["/bin/sh", "-c", 'exec "$@" 2>&1', "sh", *argv], env=self.service_env(spec), cwd=cwd,
            offline=self.settings.offline, user=user, stdout=running.log))

    async def _wait_for_dependencies(self, spec: ServiceSpec) -> None:
        for dependency in spec.depends_on:
            running = self._running[dependency.service]
            if dependency.condition == "service_healthy":
                if running.spec.healthcheck is None:
                    raise UserError(f"docker-compose.yaml: '{spec.name}' waits for '{dependency.service}' to be "
                                    "healthy, which has no healthcheck; add one or use service_started")
                await self._wait_healthy(running)
            elif dependency.condition == "service_completed_successfully":
                code = (await running.process).return_code if running.process is not None else 0
                if code != 0:
                    raise ComposeStartError(f"compose service '{dependency.service}' exited with code {code}, and "
                                            f"'{spec.name}' needs it to complete successfully; "
                                            f"its output ends: {self._log_tail(running)}")

    async def _wait_healthy(self, running: _Running) -> None:
        """Run the health test until it passes; give up when Docker would call it unhealthy."""
        check = running.spec.healthcheck
        assert check is not None
        cwd, user = self._where(running.spec)
        deadline = time.monotonic() + check.start_period_s + check.retries * (check.interval_s + check.timeout_s)
        while True:
            result = await running.started.sandbox.run(
                check.test, env=self.service_env(running.spec), cwd=cwd, offline=self.settings.offline, user=user,
                timeout_sec=check.timeout_s, max_output_bytes=4096)
            if result.return_code == 0:
                return
            exited = running.process is not None and running.process.done()
            if exited or time.monotonic() > deadline:
                why = "exited before it became healthy" if exited else "is not healthy"
                raise ComposeStartError(
                    f"compose service '{running.spec.name}' {why} (health check exit {result.return_code}: "
                    f"{(result.stdout + result.stderr).strip()[-200:]!r}); its output ends: {self._log_tail(running)}")
            await asyncio.sleep(min(check.interval_s, _HEALTH_POLL_S))

    def _log_tail(self, running: _Running) -> str:
        if running.log_path is None or not running.log_path.exists():
            return "(no output)"
        text = running.log_path.read_bytes()[-_LOG_TAIL:].decode(errors="replace").strip()
        return repr(text) if text else "(no output)"

    # ---- per-service operations (Harbor's service_exec, service_download_*, stop_service) -----------

    def sandbox_of(self, name: str) -> Sandbox:
        running = self._running.get(name)
        if running is None:
            known = ", ".join(sorted(self._running)) or "none running"
            raise ServiceOperationsUnsupportedError(f"compose service {name!r} is not running here ({known})")
        return running.started.sandbox

    async def run_in(self, name: str, argv: list[str], *, cwd: str | None, env: dict[str, str] | None,
                     timeout_sec: float | None, user: str | None, max_output_bytes: int) -> ProcessResult:
        """A command in a sibling, with that service's own env, workdir and user under the caller's choices."""
        sandbox = self.sandbox_of(name)
        spec = self._running[name].spec
        workdir, service_user = self._where(spec)
        return await sandbox.run(argv, env={**self.service_env(spec), **(env or {})}, cwd=cwd or workdir,
                                 offline=self.settings.offline, user=user or service_user, timeout_sec=timeout_sec,
                                 max_output_bytes=max_output_bytes)

    async def stop_service(self, name: str) -> None:
        """Stop one sibling (its sandbox and command); the others keep running."""
        self.sandbox_of(name)
        await self._stop(name, self._running.pop(name))

    async def _stop(self, name: str, running: _Running) -> None:
        if name != MAIN:
            await asyncio.to_thread(running.started.close)
        if running.process is not None:
            running.process.cancel()
            with contextlib.suppress(BaseException):
                await running.process
        if running.log is not None:
            running.log.close()

    # ---- teardown -------------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop every sibling's sandbox (main's is the caller's to stop), then the network and the volumes."""
        for name in list(self._running):
            await self._stop(name, self._running.pop(name))
        if self.network is not None:
            await asyncio.to_thread(self.network.close)
            self.network = None
        if self._work_dir is not None:
            await asyncio.to_thread(shutil.rmtree, self._work_dir, True)
            self._work_dir = None


def image_command(dockerfile_text: str) -> tuple[list[str] | None, list[str] | None]:
    """The Dockerfile's last ENTRYPOINT and CMD as argv (shell form runs under `/bin/sh -c`)."""
    entry = cmd = None
    for instruction in parse_instructions(dockerfile_text):
        if instruction.keyword not in ("ENTRYPOINT", "CMD"):
            continue
        args = arguments(instruction.value)
        argv = args.words if args.exec_form else ["/bin/sh", "-c", args.text]
        if instruction.keyword == "ENTRYPOINT":
            entry = argv
        else:
            cmd = argv
    return entry, cmd
