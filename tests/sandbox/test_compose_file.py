"""Reading docker-compose.yaml as Harbor's docker environment composes it (compose_file.py); no sandbox runs."""

import subprocess
import sys
from pathlib import Path

import pytest

from skillspark.errors import UserError
from skillspark.sandbox.compose import ComposeServices, ServiceSettings, image_command
from skillspark.sandbox.compose_file import HARBOR_MAIN_COMMAND, load_compose

REPO = Path(__file__).resolve().parents[2]
SKILLSPARK = str(Path(sys.executable).parent / "skillspark")


def _env_dir(tmp_path: Path, compose: str, files: dict[str, str] | None = None) -> Path:
    env = tmp_path / "environment"
    env.mkdir(parents=True, exist_ok=True)
    (env / "Dockerfile").write_text("FROM python:3.11-slim-bookworm\nWORKDIR /app\n")
    (env / "docker-compose.yaml").write_text(compose)
    for name, text in (files or {}).items():
        (env / name).parent.mkdir(parents=True, exist_ok=True)
        (env / name).write_text(text)
    return env


def _load(env: Path, **kwargs):
    return load_compose(env, variables=kwargs.pop("variables", {}), task_env=kwargs.pop("task_env", {}), **kwargs)


def test_main_is_harbors_base_service_merged_with_the_tasks(tmp_path):
    env = _env_dir(tmp_path, """
services:
  main:
    environment: [MODE=fast, EMPTY]
    working_dir: /work
  web:
    build: ./web
""", {"web/Dockerfile": "FROM debian:bookworm\nCMD [\"true\"]\n"})
    project = _load(env, task_env={"TOKEN": "t1"})
    main = project.services["main"]
    assert main.context == env and main.dockerfile == "Dockerfile"
    assert main.command == HARBOR_MAIN_COMMAND  # Harbor's `sleep infinity`, not overridden
    assert main.environment == {"MODE": "fast", "TOKEN": "t1"}  # task env added to main only, as Harbor does
    assert main.working_dir == "/work"
    assert project.services["web"].context == (env / "web").resolve()
    assert project.services["web"].environment == {}


def test_variables_are_interpolated_from_harbors_and_the_tasks_values_never_the_hosts(tmp_path, monkeypatch):
    monkeypatch.setenv("HOST_SECRET", "leaked")
    env = _env_dir(tmp_path, """
services:
  web:
    image: python:3.11-slim
    environment:
      CONTEXT: ${CONTEXT_DIR}/sub
      GREETING: ${GREETING:-hi}
      COST: $$5
      HOST: "${HOST_SECRET}"
      FROM_DOTENV: $DOTENV_VALUE
""", {".env": "# comment\nexport DOTENV_VALUE='dot'\n"})
    project = _load(env, variables={"CONTEXT_DIR": "/ctx"})
    assert project.services["web"].environment == {"CONTEXT": "/ctx/sub", "GREETING": "hi", "COST": "$5", "HOST": "",
                                                   "FROM_DOTENV": "dot"}


def test_a_required_variable_that_is_unset_is_one_line(tmp_path):
    env = _env_dir(tmp_path, "services:\n  web:\n    image: debian\n    environment:\n      K: ${API_KEY:?needs a key}\n")
    with pytest.raises(UserError, match=r"variable API_KEY is required \(needs a key\).*\[environment\]\.env"):
        _load(env)


def test_env_file_then_environment_wins(tmp_path):
    env = _env_dir(tmp_path, """
services:
  web:
    image: debian:bookworm
    env_file: [web.env, {path: optional.env, required: false}]
    environment:
      PORT: "9000"
""", {"web.env": "PORT=8000\nNAME=\"web one\"\n"})
    assert _load(env).services["web"].environment == {"PORT": "9000", "NAME": "web one"}
    (env / "web.env").unlink()
    with pytest.raises(UserError, match=r"services\.web\.env_file .*web\.env does not exist"):
        _load(env)


