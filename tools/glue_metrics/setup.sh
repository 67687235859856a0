#!/usr/bin/env bash
# Create tools/glue_metrics/.venv with the pinned dependencies of the metric-fixture
# generator (tools/glue_metrics/requirements.txt). Needs Python 3.11 (set PYTHON to
# pick an interpreter; default python3).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
"$python" -c 'import sys; assert sys.version_info[:2] == (3, 11), "need Python 3.11, got " + sys.version'
"$python" -m venv "$here/.venv"
"$here/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
echo "ready: $here/.venv/bin/python"
