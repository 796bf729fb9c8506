"""docker-compose tasks in the real local sandbox: services on a private network, torn down, isolated.

Each task here is written into tmp_path; its images are bare `FROM python:3.11-slim-bookworm`
builds (no RUN step), so nothing long is built.
"""

import asyncio
import os
import time
from pathlib import Path

import pytest

from skillspark.sandbox.compose import ComposeStartError
from skillspark.sandbox.session import task_sandbox
from tests.sandbox.test_isolation import _processes_with

HEALTHY_WEB = """
    healthcheck:
      test: ["CMD", "python3", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/', timeout=2)"]
      interval: 1s
      retries: 30
"""


def _main_and_web(command: str, web_extra: str = "") -> str:
    """A compose file: `main` waits for a healthy `web` that runs `command` then serves /srv on port 8000."""
    return f"""
services:
  main:
    depends_on:
      web: {{condition: service_healthy}}
  web:
    image: python:3.11-slim-bookworm
    working_dir: /srv
    command: ["sh", "-c", "{command} && python3 -m http.server 8000"]
{web_extra}{HEALTHY_WEB}
"""


def _task(root: Path, compose: str, env: dict[str, str] | None = None, files: dict[str, str] | None = None) -> Path:
    (root / "environment").mkdir(parents=True)
    (root / "tests").mkdir()
    env_lines = "".join(f'{key} = "{value}"\n' for key, value in (env or {}).items())
    (root / "task.toml").write_text(f'schema_version = "1.4"\n[task]\nname = "t/{root.name}"\n'
                                    f"[environment]\nstorage_mb = 256\n" + ("[environment.env]\n" + env_lines if env else ""))
    (root / "instruction.md").write_text("compose fixture\n")
    (root / "tests/test.sh").write_text("#!/bin/bash\n")
    (root / "environment/Dockerfile").write_text("FROM python:3.11-slim-bookworm\nWORKDIR /app\n")
    (root / "environment/docker-compose.yaml").write_text(compose)
    for name, text in (files or {}).items():
        (root / "environment" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "environment" / name).write_text(text)
    return root


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


async def _fetch(env, url: str) -> str:
    result = await env.exec(f"python3 -c \"import urllib.request as u; print(u.urlopen('{url}', timeout=5).read().decode())\"")
    assert result.return_code == 0, result.stderr
    return result.stdout.strip()


async def test_services_share_a_network_and_a_volume_and_nothing_is_left_after_stop(tmp_path, cache_dir):
    marker = f"{int(time.time() * 1000) % 10**6 + 5_000_000}"
    task = _task(tmp_path / "shared", f"""
services:
  main:
    volumes: [shared:/shared]
    depends_on:
      web: {{condition: service_healthy}}
  web:
    image: python:3.11-slim-bookworm
    working_dir: /srv
    command: ["sh", "-c", "echo from-web > /shared/note && echo page > index.html && echo more >> /seed/a.txt && python3 -m http.server 8000"]
    volumes: [shared:/shared, ./seed:/seed, ./app.conf:/etc/app.conf:ro, ./check.sh:/usr/local/bin/check]
{HEALTHY_WEB}
  idle:
    image: python:3.11-slim-bookworm
    command: ["sleep", "{marker}"]
volumes:
  shared: {{}}
""", files={"seed/a.txt": "seeded\n", "app.conf": "mode=test\n", "check.sh": "#!/bin/sh\necho checked\n"})
    (task / "environment/check.sh").chmod(0o755)
    async with task_sandbox(task, trial_dir=tmp_path / "trial", cache_dir=cache_dir, no_network=True) as env:
        assert env.offline  # the agent phase is offline: the private network stays, the internet does not
        assert await _fetch(env, "http://web:8000/index.html") == "page"
        assert (await env.exec("cat /shared/note")).stdout == "from-web\n"  # the named volume is one dir
        hosts = (await env.exec("cat /etc/hosts")).stdout
        assert {"web", "idle", "main"} <= {line.split()[1] for line in hosts.splitlines() if line.startswith("10.77.")}
        assert len(_processes_with(f"sleep\0{marker}")) == 1
        compose = env.compose
        holders = [running.started.sandbox.holder.pid for running in compose._running.values()]
        state_dirs = [running.started.state_dir for running in compose._running.values()]
        work_dir, hub = compose._work_dir, compose.network.hub_pid
        assert all(_alive(pid) for pid in [*holders, hub])
        assert (tmp_path / "trial/services/web.log").exists()
        # Harbor's per-service operations (collect hooks, sidecar artifacts) reach the sibling itself
        inside = await env.service_exec("pwd; cat index.html; echo $WHO", service="web", env={"WHO": "hook"})
        assert inside.stdout.split() == ["/srv", "page", "hook"]
        binds = await env.service_exec("cat /etc/app.conf /seed/a.txt", service="web")
        assert binds.stdout == "mode=test\nseeded\nmore\n"  # a bound file; a read-write bind is the trial's copy
        assert (await env.service_exec("check", service="web")).stdout == "checked\n"  # a bound script keeps its x bit
        assert (task / "environment/seed/a.txt").read_text() == "seeded\n"  # the task's own file is unchanged
        await env.service_download_file("/srv/index.html", tmp_path / "out/index.html", service="web")
        assert (tmp_path / "out/index.html").read_text() == "page\n"
        await env.stop_service("idle")
        assert _processes_with(f"sleep\0{marker}") == [] and await _fetch(env, "http://web:8000/index.html") == "page"
    await asyncio.sleep(0.5)
    assert _processes_with(f"sleep\0{marker}") == []
    assert not any(_alive(pid) for pid in [*holders, hub])
    assert not work_dir.exists()
    mounts_after = Path("/proc/self/mountinfo").read_text()
    for path in [*map(str, state_dirs), str(work_dir)]:
        assert path not in mounts_after
    deadline = time.monotonic() + 10
    while any(path.exists() for path in state_dirs) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)  # removed by a cleanup thread, off the trial's path
    assert not any(path.exists() for path in state_dirs)


