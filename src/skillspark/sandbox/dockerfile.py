"""Dockerfile-lite: plan the subset of a task's Dockerfile that a plain Linux host can honour.

The host stands in for the base image, so only bases that are "a Debian-like root with Python"
are accepted; everything else fails early with one line advising `--env docker`, instead of a
build that half-works. Reading the file (instructions, continuations, heredocs, JSON or shell
form, `--flags`) is `skillspark.harbor.dockerfile`'s job; this module gives it build semantics.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from pathlib import Path

from pydantic import BaseModel

from skillspark.errors import UserError
from skillspark.harbor.dockerfile import Instruction, arguments, parse_instructions
from skillspark.sandbox.installers import KNOWN_IMAGE_FILES, image_files
from skillspark.sandbox.sandbox import DEFAULT_PATH

# Bases the host can stand in for: official python images (any tag variant of 3.x), Debian, Ubuntu.
_SUPPORTED_FROM = re.compile(
    r"^(?:docker\.io/)?(?:library/)?(?:python:3(?:\.\d+)?(?:[.\-][\w.\-]*)?|debian(?::[\w.\-]+)?|ubuntu(?::[\w.\-]+)?)"
    r"(?:@sha256:[0-9a-f]+)?$"
)
# The environment an official image defines, which a Dockerfile's ENV/WORKDIR/COPY may refer to
# (`ENV PATH="/root/.local/bin:$PATH"`). Debian and Ubuntu set only Docker's default PATH; python:3.x
# puts /usr/local/bin in front of it and sets LANG and PYTHON_VERSION (here: the version the tag names).
_PYTHON_TAG = re.compile(r"python:(3(?:\.\d+){0,2})")
_IGNORED = {"EXPOSE", "LABEL", "CMD", "ENTRYPOINT", "HEALTHCHECK", "STOPSIGNAL", "VOLUME", "MAINTAINER"}
_VAR = re.compile(r"\$(?:\{(\w+)(?::-([^}]*))?\}|(\w+))")
_HEREDOC_ONLY = re.compile(r"<<-?([\"']?)[A-Za-z_]\w*\1")  # `RUN <<EOF`: the heredoc is the whole command


class BuildStep(BaseModel):
    """One instruction the builder executes, with ARGs already substituted where Docker does."""

    kind: str  # RUN | COPY | WORKDIR | USER | ENV (ENV only updates the build state)
    text: str  # the original line (its first line, for a heredoc), for "build failed: <step>" messages
    line: int = 0  # where the instruction starts in the Dockerfile
    argv: list[str] = []  # RUN exec form, or COPY sources + destination
    shell: list[str] = []  # RUN shell form: the shell prefix (SHELL instruction)
    command: str = ""  # RUN shell form command
    env: dict[str, str] = {}  # ENV pairs
    value: str = ""  # WORKDIR path or USER name
    chown: str | None = None
    chmod: str | None = None


class DockerfilePlan(BaseModel):
    """What a Dockerfile asks for: its base image and the ordered build steps."""

    base_image: str
    steps: list[BuildStep]
    args: dict[str, str] = {}
    image_env: dict[str, str] = {}  # the base image's own ENV, where the build's environment starts


def image_env(image: str) -> dict[str, str]:
    """The default environment of a supported base image, as its Dockerfile upstream sets it."""
    python = _PYTHON_TAG.search(image)
    if not python:
        return {"PATH": DEFAULT_PATH}
    env = {"PATH": f"/usr/local/bin:{DEFAULT_PATH}", "LANG": "C.UTF-8"}
    if "." in python.group(1):
        env["PYTHON_VERSION"] = python.group(1)
    return env


def substitute(text: str, variables: dict[str, str]) -> str:
    """Expand `$VAR`, `${VAR}` and `${VAR:-default}` from build variables (unknown -> empty)."""

    def repl(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        if name in variables and variables[name] != "":
            return variables[name]
        return match.group(2) or ""

    return _VAR.sub(repl, text)


def _parse_pairs(rest: str, where: str) -> dict[str, str]:
    """`K=V K2="v 2"` or the legacy `K V...` form of ENV/ARG/LABEL."""
    try:
        tokens = shlex.split(rest)
    except ValueError:
        raise UserError(f"{where}: unbalanced quotes; close the quote in the Dockerfile") from None
    if not tokens:
        raise UserError(f"{where}: empty instruction; write it as KEY=value")
    if "=" not in tokens[0]:
        return {tokens[0]: " ".join(tokens[1:])}
    pairs = {}
    for token in tokens:
        key, sep, value = token.partition("=")
        if not sep:
            raise UserError(f"{where}: '{token}' is not KEY=value; fix the Dockerfile")
        pairs[key] = value
    return pairs


def unsupported(where: str, what: str) -> UserError:
    return UserError(f"{where}: {what} is not supported by the local sandbox; run this task with --env docker")


def parse_dockerfile(path: Path, build_args: dict[str, str] | None = None) -> DockerfilePlan:
    """Parse a Dockerfile into a plan; unsupported features raise one clear UserError."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise UserError(f"{path}: cannot read the Dockerfile ({exc.strerror}); check the task's environment/ dir") from None
    return parse_dockerfile_text(text, str(path), build_args)


