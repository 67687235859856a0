#!/usr/bin/env python3
"""Write DIR/pytorch_model.bin from DIR/model.safetensors, for the official HashFormers code.

The official code targets transformers 3.x, whose `from_pretrained` reads only
`pytorch_model.bin`. After `hashformer convert MODEL --out DIR --to reference`:

    python tools/convert/safetensors_to_bin.py DIR

Needs `torch` and `safetensors` (e.g. `tools/parity/.venv`). Tensor names are unchanged.
"""

import sys
from pathlib import Path

import torch
from safetensors.torch import load_file


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    directory = Path(sys.argv[1])
    source, target = directory / "model.safetensors", directory / "pytorch_model.bin"
    if target.exists():
        print(f"{target} exists; not overwritten", file=sys.stderr)
        return 1
    state = load_file(source)
    torch.save(state, target)
    print(f"wrote {target} ({len(state)} tensors)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
