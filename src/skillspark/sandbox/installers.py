"""Well-known installers served offline inside the sandbox, and a clear line for what cannot be served.

Verifiers written for Docker often fetch a tool's official installer from the internet
(`curl -LsSf https://astral.sh/uv/0.9.7/install.sh | sh`). A host that reaches only the package
registries cannot, so the base layer puts `curl` and `wget` wrappers first on PATH: for a URL in
`KNOWN_INSTALLERS` they hand out a local script that installs the same tool into the same place the
real installer does, and say so in one stderr line; any other use runs the real tool unchanged.

The uv they install (and `COPY --from=ghcr.io/astral-sh/uv` gets) is the host's binary behind a small
wrapper that points uv's Python downloads at the host's CPythons (uv_python.py). What the host cannot
serve ends the command with one stderr line, `skillspark sandbox: offline-unreachable URL`, so that a
failed trial says which URL or host it needed: printed by the `curl`/`wget` wrappers (the tool's own
"cannot resolve / connect" exit codes) and, for uv, pip and apt (`pip`, `pip3`, `apt-get`, `apt` on
PATH), by `run-marked`, which copies the command's stderr aside and reads it when the command fails.
"""

from __future__ import annotations

import logging
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

WRAPPER_DIR = "/usr/local/sbin"  # first on the sandbox's default PATH, empty on Debian-like systems
LIB_DIR = "/usr/local/lib/skillspark"  # served scripts and the tools they install, inside the sandbox
UV_PYTHON_DIR = f"{LIB_DIR}/uv-python"  # uv's download list of the host's CPythons and their archives
UV_REAL_DIR = f"{LIB_DIR}/uv/bin"  # the host's uv and uvx binaries, behind the wrappers in LIB_DIR/uv
RUN_MARKED = f"{LIB_DIR}/run-marked"
MARKER = "skillspark sandbox: offline-unreachable"  # + " URL": `tasks check` classifies failures by it
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Installer:
    """One well-known installer: the URLs it is fetched from and the local script served instead."""

    name: str
    urls: tuple[str, ...]  # shell `case` patterns; `@VERSION@` in the script becomes the version a URL names
    note: str  # what the stand-in does, for the stderr line
    script: str


# uv's official installer puts uv and uvx in $UV_UNMANAGED_INSTALL, $UV_INSTALL_DIR, $XDG_BIN_HOME or
# ~/.local/bin, writes an `env` file there that puts the dir on PATH, and sources it from the profiles.
_UV_SCRIPT = f"""#!/bin/sh
# Stand-in for uv's official installer, served offline by the skillspark sandbox (installers.py).
set -eu
asked="@VERSION@"
bundled={LIB_DIR}/uv
dest="${{UV_UNMANAGED_INSTALL:-${{UV_INSTALL_DIR:-${{XDG_BIN_HOME:-$HOME/.local/bin}}}}}}"
mkdir -p "$dest"
if [ -x "$bundled/uv" ]; then
  cp "$bundled/uv" "$bundled/uvx" "$dest/"
else  # no uv on the host when the layer was made: the same tool from the registry
  tmp=$(mktemp -d)
  python3 -m pip install --quiet --target "$tmp" "uv${{asked:+==$asked}}"
  cp "$tmp/bin/uv" "$tmp/bin/uvx" "$dest/"
  rm -rf "$tmp"
fi
echo "installed $("$dest/uv" --version) to $dest (asked for ${{asked:-the latest}})" >&2
[ -n "${{UV_UNMANAGED_INSTALL:-}}" ] && exit 0
cat > "$dest/env" <<EOF
#!/bin/sh
# put $dest on PATH unless it is there
case ":\\${{PATH}}:" in
  *:"$dest":*) ;;
  *) export PATH="$dest:\\$PATH" ;;
esac
EOF
if [ -z "${{UV_NO_MODIFY_PATH:-}}${{INSTALLER_NO_MODIFY_PATH:-}}" ]; then
  for profile in "$HOME/.profile" "$HOME/.bashrc"; do
    grep -qsF "$dest/env" "$profile" || echo ". \\"$dest/env\\"" >> "$profile"
  done
fi
"""

KNOWN_INSTALLERS: tuple[Installer, ...] = (
    Installer(
        name="uv",
        urls=("http*://astral.sh/uv/install.sh", "http*://astral.sh/uv/*/install.sh",
              "http*://github.com/astral-sh/uv/releases/*/uv-installer.sh"),
        note="uv and uvx from the sandbox's own copy, installed where the official script puts them",
        script=_UV_SCRIPT,
    ),
)

