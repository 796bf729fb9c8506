"""Build a task's Dockerfile-lite into a cached layer, keyed by a content hash of its build context.

The build runs the Dockerfile's steps inside a sandbox whose overlay upper dirs live on disk (not
tmpfs); when it succeeds, those upper dirs *are* the layer, and later trials mount them read-only
beneath their own per-trial upper. A second trial of the same task finds the layer and skips the
build. A failing RUN raises Harbor's SandboxBuildFailedError naming the step.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import posixpath
import shlex
import shutil
import tempfile
import time
from pathlib import Path

from harbor.environments.base import SandboxBuildFailedError
from harbor.environments.definition import environment_content_hash
from pydantic import BaseModel

from skillspark.errors import UserError
from skillspark.files import exclusive_async, publish_dir
from skillspark.sandbox.dockerfile import BuildStep, DockerfilePlan, parse_dockerfile_text
from skillspark.sandbox.hostfs import BASE_LAYER_VERSION, CONTEXT_MOUNT
from skillspark.sandbox.hostmask import system_layers
from skillspark.sandbox.interpreters import interpreter_layer
from skillspark.sandbox.limits import Limits
from skillspark.sandbox.namespace import Bind, MountPlan
from skillspark.sandbox.sandbox import Sandbox, host_trust_env
from skillspark.sandbox.served import served_env

BUILDER_VERSION = "3"
_TAIL = 3000


class SandboxBuildError(SandboxBuildFailedError):
    """A Dockerfile step failed; the message starts with `build failed: <step>`."""


class LayerMeta(BaseModel):
    """What a built layer means at run time (the Dockerfile's final ENV, WORKDIR and USER)."""

    key: str
    base_image: str
    env: dict[str, str]
    workdir: str = "/"
    user: str | None = None
    build_seconds: float = 0.0


class BuiltLayer(BaseModel):
    path: Path  # the layer's filesystem (lower dir root)
    meta: LayerMeta
    built_now: bool


def _host_identity() -> str:
    try:
        return Path("/etc/os-release").read_text()
    except OSError:
        return ""


def cache_key(environment_dir: Path, dockerfile_text: str, build_args: dict[str, str], interpreter: str = "") -> str:
    """Hash of everything a build depends on: context files, Dockerfile, args, host, our versions and
    the interpreter layer below it (pip installed into that Python, not the host's)."""
    digest = hashlib.sha256()
    parts = [BUILDER_VERSION, BASE_LAYER_VERSION, dockerfile_text, json.dumps(build_args, sort_keys=True),
             environment_content_hash(environment_dir, truncate=64), _host_identity()]
    for part in parts + ([interpreter] if interpreter else []):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:32]


def _copy_command(step: BuildStep, context: Path, workdir: str, where: str) -> str:
    """The shell command that performs a COPY/ADD from the read-only bound build context."""
    *sources, dest = step.argv
    dest = posixpath.join(workdir, dest)
    matched: list[str] = []
    for source in sources:
        hits = sorted(context.glob(source.lstrip("/"))) if any(c in source for c in "*?[") else [context / source.lstrip("/")]
        for hit in hits:
            resolved = hit.resolve()
            if not resolved.is_relative_to(context.resolve()) or not hit.exists():
                raise UserError(f"{where}: {step.text!r}: '{source}' is not in the task's environment/ dir; fix the path")
            matched.append(resolved.relative_to(context.resolve()).as_posix())
    into_dir = len(matched) > 1 or step.argv[-1].endswith("/")
    q = shlex.quote
    lines = [f"mkdir -p {q(dest if into_dir else posixpath.dirname(dest) or '/')}"]
    for rel in matched:
        src = posixpath.join(CONTEXT_MOUNT, rel) if rel != "." else CONTEXT_MOUNT
        if (context / rel).is_dir():
            lines.append(f"mkdir -p {q(dest)} && cp -R --preserve=mode,timestamps {q(src)}/. {q(dest)}/")
        elif into_dir:
            lines.append(f"cp --preserve=mode,timestamps {q(src)} {q(dest)}/")
        else:
            lines.append(f"if [ -d {q(dest)} ]; then cp --preserve=mode,timestamps {q(src)} {q(dest)}/; "
                         f"else cp --preserve=mode,timestamps {q(src)} {q(dest)}; fi")
    if step.chown:
        lines.append(f"chown -R {q(step.chown)} {q(dest)}")
    if step.chmod:
        lines.append(f"chmod -R {q(step.chmod)} {q(dest)}")
    return " && ".join(lines)


