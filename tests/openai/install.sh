#!/usr/bin/env bash
# Installs the official `openai` Python package (tests/openai/requirements.lock) into its own venv, for the
# gateway's end-to-end test (tests/send_gateway.rs drives examples/gateway.rs with it).
#
#   tests/openai/install.sh [VENV_DIR]
#
# VENV_DIR defaults to "${CARGO_TARGET_DIR:-<crate>/target}/openai-venv". The test harness
# (tests/support/openai.rs) runs this script itself.
#
# Idempotent: the marker file VENV_DIR/.modelroute-lock-sha256, written last, holds the sha256 of
# requirements.lock; when it matches, nothing is done; when the lock changes, the venv is rebuilt from scratch.
# Concurrency: installs of one VENV_DIR are serialized by an exclusive flock on "VENV_DIR.lock" (the Rust harness
# takes it itself and sets MODELROUTE_OPENAI_INSTALL_LOCK_HELD=1; run by hand, the script takes it with flock(1)).
# Python: $MODELROUTE_TEST_PYTHON if set, else python3.11 if on PATH, else python3.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
crate="$(cd "$here/../.." && pwd)"
lock="$here/requirements.lock"
target_dir="${CARGO_TARGET_DIR:-$crate/target}"
venv="${1:-$target_dir/openai-venv}"
marker="$venv/.modelroute-lock-sha256"

log() { echo "[openai install] $*" >&2; }

if [[ -n "${MODELROUTE_TEST_PYTHON:-}" ]]; then
  python="$MODELROUTE_TEST_PYTHON"
elif command -v python3.11 >/dev/null 2>&1; then
  python="python3.11"
else
  python="python3"
fi
command -v "$python" >/dev/null 2>&1 || { log "no Python interpreter '$python' on PATH (need python3 with venv)"; exit 2; }

want="$("$python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$lock")"
installed() { [[ -f "$marker" ]] && [[ "$(cat "$marker")" == "$want" ]] && [[ -x "$venv/bin/python" ]]; }

mkdir -p "$(dirname "$venv")"
if [[ "${MODELROUTE_OPENAI_INSTALL_LOCK_HELD:-}" != "1" ]] && command -v flock >/dev/null 2>&1; then
  exec 9>"$venv.lock"
  flock 9
fi

if installed; then
  log "up to date: $venv"
  exit 0
fi

start=$SECONDS
log "creating $venv with $("$python" --version 2>&1)"
rm -rf "$venv"
"$python" -m venv "$venv"
py="$venv/bin/python"
"$py" -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: -r "$lock"
# Bytecode once here: the environment may set PYTHONDONTWRITEBYTECODE=1, and then every start would recompile.
"$py" -m compileall -q -j 0 "$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null || true

"$py" - <<'PY'
import importlib.metadata as m
import openai  # noqa: F401  (the package imports with exactly the pinned dependencies)
version = m.version("openai")
assert version == "3.52.0", f"expected openai 3.52.0, got {version}"
PY

printf '%s\n' "$want" >"$marker.tmp"
mv "$marker.tmp" "$marker"
log "done in $((SECONDS - start)) s: $venv"
