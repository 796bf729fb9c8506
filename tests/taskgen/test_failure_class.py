"""Failure classes from what builds and trials print: each tool's own words, the URL or host pulled out."""

import pytest

from skillspark.taskgen.failure_class import (
    from_evidence,
    hosts_named_in,
    offline_need,
    secret_need,
    timeout,
    unset_compose_secrets,
    unset_template_variables,
    unsupported_feature,
)


@pytest.mark.parametrize(("text", "need"), [
    ("skillspark sandbox: offline-unreachable https://example.org/data/v2.tar.gz\n", "https://example.org/data/v2.tar.gz"),
    ("curl: (6) Could not resolve host: github.com\n", "github.com"),
    ("fatal: unable to access 'https://github.com/owner/repo.git/': Could not resolve host: github.com",
     "https://github.com/owner/repo.git/"),
    ("--2026-12-07--  https://dl.example.net/x.zip\nResolving dl.example.net (dl.example.net)... failed: "
     "Temporary failure in name resolution.\nwget: unable to resolve host address 'dl.example.net'", "dl.example.net"),
    ("Err:1 http://archive.ubuntu.com/ubuntu noble InRelease\n  Temporary failure resolving 'archive.ubuntu.com'",
     "http://archive.ubuntu.com/ubuntu"),
    ("W: Failed to fetch http://ppa.launchpad.net/x/dists/noble/InRelease  Temporary failure resolving",
     "http://ppa.launchpad.net/x/dists/noble/InRelease"),
    ("E: Unable to locate package libasound2t64", "apt package libasound2t64 (not in the host's Debian archive)"),
    ("WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken "
     "by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a "
     "new connection: [Errno 101] Network is unreachable')': /simple/torch/ host='download.pytorch.org' "
     "Max retries exceeded", "download.pytorch.org"),
    ("requests.exceptions.ConnectionError: HTTPSConnectionPool(host='huggingface.co', port=443): Max retries exceeded "
     "with url: /api/models (Caused by NameResolutionError(\"Failed to resolve 'huggingface.co' ([Errno -3] "
     "Temporary failure in name resolution)\"))", "huggingface.co"),
    ("error: Failed to download `https://github.com/astral-sh/python-build-standalone/releases/download/x.tar.gz`",
     "https://github.com/astral-sh/python-build-standalone/releases/download/x.tar.gz"),
    ("npm ERR! request to https://registry.npmjs.org/left-pad failed, reason: getaddrinfo ENOTFOUND registry.npmjs.org",
     "registry.npmjs.org"),
    ("urllib.error.URLError: <urlopen error [Errno -3] Temporary failure in name resolution>",
     "a host name lookup failed (Temporary failure in name resolution)"),
])
def test_offline_need_names_the_url_or_host(text, need):
    assert offline_need(text) == need


@pytest.mark.parametrize("text", [
    "skillspark sandbox: served https://astral.sh/uv/install.sh offline (the host's uv)",
    "Successfully installed openpyxl-3.1.5\n1 passed in 0.02s",
    "AssertionError: expected 42, got 41",
])
def test_no_offline_need_in_ordinary_output(text):
    assert offline_need(text) is None
    assert from_evidence(text) is None


@pytest.mark.parametrize(("text", "name"), [
    ("ValueError: Environment variable 'OPENAI_API_KEY' not found in host environment", "OPENAI_API_KEY"),
    ("KeyError: 'ANTHROPIC_API_KEY'", "ANTHROPIC_API_KEY"),
    ("openai.OpenAIError: The api_key client option must be set either by passing api_key to the client or by "
     "setting the OPENAI_API_KEY environment variable", "OPENAI_API_KEY"),
    ("Error: GITHUB_TOKEN is not set", "GITHUB_TOKEN"),
])
def test_secret_need_names_the_variable(text, name):
    assert secret_need(text) == name
    assert from_evidence(text).model_dump() == {"failure_class": "needs-secret", "detail": name}


def test_a_secret_outranks_the_network_error_it_caused():
    text = "curl: (6) Could not resolve host: api.openai.com\nKeyError: 'OPENAI_API_KEY'"
    assert from_evidence(text).failure_class == "needs-secret"


