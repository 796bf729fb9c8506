"""Why a task failed its check, in one of seven classes a user can act on.

A task that fails `tasks check` in the local sandbox may be broken, may need what no offline host
has (the internet, another OS's image, an API key), may be slow, nondeterministic, or may have hit
a gap of ours. Each needs a different response (fix the task, use `--env docker`, set the
variable, raise the timeout, report a skillspark bug), so every failing task gets exactly one class
and the one thing that decided it (the URL, the image, the variable, the limit):

- offline-unreachable: the build or a trial needed a host the sandbox cannot reach or serve;
- unsupported-base: a base image the host cannot stand in for;
- needs-secret: a variable (API key, token) that this host does not set;
- timeout: the build, the oracle or the verifier ran past its limit;
- flaky: the oracle passed on one of two runs, or its result changed between them;
- broken: the oracle fails the same way twice, or the task itself is wrong (nop passes, bad files);
- ours: a skillspark error or gap (our environment failed, a Dockerfile feature we do not support).

The evidence is text the build and the trials printed; the patterns below are the usual words of
curl, wget, pip, uv, apt, git, npm, Python's HTTP stacks and the sandbox's own wrappers (which print
`skillspark sandbox: offline-unreachable URL` for a URL they cannot serve offline).
"""

from __future__ import annotations

import os
import re
from typing import Literal

from pydantic import BaseModel

from skillspark.sandbox.installers import MARKER as OFFLINE_MARKER
from skillspark.sandbox.wheelhouse import WHEELS_MOUNT

FailureClassName = Literal["offline-unreachable", "unsupported-base", "needs-secret", "timeout", "flaky", "broken", "ours"]
FAILURE_CLASSES: tuple[FailureClassName, ...] = (
    "offline-unreachable", "unsupported-base", "needs-secret", "timeout", "flaky", "broken", "ours")


class Failure(BaseModel):
    """One failing task's class and the fact that decided it."""

    failure_class: FailureClassName
    detail: str


_HOST = r"[A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,}"
_URL = r"(?:https?|ftp|git)://[^\s'\"`<>)\]]+"
# (pattern, group holding the URL or host, what the host was wanted for); first match in the text wins per pattern,
# patterns in order of precision: the sandbox's own marker first, then tools naming a URL, then tools naming a host.
_OFFLINE_SIGNS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.IGNORECASE), g) for p, g in (
    (rf"{re.escape(OFFLINE_MARKER)} ({_URL}|\S+)", "1"),
    (rf"unable to access '({_URL})'", "1"),  # git clone/fetch
    (rf"Failed to (?:download|fetch) [`']?({_URL})", "1"),  # uv
    (rf"(?:Could not fetch URL|Failed to fetch|Err:\d+|Ign:\d+) ({_URL})", "1"),  # pip, apt
    (rf"We couldn't connect to '({_URL})'", "1"),  # huggingface_hub
    (rf"Could not resolve host:? '?({_HOST})", "1"),  # curl, git
    (rf"unable to resolve host address [‘'`]?({_HOST})", "1"),  # wget
    (rf"Temporary failure resolving [‘'`]?({_HOST})", "1"),  # apt
    (rf"Failed to resolve [‘'`]?({_HOST})", "1"),  # urllib3 2.x
    (rf"(?:getaddrinfo )?(?:ENOTFOUND|EAI_AGAIN) ({_HOST})", "1"),  # npm, node
    (rf"host='({_HOST})'[^\n]*(?:NewConnectionError|NameResolutionError|Failed to establish a new connection|"
     r"Temporary failure in name resolution|Network is unreachable|Max retries exceeded)", "1"),  # requests, pip
    (rf"Resolving ({_HOST})[^\n]*failed", "1"),  # wget
    (r"Unable to locate package (\S+)", "apt package 1"),  # apt, a package only another release's archive has
    (r"Package '?([^'\s]+)'? has no installation candidate", "apt package 1"),
    (rf"({_URL})[^\n]*(?:Temporary failure in name resolution|Name or service not known|Network is unreachable|"
     r"nodename nor servname)", "1"),  # a URL on the same line as a resolver error
    (r"(Temporary failure in name resolution|Name or service not known|Network is unreachable)", "0"),
))
# apt refusing the task's packages because of packages the host root already has (the local sandbox stands the
# host's Debian in for the image): a gap of ours, not the task's; a clean image would install them.
_APT_CONFLICT = re.compile(r"unmet dependencies:\s*\n((?:\s+\S+ : (?:Conflicts|Breaks|Depends|PreDepends): [^\n]+\n?)+)")
# pip told to use only the sandbox's local wheels for the verifier (sandbox/wheelhouse.py) and missing one: ours.
_WHEELHOUSE_MISS = re.compile(rf"Looking in links: {re.escape(WHEELS_MOUNT)}[\s\S]*?No matching distribution found for (\S+)")
_URL_IN_SOURCE = re.compile(rf"(?:https?|ftp)://({_HOST})")
_SECRET_NAME = r"[A-Z][A-Z0-9_]*(?:API_KEY|APIKEY|TOKEN|SECRET|SECRET_KEY|ACCESS_KEY|PASSWORD)[A-Z0-9_]*"
_SECRET_NAME_ONLY = re.compile(_SECRET_NAME)
_SECRET_SIGNS = tuple(re.compile(p) for p in (
    r"Environment variable '([A-Za-z_][A-Za-z0-9_]*)' not found in host environment",  # Harbor's ${VAR} templates
    rf"KeyError: '({_SECRET_NAME})'",
    rf"({_SECRET_NAME})[^\n]{{0,60}}(?:is not set|not set|must be set|is missing|missing|is required|required|"
    r"is empty|not found|not provided|unset)",
    rf"(?:set|provide|export|missing|no)[^\n]{{0,40}}\b({_SECRET_NAME})\b[^\n]{{0,40}}(?:environment variable|env var)",
))
_UNSUPPORTED = re.compile(r"(?P<what>[^\n]*?) is not supported by the local sandbox")
_WHERE = re.compile(r"^.*?(?:line \d+|Dockerfile|docker-compose\.ya?ml|environment):\s*")
_BASE_IMAGE = re.compile(r"base image '([^']+)'|COPY --from=(\S+)")
_TEMPLATE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}")


