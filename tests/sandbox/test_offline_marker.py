"""The offline-unreachable line (installers.py): the scripts run on the host against stand-in tools.

`tasks check` classifies a failed trial by the exact line `skillspark sandbox: offline-unreachable URL`;
these tests run the real wrapper scripts with fake `curl`/`pip`/`uv` programs that fail the way the real
ones do without a network, and check the last stderr line, the exit code and that output still flows.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skillspark.sandbox import installers
from skillspark.sandbox.session import task_sandbox

MARKER = "skillspark sandbox: offline-unreachable"
PIP_OFFLINE = ("WARNING: Retrying (Retry(total=0, connect=None)) after connection broken by 'NewConnectionError("
               "'<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new connection: "
               "[Errno -3] Temporary failure in name resolution')': /simple/six/\n"
               "ERROR: Could not find a version that satisfies the requirement six (from versions: none)\n"
               "ERROR: No matching distribution found for six\n")
UV_OFFLINE = ("error: Request failed after 3 retries\n  cause: Failed to fetch: https://pypi.org/simple/six/\n"
              "  cause: error sending request for url (https://pypi.org/simple/six/)\n  cause: dns error\n")


@pytest.fixture
def run_marked(tmp_path):
    """run-marked with its /usr/local/lib path replaced by a temp copy, callable as (kind, fallback, argv)."""
    script = tmp_path / "run-marked"
    script.write_text(installers._RUN_MARKED)
    script.chmod(0o755)

    def run(kind: str, fallback: str, *argv: str, env: dict | None = None):
        return subprocess.run([str(script), kind, fallback, *argv], capture_output=True, text=True, timeout=30,
                              env={"PATH": "/usr/bin:/bin", **(env or {})})

    return run


def _failing(stderr: str, code: int = 1, stdout: str = "") -> list[str]:
    return ["sh", "-c", f"printf %s \"$0\"; printf %s \"$1\" >&2; exit {code}", stdout, stderr]


def test_pip_without_network_ends_with_the_index_url_it_needed(run_marked):
    done = run_marked("pip", "https://pypi.org/simple/", *_failing(PIP_OFFLINE, stdout="collecting six\n"))
    assert done.returncode == 1
    assert done.stdout == "collecting six\n"
    lines = done.stderr.splitlines()
    assert lines[:-1] == PIP_OFFLINE.splitlines()  # the tool's own stderr, whole and in order
    assert lines[-1] == f"{MARKER} https://pypi.org/simple/six/"


def test_uv_names_the_url_from_its_own_error(run_marked):
    done = run_marked("uv", "https://releases.astral.sh/x", *_failing(UV_OFFLINE, code=2))
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == f"{MARKER} https://pypi.org/simple/six/"


def test_apt_names_the_archive_it_could_not_fetch(run_marked):
    apt = ("E: Failed to fetch http://deb.debian.org/debian/pool/main/s/sl/sl_5.02-1%2bb1_amd64.deb  "
           "Temporary failure resolving 'deb.debian.org'\nE: Unable to fetch some archives\n")
    done = run_marked("apt", "deb.debian.org", *_failing(apt, code=100))
    assert done.returncode == 100
    assert done.stderr.splitlines()[-1] == f"{MARKER} http://deb.debian.org/debian/pool/main/s/sl/sl_5.02-1%2bb1_amd64.deb"


@pytest.mark.parametrize("stderr, code", [
    ("ERROR: No matching distribution found for nosuchpackage-xyz\n", 1),  # a real miss, network fine
    (PIP_OFFLINE, 0),  # retried, then succeeded
    ("Traceback (most recent call last):\nValueError: bad input\n", 1),
])
def test_other_failures_and_successes_get_no_line(run_marked, stderr, code):
    done = run_marked("pip", "https://pypi.org/simple/", *_failing(stderr, code=code))
    assert done.returncode == code
    assert MARKER not in done.stderr
    assert done.stderr == stderr


def test_pip_saying_only_no_versions_is_unreachable_when_the_index_does_not_resolve(run_marked):
    quiet = "ERROR: Could not find a version that satisfies the requirement six (from versions: none)\n"
    done = run_marked("pip", "https://no-such-index.invalid/simple/", *_failing(quiet))
    assert done.stderr.splitlines()[-1] == f"{MARKER} https://no-such-index.invalid/simple/"


def test_a_marked_command_inside_a_marked_command_speaks_once(run_marked, tmp_path):
    inner = tmp_path / "inner"
    inner.write_text(installers._RUN_MARKED)
    inner.chmod(0o755)
    done = run_marked("uv", "https://x", str(inner), "pip", "https://pypi.org/simple/", *_failing(PIP_OFFLINE))
    assert done.returncode == 1
    assert done.stderr.count(MARKER) == 1


def _wrapper(tmp_path: Path, tool: str, fake_body: str) -> tuple[Path, Path]:
    """The real wrapper for `tool` and a fake `tool` that is the next one on PATH."""
    fake = tmp_path / "bin" / tool
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\n{fake_body}\n")
    fake.chmod(0o755)
    wrapper = tmp_path / "sbin" / tool
    wrapper.parent.mkdir()
    wrapper.write_text(installers.wrapper_script(tool))
    wrapper.chmod(0o755)
    return wrapper, fake.parent


@pytest.mark.parametrize("tool, code, marked", [("curl", 6, True), ("curl", 7, True), ("curl", 22, False),
                                                ("wget", 4, True), ("wget", 8, False)])
def test_curl_and_wget_mark_only_unreachable_servers(tmp_path, tool, code, marked):
    wrapper, bin_dir = _wrapper(tmp_path, tool, f'echo "fetched $*"; echo "{tool}: failed" >&2; exit {code}')
    done = subprocess.run([str(wrapper), "-sS", "https://github.com/astral-sh/x.tar.gz", "-o", "out"], capture_output=True,
                          text=True, timeout=30, env={"PATH": f"{bin_dir}:/usr/bin:/bin"})
    assert done.returncode == code
    assert done.stdout == "fetched -sS https://github.com/astral-sh/x.tar.gz -o out\n"
    expected = [f"{tool}: failed", *([f"{MARKER} https://github.com/astral-sh/x.tar.gz"] if marked else [])]
    assert done.stderr.splitlines() == expected


def test_a_bare_host_is_named_when_no_url_is_given(tmp_path):
    wrapper, bin_dir = _wrapper(tmp_path, "curl", "exit 6")
    done = subprocess.run([str(wrapper), "-s", "example.org"], capture_output=True, text=True, timeout=30,
                          env={"PATH": f"{bin_dir}:/usr/bin:/bin"})
    assert (done.returncode, done.stderr) == (6, f"{MARKER} example.org\n")


def test_every_marked_tool_and_shim_goes_through_run_marked():
    for tool in ("pip", "pip3", "apt-get", "apt"):
        script = installers.marked_wrapper(tool)
        assert f"exec {installers.RUN_MARKED} " in script and f"next_on_path {tool})" in script
    assert installers.pip_shim("/usr/local/bin/python3.12").splitlines()[-1] == (
        f'exec {installers.RUN_MARKED} pip "${{PIP_INDEX_URL:-https://pypi.org/simple/}}" '
        '/usr/local/bin/python3.12 -m pip "$@"')
    uv = installers.uv_wrapper("uvx")
    assert f"UV_PYTHON_DOWNLOADS_JSON_URL={installers.UV_PYTHON_DIR}/downloads.json" in uv
    assert uv.rstrip().endswith(f'{installers.UV_REAL_DIR}/uvx "$@"')


def test_a_process_the_command_leaves_running_does_not_hold_it_up(tmp_path):
    """run-marked waits for its copy of stderr only briefly: a server started in the background keeps
    the stderr fifo open, and the command must still exit when its own work is done (as in Docker;
    the sandbox's init returns at the command's exit, as this test's `wait` does)."""
    script, pid_file, err = tmp_path / "run-marked", tmp_path / "pid", tmp_path / "err"
    script.write_text(installers._RUN_MARKED)
    script.chmod(0o755)
    started = time.monotonic()
    with open(err, "w") as stderr:
        proc = subprocess.Popen([str(script), "uv", "https://x", "sh", "-c",
                                 f"sleep 30 >/dev/null & echo $! > {pid_file}; echo up >&2; exit 3"],
                                stdout=subprocess.DEVNULL, stderr=stderr, env={"PATH": "/usr/bin:/bin"})
        code = proc.wait(timeout=60)
    elapsed = time.monotonic() - started
    os.kill(int(pid_file.read_text()), signal.SIGKILL)
    assert code == 3 and err.read_text() == "up\n"
    assert elapsed < 20  # well before the background sleep ends


async def test_offline_sandbox_marks_pip_apt_and_curl(tmp_path, cache_dir, probe_task):
    """In a real offline sandbox, pip, apt and curl each end with the line naming what they needed (a
    python:3.X image's PATH puts /usr/local/bin first: its pip shim marks failures itself), and
    commands that work say nothing more."""
    task = probe_task(tmp_path / "task", f"python:{sys.version_info.major}.{sys.version_info.minor}-slim")
    async with task_sandbox(task, trial_dir=tmp_path / "t", cache_dir=cache_dir, no_network=True) as env:
        pip = await env.exec("command -v pip; pip install --retries 0 six")
        apt = await env.exec("apt-get -o Acquire::Retries=0 install -y --no-install-recommends sl")
        curl = await env.exec("curl -fsS https://github.com/astral-sh/uv/archive/main.tar.gz -o /tmp/x")
        fine = await env.exec("pip --version && curl --version >/dev/null")
    assert pip.stdout.splitlines()[0] == "/usr/local/bin/pip" and pip.return_code == 1
    assert pip.stderr.splitlines()[-1] == f"{MARKER} https://pypi.org/simple/"
    assert apt.return_code == 100
    assert re.fullmatch(rf"{MARKER} http://deb\.debian\.org/debian/pool/main/s/sl/sl_\S+\.deb", apt.stderr.splitlines()[-1])
    assert (curl.return_code, curl.stderr.splitlines()[-1]) == (6, f"{MARKER} https://github.com/astral-sh/uv/archive/main.tar.gz")
    assert fine.return_code == 0 and MARKER not in fine.stderr


def test_apt_install_skips_a_package_an_installed_one_already_provides(tmp_path):
    """The host's NodeSource nodejs provides (and conflicts with) npm: `apt-get install nodejs npm`, which a
    clean image runs fine, must not fail on the host's root; packages nothing provides still go through."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in {
        "apt-get": 'echo "args: $*"',
        "dpkg-query": 'case "$*" in *"|"*) printf "ii |nodejs-dev, npm (= 9.0)\\nrc |python3-old\\n";; '
                      '*" nodejs") printf "ii ";; *) exit 1;; esac',
    }.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    wrapper = tmp_path / "apt-get"
    wrapper.write_text(installers.marked_wrapper("apt-get").replace(f"exec {installers.RUN_MARKED} apt deb.debian.org ",
                                                                   "exec "))
    wrapper.chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    done = subprocess.run([str(wrapper), "install", "-y", "nodejs", "npm=9.2", "python3-old", "curl"],
                          capture_output=True, text=True, timeout=30, env=env)
    assert done.stdout == "args: install -y nodejs python3-old curl\n"
    assert done.stderr == "skillspark sandbox: npm is already provided by an installed package of the host; not installing it\n"
    other = subprocess.run([str(wrapper), "remove", "npm"], capture_output=True, text=True, timeout=30, env=env)
    assert (other.stdout, other.stderr) == ("args: remove npm\n", "")
