"""Foreign Harbor tasks' habits inside the real sandbox: uv's official installer served offline.

The sandboxes here are offline (`no_network=True`), so a command that succeeds could not have
fetched anything from astral.sh.
"""

import pytest

from skillspark.sandbox.build import ensure_layer
from skillspark.sandbox.installers import KNOWN_INSTALLERS, wrapper_script
from skillspark.sandbox.sandbox import DEFAULT_PATH
from skillspark.sandbox.session import task_sandbox

SERVED = "skillspark sandbox: served {} offline"


@pytest.fixture
async def offline(task_dir, cache_dir, tmp_path):
    async with task_sandbox(task_dir("hello"), trial_dir=tmp_path / "t", cache_dir=cache_dir, no_network=True) as env:
        yield env


async def test_curl_pipe_sh_installs_uv_where_the_official_script_does(offline):
    url = "https://astral.sh/uv/0.9.7/install.sh"
    result = await offline.exec(f'curl -LsSf {url} | sh && source "$HOME/.local/bin/env" '
                                '&& command -v uv uvx && uvx --version && cat "$HOME/.profile" "$HOME/.bashrc"')
    assert result.return_code == 0, result
    assert SERVED.format(url) in result.stderr and "asked for 0.9.7" in result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["/root/.local/bin/uv", "/root/.local/bin/uvx"] and lines[2].startswith("uvx ")
    assert lines[3:] == ['. "/root/.local/bin/env"'] * 2


LATEST = "https://astral.sh/uv/install.sh"
RELEASE = "https://github.com/astral-sh/uv/releases/download/0.8.0/uv-installer.sh"


@pytest.mark.parametrize("fetch, url, saved", [
    ("wget -qO- {url} > /tmp/got", LATEST, "/tmp/got"),
    ("wget -q -O /tmp/got {url}", LATEST, "/tmp/got"),
    ("cd /tmp && wget {url}", LATEST, "/tmp/install.sh"),
    ("curl -LsSfo /tmp/got {url}", RELEASE, "/tmp/got"),
    ("curl --proto =https -sSf {url} --output /tmp/got", LATEST, "/tmp/got"),
    ("cd /tmp && curl -sSLO {url}", RELEASE, "/tmp/uv-installer.sh"),
])
async def test_download_forms_save_the_stand_in(offline, fetch, url, saved):
    result = await offline.exec(f"{fetch.format(url=url)} && head -4 {saved}")
    assert result.return_code == 0, result
    assert SERVED.format(url) in result.stderr
    assert result.stdout.startswith("#!/bin/sh\n# Stand-in for uv's official installer")
    assert ('asked="0.8.0"' if url == RELEASE else 'asked=""') in result.stdout


async def test_install_dir_and_no_modify_path_are_honoured(offline):
    result = await offline.exec("curl -sSf https://astral.sh/uv/install.sh | UV_INSTALL_DIR=/opt/uv UV_NO_MODIFY_PATH=1 sh"
                                " && ls /opt/uv && . /opt/uv/env && command -v uv && ls -a $HOME")
    assert result.return_code == 0, result
    assert result.stdout.split()[:4] == ["env", "uv", "uvx", "/opt/uv/uv"]
    assert ".profile" not in result.stdout and ".local" not in result.stdout


async def test_other_urls_go_to_the_real_tools(offline):
    result = await offline.exec("echo from-a-file > /tmp/f; curl -s file:///tmp/f; curl --version | head -1; "
                                "wget --version | head -1; curl -sS https://astral.sh/uv/other.sh; echo rc=$?")
    file, curl, wget, rc = result.stdout.splitlines()
    assert file == "from-a-file" and curl.startswith("curl ") and wget.startswith("GNU Wget")
    assert rc == "rc=6" and "served" not in result.stderr  # offline, the real curl cannot resolve the host


def test_every_known_installer_is_in_both_wrappers():
    for tool in ("curl", "wget"):
        script = wrapper_script(tool)
        for installer in KNOWN_INSTALLERS:
            assert all(url in script for url in installer.urls) and f"name={installer.name}" in script


async def test_env_path_then_run_builds_with_the_images_path(tmp_path):
    env_dir = tmp_path / "environment"
    env_dir.mkdir()
    text = ('FROM ubuntu:24.04\nENV PATH="/root/.local/bin:$PATH"\n'
            "RUN mkdir -p /root/.local/bin && printf '#!/bin/sh\\necho mine\\n' > /root/.local/bin/mine "
            "&& chmod +x /root/.local/bin/mine\nRUN mine > /made-by-mine\n")
    layer = await ensure_layer(env_dir, tmp_path / "cache", dockerfile_text=text)
    assert (layer.path / "_root/made-by-mine").read_text() == "mine\n"
    assert layer.meta.env["PATH"] == f"/root/.local/bin:{DEFAULT_PATH}"


async def test_copy_from_the_uv_image_builds_offline(tmp_path):
    env_dir = tmp_path / "environment"
    env_dir.mkdir()
    text = "FROM python:3.12-slim\nCOPY --from=ghcr.io/astral-sh/uv:0.8.14 /uv /uvx /bin/\nRUN uv --version > /uv-version\n"
    layer = await ensure_layer(env_dir, tmp_path / "cache", dockerfile_text=text)
    assert (layer.path / "_root/uv-version").read_text().startswith("uv ")
