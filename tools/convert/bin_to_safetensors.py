#!/usr/bin/env python3
"""Write DIR/model.safetensors from DIR/pytorch_model.bin without running pickled code.

`hashformer convert` never unpickles a `pytorch_model.bin` (unpickling can run code). This
loads it with `torch.load(..., weights_only=True)`, which refuses anything but tensors and
plain containers, and saves the same tensors (names unchanged) with safetensors:

    python tools/convert/bin_to_safetensors.py DIR

Needs `torch` and `safetensors` (e.g. `tools/parity/.venv`). The one-line equivalent:

    python -c "import torch, safetensors.torch as st; st.save_file({k: v.clone().contiguous() for k, v in torch.load('DIR/pytorch_model.bin', map_location='cpu', weights_only=True).items()}, 'DIR/model.safetensors', metadata={'format': 'pt'})"
"""

import sys
from pathlib import Path

import torch
from safetensors.torch import save_file


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    directory = Path(sys.argv[1])
    source, target = directory / "pytorch_model.bin", directory / "model.safetensors"
    if target.exists():
        print(f"{target} exists; not overwritten", file=sys.stderr)
        return 1
    state = torch.load(source, map_location="cpu", weights_only=True)
    # Tied weights share storage, which safetensors refuses: give each tensor its own copy.
    tensors = {name: tensor.clone().contiguous() for name, tensor in state.items()}
    save_file(tensors, target, metadata={"format": "pt"})
    print(f"wrote {target} ({len(tensors)} tensors)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
