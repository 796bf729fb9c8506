"""The verifier's `pip install` served from the host's local wheel cache (issue 19, a fast inner loop)."""

from __future__ import annotations

import base64
import hashlib
import shutil
import zipfile
from pathlib import Path

from skillspark.sandbox import wheelhouse
from skillspark.sandbox.session import task_sandbox
from skillspark.sandbox.wheelhouse import VerifierRequirements, verifier_requirements

EXAMPLE_TEST_SH = Path(__file__).parents[2] / "examples" / "tasks" / "hello-greeting" / "tests" / "test.sh"


def _tests(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "tests"
    folder.mkdir()
    for name, text in files.items():
        (folder / name.replace("_dot_", ".")).write_text(text)
    return folder


def test_requirements_of_the_example_verifier_are_understood_whole():
    found = verifier_requirements(EXAMPLE_TEST_SH.parent)
    assert found == VerifierRequirements(("pytest-json-ctrf==0.3.5", "pytest==8.4.1"), complete=True)


def test_options_redirections_and_chains_are_not_requirements(tmp_path):
    tests = _tests(tmp_path, test_dot_sh="pip3 install -q --target /tmp/d 'numpy>=1.26,<3' pandas[parquet] >/dev/null 2>&1 && echo ok\n"
                                          "uv pip install --system requests==2.32.3 # comment\n")
    assert verifier_requirements(tests) == VerifierRequirements(("numpy>=1.26,<3", "pandas[parquet]", "requests==2.32.3"), True)


def test_what_is_not_understood_keeps_the_registry(tmp_path):
    assert not verifier_requirements(_tests(tmp_path, test_dot_sh="pip install pytest -r requirements.txt\n")).complete
    other = tmp_path / "b"
    other.mkdir()
    assert not verifier_requirements(_tests(other, test_dot_sh="pip install pytest\n",
                                            run_dot_py="subprocess.run(['pip', 'install', 'x'])  # -m pip\n")).complete
    third = tmp_path / "c"
    third.mkdir()
    assert not verifier_requirements(_tests(third, test_dot_sh='pip install pytest "$EXTRA"\n')).complete
    fourth = tmp_path / "d"
    fourth.mkdir()
    assert verifier_requirements(_tests(fourth, test_dot_sh="echo no installs\n")) == VerifierRequirements((), False)


def _wheel(folder: Path, name: str, version: str) -> None:
    """A minimal pure-Python wheel, made by hand (no registry)."""
    files = {f"{name}/__init__.py": f"VALUE = '{name} {version} from the wheelhouse'\n",
             f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
             f"{name}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = [f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b'=').decode()},{len(text)}"
              for path, text in files.items()]
    files[f"{name}-{version}.dist-info/RECORD"] = "\n".join([*record, f"{name}-{version}.dist-info/RECORD,,"]) + "\n"
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)


async def test_offline_verifier_installs_from_the_wheelhouse(task_dir, cache_dir, tmp_path, monkeypatch):
    """A no-network task whose verifier pip-installs a package the registry never had: it works only
    if pip is served from the local wheels (no index), and the agent phase does not get pip's settings."""
    task = tmp_path / "task"
    shutil.copytree(task_dir("hello"), task)
    toml = task / "task.toml"
    toml.write_text(toml.read_text().replace("[environment]\n", '[environment]\nnetwork_mode = "no-network"\n'))
    (task / "tests" / "test.sh").write_text(
        "#!/bin/bash\npython3 -m pip install --quiet --target /tmp/deps skillspark-probe-pkg==1.0 >/dev/null 2>&1 || exit 3\n"
        "echo compiled: $(find /tmp/deps -name '*.pyc' | wc -l)\n"
        "PYTHONPATH=/tmp/deps python3 -c 'import skillspark_probe_pkg as p; print(p.VALUE)'\n")
    downloads = []

    def fake_download(folder: Path, minor: str, requirements: tuple[str, ...]) -> None:
        downloads.append((minor, requirements))
        _wheel(folder, "skillspark_probe_pkg", "1.0")

    monkeypatch.setattr(wheelhouse, "_download", fake_download)
    monkeypatch.setattr(wheelhouse, "default_root", lambda: tmp_path / "wheelhouse")
    async with task_sandbox(task, trial_dir=tmp_path / "trial", cache_dir=cache_dir) as env:
        before = await env.exec("echo ${PIP_NO_INDEX:-unset}; ls /run/skillspark-wheels")
        await env.upload_dir(task / "tests", "/tests")
        verified = await env.exec("bash /tests/test.sh")
    assert downloads == [("3.12", ("skillspark-probe-pkg==1.0",))]
    assert before.stdout.split() == ["unset", "skillspark_probe_pkg-1.0-py3-none-any.whl"]  # agent phase: no pip settings
    assert verified.return_code == 0, verified.stderr
    # pip did not byte-compile what it installed (the old PIP_NO_COMPILE=1 turned compiling on)
    assert verified.stdout.split("\n")[:2] == ["compiled: 0", "skillspark_probe_pkg 1.0 from the wheelhouse"]


def test_pip_goes_offline_only_when_every_install_was_understood():
    assert wheelhouse.verifier_pip_env(VerifierRequirements(("pytest",), True)) == {
        "PIP_FIND_LINKS": "/run/skillspark-wheels", "PIP_COMPILE": "0", "PIP_NO_WARN_CONFLICTS": "0",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INDEX": "1"}
    assert "PIP_NO_INDEX" not in wheelhouse.verifier_pip_env(VerifierRequirements(("pytest",), False))
