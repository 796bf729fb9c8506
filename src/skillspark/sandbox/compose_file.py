"""Read a task's docker-compose.yaml the way Harbor's docker environment composes it, into plain records.

Harbor runs `docker compose` with its own base file first (service `main`: built from the task's
environment/ dir, `command: sh -c "sleep infinity"`), then the task's `environment/docker-compose.yaml`
(and any extra compose files of the run), then an override that adds the task's `[environment].env`
to `main`. Variables in the files are interpolated from Harbor's infra variables (CONTEXT_DIR,
MAIN_IMAGE_NAME, ...) and the task's env; a `.env` beside the compose file counts too, as in
compose. The host's own environment does not (it never reaches a sandbox): pass what a task
needs through `[environment].env`.

Only a subset of compose has a meaning here (docs/compose.md); any other key is one `UserError`
line naming the file, the service and the key, instead of being silently dropped.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel

from skillspark.errors import UserError

MAIN = "main"
COMPOSE_FILE = "docker-compose.yaml"
HARBOR_MAIN_COMMAND = ["sh", "-c", "sleep infinity"]
Condition = Literal["service_started", "service_healthy", "service_completed_successfully"]

# Keys with a meaning in the local sandbox.
_SERVICE_KEYS = {"build", "image", "command", "entrypoint", "environment", "env_file", "depends_on", "healthcheck",
                 "volumes", "working_dir", "user", "networks", "container_name", "hostname", "cpus", "mem_limit",
                 "deploy"}
# Keys accepted and without effect here (each service's address is reachable on every port from the
# others, nothing is published on the host, nothing restarts within one trial).
_INERT_SERVICE_KEYS = {"ports", "expose", "restart", "labels", "tty", "stdin_open", "init", "pull_policy",
                       "platform", "logging", "stop_signal", "stop_grace_period"}
_TOP_KEYS = {"services", "volumes", "networks", "name", "version"}
_BUILD_KEYS = {"context", "dockerfile", "args"}
_HEALTH_KEYS = {"test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"}
_VOLUME_KEYS = {"type", "source", "target", "read_only"}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$", re.IGNORECASE)
# Harbor's docker environment also defines HOST_<X>_PATH for task files written before it mounted
# /logs itself (`${HOST_VERIFIER_LOGS_PATH}:${ENV_VERIFIER_LOGS_PATH}`). Here they name placeholders: `main`
# already has /logs (copied out to the trial after each phase), so such a bind onto its own /logs path is
# what the sandbox does anyway; anywhere else it is refused in one line.
_TRIAL_LOGS = "/.skillspark-trial-logs"
TRIAL_LOG_VARIABLES = {f"HOST_{name}_PATH": f"{_TRIAL_LOGS}/{target}" for name, target in
                       (("VERIFIER_LOGS", "verifier"), ("AGENT_LOGS", "agent"), ("ARTIFACTS", "artifacts"))}
_VARIABLE = re.compile(r"\$(?:(\$)|\{(\w+)(?:(:?[-?])([^}]*))?\}|(\w+))")


class HealthCheck(BaseModel):
    """A service's health test, run inside its sandbox; defaults are Docker's."""

    test: list[str]  # argv (CMD form; CMD-SHELL becomes `sh -c`)
    interval_s: float = 30.0
    timeout_s: float = 30.0
    retries: int = 3
    start_period_s: float = 0.0


class Dependency(BaseModel):
    service: str
    condition: Condition = "service_started"


class Mount(BaseModel):
    """A named volume (shared dir of the trial) or a bind of a host path under the task's environment/."""

    kind: Literal["volume", "bind"]
    source: str  # the volume's name, or the host path (absolute)
    target: str
    read_only: bool = False

    @property
    def binds_a_file(self) -> bool:
        """A bind of one file: copied into the sandbox (with its mode), where a directory is bound."""
        return self.kind == "bind" and Path(self.source).is_file()


class ServiceSpec(BaseModel):
    name: str
    context: Path | None = None  # build context (None: `image` only)
    dockerfile: str = "Dockerfile"
    build_args: dict[str, str] = {}
    image: str | None = None
    command: list[str] | None = None  # None: the image's CMD
    entrypoint: list[str] | None = None  # None: the image's ENTRYPOINT
    environment: dict[str, str] = {}
    depends_on: list[Dependency] = []
    healthcheck: HealthCheck | None = None
    mounts: list[Mount] = []
    working_dir: str | None = None
    user: str | None = None
    aliases: list[str] = []  # more names that resolve to this service
    cpus: float | None = None
    memory_mb: int | None = None