async def test_two_concurrent_trials_with_the_same_service_names_are_isolated(tmp_path, cache_dir):
    compose = _main_and_web("echo $$TOKEN > token", web_extra="    environment:\n      TOKEN: ${TOKEN}\n")
    tasks = [_task(tmp_path / name, compose, env={"TOKEN": name}) for name in ("alpha", "beta")]
    ready, release = asyncio.Event(), asyncio.Event()
    seen: dict[str, tuple[str, int, str]] = {}

    async def trial(task: Path) -> None:
        async with task_sandbox(task, trial_dir=tmp_path / f"trial-{task.name}", cache_dir=cache_dir) as env:
            token = await _fetch(env, "http://web:8000/token")
            address = (await env.exec("getent hosts web")).stdout.split()[0]
            seen[task.name] = (token, env.compose.network.hub_pid, address)
            if len(seen) == 2:
                ready.set()
            await asyncio.wait_for(ready.wait(), 120)  # both trials up at once
            assert await _fetch(env, "http://web:8000/token") == token
            release.set()

    await asyncio.gather(*(trial(task) for task in tasks))
    assert seen["alpha"][0] == "alpha" and seen["beta"][0] == "beta"
    assert seen["alpha"][2] == seen["beta"][2]  # the same address, on two separate networks
    assert seen["alpha"][1] != seen["beta"][1]


async def test_a_service_that_dies_before_it_is_healthy_fails_the_start_and_leaves_nothing(tmp_path, cache_dir):
    marker = f"{int(time.time() * 1000) % 10**6 + 6_000_000}"
    task = _task(tmp_path / "dies", f"""
services:
  main:
    depends_on:
      db: {{condition: service_healthy}}
  db:
    image: python:3.11-slim-bookworm
    command: ["sh", "-c", "echo cannot open the database; exit 3"]
    healthcheck: {{test: "false", interval: 200ms, retries: 50}}
  bystander:
    image: python:3.11-slim-bookworm
    command: ["sleep", "{marker}"]
""")
    hubs_before = {pid for pid in _processes_with("cat") if Path(f"/proc/{pid}/stat").exists()}
    with pytest.raises(ComposeStartError) as caught:
        async with task_sandbox(task, trial_dir=tmp_path / "trial", cache_dir=cache_dir):
            pass
    message = str(caught.value)
    assert "'db' exited before it became healthy" in message and "cannot open the database" in message
    await asyncio.sleep(0.5)
    assert _processes_with(f"sleep\0{marker}") == []
    own_hubs = [pid for pid in _processes_with("cat") if pid not in hubs_before and _alive(pid)
                and Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1] == str(os.getpid())]
    assert own_hubs == []


async def test_a_one_shot_service_must_complete_successfully(tmp_path, cache_dir):
    task = _task(tmp_path / "oneshot", """
services:
  main:
    depends_on:
      migrate: {condition: service_completed_successfully}
  migrate:
    image: python:3.11-slim-bookworm
    entrypoint: ["sh", "-c"]
    command: ["echo migrating; exit 4"]
""")
    with pytest.raises(ComposeStartError, match=r"'migrate' exited with code 4.*migrating"):
        async with task_sandbox(task, trial_dir=tmp_path / "trial", cache_dir=cache_dir):
            pass


async def test_a_no_network_task_runs_its_services_offline_and_still_reachable(tmp_path, cache_dir):
    task = _task(tmp_path / "offline", _main_and_web("tail -n +3 /proc/net/dev | cut -d: -f1 > links"))
    toml = task / "task.toml"
    toml.write_text(toml.read_text().replace("[environment]\n", '[environment]\nnetwork_mode = "no-network"\n'))
    async with task_sandbox(task, trial_dir=tmp_path / "trial", cache_dir=cache_dir, no_network=True) as env:
        links = (await _fetch(env, "http://web:8000/links")).split()
        assert "eth1" in links and "tap0" not in links  # on the bridge, without slirp's way out
        assert set((await env.exec("tail -n +3 /proc/net/dev | cut -d: -f1")).stdout.split()) == {"lo", "eth1"}