def test_dependencies_give_the_start_order_and_bad_ones_are_refused(tmp_path):
    env = _env_dir(tmp_path, """
services:
  main:
    depends_on: [migrate]
  migrate:
    image: debian
    depends_on:
      db: {condition: service_healthy}
  db:
    image: debian
""")
    project = _load(env)
    assert project.start_order() == ["db", "migrate", "main"]
    assert [(d.service, d.condition) for d in project.services["migrate"].depends_on] == [("db", "service_healthy")]
    cycle = _env_dir(tmp_path / "c", "services:\n  a:\n    image: debian\n    depends_on: [b]\n  b:\n    image: debian\n"
                                     "    depends_on: [a]\n")
    with pytest.raises(UserError, match="depends_on makes a cycle"):
        _load(cycle)
    missing = _env_dir(tmp_path / "m", "services:\n  a:\n    image: debian\n    depends_on: [ghost]\n")
    with pytest.raises(UserError, match="depends on 'ghost', which is not defined"):
        _load(missing)


@pytest.mark.parametrize("snippet, named", [
    ("    privileged: true\n", "'services.web.privileged'"),
    ("    cap_add: [NET_ADMIN]\n", "'services.web.cap_add'"),
    ("    network_mode: host\n", "'services.web.network_mode'"),
    ("    build: {context: ., target: dev}\n", "'services.web.build.target'"),
    ("    networks: {default: {ipv4_address: 10.0.0.5}}\n", "'services.web.networks.default.ipv4_address'"),
    ("    volumes: [/cache]\n", "the anonymous volume '/cache'"),
    ("    volumes: [{type: tmpfs, target: /t}]\n", "a tmpfs mount"),
])
def test_an_unsupported_key_is_one_line_naming_it(tmp_path, snippet, named):
    env = _env_dir(tmp_path, "services:\n  web:\n    image: debian\n" + snippet)
    with pytest.raises(UserError) as caught:
        _load(env)
    message = str(caught.value)
    assert named in message and "--env docker" in message and "\n" not in message


def test_volumes_named_binds_and_their_limits(tmp_path):
    env = _env_dir(tmp_path, """
services:
  web:
    image: debian
    volumes:
      - data:/data
      - ./seed:/seed:ro
      - {type: volume, source: data, target: /also}
volumes:
  data: {}
""", {"seed/a.txt": "a"})
    mounts = _load(env).services["web"].mounts
    assert [(m.kind, m.target, m.read_only) for m in mounts] == [("volume", "/data", False), ("bind", "/seed", True),
                                                                 ("volume", "/also", False)]
    assert mounts[1].source == str((env / "seed").resolve())
    undeclared = _env_dir(tmp_path / "u", "services:\n  web:\n    image: debian\n    volumes: [cache:/c]\n")
    with pytest.raises(UserError, match="uses 'cache', which the top-level `volumes:` does not declare"):
        _load(undeclared)
    outside = _env_dir(tmp_path / "o", "services:\n  web:\n    image: debian\n    volumes: [../../etc:/e]\n")
    with pytest.raises(UserError, match="outside the task's environment/ dir"):
        _load(outside)


def test_harbors_legacy_log_mounts_on_main_are_its_own_logs_and_refused_elsewhere(tmp_path):
    """SkillsBench compose files bind `${HOST_VERIFIER_LOGS_PATH}:${ENV_VERIFIER_LOGS_PATH}` (Harbor defines both)."""
    env = _env_dir(tmp_path, """
services:
  main:
    volumes:
      - ${HOST_VERIFIER_LOGS_PATH}:${ENV_VERIFIER_LOGS_PATH}
      - ${HOST_AGENT_LOGS_PATH}:${ENV_AGENT_LOGS_PATH}
      - ./seed:/seed:ro
""", {"seed/a.txt": "a"})
    variables = {"ENV_VERIFIER_LOGS_PATH": "/logs/verifier", "ENV_AGENT_LOGS_PATH": "/logs/agent"}
    assert [m.target for m in _load(env, variables=variables).services["main"].mounts] == ["/seed"]
    elsewhere = _env_dir(tmp_path / "s", "services:\n  web:\n    image: debian\n"
                                          "    volumes: ['${HOST_ARTIFACTS_PATH}:/logs/artifacts']\n")
    with pytest.raises(UserError, match=r"services.web.volumes binds the trial's artifacts logs onto /logs/artifacts"):
        _load(elsewhere)
    moved = _env_dir(tmp_path / "m", "services:\n  main:\n    volumes: ['${HOST_VERIFIER_LOGS_PATH}:/out']\n")
    with pytest.raises(UserError, match="onto /out; the local sandbox gives them to `main` at /logs only"):
        _load(moved)