# Files of well-known tool images that Dockerfiles take with `COPY --from=IMAGE SRC... DEST` (uv's docs
# recommend `COPY --from=ghcr.io/astral-sh/uv:latest /uv /uvx /bin/`), and where the base layer has them.
KNOWN_IMAGE_FILES = {"ghcr.io/astral-sh/uv": {"/uv": f"{LIB_DIR}/uv/uv", "/uvx": f"{LIB_DIR}/uv/uvx"}}


def image_files(image: str, sources: list[str]) -> list[str] | None:
    """Where the sandbox holds these files of a known image, or None when it cannot stand in for them."""
    name = image.split("@")[0]
    repo = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
    files = KNOWN_IMAGE_FILES.get(repo, {})
    return [files[source] for source in sources] if sources and all(s in files for s in sources) else None


# Where each tool writes what it fetches, from its command line (the URL itself is `$url`).
_DESTINATION = {
    "curl": """out=-
for arg in "$@"; do
  if [ -n "$next" ]; then out=$arg next=; continue; fi
  case "$arg" in
    -o|--output) next=1 ;;
    -O|--remote-name) out=${url##*/} ;;
    --*) ;;
    -*o) next=1 ;;
    -*o*) out=${arg#*o} ;;
    -*O*) out=${url##*/} ;;
  esac
done""",
    "wget": """out=${url##*/}
for arg in "$@"; do
  if [ -n "$next" ]; then out=$arg next=; continue; fi
  case "$arg" in
    -O|--output-document) next=1 ;;
    --output-document=*) out=${arg#*=} ;;
    --*) ;;
    -*O) next=1 ;;
    -*O*) out=${arg#*O} ;;
  esac
done""",
}


# Exit codes of the real tools that mean "could not reach the server": curl's 5, 6, 7 (cannot resolve the
# proxy or host, cannot connect), wget's 4 (network failure).
_UNREACHABLE_EXIT = {"curl": "5|6|7", "wget": "4"}

# The real tool: the first on PATH that is not one of our wrappers.
_NEXT_ON_PATH = f"""next_on_path() {{
  set -f; IFS=:
  for dir in $PATH; do
    if [ "$dir" != {WRAPPER_DIR} ] && [ -x "$dir/$1" ]; then unset IFS; set +f; echo "$dir/$1"; return 0; fi
  done
  echo "$1: command not found" >&2
  return 127
}}"""


def wrapper_script(tool: str) -> str:
    """The `curl`/`wget` wrapper: serve a known installer URL from LIB_DIR, else run the real tool and
    add the offline-unreachable line when it could not reach the server."""
    cases = "\n".join(
        f"    {'|'.join(inst.urls)}) url=$arg name={inst.name} note={shlex.quote(inst.note)} ;;" for inst in KNOWN_INSTALLERS
    )
    return f"""#!/bin/sh
# {tool} in the skillspark sandbox: well-known installer scripts are served offline (see
# skillspark/sandbox/installers.py); every other use runs the real {tool}.
{_NEXT_ON_PATH}
url= name= note= next=
for arg in "$@"; do
  case "$arg" in
{cases}
  esac
done
if [ -z "$name" ]; then
  real=$(next_on_path {tool}) || exit 127
  "$real" "$@"
  rc=$?
  case $rc in
    {_UNREACHABLE_EXIT[tool]})
      for arg in "$@"; do
        case "$arg" in *://*) url=$arg; break ;; -*) ;; *) url=${{url:-$arg}} ;; esac
      done
      echo "{MARKER} $url" >&2 ;;
  esac
  exit $rc
fi
{_DESTINATION[tool]}
version=$(printf '%s\\n' "$url" | sed -n 's#.*/v\\{{0,1\\}}\\([0-9][0-9.]*[0-9]\\)/.*#\\1#p')
echo "skillspark sandbox: served $url offline ($note)" >&2
if [ "$out" = - ]; then
  sed "s/@VERSION@/$version/g" {LIB_DIR}/installers/$name.sh
else
  sed "s/@VERSION@/$version/g" {LIB_DIR}/installers/$name.sh > "$out"
fi
"""


# What a failure for want of the network says (uv, pip, apt, and the resolver under them), lowercase.
_UNREACHABLE_OUTPUT = "|".join([
    "no download found for request", "error sending request", "failed to fetch", "failed to download", "dns error",
    "failed to lookup address", "tcp connect error", "temporary failure (in name resolution|resolving)",
    "name or service not known", "failed to establish a new connection", "could not resolve", "network is unreachable",
    "connection refused", "unable to connect",
])

