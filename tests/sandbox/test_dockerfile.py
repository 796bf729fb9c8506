"""Dockerfile-lite parsing: what is honoured, and the one-line errors for what is not."""

import pytest

from skillspark.errors import UserError
from skillspark.sandbox.build import ensure_layer
from skillspark.sandbox.dockerfile import parse_dockerfile_text, substitute


@pytest.mark.parametrize("image", ["python:3.12-slim", "python:3.11-slim-bookworm", "python:3", "debian:bookworm",
                                   "ubuntu:24.04", "docker.io/library/ubuntu:22.04", "debian"])
def test_supported_bases(image):
    assert parse_dockerfile_text(f"FROM {image}\n", "Dockerfile").base_image == image


@pytest.mark.parametrize("image", ["alpine:3.19", "node:20", "nvidia/cuda:12.2.0-base-ubuntu22.04", "python:2.7"])
def test_unsupported_base_says_use_docker(image):
    with pytest.raises(UserError, match=r"--env docker") as err:
        parse_dockerfile_text(f"FROM {image}\n", "task/environment/Dockerfile")
    assert "\n" not in str(err.value) and "task/environment/Dockerfile" in str(err.value)


def test_steps_args_env_and_continuations():
    text = """
    ARG VERSION=1.2
    FROM python:3.12-slim
    # a comment
    ENV APP_HOME=/srv/app \\
        MODE="fast mode"
    WORKDIR $APP_HOME
    COPY --chown=1000:1000 data/ ./data/
    RUN pip install \\
        requests==${VERSION}
    RUN ["python", "-c", "print(1)"]
    USER nobody
    CMD ["bash"]
    """
    plan = parse_dockerfile_text(text, "Dockerfile")
    kinds = [s.kind for s in plan.steps]
    assert kinds == ["ENV", "WORKDIR", "COPY", "RUN", "RUN", "USER"]
    assert plan.steps[0].env == {"APP_HOME": "/srv/app", "MODE": "fast mode"}
    assert plan.steps[1].value == "/srv/app"
    assert plan.steps[2].argv == ["data/", "./data/"] and plan.steps[2].chown == "1000:1000"
    assert plan.steps[3].command == "pip install  requests==${VERSION}"
    assert plan.steps[3].shell == ["/bin/sh", "-c"]
    assert plan.steps[4].argv == ["python", "-c", "print(1)"]
    assert plan.args["VERSION"] == "1.2"


def test_build_arg_override_and_defaults():
    plan = parse_dockerfile_text("ARG TAG=3.11\nFROM python:${TAG}-slim\n", "Dockerfile", {"TAG": "3.12"})
    assert plan.base_image == "python:3.12-slim"
    assert substitute("${MISSING:-dflt} $X ${X}", {"X": "x"}) == "dflt x x"


@pytest.mark.parametrize("text, fragment", [
    ("FROM debian\nFROM ubuntu\n", "multi-stage"),
    ("FROM debian\nCOPY --from=builder /a /b\n", "COPY --from"),
    ("FROM debian\nADD https://example.com/x.tgz /x\n", "ADD from a URL"),
    ("FROM debian\nONBUILD RUN true\n", "ONBUILD"),
    ("RUN true\n", "before FROM"),
    ("# nothing\n", "no FROM"),
])
def test_unsupported_or_malformed(text, fragment):
    with pytest.raises(UserError, match=fragment):
        parse_dockerfile_text(text, "Dockerfile")


@pytest.mark.parametrize("text, fragment", [
    ("FROM debian\n\n# two\nRUN --mount=type=cache,target=/c true\n", "Dockerfile line 4: RUN options (--mount=type=cache,target=/c)"),
    ("FROM debian\nRUN <<EOF\nx\nEOF\nCOPY <<EOF /etc/motd\nhi\nEOF\n", "Dockerfile line 5: COPY from a heredoc"),
    ("FROM debian\nENV A=\"open\n", "Dockerfile line 2: ENV: unbalanced quotes"),
    ("FROM debian\nRUN true\nFROM ubuntu\n", "Dockerfile line 3: a multi-stage build"),
])
def test_errors_name_the_dockerfile_line(text, fragment):
    with pytest.raises(UserError) as err:
        parse_dockerfile_text(text, "Dockerfile")
    assert fragment in str(err.value) and "\n" not in str(err.value)