class ComposeProject(BaseModel):
    services: dict[str, ServiceSpec]
    volumes: list[str] = []

    def start_order(self) -> list[str]:
        """Services in dependency order (dependencies first; otherwise as written, main last among equals)."""
        ordered: list[str] = []
        visiting: set[str] = set()

        def visit(name: str, chain: list[str]) -> None:
            if name in ordered:
                return
            if name in visiting:
                raise UserError(f"docker-compose.yaml: depends_on makes a cycle ({' -> '.join([*chain, name])}); break it")
            visiting.add(name)
            for dependency in self.services[name].depends_on:
                visit(dependency.service, [*chain, name])
            visiting.discard(name)
            ordered.append(name)

        for name in sorted(self.services, key=lambda n: n == MAIN):
            visit(name, [])
        return ordered


def load_compose(environment_dir: Path, *, variables: dict[str, str], task_env: dict[str, str],
                 main_image: str | None = None, extra_files: list[Path] = ()) -> ComposeProject:
    """The merged project of Harbor's base service `main`, the task's compose file and `extra_files`."""
    base: dict[str, Any] = {MAIN: {"command": list(HARBOR_MAIN_COMMAND)}}
    if (environment_dir / "Dockerfile").exists() or not main_image:
        base[MAIN]["build"] = {"context": str(environment_dir)}
    else:
        base[MAIN]["image"] = main_image
    values = {**_dotenv(environment_dir / ".env"), **TRIAL_LOG_VARIABLES, **variables, **task_env}
    services: dict[str, dict[str, Any]] = {MAIN: base[MAIN]}
    volumes: list[str] = []
    for path in [environment_dir / COMPOSE_FILE, *extra_files]:
        if not path.is_file():
            continue
        document = _read(path, values)
        for name, service in document.get("services", {}).items():
            services[name] = _merge(services.get(name, {}), _normalized(path, name, service))
        volumes += [name for name in (document.get("volumes") or {}) if name not in volumes]
    env_for_main = dict(services[MAIN].get("environment", {}))
    services[MAIN]["environment"] = {**env_for_main, **task_env}
    specs = {name: _service(environment_dir, name, raw, volumes) for name, raw in services.items()}
    project = ComposeProject(services=specs, volumes=volumes)
    for spec in specs.values():
        for dependency in spec.depends_on:
            if dependency.service not in specs:
                raise UserError(f"docker-compose.yaml: service '{spec.name}' depends on '{dependency.service}', "
                                "which is not defined; add it or remove the dependency")
    project.start_order()
    return project


def _read(path: Path, values: dict[str, str]) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise UserError(f"{path}: cannot read it ({exc.strerror}); check the file") from None
    except yaml.YAMLError as exc:
        first = " ".join(str(exc).split())[:200]
        raise UserError(f"{path}: not valid YAML ({first}); fix the file") from None
    if not isinstance(document, dict) or not isinstance(document.get("services", {}), dict):
        raise UserError(f"{path}: expected a mapping with `services:`; fix the file")
    for key in document:
        if key not in _TOP_KEYS and not str(key).startswith("x-"):
            raise _unsupported(path, f"the top-level key '{key}'")
    return _interpolate(document, values, path)


def _interpolate(value: Any, values: dict[str, str], path: Path) -> Any:
    if isinstance(value, dict):
        return {key: _interpolate(item, values, path) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item, values, path) for item in value]
    if not isinstance(value, str):
        return value

    def repl(match: re.Match[str]) -> str:
        if match.group(1):
            return "$"
        name = match.group(2) or match.group(5)
        operator, argument = match.group(3), match.group(4) or ""
        current = values.get(name)
        unset = current is None or (current == "" and operator is not None and operator.startswith(":"))
        if operator in (":-", "-") and unset:
            return argument
        if operator in (":?", "?") and unset:
            raise UserError(f"{path}: variable {name} is required ({argument or 'unset'}); set it in task.toml's "
                            "[environment].env")
        return current or ""

    return _VARIABLE.sub(repl, value)


def _dotenv(path: Path) -> dict[str, str]:
    return _env_lines(path) if path.is_file() else {}