def test_unset_template_variables_only_without_default_and_unset_on_the_host():
    tables = [{"A": "${HF_TOKEN}", "B": "${HOME}", "C": "${MODE:-fast}", "D": "literal"}, {"E": "x${WANDB_API_KEY}"}]
    assert unset_template_variables(tables, environ={"HOME": "/root"}) == ["HF_TOKEN", "WANDB_API_KEY"]
    assert unset_template_variables(tables, environ={"HOME": "/", "HF_TOKEN": "t", "WANDB_API_KEY": "k"}) == []


def test_unsupported_image_is_unsupported_base_and_other_features_are_ours():
    base = unsupported_feature("build: /t/environment/Dockerfile line 1: base image 'alpine:3.19' (the host can stand "
                               "in only for python:3.x, debian:*, ubuntu:*) is not supported by the local sandbox; "
                               "run this task with --env docker")
    assert base.model_dump() == {"failure_class": "unsupported-base", "detail": "alpine:3.19"}
    copy_from = unsupported_feature("x line 4: COPY --from=golang:1.22 (only ghcr.io/astral-sh/uv is served locally) "
                                    "is not supported by the local sandbox; run this task with --env docker")
    assert copy_from.detail == "golang:1.22"
    heredoc = unsupported_feature("Dockerfile line 3: RUN from a heredoc is not supported by the local sandbox; run ...")
    assert heredoc.failure_class == "ours" and "RUN from a heredoc" in heredoc.detail
    assert unsupported_feature("build failed: RUN false (exit 1)") is None


def test_timeout_detail_has_limit_and_elapsed():
    assert timeout("the oracle", 900.0, 901.4).detail == "the oracle timed out (limit 900 s, ran 901 s)"
    assert timeout("the build", None, None).detail == "the build timed out (limit unknown)"


def test_unset_compose_secrets_ignores_the_variables_the_environment_fills_in():
    compose = ("services:\n  main:\n    build:\n      context: ${CONTEXT_DIR}\n    image: ${MAIN_IMAGE_NAME}\n"
               "    environment:\n      - GH_TOKEN=${GH_TOKEN}\n      - OPENAI_API_KEY=${OPENAI_API_KEY}\n"
               "      - MODE=${HF_TOKEN:-none}\n    volumes:\n      - ${HOST_VERIFIER_LOGS_PATH}:/logs/verifier\n")
    assert unset_compose_secrets(compose, environ={}) == ["GH_TOKEN", "OPENAI_API_KEY"]
    assert unset_compose_secrets(compose, environ={"GH_TOKEN": "t"}) == ["OPENAI_API_KEY"]


def test_apt_refusing_because_of_the_hosts_packages_is_ours():
    text = ("The following packages have unmet dependencies:\n libnode108 : Conflicts: nodejs-legacy\n"
            " nodejs : Conflicts: npm\n"
            "E: Unable to correct problems, you have held broken packages.")
    failure = from_evidence(text)
    assert failure.failure_class == "ours"
    assert "(libnode108 : Conflicts: nodejs-legacy; nodejs : Conflicts: npm)" in failure.detail


def test_hosts_named_in_task_files_first_seen_first_and_bounded():
    texts = ["url = 'https://water.noaa.gov/api?x=1'", "see http://example.com/a and https://water.noaa.gov/b",
             "ftp://ftp.ncbi.nlm.nih.gov/x https://a.org https://b.org"]
    assert hosts_named_in(texts) == ["water.noaa.gov", "example.com", "ftp.ncbi.nlm.nih.gov"]
    assert hosts_named_in(["no urls here"]) == []


def test_a_wheel_missing_from_the_sandboxs_local_wheels_is_ours():
    text = ("Looking in links: /run/skillspark-wheels\nProcessing /run/skillspark-wheels/pytest-8.4.1-py3-none-any.whl\n"
            "ERROR: Could not find a version that satisfies the requirement exceptiongroup>=1 (from pytest) "
            "(from versions: none)\nERROR: No matching distribution found for exceptiongroup>=1 (from pytest)")
    failure = from_evidence(text)
    assert failure.failure_class == "ours" and "lack exceptiongroup>=1" in failure.detail
    assert from_evidence("ERROR: No matching distribution found for nosuchpkg") is None  # the task's own typo
