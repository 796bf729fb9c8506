"""A python:3.X image gets its own 3.X (interpreters.py), and uv served offline is a real binary."""

import sys
import zipfile
from pathlib import Path

import pytest

from skillspark.sandbox import installers, interpreters
from skillspark.sandbox.session import task_sandbox


@pytest.mark.parametrize("image, minor", [
    ("python:3.12-slim", "3.12"), ("python:3.9.19-slim", "3.9"), ("docker.io/library/python:3.13", "3.13"),
    ("python:3.10-slim-bookworm@sha256:ab12", "3.10"), ("python:3", None), ("python", None),
    ("ubuntu:24.04", None), ("mypython:3.12", None),
])
def test_requested_minor(image, minor):
    assert interpreters.requested_minor(image) == minor


@pytest.mark.parametrize("image, minor", [
    ("ubuntu:24.04", "3.12"), ("ubuntu:noble-20250101", "3.12"), ("ubuntu:22.04", "3.10"),
    ("debian:bookworm-slim", "3.11"), ("debian:13.1", "3.13"), ("ubuntu", None), ("ubuntu:latest", None),
    ("python:3.12-slim", None), ("node:20-bookworm", None),
])
def test_distro_minor(image, minor):
    assert interpreters.distro_minor(image) == minor


def _fake_cpython(prefix: Path, minor: str) -> Path:
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / f"python{minor}").write_text("")
    (prefix / "lib" / f"python{minor}").mkdir(parents=True)
    (prefix / "lib" / f"python{minor}" / "os.py").write_text("")
    return prefix


def test_newest_host_cpython_of_that_minor_is_chosen(tmp_path, monkeypatch):
    versions = tmp_path / "pyenv" / "versions"
    for name in ("3.10.2", "3.10.13", "3.10.9", "3.11.7"):
        _fake_cpython(versions / name, name.rsplit(".", 1)[0])
    (versions / "3.10.99" / "bin").mkdir(parents=True)  # an interpreter without its stdlib is no candidate
    (versions / "3.10.99" / "bin" / "python3.10").write_text("")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "uv"))
    _fake_cpython(tmp_path / "uv" / "cpython-3.10.20-linux-x86_64-gnu", "3.10")
    assert interpreters.host_interpreter("3.10") == tmp_path / "uv" / "cpython-3.10.20-linux-x86_64-gnu"
    assert interpreters.host_interpreter("3.11") == versions / "3.11.7"
    assert interpreters.host_interpreter("3.4") is None


def test_runpath_to_the_host_prefix_becomes_relative(tmp_path):
    prefix = Path("/root/.pyenv/versions/3.12.1")
    binary = tmp_path / "python3.12"
    before = b"\x7fELF....\0libpython3.12.so.1.0\0" + str(prefix / "lib").encode() + b"\0GLIBC_2.34\0"
    binary.write_bytes(before)
    interpreters.relocatable(binary, prefix)
    after = binary.read_bytes()
    assert len(after) == len(before)
    assert b"\0$ORIGIN/../lib\0" in after and b".pyenv" not in after
    assert after.endswith(b"\0GLIBC_2.34\0")


def test_host_python_version_needs_no_layer(tmp_path):
    system = interpreters.system_minor()
    assert system and interpreters.interpreter_layer(tmp_path, f"python:{system}-slim") is None
    assert interpreters.interpreter_layer(tmp_path, "ubuntu") is None
    assert interpreters.interpreter_layer(tmp_path, "node:20") is None
    assert not list(tmp_path.iterdir())


def _write_task(root: Path, image: str) -> Path:
    """A task whose Dockerfile pip-installs a local wheel (no index, no build backend needed)."""
    (root / "environment").mkdir(parents=True)
    wheel = "probe_pkg-1.0-py3-none-any.whl"
    (root / "environment" / "Dockerfile").write_text(
        f"FROM {image}\nCOPY {wheel} /tmp/\nRUN pip install --no-index /tmp/{wheel}\n")
    files = {"probe_pkg.py": "VALUE = 42\n",
             "probe_pkg-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: probe-pkg\nVersion: 1.0\n",
             "probe_pkg-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    files["probe_pkg-1.0.dist-info/RECORD"] = "".join(f"{name},,\n" for name in [*files, "probe_pkg-1.0.dist-info/RECORD"])
    with zipfile.ZipFile(root / "environment" / wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    (root / "tests").mkdir()
    (root / "tests" / "test.sh").write_text("#!/bin/bash\necho 1 > /logs/verifier/reward.txt\n")
    (root / "instruction.md").write_text("probe\n")
    (root / "task.toml").write_text('version = "1.0"\n')
    return root


async def test_image_python_and_its_pip_inside(tmp_path, cache_dir):
    """The minor version of the interpreter running this test (3.12: not Debian 12's 3.11): the image's
    python3, python and pip are that version, and pip installs into its own site-packages."""
    minor = f"{sys.version_info.major}.{sys.version_info.minor}"
    task = _write_task(tmp_path / "task", f"python:{minor}-slim")
    async with task_sandbox(task, trial_dir=tmp_path / "t", cache_dir=cache_dir, no_network=True) as env:
        probe = ("import sys, ssl, sqlite3, ctypes, probe_pkg; "
                 "print(f'{sys.version_info[0]}.{sys.version_info[1]}', sys.prefix, probe_pkg.__file__)")
        result = await env.exec(f"command -v python3 python pip && python -c {probe!r} && pip --version")
    assert result.return_code == 0, result
    lines = result.stdout.splitlines()
    assert lines[:3] == ["/usr/local/bin/python3", "/usr/local/bin/python", "/usr/local/bin/pip"]
    assert lines[3] == f"{minor} /usr/local /usr/local/lib/python{minor}/site-packages/probe_pkg.py"
    assert f"(python {minor})" in lines[4]


async def test_ubuntu_24_04_has_its_python3_12_by_name(tmp_path, cache_dir):
    """`uv init --python 3.12` on ubuntu:24.04 looks for `python3.12` (else downloads one from GitHub);
    `python3` and its pip stay the host's, which apt's python3-* packages belong to."""
    system = interpreters.system_minor()
    task = _write_task(tmp_path / "task", "ubuntu:24.04")
    async with task_sandbox(task, trial_dir=tmp_path / "t", cache_dir=cache_dir, no_network=True) as env:
        result = await env.exec("python3.12 -c 'import sys, ssl; print(sys.version_info[:2])' && "
                                "python3 -c 'import sys, probe_pkg; print(sys.version_info[:2])'")
    assert result.return_code == 0, result
    assert result.stdout.split("\n")[:2] == ["(3, 12)", f"({system.replace('.', ', ')})"]


def test_a_shim_script_named_uv_is_not_served(tmp_path, monkeypatch):
    """pyenv puts a bash script called `uv` first on PATH; copied into the sandbox it cannot run."""
    shim, real = tmp_path / "shims" / "uv", tmp_path / "bin" / "uv"
    for path, content in ((shim, b"#!/usr/bin/env bash\nexec pyenv exec uv \"$@\"\n"), (real, b"\x7fELF\x02\x01")):
        path.parent.mkdir()
        path.write_bytes(content)
        path.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim.parent}:{real.parent}")
    monkeypatch.setattr(installers.sys, "prefix", str(tmp_path / "none"))
    monkeypatch.setattr(installers.sys, "base_prefix", str(tmp_path / "none"))
    assert installers.host_uv() is None  # shutil.which stops at the first `uv`: the shim
    monkeypatch.setattr(installers.sys, "base_prefix", str(tmp_path))
    assert installers.host_uv() == real
