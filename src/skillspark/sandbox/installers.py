"""Well-known installer scripts, served offline inside the sandbox.

Verifiers written for Docker often fetch a tool's official installer from the internet
(`curl -LsSf https://astral.sh/uv/0.9.7/install.sh | sh`). A host that reaches only the package
registries cannot, so the base layer puts `curl` and `wget` wrappers first on PATH: for a URL in
`KNOWN_INSTALLERS` they hand out a local script that installs the same tool into the same place the
real installer does, and say so in one stderr line; any other use execs the real tool unchanged.
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


def wrapper_script(tool: str) -> str:
    """The `curl`/`wget` wrapper: serve a known installer URL from LIB_DIR, else exec the real tool."""
    cases = "\n".join(
        f"    {'|'.join(inst.urls)}) url=$arg name={inst.name} note={shlex.quote(inst.note)} ;;" for inst in KNOWN_INSTALLERS
    )
    return f"""#!/bin/sh
# {tool} in the skillspark sandbox: well-known installer scripts are served offline (see
# skillspark/sandbox/installers.py); every other use runs the real {tool} unchanged.
url= name= note= next=
for arg in "$@"; do
  case "$arg" in
{cases}
  esac
done
if [ -z "$name" ]; then
  set -f; IFS=:
  for dir in $PATH; do
    if [ "$dir" != {WRAPPER_DIR} ] && [ -x "$dir/{tool}" ]; then unset IFS; set +f; exec "$dir/{tool}" "$@"; fi
  done
  echo "{tool}: command not found" >&2
  exit 127
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
    lib = layer_root / LIB_DIR.lstrip("/")
    for inst in KNOWN_INSTALLERS:
        _write(lib / "installers" / f"{inst.name}.sh", inst.script, 0o755)
    uv = host_uv()
    if uv is None:
        _log.warning("skillspark sandbox: no uv on this host; uv's installer will be served from PyPI instead")
        return
    (lib / "uv").mkdir(parents=True, exist_ok=True)
    shutil.copy2(uv, lib / "uv" / "uv")
    uvx = uv.with_name("uvx")
    if uvx.is_file():
        shutil.copy2(uvx, lib / "uv" / "uvx")
    else:
        _write(lib / "uv" / "uvx", '#!/bin/sh\nexec "$(dirname "$0")/uv" tool uvx "$@"\n', 0o755)
