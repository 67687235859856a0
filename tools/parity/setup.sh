#!/usr/bin/env bash
# Create tools/parity/.venv with the pinned dependencies of the parity-fixture
# generator (tools/parity/requirements.txt): torch (CPU use only), numpy,
# safetensors, regex. Needs Python 3.11 (set PYTHON to pick an interpreter;
# default python3) and PyPI. About 3 GB download, 5.4 GB on disk (PyPI's
# torch wheel pulls in the nvidia-* CUDA libraries, see requirements.txt).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
"$python" -c 'import sys; assert sys.version_info[:2] == (3, 11), "need Python 3.11, got " + sys.version'
"$python" -m venv "$here/.venv"
"$here/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
"$here/.venv/bin/python" - <<'PY'
import numpy, safetensors, torch
x = torch.ones(2, 3) @ torch.ones(3, 2)
assert x.sum().item() == 12.0
print(f"torch {torch.__version__} (cuda available: {torch.cuda.is_available()}), "
      f"numpy {numpy.__version__}, safetensors {safetensors.__version__}")
PY
echo "ready: $here/.venv/bin/python"
