"""LocalSandboxEnvironment: a Harbor environment that runs a task on this host, without Docker.

Load it by import path: `harbor run -e skillspark.sandbox.environment:LocalSandboxEnvironment`.
`start` builds (or reuses) the task's Dockerfile-lite layer and mounts a per-trial writable overlay
over it; `exec` runs `bash -c` inside (background processes it starts live on, as in Docker); `stop`
kills everything and drops the overlay. /logs/* live inside, in the sandbox's capped storage;
Harbor copies them to the trial dir with `download_dir`, which the host does itself from outside the
sandbox (never with the sandbox's own tools) and which keeps regular files only, capped; uploads
(/tests, /solution) are written the same way, by the host (upload.py).

Network: the task's policy is honoured per command (no-network -> the sandbox's loopback-only network
namespace, shared by its offline commands).
`no_network=True` forces the agent phase offline; the verification phase (from the moment Harbor
uploads /tests) and the build keep the network so test scripts can `pip install pytest`.

A task with `environment/docker-compose.yaml` gets its sibling services too (compose.py, docs/compose.md):
each in a sandbox of its own on the trial's private network; the agent's commands run in `main`.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

from harbor.environments.base import BaseEnvironment, ExecResult
from harbor.environments.capabilities import EnvironmentCapabilities
from harbor.models.task.config import NetworkMode, NetworkPolicy

from skillspark.config import get_settings
from skillspark.errors import UserError
from skillspark.sandbox import wheelhouse
from skillspark.sandbox.build import BuiltLayer, ensure_layer
from skillspark.sandbox.compose import ComposeServices, ServiceSettings
from skillspark.sandbox.compose_file import COMPOSE_FILE, load_compose
from skillspark.sandbox.dockerfile import unsupported
from skillspark.sandbox.download import DownloadCaps, DownloadError, DownloadReport, copy_dir_out, copy_file_out
from skillspark.sandbox.interpreters import requested_minor, system_minor
from skillspark.sandbox.limits import Limits
from skillspark.sandbox.namespace import Bind
from skillspark.sandbox.process import ProcessResult, SandboxInitError
from skillspark.sandbox.sandbox import DEFAULT_PATH, Sandbox, host_trust_env
from skillspark.sandbox.service import StartedSandbox, start_sandbox
from skillspark.sandbox.upload import UploadError, copy_dir_in, copy_file_in
from skillspark.sandbox.served import served_env

ENVIRONMENT_TYPE = "skillspark-local"
DEFAULT_STORAGE_MB = 10240
_TESTS_DIR = "/tests"


class LocalSandboxEnvironment(BaseEnvironment):
    """A bubblewrap sandbox standing in for a task's container (see module docstring)."""

    def __init__(
        self,
        environment_dir: Path,
        environment_name: str,
        session_id: str,
        trial_paths,
        task_env_config,
        *args,
        no_network: bool = False,
        isolator: str = "auto",
        cache_dir: str | Path | None = None,
        max_output_bytes: int = 1_000_000,
        pids_max: int = 1024,
        build_args: dict[str, str] | None = None,
        max_download_bytes: int = DownloadCaps.bytes,
        max_download_entries: int = DownloadCaps.entries,
        **kwargs,
    ):
        self.no_network = _as_bool(no_network)
        self.isolator = isolator
        self.cache_dir = Path(cache_dir) if cache_dir else get_settings().cache_dir / "sandbox"
        self.max_output_bytes = int(max_output_bytes)
        self.pids_max = int(pids_max)
        self.build_args = dict(build_args or {})
        self.download_caps = DownloadCaps(bytes=int(max_download_bytes), entries=int(max_download_entries))
        self.layer: BuiltLayer | None = None
        self._started: StartedSandbox | None = None
        self.compose: ComposeServices | None = None  # a docker-compose task's services (compose.py)
        self._downloaded: set[Path] = set()  # host files our downloads wrote (a re-download may update them)
        self._verifying = False
        self._verifier_env: dict[str, str] = {}  # pip's local wheels during verification (wheelhouse.py)
        self._served_env: dict[str, str] = {}  # what tools fetch from the host instead (served.py), once started
        super().__init__(environment_dir, environment_name, session_id, trial_paths, task_env_config, *args, **kwargs)

    @staticmethod
    def type() -> str:
        return ENVIRONMENT_TYPE

    @property
    def capabilities(self) -> EnvironmentCapabilities:
        # Not `mounted`: /logs lives in the sandbox's capped storage and Harbor copies it out through
        # download_dir, which keeps regular files only (a planted link must not make the host read
        # a host file of the agent's choosing).
        return EnvironmentCapabilities(disable_internet=True, dynamic_network_policy=True, mounted=False,
                                       docker_compose=True)

    def _validate_definition(self) -> None:
        where = self.environment_dir
        if (where / COMPOSE_FILE).exists() or self.extra_docker_compose_paths:
            self.compose = self._compose_services()
        elif not (where / "Dockerfile").exists() and not self.task_env_config.docker_image:
            raise UserError(f"{where}/Dockerfile is missing and task.toml names no docker_image; add a Dockerfile")

    def _compose_services(self) -> ComposeServices:
        """The task's compose project as Harbor's docker environment would compose it (compose_file.py)."""
        config = self.task_env_config
        project_name = re.sub(r"[^a-z0-9_-]", "-", self.session_id.lower())  # compose's own variable, as Harbor names it
        variables = {"CONTEXT_DIR": str(self.environment_dir.resolve()), "MAIN_IMAGE_NAME": f"hb__{self.environment_name}",
                     "COMPOSE_PROJECT_NAME": project_name,
                     "ENV_VERIFIER_LOGS_PATH": "/logs/verifier", "ENV_AGENT_LOGS_PATH": "/logs/agent",
                     "ENV_ARTIFACTS_PATH": "/logs/artifacts",
                     **({"CPUS": str(config.cpus)} if config.cpus else {}),
                     **({"MEMORY": f"{config.memory_mb}M"} if config.memory_mb else {})}
        project = load_compose(self.environment_dir, variables=variables, task_env=self._task_env(),
                               main_image=config.docker_image, extra_files=list(self.extra_docker_compose_paths))
        settings = ServiceSettings(
            cache_dir=self.cache_dir, isolator=self.isolator, offline=config.network_mode == NetworkMode.NO_NETWORK,
            storage_mb=config.storage_mb or DEFAULT_STORAGE_MB, pids_max=self.pids_max,
            build_timeout_sec=config.build_timeout_sec, log_dir=self.trial_paths.trial_dir / "services")
        services = ComposeServices(project=project, settings=settings)
        services.check_images()
        return services

    def _task_env(self) -> dict[str, str]:
        from harbor.utils.env import resolve_env_vars

        try:
            return resolve_env_vars(self.task_env_config.env) if self.task_env_config.env else {}
        except ValueError as exc:
            raise UserError(f"task.toml [environment].env: {exc}") from None

    def _dockerfile_text(self) -> str:
        path = self.environment_dir / "Dockerfile"
        if path.exists():
            return path.read_text()
        return f"FROM {self.task_env_config.docker_image}\n"

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self, force_build: bool) -> None:
        if self.compose is not None:
            await self.compose.build(force=force_build, build_args=self.build_args)
            try:
                self._started = await self.compose.start(self._start_main)
            except BaseException:
                await self.stop(delete=True)
                raise
        else:
            layer = await ensure_layer(
                self.environment_dir, self.cache_dir, dockerfile_text=self._dockerfile_text(),
                build_args=self.build_args, force=force_build, isolator=self.isolator,
                timeout_sec=self.task_env_config.build_timeout_sec,
            )
            self._started = await self._start_main(layer, [])
        await self._upload_environment_dir_after_start()

    async def _start_main(self, layer: BuiltLayer, extra_binds: list[Bind]) -> StartedSandbox:
        """The sandbox of the task's main container: the layer, the task's mounts, the verifier's wheels."""
        self.layer = layer
        binds = list(extra_binds)
        for mount in self._host_mounts:  # the task's own mounts; Harbor's log binds only if auto_mounting
            if mount.get("type", "bind") != "bind":
                raise unsupported(str(self.environment_dir), f"a {mount.get('type')} mount")
            Path(mount["source"]).mkdir(parents=True, exist_ok=True)
            binds.append(Bind(Path(mount["source"]), str(mount["target"]), bool(mount.get("read_only"))))
        binds += await asyncio.to_thread(self._verifier_wheels)
        self._served_env = await asyncio.to_thread(served_env)
        config = self.task_env_config
        self._started = await start_sandbox(
            layer, self.cache_dir, binds=binds, storage_mb=config.storage_mb or DEFAULT_STORAGE_MB,
            limits=Limits(cpus=config.cpus, memory_mb=config.memory_mb, pids_max=self.pids_max),
            isolator=self.isolator, online=config.network_mode != NetworkMode.NO_NETWORK)
        return self._started

    def _verifier_wheels(self) -> list[Bind]:
        """The local wheels of the verifier's `pip install` (wheelhouse.py), bound read-only; none if not made."""
        tests_dir = self.environment_dir.parent / "tests"
        if not tests_dir.is_dir() or self.layer is None:
            return []
        wanted = wheelhouse.verifier_requirements(tests_dir)
        minor = requested_minor(self.layer.meta.base_image) or system_minor()
        folder = wheelhouse.ensure_wheelhouse(wheelhouse.default_root(), minor, wanted) if minor else None
        if folder is None:
            return []
        self._verifier_env = wheelhouse.verifier_pip_env(wanted)
        return [Bind(folder, wheelhouse.WHEELS_MOUNT, read_only=True)]

    async def stop(self, delete: bool) -> None:
        if self._started is not None:  # cleared once closed: a command still running may ask it why it ended
            await asyncio.to_thread(self._started.close)
            self._started = None
        if self.compose is not None:
            await self.compose.close()

    async def _apply_network_policy(self, network_policy: NetworkPolicy) -> None:
        """Nothing to reconfigure: every command picks its network namespace when it starts."""

    # ---- commands ----------------------------------------------------------------------------

    @property
    def sandbox(self) -> Sandbox:
        if self._started is None:
            raise RuntimeError("the sandbox is not started; call start() first")
        return self._started.sandbox

    @property
    def offline(self) -> bool:
        """Whether the next command runs without network."""
        if self._network_policy.network_mode == NetworkMode.NO_NETWORK:
            return True
        return self.no_network and not self._verifying

    def _command_env(self, env: dict[str, str] | None) -> dict[str, str]:
        """Only what the task defines: never the host's environment (its secrets stay outside)."""
        meta_env = self.layer.meta.env if self.layer else {}
        if self.compose is not None and self.layer is not None:
            meta_env = {**meta_env, **self.compose.main.environment}
        verifier_env = self._verifier_env if self._verifying else {}
        return {"PATH": DEFAULT_PATH, "HOME": "/root", "LANG": "C.UTF-8", "TERM": "xterm", **host_trust_env(), **self._served_env,
                **meta_env, **verifier_env, **(self._merge_env(env) or {})}

    def _user(self, user: str | int | None) -> str | None:
        resolved = self._resolve_user(user)
        if resolved is None and self.compose is not None:
            resolved = self.compose.main.user
        if resolved is None and self.layer:
            resolved = self.layer.meta.user
        return None if resolved is None else str(resolved)

    def _cwd(self, cwd: str | None) -> str:
        compose_dir = self.compose.main.working_dir if self.compose is not None else None
        return cwd or self.task_env_config.workdir or compose_dir or (self.layer.meta.workdir if self.layer else "/")

    def interactive_argv(self, inner: list[str]) -> tuple[list[str], dict[str, str]]:
        """Host argv and env for a command that keeps the caller's terminal (`sandbox shell`)."""
        argv = self.sandbox.interactive_argv(inner, cwd=self._cwd(None), offline=self.offline, user=self._user(None))
        return argv, self._command_env(None)

    async def run(self, inner: list[str], *, cwd: str | None = None, env: dict[str, str] | None = None,
                  timeout_sec: float | None = None, user: str | int | None = None, stdin=None, stdout=None,
                  max_output_bytes: int | None = None) -> ProcessResult:
        """Run an argv inside the sandbox with the task's env, workdir, user and network."""
        try:
            return await self.sandbox.run(
                inner, env=self._command_env(env), cwd=self._cwd(cwd), offline=self.offline, user=self._user(user),
                timeout_sec=timeout_sec, stdin=stdin, stdout=stdout,
                max_output_bytes=max_output_bytes or self.max_output_bytes,
            )
        except SandboxInitError:
            kills = self.sandbox.limits.oom_kills()
            if kills:
                raise SandboxInitError(f"the sandbox ran out of memory ({kills} process(es) killed at memory_mb = "
                                       f"{self.task_env_config.memory_mb}) and its init is gone; raise "
                                       "[environment].memory_mb in task.toml") from None
            raise

    async def exec(self, command: str, cwd: str | None = None, env: dict[str, str] | None = None,
                   timeout_sec: int | None = None, user: str | int | None = None) -> ExecResult:
        """`bash -c command`. A timeout kills the command's process tree and returns exit code 124.

        Processes the command leaves running in the background live on (until `stop`), as in Docker.
        """
        result = await self.run(["bash", "-c", command], cwd=cwd, env=env, timeout_sec=timeout_sec, user=user)
        return ExecResult(stdout=result.stdout, stderr=result.stderr, return_code=result.return_code)

    # ---- file transfer: done by the host through the sandbox's root, never by its own tools ------

    async def upload_file(self, source_path: Path | str, target_path: str) -> None:
        """Write one host file into the sandbox, by the host itself (upload.py): links never followed."""
        if target_path.rstrip("/") == _TESTS_DIR or target_path.startswith(_TESTS_DIR + "/"):
            self._verifying = True
        await asyncio.to_thread(self._copy_in, copy_file_in, Path(source_path), target_path)

    async def upload_dir(self, source_dir: Path | str, target_dir: str) -> None:
        """Merge a host dir into the sandbox, by the host itself (upload.py): a fake `tar` has no say."""
        if target_dir.rstrip("/") == _TESTS_DIR:
            self._verifying = True  # Harbor uploads the tests when verification starts
        await asyncio.to_thread(self._copy_in, copy_dir_in, Path(source_dir), target_dir)

    def _copy_in(self, copy, source: Path, target: str) -> None:
        root = self.sandbox.root_fd()
        try:
            copy(root, self.sandbox.holder.mapping, source, target)
        except UploadError as exc:
            raise RuntimeError(str(exc)) from None
        finally:
            os.close(root)

    async def download_file(self, source_path: str, target_path: Path | str) -> None:
        """Copy one sandbox file out, read by the host itself (download.py): capped, links refused."""
        await asyncio.to_thread(self._copy_out, self.sandbox, copy_file_out, source_path, Path(target_path),
                                self.download_caps.bytes)

    async def download_dir(self, source_dir: str, target_dir: Path | str) -> DownloadReport:
        """Copy a sandbox dir out: regular files and dirs only, capped in bytes, entries and depth (download.py)."""
        return await asyncio.to_thread(self._copy_out, self.sandbox, copy_dir_out, source_dir, Path(target_dir),
                                       self.download_caps, self._downloaded)

    @staticmethod
    def _copy_out(sandbox: Sandbox, copy, source: str, target: Path, *args):
        root = sandbox.root_fd()
        try:
            return copy(root, source, target, *args)
        except DownloadError as exc:
            raise RuntimeError(f"download of {source} failed: {exc.why}") from None
        finally:
            os.close(root)


    # ---- compose services other than main (Harbor's per-service operations: collect hooks, sidecar artifacts) --

    def _sibling(self, service: str | None) -> Sandbox | None:
        """The sandbox of a sibling service; None for main (or a task without compose)."""
        if self.is_main_service(service) or self.compose is None:
            return None
        return self.compose.sandbox_of(service)

    async def service_exec(self, command: str, *, service: str | None = None, cwd: str | None = None,
                           env: dict[str, str] | None = None, timeout_sec: int | None = None,
                           user: str | int | None = None) -> ExecResult:
        """`bash -c command` in a compose service; a sibling's gets its own env, workdir and user, not main's."""
        if self._sibling(service) is None:
            return await super().service_exec(command, service=service, cwd=cwd, env=env, timeout_sec=timeout_sec,
                                              user=user)
        result = await self.compose.run_in(service, ["bash", "-c", command], cwd=cwd, env=env, timeout_sec=timeout_sec,
                                           user=None if user is None else str(user),
                                           max_output_bytes=self.max_output_bytes)
        return ExecResult(stdout=result.stdout, stderr=result.stderr, return_code=result.return_code)

    async def service_download_file(self, source_path: str, target_path: Path | str, *, service: str | None = None) -> None:
        if (sibling := self._sibling(service)) is None:
            return await super().service_download_file(source_path, target_path, service=service)
        await asyncio.to_thread(self._copy_out, sibling, copy_file_out, source_path, Path(target_path),
                                self.download_caps.bytes)

    async def service_download_dir(self, source_dir: str, target_dir: Path | str, *, service: str | None = None) -> None:
        if (sibling := self._sibling(service)) is None:
            return await super().service_download_dir(source_dir, target_dir, service=service)
        await asyncio.to_thread(self._copy_out, sibling, copy_dir_out, source_dir, Path(target_dir),
                                self.download_caps, self._downloaded)

    async def stop_service(self, service: str) -> None:
        """Stop one service and leave the others running (Harbor stops main before it collects sidecar evidence)."""
        if self.compose is None:
            return await super().stop_service(service)
        if self.is_main_service(service):
            if self._started is not None:
                await asyncio.to_thread(self._started.close)
                self._started = None
            return
        await self.compose.stop_service(service)


def _as_bool(value: object) -> bool:
    """Harbor's `--ek key=value` passes strings; accept the usual spellings."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)

