"""The verifier's wheels are downloaded by a pip that evaluates environment markers for the image's Python.

pip evaluates markers (`exceptiongroup; python_version < "3.11"`) with the interpreter it runs on, whatever
`--python-version` says; a 3.11 pip made a 3.10 wheelhouse without pytest's backports, and the offline
verifier install failed (SkillsBench quantum-numerical-simulation, issue 20).
"""

import subprocess

from skillspark.sandbox.interpreters import host_interpreters
from skillspark.sandbox.wheelhouse import HOST_PIP, _pip_for


def test_the_pip_of_the_same_minor_version_downloads():
    """Every host CPython with pip downloads for its own minor version; the host's pip only for the others."""
    for minor, prefix in host_interpreters().items():
        pip = _pip_for(minor)
        if not (prefix / "lib" / f"python{minor}" / "site-packages" / "pip").is_dir():
            assert pip == HOST_PIP
            continue
        code = "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"
        assert subprocess.run([pip[0], "-c", code], capture_output=True, text=True, check=True).stdout.strip() == minor
        assert pip[1:] == ["-m", "pip"]


def test_without_that_python_the_hosts_pip_is_used():
    assert _pip_for("3.99") == HOST_PIP
