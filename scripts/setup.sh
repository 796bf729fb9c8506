#!/usr/bin/env bash
# One-shot set-up on a fresh Linux machine: system tools (bubblewrap), uv, and the locked project venv.
# Idempotent: a second run only checks (a few seconds). Every stage prints a line when it starts and when
# it ends, with its time; uv's own progress and errors go straight to the terminal, and a failing stage
# stops the script with its own error (no retry that would hide it).
set -euo pipefail
cd "$(dirname "$0")/.."

STAGES=3
started=$SECONDS

elapsed() {  # "5m41s" / "3s" since $1 (in $SECONDS)
  local s=$((SECONDS - $1))
  if [ "$s" -ge 60 ]; then echo "$((s / 60))m$((s % 60))s"; else echo "${s}s"; fi
}

stage() {  # stage N LABEL COMMAND...: run COMMAND, announce it and report its time or its failure
  local n=$1 label=$2 t0=$SECONDS rc=0
  shift 2
  echo "setup: [$n/$STAGES] $label ..." >&2
  "$@" || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "setup: [$n/$STAGES] $label failed (exit $rc) after $(elapsed "$t0"); the error above is the real one" >&2
    exit "$rc"
  fi
  echo "setup: [$n/$STAGES] $label: done in $(elapsed "$t0")" >&2
}

system_tools() {
  local need_apt=()
  command -v bwrap >/dev/null 2>&1 || need_apt+=(bubblewrap)
  command -v unshare >/dev/null 2>&1 || need_apt+=(util-linux)
  command -v git >/dev/null 2>&1 || need_apt+=(git)
  command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)          # terminus-2's session inside the sandbox
  [ -x /usr/bin/python3 ] || need_apt+=(python3)               # the sandbox's init runs on the system python
  command -v slirp4netns >/dev/null 2>&1 || need_apt+=(slirp4netns)  # the sandbox's own outbound-only network
  command -v mkfs.ext4 >/dev/null 2>&1 || need_apt+=(e2fsprogs)      # the sandbox's disk-backed writable layer
  command -v mmdebstrap >/dev/null 2>&1 || need_apt+=(mmdebstrap)    # sandbox/rootfs.py: a Debian root per base family
  [ -x /usr/bin/chromium ] || need_apt+=(chromium)                   # the dashboard's browser tests (playwright drives it)
  if [ ${#need_apt[@]} -eq 0 ]; then
    echo "setup:       bwrap, unshare, git, tmux, /usr/bin/python3, slirp4netns, mkfs.ext4, mmdebstrap, chromium present" >&2
    return 0
  fi
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "setup:       installing ${need_apt[*]} with apt-get" >&2
  $sudo apt-get update -qq >/dev/null || return  # (set -e is off inside `stage`: each step returns)
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
}

PY=python3
if command -v pyenv >/dev/null 2>&1; then PY="$(pyenv which python3.12 2>/dev/null || echo python3)"; fi

install_uv() {
  if "$PY" -m uv --version >/dev/null 2>&1; then
    echo "setup:       $("$PY" -m uv --version) (with $PY)" >&2
    return 0
  fi
  echo "setup:       installing uv with $PY -m pip" >&2
  "$PY" -m pip install -q uv
}

sync_label="uv sync (the locked venv in .venv)"
if ! compgen -G ".venv/lib/python3*/site-packages/llama_cpp" >/dev/null; then
  sync_label="uv sync (first time here: compiles llama-cpp-python, about 6 min on 2 cores)"
fi

stage 1 "system tools" system_tools
stage 2 "uv" install_uv
# --compile-bytecode: where PYTHONDONTWRITEBYTECODE is set (as on our CI machines) every process would
# otherwise recompile torch and transformers from source: about 20 s per process.
stage 3 "$sync_label" "$PY" -m uv sync --all-extras --frozen --compile-bytecode
echo "setup: ready in $(elapsed "$started"): .venv/bin/skillspark demo, or .venv/bin/pytest" >&2