# run-marked KIND FALLBACK COMMAND [ARG...]: runs COMMAND with its stderr also copied to a log (by tee in a
# bash coproc, so the output still streams); when COMMAND fails and the log reads like a network failure,
# the last stderr line is the marker with the first URL the failure names (uv: the download it would have
# used for a Python version the host lacks; pip: the index plus the path it names), else FALLBACK.
_RUN_MARKED = f"""#!/bin/bash
# Runs a command and, when it fails for want of the network, ends its stderr with
# "{MARKER} URL" (skillspark/sandbox/installers.py).
kind=$1 fallback=$2
shift 2
[ -n "${{SKILLSPARK_RUN_MARKED:-}}" ] && exec "$@"  # inside a marked command already: it speaks for both
export SKILLSPARK_RUN_MARKED=1
log=/tmp/.skillspark-marked.$$.$RANDOM$RANDOM
set -C  # a new file, never one planted in its place
{{ : > "$log"; }} 2>/dev/null || exec "$@"
set +C
# tee copies the command's stderr to the log; its line on the coproc's stdout says it is done.
coproc COPY {{ tee -- "$log" >&2; echo; }}
out=${{COPY[0]}} in=${{COPY[1]}}
"$@" 2>&"$in" {{out}}<&- {{in}}>&-
rc=$?
exec {{in}}>&-
# tee ends once the command's stderr is closed: at once, unless a process it left running holds it.
read -r -t 1 -u "$out" _ 2>/dev/null  # (bash closed it already when the copy has ended)
pattern='{_UNREACHABLE_OUTPUT}'
# pip without retries says only "from versions: none": unreachable when the index's host does not resolve.
host=$(printf '%s' "$fallback" | sed 's#^[a-z]*://##; s#[/:].*##')
if [ $rc -ne 0 ] && [ "$kind" = pip ] && grep -q "from versions: none" "$log" && ! getent hosts "$host" >/dev/null; then
  pattern="$pattern|from versions: none"
fi
if [ $rc -ne 0 ] && grep -qiE "$pattern" "$log"; then
  lines=$(grep -iE "$pattern" "$log")
  url=$(printf '%s\\n' "$lines" | grep -oE "https?://[^] [\\"'\\`<>()]+" | sed 's/[.,:;]*$//' | head -n 1)
  if [ -z "$url" ] && [ "$kind" = uv ]; then
    version=$(printf '%s\\n' "$lines" | sed -n 's/.*no download found for request: cpython-\\([0-9][0-9.]*\\).*/\\1/ip' | head -n 1)
    [ -n "$version" ] && url=$(env -u UV_PYTHON_DOWNLOADS_JSON_URL "$(dirname "$1")/uv" python list --only-downloads \\
      --show-urls "$version" 2>/dev/null | grep -oE 'https?://[^ ]+' | head -n 1)
  fi
  if [ -z "$url" ] && [ "$kind" = pip ]; then
    path=$(printf '%s\\n' "$lines" | sed -n "s/.*': \\(\\/[^ ]*\\)$/\\1/p" | head -n 1)
    origin=$(printf '%s' "$fallback" | grep -oE '^https?://[^/]+')
    [ -n "$path" ] && [ -n "$origin" ] && url=$origin$path
  fi
  echo "{MARKER} ${{url:-$fallback}}" >&2
fi
rm -f "$log"
exit $rc
"""

# Tools on PATH whose network failures are marked, with what to name when their output names no URL.
_MARKED_TOOLS = {
    "pip": ("pip", '"${PIP_INDEX_URL:-https://pypi.org/simple/}"'),
    "pip3": ("pip", '"${PIP_INDEX_URL:-https://pypi.org/simple/}"'),
    "apt-get": ("apt", "deb.debian.org"),
    "apt": ("apt", "deb.debian.org"),
}


def pip_shim(python: str) -> str:
    """`pip` for an interpreter that has pip as a module only, its network failures marked."""
    return f"""#!/bin/sh
exec {RUN_MARKED} pip {_MARKED_TOOLS["pip"][1]} {python} -m pip "$@"
"""