def offline_need(text: str) -> str | None:
    """The URL, host or package a build or trial could not reach offline, from what it printed; None if none."""
    for pattern, group in _OFFLINE_SIGNS:
        if match := pattern.search(text):
            if group.startswith("apt package"):
                return f"apt package {match.group(1)} (not in the host's Debian archive)"
            found = match.group(int(group)).rstrip(".,;:")
            return found if group != "0" else f"a host name lookup failed ({found})"
    return None


def secret_need(text: str) -> str | None:
    """The environment variable (API key, token) a step said it needed; None if none."""
    for pattern in _SECRET_SIGNS:
        if match := pattern.search(text):
            return match.group(1)
    return None


def unset_template_variables(env_tables: list[dict[str, str]], environ: dict[str, str] | None = None) -> list[str]:
    """Variables a task.toml env table takes from the host (`${VAR}` without a default) that the host does not set."""
    environ = os.environ if environ is None else environ
    names = {m.group(1) for table in env_tables for value in table.values()
             for m in _TEMPLATE.finditer(str(value)) if m.group(2) is None}
    return sorted(name for name in names if name not in environ)


def unset_compose_secrets(compose_text: str, environ: dict[str, str] | None = None) -> list[str]:
    """Secret-looking variables (`${OPENAI_API_KEY}`) a docker-compose file passes from a host that does not set them.

    Only secret-looking names: the other variables of a Harbor compose file (CONTEXT_DIR, MAIN_IMAGE_NAME, log
    paths) are filled in by the environment itself.
    """
    environ = os.environ if environ is None else environ
    names = {m.group(1) for m in _TEMPLATE.finditer(compose_text) if m.group(2) is None}
    return sorted(n for n in names if _SECRET_NAME_ONLY.fullmatch(n) and n not in environ)


def unsupported_feature(text: str) -> Failure | None:
    """A Dockerfile or task feature the local sandbox refused: an image is unsupported-base, the rest is ours."""
    match = _UNSUPPORTED.search(text)
    if match is None:
        return None
    what = _WHERE.sub("", match.group("what")).strip()
    if image := _BASE_IMAGE.search(what):
        return Failure(failure_class="unsupported-base", detail=image.group(1) or image.group(2))
    return Failure(failure_class="ours", detail=f"the local sandbox does not support {what}; use --env docker")


def from_evidence(text: str) -> Failure | None:
    """The class that what a build or trial printed proves by itself (secret, offline, unsupported); None if none."""
    if secret := secret_need(text):
        return Failure(failure_class="needs-secret", detail=secret)
    if unsupported := unsupported_feature(text):
        return unsupported
    if need := offline_need(text):
        return Failure(failure_class="offline-unreachable", detail=need)
    if miss := _WHEELHOUSE_MISS.search(text):
        return Failure(failure_class="ours", detail=f"the sandbox's local wheels for the verifier lack {miss.group(1)} "
                                                    "(sandbox/wheelhouse.py)")
    if conflict := _APT_CONFLICT.search(text):
        lines = "; ".join(line.strip() for line in conflict.group(1).splitlines() if line.strip())
        return Failure(failure_class="ours", detail=f"apt: the host's packages conflict with the task's ({lines}); "
                                                    "the host's Debian stands in for the image here; use --env docker")
    return None


def hosts_named_in(texts: list[str], limit: int = 3) -> list[str]:
    """Hosts that URLs in a task's own files name, first seen first: the likely target of an anonymous lookup failure."""
    hosts: list[str] = []
    for text in texts:
        for host in _URL_IN_SOURCE.findall(text):
            if host not in hosts:
                hosts.append(host)
    return hosts[:limit]


def timeout(what: str, limit_s: float | None, elapsed_s: float | None) -> Failure:
    limit = f"limit {limit_s:g} s" if limit_s is not None else "limit unknown"
    elapsed = f", ran {elapsed_s:.0f} s" if elapsed_s is not None else ""
    return Failure(failure_class="timeout", detail=f"{what} timed out ({limit}{elapsed})")
