"""Processes persist between execs like in Harbor's docker environment, without weakening isolation.

Includes Harbor's own terminus-2 tmux session driven against the sandbox: the environment
requirement of that agent (a tmux server that survives between commands) is met.
"""

import asyncio
import time
from pathlib import PurePosixPath

from harbor.agents.terminus_2.tmux_session import TmuxSession

from skillspark.sandbox.session import task_sandbox


def _sandbox(task_dir, cache_dir, tmp_path, **kwargs):
    return task_sandbox(task_dir("hello"), trial_dir=tmp_path / "trial", cache_dir=cache_dir, **kwargs)


async def test_tmux_server_survives_between_execs(task_dir, cache_dir, tmp_path):
    async with _sandbox(task_dir, cache_dir, tmp_path) as env:
        started = await env.exec("tmux new-session -d -s work -x 80 -y 20 bash && echo up")
        assert started.return_code == 0 and started.stdout == "up\n", started
        sent = await env.exec("tmux send-keys -t work 'cd /tmp && echo from-tmux > pane.txt' Enter")
        assert sent.return_code == 0, sent
        for _ in range(50):
            if (await env.exec("cat /tmp/pane.txt")).stdout == "from-tmux\n":
                break
            await asyncio.sleep(0.1)
        assert (await env.exec("cat /tmp/pane.txt")).stdout == "from-tmux\n"
        assert (await env.exec("tmux has-session -t work")).return_code == 0


async def test_harbor_terminus2_tmux_session_works_in_the_sandbox(task_dir, cache_dir, tmp_path):
    async with _sandbox(task_dir, cache_dir, tmp_path, no_network=True) as env:
        session = TmuxSession(
            session_name="terminus", environment=env, logging_path=PurePosixPath("/logs/agent/terminus.pane"),
            local_asciinema_recording_path=None, remote_asciinema_recording_path=None,
        )
        await session.start()
        await session.send_keys(["echo $((6 * 7))-from-terminus", "Enter"], block=True, max_timeout_sec=20)
        screen = await session.capture_pane()
        assert "42-from-terminus" in screen and await session.is_session_alive()
        await session.send_keys(["cd /tmp && export MARK=kept", "Enter"], block=True, max_timeout_sec=20)
        await session.send_keys(["echo $MARK in $PWD", "Enter"], block=True, max_timeout_sec=20)
        assert "kept in /tmp" in await session.capture_pane()  # the shell's state carries over
        await env.download_dir("/logs/agent", tmp_path / "trial" / "agent")  # what Harbor does after the agent
    assert "42-from-terminus" in (tmp_path / "trial" / "agent" / "terminus.pane").read_text()


async def test_timeout_kills_only_that_commands_tree(task_dir, cache_dir, tmp_path):
    async with _sandbox(task_dir, cache_dir, tmp_path) as env:
        assert (await env.exec("sleep 6101 >/dev/null 2>&1 & echo ok")).stdout == "ok\n"
        started = time.monotonic()
        result = await env.exec("sleep 6102 & (sleep 6103; echo x) & sleep 6104", timeout_sec=1)
        assert result.return_code == 124 and time.monotonic() - started < 5
        alive = (await env.exec("ps -eo args")).stdout.splitlines()
        assert "sleep 6101" in alive  # an earlier command's background process is not touched
        assert not {"sleep 6102", "sleep 6103", "sleep 6104"} & set(alive)


async def test_background_output_after_exec_does_not_kill_the_writer(task_dir, cache_dir, tmp_path):
    async with _sandbox(task_dir, cache_dir, tmp_path) as env:
        # Without init draining the pipe, the late echo would die of SIGPIPE before the touch.
        result = await env.exec("(sleep 0.5; echo late; echo late >&2; touch /tmp/wrote) & echo now")
        assert result.stdout == "now\n"
        await asyncio.sleep(1.5)
        assert (await env.exec("test -e /tmp/wrote && echo yes")).stdout == "yes\n"


async def test_offline_commands_share_loopback_but_cannot_regain_the_network(task_dir, cache_dir, tmp_path):
    probe = "python3 -c \"import urllib.request as u; print(u.urlopen('http://127.0.0.1:8765/').status)\""
    async with _sandbox(task_dir, cache_dir, tmp_path, no_network=True) as env:
        server = await env.exec("cd /tmp && nohup python3 -m http.server 8765 --bind 127.0.0.1 >/dev/null 2>&1 & echo ok")
        assert server.stdout == "ok\n"
        for _ in range(50):
            reached = await env.exec(probe)
            if reached.stdout == "200\n":
                break
            await asyncio.sleep(0.1)
        assert reached.stdout == "200\n", reached  # a server started offline serves the next offline command
        escapes = {
            "join init's network": "nsenter -t 1 -n true",
            "new namespaces": "unshare -n true",
            "mount": "mount -t tmpfs x /mnt",
            "read init's memory": "head -c1 /proc/1/environ",
            "trace init": "python3 -c \"import ctypes; l=ctypes.CDLL(None); raise SystemExit(l.ptrace(16, 1, 0, 0))\"",
        }
        for what, command in escapes.items():
            assert (await env.exec(command)).return_code != 0, what
        listing = await env.exec("cat /proc/net/dev | tail -n +3 | cut -d: -f1")
        assert listing.stdout.split() == ["lo"]


async def test_processes_run_as_the_task_user_with_dockers_capabilities(task_dir, cache_dir, tmp_path):
    async with _sandbox(task_dir, cache_dir, tmp_path) as env:
        root = await env.exec("chown nobody /tmp && grep CapEff /proc/self/status")
        assert root.return_code == 0 and root.stdout.split()[-1] == "00000000a80025fb", root
        assert (await env.exec("id -un", user="nobody")).stdout == "nobody\n"


async def test_start_failures_read_like_a_shell(task_dir, cache_dir, tmp_path):
    async with _sandbox(task_dir, cache_dir, tmp_path) as env:
        missing = await env.run(["no-such-program-here"])
        assert missing.return_code == 127 and "no-such-program-here: command not found" in missing.stderr
        bad_cwd = await env.run(["true"], cwd="/no/such/dir")
        assert bad_cwd.return_code == 1 and "/no/such/dir" in bad_cwd.stderr
        assert (await env.exec("pwd")).stdout == "/app\n"  # the spawner's own directory change did not stick