def parse_dockerfile_text(text: str, where: str, build_args: dict[str, str] | None = None) -> DockerfilePlan:
    """Turn the Dockerfile's instructions into build steps, refusing what the host cannot honour."""
    variables: dict[str, str] = {}
    overrides = dict(build_args or {})
    shell = ["/bin/sh", "-c"]
    base: str | None = None
    steps: list[BuildStep] = []
    for inst in parse_instructions(text):
        keyword, here = inst.keyword, f"{where} line {inst.line}"
        at = f"{here}: {keyword}"
        step = {"line": inst.line, "text": f"{keyword} {inst.head}".strip()}
        if keyword == "ARG":
            for key, value in _parse_pairs(inst.value, at).items():
                variables[key] = overrides.get(key, substitute(value, variables))
            continue
        if keyword == "FROM":
            if base is not None:
                raise unsupported(here, "a multi-stage build (second FROM)")
            words = arguments(substitute(inst.value, variables)).words
            if not words:
                raise UserError(f"{at} names no image; fix the Dockerfile")
            base = words[0]
            if not _SUPPORTED_FROM.match(base):
                raise unsupported(here, f"base image '{base}' (the host can stand in only for python:3.x, debian:*, ubuntu:*)")
            variables.update(image_env(base))
            continue
        if base is None:
            raise UserError(f"{at} comes before FROM; start the Dockerfile with FROM")
        if keyword in _IGNORED:
            continue
        if keyword == "RUN":
            args = arguments(inst.head)
            if args.flags:
                name, value = next(iter(args.flags.items()))
                raise unsupported(here, f"RUN options (--{name}{'=' + value if value else ''})")
            if args.exec_form:
                steps.append(BuildStep(kind="RUN", argv=args.words, **step))
            else:
                steps.append(BuildStep(kind="RUN", shell=list(shell), command=_run_command(inst), **step))
        elif keyword in ("COPY", "ADD"):
            if inst.heredocs:
                raise unsupported(here, f"{keyword} from a heredoc")
            args = arguments(substitute(inst.value, variables))
            if len(args.words) < 2:
                raise UserError(f"{at} needs a source and a destination; fix the Dockerfile")
            if "from" in args.flags:
                steps.append(BuildStep(kind="RUN", shell=["/bin/sh", "-c"], command=_copy_from_image(args, here), **step))
                continue
            if keyword == "ADD" and any(re.match(r"^[a-z]+://", w) for w in args.words[:-1]):
                raise unsupported(here, "ADD from a URL")
            steps.append(BuildStep(kind="COPY", argv=args.words, chown=args.flags.get("chown"),
                                   chmod=args.flags.get("chmod"), **step))
        elif keyword == "ENV":
            pairs = {k: substitute(v, variables) for k, v in _parse_pairs(inst.value, at).items()}
            variables.update(pairs)
            steps.append(BuildStep(kind="ENV", env=pairs, **step))
        elif keyword in ("WORKDIR", "USER"):
            value = substitute(inst.value, variables).strip()
            if not value:
                raise UserError(f"{at} is empty; fix the Dockerfile")
            steps.append(BuildStep(kind=keyword, value=value, **step))
        elif keyword == "SHELL":
            args = arguments(inst.value)
            if not args.exec_form or not args.words:
                raise UserError(f"{at} must be a JSON array like [\"/bin/bash\", \"-c\"]; fix the Dockerfile")
            shell = args.words
        else:
            raise unsupported(here, f"the {keyword} instruction")
    if base is None:
        raise UserError(f"{where}: no FROM line; start the Dockerfile with FROM")
    return DockerfilePlan(base_image=base, steps=steps, args=variables, image_env=image_env(base))


def _copy_from_image(args, here: str) -> str:
    """`COPY --from=IMAGE` of a well-known tool image, served from the base layer's copy (and said so)."""
    image, (*sources, dest) = args.flags["from"], args.words
    served = image_files(image, sources)
    if served is None:
        raise unsupported(here, f"COPY --from={image} (only {', '.join(KNOWN_IMAGE_FILES)} is served locally)")
    into = dest if dest.endswith("/") or len(sources) > 1 else posixpath.dirname(dest) or "/"
    q = shlex.quote
    note = f"skillspark sandbox: COPY --from={image} served offline (the sandbox's own uv)"
    return (f"echo {q(note)} >&2 && "
            f"mkdir -p {q(into)} && cp {' '.join(q(p) for p in served)} {q(dest)}")


def _run_command(inst: Instruction) -> str:
    """The shell command of a shell-form RUN.

    A command with heredocs (`cat <<EOF > f ...`) goes to the shell whole, which reads them itself.
    A RUN that is nothing but one heredoc runs its body as the script, as BuildKit does: with the
    SHELL when plain, or as an executable file when it starts with a `#!` line.
    """
    if len(inst.heredocs) != 1 or not _HEREDOC_ONLY.fullmatch(inst.head.strip()):
        return inst.value
    script = inst.heredocs[0].body
    if not script.startswith("#!"):
        return script
    marker = "SKILLSPARK_SCRIPT"
    while f"\n{marker}\n" in f"\n{script}":
        marker += "_"
    return (f"script=$(mktemp) && cat > \"$script\" <<'{marker}'\n{script}{marker}\n"
            f"chmod +x \"$script\" && \"$script\"; status=$?; rm -f \"$script\"; exit $status")