def _env_lines(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (comments, blank lines and `export ` skipped, one level of quotes removed)."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _unsupported(path: Path, what: str) -> UserError:
    return UserError(f"{path}: {what} is not supported by the local sandbox (docs/compose.md lists what is); "
                     "remove it or run this task with --env docker")


def _normalized(path: Path, name: str, service: Any) -> dict[str, Any]:
    """One service's mapping with every short form spelled out, relative paths made absolute."""
    if not isinstance(service, dict):
        raise UserError(f"{path}: service '{name}' must be a mapping; fix the file")
    where = f"services.{name}"
    for key in service:
        if key not in _SERVICE_KEYS | _INERT_SERVICE_KEYS and not str(key).startswith("x-"):
            raise _unsupported(path, f"'{where}.{key}'")
    out = {key: value for key, value in service.items() if key in _SERVICE_KEYS}
    if "build" in out:
        build = out["build"]
        build = {"context": build} if isinstance(build, str) else dict(build or {})
        for key in build:
            if key not in _BUILD_KEYS:
                raise _unsupported(path, f"'{where}.build.{key}'")
        build["context"] = str((path.parent / build.get("context", ".")).resolve())
        if isinstance(build.get("args"), list):
            build["args"] = dict(item.partition("=")[::2] for item in build["args"])
        out["build"] = build
    if "environment" in out:
        out["environment"] = _mapping(out["environment"])
    env_files = out.pop("env_file", None)
    if env_files is not None:
        loaded: dict[str, str] = {}
        for item in env_files if isinstance(env_files, list) else [env_files]:
            entry = item if isinstance(item, dict) else {"path": item}
            file = path.parent / str(entry.get("path", ""))
            if file.is_file():
                loaded.update(_env_lines(file))
            elif entry.get("required", True):
                raise UserError(f"{path}: {where}.env_file {file} does not exist; add it or fix the path")
        out["environment"] = {**loaded, **out.get("environment", {})}
    if "depends_on" in out:
        depends = out["depends_on"]
        out["depends_on"] = {item: {} for item in depends} if isinstance(depends, list) else dict(depends)
    if "networks" in out:
        out["aliases"] = _aliases(path, where, out.pop("networks"))
    if "volumes" in out:
        out["volumes"] = [_mount(path, where, item) for item in out["volumes"]]
    if "deploy" in out:
        out.update(_deploy_limits(path, where, out.pop("deploy")))
    return out


def _deploy_limits(path: Path, where: str, deploy: Any) -> dict[str, Any]:
    """`deploy.resources.limits` is the same as `cpus`/`mem_limit` (reservations mean nothing here); one replica."""
    deploy = dict(deploy or {})
    resources = dict(deploy.pop("resources", None) or {})
    if deploy.pop("replicas", 1) != 1 or deploy:
        raise _unsupported(path, f"'{where}.deploy' beyond resources and one replica")
    limits = dict(resources.pop("limits", None) or {})
    resources.pop("reservations", None)
    if resources or set(limits) - {"cpus", "memory"}:
        raise _unsupported(path, f"'{where}.deploy.resources' beyond cpus and memory limits")
    return {key: limits[name] for key, name in (("cpus", "cpus"), ("mem_limit", "memory")) if name in limits}


def _mapping(value: Any) -> dict[str, str]:
    """`environment` as a list of KEY=VALUE (a bare KEY has no value and is dropped) or a mapping."""
    if isinstance(value, list):
        return {key: val for key, sep, val in (str(item).partition("=") for item in value) if sep}
    return {str(key): "" if val is None else str(val) for key, val in dict(value or {}).items()}


def _aliases(path: Path, where: str, networks: Any) -> list[str]:
    """Every network is the trial's one private network; only `aliases` mean something."""
    if isinstance(networks, list):
        return []
    aliases: list[str] = []
    for name, settings in dict(networks or {}).items():
        for key in dict(settings or {}):
            if key != "aliases":
                raise _unsupported(path, f"'{where}.networks.{name}.{key}'")
        aliases += list((settings or {}).get("aliases", []))
    return aliases


def _mount(path: Path, where: str, item: Any) -> dict[str, Any]:
    if isinstance(item, str):
        parts = item.split(":")
        if len(parts) == 1:
            raise _unsupported(path, f"the anonymous volume '{item}' in '{where}.volumes'")
        source, target, mode = parts[0], parts[1], (parts[2] if len(parts) > 2 else "rw")
        item = {"source": source, "target": target, "read_only": "ro" in mode.split(","),
                "type": "bind" if source.startswith((".", "/", "~")) else "volume"}
    for key in item:
        if key not in _VOLUME_KEYS:
            raise _unsupported(path, f"'{where}.volumes[].{key}'")
    kind = item.get("type", "volume")
    if kind not in ("volume", "bind"):
        raise _unsupported(path, f"a {kind} mount in '{where}.volumes'")
    source = str(item.get("source", ""))
    if kind == "bind" and source.startswith(f"{_TRIAL_LOGS}/"):
        logs = source.removeprefix(f"{_TRIAL_LOGS}/")  # verifier, agent or artifacts
        return {"kind": "trial-logs", "source": logs, "target": str(item["target"]), "read_only": False}
    if kind == "bind":
        resolved = (path.parent / source).resolve()
        if not resolved.is_relative_to(path.parent.resolve()):
            raise UserError(f"{path}: '{where}.volumes' binds {source}, outside the task's environment/ dir; "
                            "the local sandbox binds only files of the task (or use --env docker)")
        source = str(resolved)
    return {"kind": kind, "source": source, "target": str(item["target"]), "read_only": bool(item.get("read_only"))}


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Compose's merge of one service over another: mappings merge, `volumes` merge by target, the rest replace."""
    merged = dict(base)
    for key, value in override.items():
        if key == "volumes":
            kept = [mount for mount in base.get(key, []) if mount["target"] not in {m["target"] for m in value}]
            merged[key] = kept + value
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = {**base[key], **value}
        else:
            merged[key] = value
    return merged


def _service(environment_dir: Path, name: str, raw: dict[str, Any], volumes: list[str]) -> ServiceSpec:
    where = f"{environment_dir / COMPOSE_FILE}: services.{name}"
    build = raw.get("build")
    if build is None and not raw.get("image"):
        raise UserError(f"{where} has neither `build` nor `image`; add one")
    for mount in raw.get("volumes", []):
        if mount["kind"] == "trial-logs" and (name != MAIN or mount["target"] != f"/logs/{mount['source']}"):
            raise UserError(f"{where}.volumes binds the trial's {mount['source']} logs onto "
                            f"{mount['target']}; the local sandbox gives them to `main` at /logs only "
                            "(remove the bind, or use --env docker)")
        if mount["kind"] == "volume" and mount["source"] not in volumes:
            raise UserError(f"{where}.volumes uses '{mount['source']}', which the top-level `volumes:` does not "
                            "declare; declare it")
    return ServiceSpec(
        name=name,
        context=Path(build["context"]) if build else None,
        dockerfile=(build or {}).get("dockerfile", "Dockerfile"),
        build_args={str(k): str(v) for k, v in ((build or {}).get("args") or {}).items()},
        image=raw.get("image"),
        command=_argv(raw.get("command")),
        entrypoint=_argv(raw.get("entrypoint")),
        environment=raw.get("environment", {}),
        depends_on=[Dependency(service=dep, condition=(opts or {}).get("condition", "service_started"))
                    for dep, opts in raw.get("depends_on", {}).items()],
        healthcheck=_healthcheck(where, raw.get("healthcheck")),
        mounts=[Mount(**mount) for mount in raw.get("volumes", []) if mount["kind"] != "trial-logs"],
        working_dir=raw.get("working_dir"),
        user=str(raw["user"]) if raw.get("user") is not None else None,
        aliases=[*raw.get("aliases", []), *(a for a in (raw.get("container_name"), raw.get("hostname")) if a)],
        cpus=float(raw["cpus"]) if raw.get("cpus") is not None else None,
        memory_mb=_memory_mb(where, raw.get("mem_limit")),
    )


def _argv(value: Any) -> list[str] | None:
    """Compose's `command`/`entrypoint`: a list is argv; a string is split like a shell would (no shell runs)."""
    if value is None:
        return None
    return [str(word) for word in value] if isinstance(value, list) else shlex.split(str(value))


def _healthcheck(where: str, raw: Any) -> HealthCheck | None:
    if not raw:
        return None
    for key in raw:
        if key not in _HEALTH_KEYS:
            raise UserError(f"{where}.healthcheck.{key} is not supported by the local sandbox; remove it")
    if raw.get("disable"):
        return None
    test = raw.get("test")
    if isinstance(test, str):
        argv = ["/bin/sh", "-c", test]
    elif isinstance(test, list) and test and test[0] == "CMD-SHELL":
        argv = ["/bin/sh", "-c", " ".join(map(str, test[1:]))]
    elif isinstance(test, list) and test and test[0] == "CMD":
        argv = [str(word) for word in test[1:]]
    elif isinstance(test, list) and test == ["NONE"]:
        return None
    else:
        raise UserError(f"{where}.healthcheck.test must be a string or a list starting with CMD or CMD-SHELL; fix it")
    durations = {key: _seconds(where, key, raw[key]) for key in ("interval", "timeout", "start_period") if key in raw}
    return HealthCheck(test=argv, retries=int(raw.get("retries", 3)),
                       **{f"{key}_s": value for key, value in durations.items()})


def _seconds(where: str, key: str, value: Any) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    parts = _DURATION.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise UserError(f"{where}.healthcheck.{key} = {value!r} is not a duration like 5s or 1m30s; fix it")
    return sum(float(number) * _UNITS[unit] for number, unit in parts)


def _memory_mb(where: str, value: Any) -> int | None:
    if value is None:
        return None
    match = _MEMORY.match(str(value).strip())
    if not match:
        raise UserError(f"{where}.mem_limit = {value!r} is not a size like 512m or 1g; fix it")
    factor = {"": 1 / 2**20, "b": 1 / 2**20, "k": 1 / 1024, "m": 1, "g": 1024}[match.group(2).lower()]
    return max(1, int(float(match.group(1)) * factor))