def test_healthcheck_forms_durations_and_limits(tmp_path):
    env = _env_dir(tmp_path, """
services:
  a:
    image: debian
    healthcheck: {test: ["CMD", "pg_isready", "-q"], interval: 1m30s, timeout: 500ms, retries: 5, start_period: 2s}
    mem_limit: 1g
    cpus: 0.5
  b:
    image: debian
    healthcheck: {test: ["CMD-SHELL", "curl -f localhost || exit 1"]}
  c:
    image: debian
    healthcheck: {test: "true", disable: true}
""")
    services = _load(env).services
    check = services["a"].healthcheck
    assert check.test == ["pg_isready", "-q"]
    assert (check.interval_s, check.timeout_s, check.retries, check.start_period_s) == (90.0, 0.5, 5, 2.0)
    assert (services["a"].memory_mb, services["a"].cpus) == (1024, 0.5)
    assert services["b"].healthcheck.test == ["/bin/sh", "-c", "curl -f localhost || exit 1"]
    assert services["b"].healthcheck.interval_s == 30.0  # Docker's default
    assert services["c"].healthcheck is None
    bad = _env_dir(tmp_path / "b", "services:\n  a:\n    image: debian\n    healthcheck: {test: 'true', interval: soon}\n")
    with pytest.raises(UserError, match="is not a duration like 5s"):
        _load(bad)


def test_image_command_and_compose_overrides(tmp_path):
    assert image_command('FROM debian\nENTRYPOINT ["python3", "/srv/kv.py"]\nCMD ["--port", "1"]\n') == (
        ["python3", "/srv/kv.py"], ["--port", "1"])
    assert image_command("FROM debian\nCMD python3 -m http.server 80\n") == (
        None, ["/bin/sh", "-c", "python3 -m http.server 80"])
    env = _env_dir(tmp_path, """
services:
  image_default: {build: ./kv}
  new_command: {build: ./kv, command: --port 2}
  new_entrypoint: {build: ./kv, entrypoint: [python3, /srv/seed.py]}
  both: {build: ./kv, entrypoint: echo, command: [a, b]}
""", {"kv/Dockerfile": 'FROM debian\nENTRYPOINT ["python3", "/srv/kv.py"]\nCMD ["--port", "1"]\n'})
    services = ComposeServices(project=_load(env), settings=ServiceSettings(cache_dir=tmp_path / "cache"))
    spec = services.project.services
    assert services.command(spec["image_default"]) == ["python3", "/srv/kv.py", "--port", "1"]
    assert services.command(spec["new_command"]) == ["python3", "/srv/kv.py", "--port", "2"]
    assert services.command(spec["new_entrypoint"]) == ["python3", "/srv/seed.py"]  # a new entrypoint drops CMD
    assert services.command(spec["both"]) == ["echo", "a", "b"]


def test_the_example_compose_tasks_load(tmp_path):
    for task in sorted(p.parent for p in (REPO / "examples/compose-tasks").glob("*/task.toml")):
        project = _load(task / "environment")
        assert "main" in project.services and len(project.services) >= 2
        assert project.start_order()[-1] == "main"


