#!/usr/bin/env bash
# Installs the pinned LiteLLM proxy (tests/litellm/requirements.lock) into a Python venv for the test suite.
#
#   tests/litellm/install.sh [VENV_DIR]
#
# VENV_DIR defaults to "${CARGO_TARGET_DIR:-<crate>/target}/litellm-venv" (an ignored folder). The test harness
# (tests/support/litellm.rs) runs this script itself, so `cargo test --all-features` needs nothing beforehand but
# python3 (3.11 preferred) with the venv module and access to PyPI.
#
# Idempotent: the marker file VENV_DIR/.modelroute-lock-sha256, written last, holds the sha256 of
# requirements.lock; when it matches, nothing is done. When the lock file changes, the venv is rebuilt from scratch.
# Concurrency: two installs of the same VENV_DIR are serialized by an exclusive flock on "VENV_DIR.lock". The Rust
# harness takes that lock itself and sets MODELROUTE_LITELLM_INSTALL_LOCK_HELD=1; run by hand, the script takes it
# with flock(1) when that tool exists.
#
# Steps: python3 -m venv; pip install uv (pinned) into the venv; uv pip install --no-deps -r requirements.lock
# --compile-bytecode (falls back to pip + compileall if uv fails). Bytecode is compiled once here because
# PYTHONDONTWRITEBYTECODE=1 would otherwise make every proxy start recompile ~3,000 files (20-35 s instead of ~10 s).
# Python: $MODELROUTE_TEST_PYTHON if set, else python3.11 if on PATH, else python3.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
crate="$(cd "$here/../.." && pwd)"
lock="$here/requirements.lock"
target_dir="${CARGO_TARGET_DIR:-$crate/target}"
venv="${1:-$target_dir/litellm-venv}"
marker="$venv/.modelroute-lock-sha256"
uv_version="0.13.8"

log() { echo "[litellm install] $*" >&2; }

if [[ -n "${MODELROUTE_TEST_PYTHON:-}" ]]; then
  python="$MODELROUTE_TEST_PYTHON"
elif command -v python3.11 >/dev/null 2>&1; then
  python="python3.11"
else
  python="python3"
fi
command -v "$python" >/dev/null 2>&1 || { log "no Python interpreter '$python' on PATH (need python3 with venv)"; exit 2; }

want="$("$python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$lock")"
installed() { [[ -f "$marker" ]] && [[ "$(cat "$marker")" == "$want" ]] && [[ -x "$venv/bin/litellm" ]]; }

mkdir -p "$(dirname "$venv")"
if [[ "${MODELROUTE_LITELLM_INSTALL_LOCK_HELD:-}" != "1" ]] && command -v flock >/dev/null 2>&1; then
  exec 9>"$venv.lock"
  flock 9
fi

if installed; then
  log "up to date: $venv"
  exit 0
fi

start=$SECONDS
log "creating $venv with $("$python" --version 2>&1) (first run takes 1-3 minutes; it downloads ~150 MB)"
rm -rf "$venv"
"$python" -m venv "$venv"
py="$venv/bin/python"

if "$py" -m pip install --quiet --disable-pip-version-check "uv==$uv_version" \
  && VIRTUAL_ENV="$venv" "$venv/bin/uv" pip install --python "$py" --no-deps --compile-bytecode -r "$lock"; then
  log "installed with uv"
else
  log "uv failed; falling back to pip"
  "$py" -m pip install --disable-pip-version-check --no-deps -r "$lock"
  log "compiling bytecode"
  "$py" -m compileall -q -j 0 "$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null || true
fi

"$py" - <<'PY'
import importlib.metadata as m
version = m.version("litellm")
assert version == "1.109.1", f"expected litellm 1.109.1, got {version}"
PY
[[ -x "$venv/bin/litellm" ]] || { log "no $venv/bin/litellm after install"; exit 1; }

printf '%s\n' "$want" >"$marker.tmp"
mv "$marker.tmp" "$marker"
log "done in $((SECONDS - start)) s: $venv"