class _BuildState:
    def __init__(self, plan: DockerfilePlan):
        self.env: dict[str, str] = dict(plan.image_env)
        self.workdir = "/"
        self.user: str | None = None
        self.args = plan.args


async def _run_steps(sandbox: Sandbox, plan: DockerfilePlan, context: Path, where: str, log, deadline: float) -> _BuildState:
    state = _BuildState(plan)
    base_env = {"HOME": "/root", "LANG": "C.UTF-8", "DEBIAN_FRONTEND": "noninteractive", **host_trust_env(), **served_env()}
    for step in plan.steps:
        if step.kind == "ENV":
            state.env.update(step.env)
            continue
        if step.kind == "USER":
            state.user = step.value
            continue
        if step.kind == "WORKDIR":
            state.workdir = posixpath.normpath(posixpath.join(state.workdir, step.value))
            inner, user = ["/bin/sh", "-c", f"mkdir -p {shlex.quote(state.workdir)}"], None
        elif step.kind == "COPY":
            inner, user = ["/bin/sh", "-c", _copy_command(step, context, state.workdir, where)], None
        else:
            inner, user = (step.argv or [*step.shell, step.command]), state.user
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise SandboxBuildError(f"build failed: {step.text}: build timeout reached at {where} line {step.line}")
        env = {**base_env, **state.args, **state.env}
        log.write(f"### {step.text}\n")
        result = await sandbox.run(inner, env=env, cwd=state.workdir if step.kind != "WORKDIR" else "/",
                                   user=user, timeout_sec=remaining, max_output_bytes=200_000)
        log.write(result.stdout + result.stderr + f"\n### exit {result.return_code}\n")
        log.flush()
        if result.return_code != 0:
            tail = (result.stdout + result.stderr)[-_TAIL:].strip()
            raise SandboxBuildError(f"build failed: {step.text} (exit {result.return_code}) at {where} line {step.line}\n{tail}")
    return state


async def ensure_layer(
    environment_dir: Path,
    cache_dir: Path,
    *,
    dockerfile_text: str,
    build_args: dict[str, str] | None = None,
    force: bool = False,
    timeout_sec: float = 600.0,
    isolator: str = "auto",
) -> BuiltLayer:
    """Return the cached layer for this build context, building it (once, under a lock) if needed."""
    where = str(environment_dir / "Dockerfile")
    plan = parse_dockerfile_text(dockerfile_text, where, build_args)
    layers = cache_dir / "layers"
    layers.mkdir(parents=True, exist_ok=True)
    interpreter = await asyncio.to_thread(interpreter_layer, cache_dir, plan.base_image)
    key = cache_key(environment_dir, dockerfile_text, build_args or {}, interpreter.name if interpreter else "")
    final = layers / key
    async with exclusive_async(layers / f"{key}.lock"):  # one builder per key, threads and processes alike
        if (final / "meta.json").exists() and not force:
            return BuiltLayer(path=final / "up", meta=LayerMeta.model_validate_json((final / "meta.json").read_text()), built_now=False)
        stage = Path(tempfile.mkdtemp(prefix=f".build-{key[:8]}-", dir=layers))
        started = time.monotonic()
        # Mount points live outside the cache: the sandbox's root may not traverse the host's home.
        mount_dir = Path(tempfile.mkdtemp(prefix="skillspark-build-"))
        mounts = MountPlan(state_dir=mount_dir, layers=system_layers(cache_dir, plan.base_image), upper_dir=stage,
                           binds=[Bind(environment_dir.resolve(), CONTEXT_MOUNT, read_only=True)])
        sandbox = Sandbox(mounts, Limits(), isolator=isolator)
        try:
            with open(stage / "build.log", "w") as log:
                state = await _run_steps(sandbox, plan, environment_dir.resolve(), where, log, started + timeout_sec)
        except BaseException:
            sandbox.close()
            shutil.rmtree(stage, ignore_errors=True)
            raise
        finally:
            shutil.rmtree(mount_dir, ignore_errors=True)
        sandbox.close()
        meta = LayerMeta(key=key, base_image=plan.base_image, env=state.env, workdir=state.workdir,
                         user=state.user, build_seconds=round(time.monotonic() - started, 3))
        shutil.rmtree(stage / "work", ignore_errors=True)
        (stage / "meta.json").write_text(meta.model_dump_json(indent=2))
        publish_dir(stage, final)
        return BuiltLayer(path=final / "up", meta=meta, built_now=True)
