"""uv's managed-Python downloads answered from the host's CPythons (uv_python.py), in a real offline sandbox."""

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from skillspark.sandbox import installers, interpreters, uv_python
from skillspark.sandbox.session import task_sandbox

MARKER = "skillspark sandbox: offline-unreachable"
HOST_MINOR = f"{sys.version_info.major}.{sys.version_info.minor}"  # the CPython under this venv (3.12)


def test_an_archive_is_laid_out_as_uv_unpacks_it(tmp_path):
    """`python/bin/python3.X` relocatable beside `python/lib/python3.X`, without the test suite and the
    host's installed packages (pip excepted), links to the binary, owned by root."""
    prefix = interpreters.host_interpreter(HOST_MINOR)
    assert prefix is not None
    archive = tmp_path / "cpython.tar.x"
    uv_python._write_archive(prefix, HOST_MINOR, archive)
    command, _ = uv_python._compressor()
    unpacked = subprocess.run([command[0], "-dc", str(archive)], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(unpacked)) as tar:
        members = {member.name: member for member in tar.getmembers()}
        binary = tar.extractfile(f"python/bin/python{HOST_MINOR}").read()
    stdlib = f"python/lib/python{HOST_MINOR}"
    assert {f"python/bin/python{HOST_MINOR}", f"{stdlib}/os.py", f"{stdlib}/json/__init__.py"} <= set(members)
    assert members["python/bin/python3"].linkname == f"python{HOST_MINOR}"
    left_in = [name for name in members if name.startswith((f"{stdlib}/test/", f"{stdlib}/site-packages/"))
               and not name.startswith(f"{stdlib}/site-packages/pip")]
    assert left_in == []
    assert {(member.uid, member.gid, member.uname) for member in members.values()} == {(0, 0, "root")}
    assert str(prefix / "lib").encode() + b"\0" not in binary  # RUNPATH no longer names the host prefix


def test_download_entries_follow_uvs_own_format():
    key, entry = uv_python.download_entry((3, 12, 1), "file:///x.tar.zst", "ab" * 32)
    assert key.startswith("cpython-3.12.1-linux-") and key.endswith("-gnu")
    assert (entry["major"], entry["minor"], entry["patch"], entry["prerelease"]) == (3, 12, 1, "")
    assert entry["url"] == "file:///x.tar.zst" and entry["sha256"] == "ab" * 32
    assert set(entry) == {"name", "arch", "os", "libc", "major", "minor", "patch", "prerelease", "url", "sha256",
                          "variant", "build"}


def test_only_versions_uv_runs_are_served(monkeypatch):
    fake = {"3.6": Path("/p/3.6.15"), "3.7": Path("/p/3.7.16"), "3.8": Path("/p/3.8.18"), "3.13": Path("/p/3.13.0")}
    monkeypatch.setattr(uv_python, "host_interpreters", lambda: fake)
    assert list(uv_python.served_interpreters()) == ["3.8", "3.13"]


@pytest.mark.slow  # the first run on a host packs every host CPython once (~15 s per 6 versions here)
async def test_uv_python_install_and_run_inside_an_offline_sandbox(tmp_path, cache_dir, probe_task):
    """uv installed by its official script (served offline) installs and runs the host's CPython of a
    version the image does not have; a version the host lacks fails with the offline-unreachable line."""
    if installers.host_uv() is None:
        pytest.fail("this test needs the uv binary (a project dependency); run scripts/setup.sh")
    served = uv_python.served_interpreters()
    assert HOST_MINOR in served, "the CPython under this venv is always servable"
    missing = next(f"3.{minor}" for minor in range(9, 30) if f"3.{minor}" not in served)  # one uv can download
    layer = uv_python.uv_python_layer()
    listed = json.loads((layer / installers.UV_PYTHON_DIR.lstrip("/") / "downloads.json").read_text())
    assert any(key.startswith(f"cpython-{HOST_MINOR}.") for key in listed)
    async with task_sandbox(probe_task(tmp_path / "task"), trial_dir=tmp_path / "t", cache_dir=cache_dir,
                            no_network=True) as env:
        setup = await env.exec("curl -LsSf https://astral.sh/uv/install.sh | sh")
        assert setup.return_code == 0, setup
        path = "export PATH=/root/.local/bin:$PATH; "
        install = await env.exec(path + f"uv python install {HOST_MINOR}")
        assert install.return_code == 0, install
        assert f"Installed Python {HOST_MINOR}" in install.stderr
        probe = "import sys, ssl, sqlite3, ctypes; print(sys.version_info[:2], sys.prefix)"
        run = await env.exec(path + f"cd /tmp && uv run --no-project --python {HOST_MINOR} python -c '{probe}'")
        assert run.return_code == 0, run
        assert run.stdout.startswith(f"({HOST_MINOR.replace('.', ', ')}) /root/.local/share/uv/python/cpython-{HOST_MINOR}")
        venv = await env.exec(path + f"uv venv -q --python {HOST_MINOR} /tmp/v && /tmp/v/bin/python -c 'import sys; print(sys.version_info[:2])'")
        assert venv.return_code == 0 and venv.stdout.strip() == f"({HOST_MINOR.replace('.', ', ')})", venv
        absent = await env.exec(path + f"uv python install {missing}")
        assert absent.return_code != 0
        assert absent.stderr.splitlines()[-1].startswith(f"{MARKER} https://")
        assert f"cpython-{missing}" in absent.stderr.splitlines()[-1]
        pypi = await env.exec(path + "uv pip install --python /tmp/v/bin/python six")
        assert pypi.return_code != 0
        assert pypi.stderr.splitlines()[-1] == f"{MARKER} https://pypi.org/simple/six/"


@pytest.mark.slow  # builds an image whose RUN installs a CPython with uv
async def test_a_uv_installed_another_way_gets_the_host_cpythons_too(tmp_path, cache_dir, probe_task):
    """`pip install uv` or a release binary is not the served wrapper: the sandbox's environment, in a build
    step and in a command, points it at the host's CPythons (the host's own uv binary stands in for it)."""
    if installers.host_uv() is None:
        pytest.fail("this test needs the uv binary (a project dependency); run scripts/setup.sh")
    task = probe_task(tmp_path / "task")
    uv = f"{installers.UV_REAL_DIR}/uv"
    (task / "environment" / "Dockerfile").write_text(
        f"FROM debian:bookworm-slim\nWORKDIR /app\nRUN {uv} python install {HOST_MINOR} && {uv} python find {HOST_MINOR} > /app/found\n")
    async with task_sandbox(task, trial_dir=tmp_path / "t", cache_dir=cache_dir, no_network=True) as env:
        built = await env.exec("cat /app/found")
        assert built.return_code == 0 and f"cpython-{HOST_MINOR}" in built.stdout, built
        again = await env.exec(f"{uv} python install --reinstall {HOST_MINOR} && echo $UV_PYTHON_DOWNLOADS_JSON_URL")
        assert again.return_code == 0, again
        assert again.stdout.strip() == f"{installers.UV_PYTHON_DIR}/downloads.json"
