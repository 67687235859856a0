#!/usr/bin/env bash
# Installs the static LLVM 23 SDK that Burn 0.22's CUDA backend links, so that
# `cargo build --features cuda` works on a machine whose only network is the package
# registries (CI) — or with none at all once the wheels are cached.
#
# Burn's `tracel-llvm-bundler` looks for an LLVM install at
#   ${XDG_DATA_HOME:-~/.local/share}/tracel/tracel-llvm-23.1.0-4/
# holding `bin/llvm-config` and a `.tracel-llvm-installed` marker, and downloads one from
# GitHub when the marker is missing. We install PyPI's `mlc-llvm-static` SDK there instead:
# the base wheel (X86) plus its `-extra-targets` add-on (NVPTX among them), pinned by
# version and SHA-256, cached in ${XDG_CACHE_HOME:-~/.cache}/hashformers/llvm. No root, no
# compiler, nothing in the clone. Idempotent: a finished install is left alone.
#
# Usage: bash tools/cuda/install-llvm.sh        (docs/backends.md has the details)
set -euo pipefail

VERSION=23.1.1.post0
BASE_WHEEL="mlc_llvm_static-${VERSION}-py3-none-manylinux_2_28_x86_64.whl"
BASE_SHA256=dcfec888abfaa418be77d41af585805f31463584cf9c90582992c00f392c1ac5
EXTRA_WHEEL="mlc_llvm_static_extra_targets-${VERSION}-py3-none-manylinux_2_28_x86_64.whl"
EXTRA_SHA256=c36e834d9a4e9cf9759f27fece65711ece7a2fc2b5a96dbb15d66f5e9e787929

DEST="${XDG_DATA_HOME:-$HOME/.local/share}/tracel/tracel-llvm-23.1.0-4"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/hashformers/llvm"
MARKER="$DEST/.tracel-llvm-installed"

if [ -f "$MARKER" ] && [ -f "$DEST/.hashformers-sdk-$VERSION" ] \
  && "$DEST/bin/llvm-config" --targets-built 2>/dev/null | grep -qw NVPTX; then
  echo "LLVM ${VERSION} SDK already installed in $DEST"
  exit 0
fi
if [ "$(uname -m)" != x86_64 ] || [ "$(uname -s)" != Linux ]; then
  echo "error: tools/cuda/install-llvm.sh pins the Linux x86_64 wheels; on $(uname -s) $(uname -m)," \
       "let Burn download its own LLVM bundle (docs/backends.md)" >&2
  exit 1
fi

# Fetches wheel $1 (PyPI project $2) into the cache unless a copy with hash $3 is there.
fetch() {
  local wheel=$1 project=$2 sha=$3
  if [ -f "$CACHE/$wheel" ] && echo "$sha  $CACHE/$wheel" | sha256sum -c --quiet - 2>/dev/null; then
    return
  fi
  echo "downloading $project ${VERSION} from PyPI ..."
  rm -f "$CACHE/$wheel"
  python3 -m pip download --quiet --no-deps --only-binary=:all: \
    --platform manylinux_2_28_x86_64 --python-version 3.11 \
    "$project==$VERSION" -d "$CACHE"
  if ! echo "$sha  $CACHE/$wheel" | sha256sum -c --quiet -; then
    echo "error: $CACHE/$wheel does not have the pinned SHA-256 $sha" >&2
    rm -f "$CACHE/$wheel"
    exit 1
  fi
}

mkdir -p "$CACHE" "$(dirname "$DEST")"
fetch "$BASE_WHEEL" mlc-llvm-static "$BASE_SHA256"
fetch "$EXTRA_WHEEL" mlc-llvm-static-extra-targets "$EXTRA_SHA256"

# Unpack both wheels' `mlc_llvm_static/static/` into a temporary folder beside the
# destination, then move it into place: an interrupted install leaves no marker behind.
TMP="$(mktemp -d "$(dirname "$DEST")/.tracel-llvm-install.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
python3 - "$TMP" "$CACHE/$BASE_WHEEL" "$CACHE/$EXTRA_WHEEL" <<'PY'
import pathlib, sys, zipfile
dest = pathlib.Path(sys.argv[1])
prefix = "mlc_llvm_static/static/"
for wheel in sys.argv[2:]:
    with zipfile.ZipFile(wheel) as z:
        for info in z.infolist():
            if not info.filename.startswith(prefix) or info.is_dir():
                continue
            target = dest / info.filename[len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            with z.open(info) as src, open(target, "wb") as out:
                out.write(src.read())
PY
chmod +x "$TMP/bin/llvm-config"
if ! "$TMP/bin/llvm-config" --targets-built | grep -qw NVPTX; then
  echo "error: the unpacked SDK has no NVPTX backend" >&2
  exit 1
fi
rm -rf "$DEST"
mv "$TMP" "$DEST"
trap - EXIT
touch "$MARKER" "$DEST/.hashformers-sdk-$VERSION"
echo "installed LLVM ${VERSION} SDK (with NVPTX) in $DEST"