def test_cli_refuses_an_unsupported_key_with_one_error_line_and_exit_2(tmp_path):
    task = tmp_path / "task"
    _env_dir(task, "services:\n  web:\n    image: debian\n    privileged: true\n")
    (task / "task.toml").write_text('schema_version = "1.4"\n[task]\nname = "t/compose-bad"\n')
    (task / "instruction.md").write_text("x\n")
    (task / "tests").mkdir()
    (task / "tests/test.sh").write_text("#!/bin/bash\n")
    done = subprocess.run([SKILLSPARK, "sandbox", "exec", str(task), "--", "true"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "services.web.privileged" in lines[0]
    assert "Traceback" not in done.stderr


def test_a_sibling_image_the_host_cannot_stand_in_for_is_refused_before_any_build(tmp_path):
    env = _env_dir(tmp_path, "services:\n  db:\n    image: postgres:16\n")
    services = ComposeServices(project=_load(env), settings=ServiceSettings(cache_dir=tmp_path / "cache"))
    with pytest.raises(UserError, match=r"^docker-compose.yaml: services\.db\.image line 1: base image 'postgres:16'.*"
                                        r"--env docker$"):
        services.check_images()
    assert not (tmp_path / "cache" / "layers").exists()
    missing = _env_dir(tmp_path / "m", "services:\n  web:\n    build: ./web\n")
    services = ComposeServices(project=_load(missing), settings=ServiceSettings(cache_dir=tmp_path / "cache"))
    with pytest.raises(UserError, match=r"web/Dockerfile is missing \(the build of compose service 'web'\)"):
        services.check_images()


def test_extra_compose_files_of_a_run_merge_after_the_tasks(tmp_path):
    env = _env_dir(tmp_path, "services:\n  web:\n    image: debian\n    environment: {A: '1', B: '1'}\n"
                             "    volumes: [data:/data]\nvolumes:\n  data: {}\n")
    extra = tmp_path / "extra.yaml"
    extra.write_text("services:\n  web:\n    environment: {B: '2'}\n    command: [serve]\n"
                     "    volumes: [data:/data:ro]\n  cache:\n    image: debian\n")
    project = _load(env, extra_files=[extra])
    web = project.services["web"]
    assert web.environment == {"A": "1", "B": "2"} and web.command == ["serve"]
    assert [(m.target, m.read_only) for m in web.mounts] == [("/data", True)]  # merged by target
    assert set(project.services) == {"main", "web", "cache"}


def test_without_root_a_compose_task_is_refused_with_one_line(monkeypatch):
    from skillspark.sandbox import compose_network

    monkeypatch.setattr(compose_network.os, "geteuid", lambda: 1000)
    with pytest.raises(UserError, match=r"need root on this host .*--env docker"):
        compose_network.PrivateNetwork()


def test_deploy_resource_limits_are_cpus_and_mem_limit_and_the_rest_is_refused(tmp_path):
    env = _env_dir(tmp_path, "services:\n  db:\n    image: debian\n    deploy:\n      replicas: 1\n      resources:\n"
                             "        limits: {cpus: '0.25', memory: 256M}\n        reservations: {memory: 64M}\n")
    db = _load(env).services["db"]
    assert (db.cpus, db.memory_mb) == (0.25, 256)
    for deploy in ("{replicas: 3}", "{placement: {constraints: []}}", "{resources: {limits: {pids: 10}}}"):
        bad = _env_dir(tmp_path / str(abs(hash(deploy))), f"services:\n  db:\n    image: debian\n    deploy: {deploy}\n")
        with pytest.raises(UserError, match=r"'services\.db\.deploy.*is not supported by the local sandbox"):
            _load(bad)


def test_the_hosts_own_network_namespace_is_never_wired():
    from skillspark.sandbox.compose_network import PrivateNetwork

    links = Path("/proc/net/dev").read_text().split("\n")[2:]
    network = PrivateNetwork()
    try:
        with pytest.raises(UserError, match="needs slirp4netns"):
            network.attach("/proc/self/ns/net", "10.77.0.10")
    finally:
        network.close()
    now = Path("/proc/net/dev").read_text().split("\n")[2:]
    assert [line.split(":")[0] for line in now] == [line.split(":")[0] for line in links]
