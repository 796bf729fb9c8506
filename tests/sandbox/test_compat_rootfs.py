"""A Debian root per base-image family (rootfs.py): which suite stands in for which image, and a real build."""

import shutil
import subprocess

import pytest

from skillspark.errors import UserError
from skillspark.sandbox import rootfs


@pytest.mark.parametrize("image, suite", [
    ("ubuntu:24.04", "trixie"), ("ubuntu:noble", "trixie"), ("ubuntu", "trixie"),
    ("docker.io/library/ubuntu:24.04@sha256:ab12", "trixie"), ("ubuntu:22.04", "bookworm"),
    ("ubuntu:20.04", "bullseye"), ("debian:bookworm-slim", "bookworm"), ("debian:12.5", "bookworm"),
    ("debian:trixie", "trixie"), ("debian", "trixie"), ("python:3.11-slim-bookworm", "bookworm"),
    ("python:3.12-slim", "trixie"), ("python:3.13-bullseye", "bullseye"),
])
def test_suite_for_image(image, suite):
    assert rootfs.suite_for(image) == suite


def test_missing_mmdebstrap_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UserError, match=r"needs `mmdebstrap`.*apt-get install mmdebstrap") as err:
        rootfs.ensure_rootfs(tmp_path / "cache", "trixie")
    assert "\n" not in str(err.value)
    assert not [p for p in (tmp_path / "cache/rootfs").iterdir() if p.is_dir()]  # no half-made root left


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.skipif(not shutil.which("mmdebstrap"), reason="mmdebstrap is not installed (apt-get install mmdebstrap)")
def test_trixie_root_has_24_04_era_packages(tmp_path):
    root = rootfs.ensure_rootfs(tmp_path, "trixie")
    assert 'VERSION_CODENAME=trixie' in (root / "etc/os-release").read_text()
    for tool in ("usr/bin/python3", "usr/bin/bash", "usr/bin/setpriv", "usr/bin/apt-get"):
        assert (root / tool).exists(), tool
    installed = subprocess.run(["dpkg-query", f"--admindir={root}/var/lib/dpkg", "-W", "-f=${Status}", "libnettle8t64"],
                               capture_output=True, text=True, check=False)
    assert installed.stdout == "install ok installed", installed.stderr  # a t64 name, unknown to bookworm
    assert rootfs.ensure_rootfs(tmp_path, "trixie") == root  # cached: made once