HEREDOCS = """\
FROM debian:bookworm
SHELL ["/bin/bash", "-c"]
RUN <<EOF
set -e
mkdir -p /out
echo "bare $BASH_VERSION" | cut -c1-6 > /out/bare
EOF
RUN cat <<EOF > /out/fed
fed
EOF
RUN <<EOF
#!/usr/bin/python3
import pathlib
pathlib.Path("/out/py").write_text("python\\n")
EOF
RUN <<-EOF
\techo tabs > /out/tabs
\tEOF
WORKDIR /out
"""


def test_heredoc_runs_are_planned_as_shell_scripts():
    steps = parse_dockerfile_text(HEREDOCS, "Dockerfile").steps
    assert [(s.kind, s.line, s.text) for s in steps] == [
        ("RUN", 3, "RUN <<EOF"), ("RUN", 8, "RUN cat <<EOF > /out/fed"), ("RUN", 11, "RUN <<EOF"),
        ("RUN", 16, "RUN <<-EOF"), ("WORKDIR", 19, "WORKDIR /out"),
    ]
    bare, fed, script, tabs = steps[:4]
    assert bare.shell == ["/bin/bash", "-c"]
    assert bare.command == 'set -e\nmkdir -p /out\necho "bare $BASH_VERSION" | cut -c1-6 > /out/bare\n'
    assert fed.command == "cat <<EOF > /out/fed\nfed\nEOF"  # the shell reads this heredoc itself
    assert script.command.startswith("script=$(mktemp)") and "#!/usr/bin/python3\nimport pathlib" in script.command
    assert tabs.command == "echo tabs > /out/tabs\n"


async def test_heredoc_runs_build_in_the_sandbox(tmp_path):
    env_dir = tmp_path / "environment"
    env_dir.mkdir()
    layer = await ensure_layer(env_dir, tmp_path / "cache", dockerfile_text=HEREDOCS)
    out = layer.path / "_root/out"
    assert {p.name: p.read_text() for p in out.iterdir()} == {
        "bare": "bare 5\n", "fed": "fed\n", "py": "python\n", "tabs": "tabs\n",
    }


@pytest.mark.parametrize("image, path", [
    ("ubuntu:24.04", "/root/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
    ("debian:bookworm-slim", "/root/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
    ("python:3.11-slim", "/root/.local/bin:/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
])
def test_env_path_extends_the_base_images_path(image, path):
    plan = parse_dockerfile_text(f'FROM {image}\nENV PATH="/root/.local/bin:$PATH"\nENV P2=${{PATH}}\n', "Dockerfile")
    assert plan.steps[0].env == {"PATH": path}
    assert plan.steps[1].env == {"P2": path}


def test_python_image_env_seeds_the_build():
    plan = parse_dockerfile_text("FROM python:3.12.8-slim\nWORKDIR /opt/py$PYTHON_VERSION\n", "Dockerfile")
    assert plan.image_env["LANG"] == "C.UTF-8" and plan.image_env["PATH"].startswith("/usr/local/bin:")
    assert plan.steps[0].value == "/opt/py3.12.8"
    assert "PYTHON_VERSION" not in parse_dockerfile_text("FROM python:3\n", "Dockerfile").image_env


def test_copy_from_a_known_tool_image_is_served_and_others_refused():
    step = parse_dockerfile_text("FROM ubuntu:24.04\nCOPY --from=ghcr.io/astral-sh/uv:0.8.14 /uv /uvx /bin/\n", "D").steps[0]
    assert step.kind == "RUN" and step.command.endswith("cp /usr/local/lib/skillspark/uv/uv /usr/local/lib/skillspark/uv/uvx /bin/")
    with pytest.raises(UserError, match=r"COPY --from=ghcr.io/astral-sh/uv:1 \(only ghcr.io/astral-sh/uv is served"):
        parse_dockerfile_text("FROM debian\nCOPY --from=ghcr.io/astral-sh/uv:1 /etc/passwd /x\n", "D")