# `apt-get install` of a package that an installed one already provides and conflicts with fails here
# and not in the task's image: the sandbox's root is the host's, whose packages may come from elsewhere
# (NodeSource's `nodejs` bundles npm and conflicts with Debian's `npm`; a clean image installs both). Such
# names are dropped from the install, saying so, as the image would end up with the tool either way.
_SKIP_PROVIDED = r"""installing=
for arg do
  shift
  name=${arg%%[=:]*}
  if [ -n "$installing" ] && [ "${arg#-}" = "$arg" ] && [ -n "$provided" ] \
     && printf '%s\n' "$provided" | grep -qxF -- "$name" \
     && ! dpkg-query -W -f='${db:Status-Abbrev}' "$name" 2>/dev/null | grep -q '^ii'; then
    echo "skillspark sandbox: $name is already provided by an installed package of the host; not installing it" >&2
    continue
  fi
  if [ "$arg" = install ] && [ -z "$installing" ]; then
    installing=1
    provided=$(dpkg-query -W -f='${db:Status-Abbrev}|${Provides}\n' 2>/dev/null | sed -n 's/^ii *|//p' \
      | tr ',' '\n' | sed 's/([^)]*)//; s/^ *//; s/ *$//' | grep .)
  fi
  set -- "$@" "$arg"
done"""


def marked_wrapper(tool: str) -> str:
    """A PATH wrapper that runs the real `tool` under run-marked (apt's also skips packages provided already)."""
    kind, fallback = _MARKED_TOOLS[tool]
    return f"""#!/bin/sh
# {tool} in the skillspark sandbox: the real {tool}; a failure for want of the network ends with
# "{MARKER} URL" (skillspark/sandbox/installers.py).
{_NEXT_ON_PATH}
real=$(next_on_path {tool}) || exit 127
{_SKIP_PROVIDED if kind == "apt" else ""}
exec {RUN_MARKED} {kind} {fallback} "$real" "$@"
"""


def uv_wrapper(tool: str) -> str:
    """`uv`/`uvx` as served: the host's binary, its Python downloads answered by the host's CPythons
    (uv_python.py), its failures for want of the network marked."""
    return f"""#!/bin/sh
# {tool} in the skillspark sandbox: the host's {tool}; Python downloads come from the host's CPythons
# ({UV_PYTHON_DIR}), and a failure for want of the network ends with "{MARKER} URL".
if [ -z "${{UV_PYTHON_DOWNLOADS_JSON_URL:-}}" ] && [ -f {UV_PYTHON_DIR}/downloads.json ]; then
  export UV_PYTHON_DOWNLOADS_JSON_URL={UV_PYTHON_DIR}/downloads.json
fi
exec {RUN_MARKED} uv https://releases.astral.sh/github/python-build-standalone {UV_REAL_DIR}/{tool} "$@"
"""


def _is_binary(path: Path) -> bool:
    """An ELF executable, not a script: a pyenv or asdf shim named `uv` on PATH is a bash script that
    needs the host's shim machinery, which the sandbox does not have."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


def host_uv() -> Path | None:
    """The host's uv binary: on PATH, in our venv, or beside the interpreter the venv was made from."""
    found = shutil.which("uv")
    candidates = [Path(found)] if found else []
    candidates += [Path(sys.prefix) / "bin" / "uv", Path(sys.base_prefix) / "bin" / "uv"]
    return next((path.resolve() for path in candidates if _is_binary(path)), None)


def _write(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def install_into(layer_root: Path) -> None:
    """Put the wrappers, the served scripts and the tools they install under a layer's root."""
    for tool in _DESTINATION:
        _write(layer_root / WRAPPER_DIR.lstrip("/") / tool, wrapper_script(tool), 0o755)
    for tool in _MARKED_TOOLS:
        _write(layer_root / WRAPPER_DIR.lstrip("/") / tool, marked_wrapper(tool), 0o755)
    lib = layer_root / LIB_DIR.lstrip("/")
    _write(lib / "run-marked", _RUN_MARKED, 0o755)
    for inst in KNOWN_INSTALLERS:
        _write(lib / "installers" / f"{inst.name}.sh", inst.script, 0o755)
    uv = host_uv()
    if uv is None:
        _log.warning("skillspark sandbox: no uv on this host; uv's installer will be served from PyPI instead")
        return
    real = layer_root / UV_REAL_DIR.lstrip("/")
    real.mkdir(parents=True, exist_ok=True)
    shutil.copy2(uv, real / "uv")
    uvx = uv.with_name("uvx")
    if uvx.is_file():
        shutil.copy2(uvx, real / "uvx")
    else:
        _write(real / "uvx", '#!/bin/sh\nexec "$(dirname "$0")/uv" tool uvx "$@"\n', 0o755)
    for tool in ("uv", "uvx"):
        _write(lib / "uv" / tool, uv_wrapper(tool), 0o755)
