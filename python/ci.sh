#!/usr/bin/env bash
# CI of the `hashformers` Python package: lint the extension crate, build the abi3 wheel,
# install it into a venv, and run the tests against the installed wheel.
#
# Everything it writes lives outside the clone, so repeated runs are incremental:
#   venv:       $HASHFORMERS_PY_VENV   (default ~/.cache/hashformers/python-venv)
#   cargo:      $HASHFORMERS_PY_TARGET (default ~/.cache/hashformers/python-target)
# Tests that need roberta-base's BPE read $HASHFORMER_DATA (default ../shared/data beside
# the clone) and fail, not skip, under CI=true when it is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

cache="$HOME/.cache/hashformers"
venv="${HASHFORMERS_PY_VENV:-$cache/python-venv}"
export CARGO_TARGET_DIR="${HASHFORMERS_PY_TARGET:-$cache/python-target}"
if [ -z "${HASHFORMER_DATA:-}" ]; then
  HASHFORMER_DATA="$(cd "$here/../.." && pwd)/shared/data"
fi
export HASHFORMER_DATA
python="${PYTHON:-python3}"

# Debian/Ubuntu ship `venv` separately; install it when missing.
if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1 && command -v apt-get >/dev/null; then
  sudo=""
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo=sudo; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv
fi
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-ci.txt

set -x
cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings

wheels="$CARGO_TARGET_DIR/wheels"
rm -rf "$wheels"
"$venv/bin/maturin" build --release --locked --out "$wheels"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
  "$wheels"/hashformers_rs-*-abi3-*.whl
# The `pytest` script (not `python -m pytest`) keeps this folder, and so the source package
# without its native module, off sys.path: the tests import the installed wheel.
"$venv/bin/python" -m pip check
"$venv/bin/pytest" -q -p no:cacheprovider tests
