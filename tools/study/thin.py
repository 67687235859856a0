#!/usr/bin/env python3
"""Keep a study run's metrics in the repository (issue 17), thinned, so that its curves
survive the run directory (which lives outside the repository and can be lost with the
machine).

    python3 tools/study/thin.py NAME [NAME...]   # from ~/runs/study (or $STUDY_DIR)

Writes docs/pretraining/study/NAME.metrics.jsonl: every held-out evaluation and every
100th training step of $STUDY_DIR/NAME/metrics.jsonl, lines unchanged, replacing an earlier
copy. `hashformer pretrain-compare --run LABEL=FILE` and the plots read it as they read the
run's own file. Standard library only.
"""
import json
import os
import pathlib
import sys

EVERY = 100


def kept(line):
    record = json.loads(line)
    return record.get("split") == "valid" or record["step"] % EVERY == 0


def main(names):
    if not names:
        sys.exit(__doc__)
    study = pathlib.Path(os.environ.get("STUDY_DIR", pathlib.Path.home() / "runs" / "study"))
    out = pathlib.Path(__file__).resolve().parents[2] / "docs" / "pretraining" / "study"
    for name in names:
        source = study / name / "metrics.jsonl"
        try:
            lines = [line for line in source.read_text().splitlines() if line.strip()]
        except OSError as e:
            sys.exit(f"{source}: {e.strerror}")
        keep = []
        for number, line in enumerate(lines, 1):
            try:
                if kept(line):
                    keep.append(line)
            except (ValueError, KeyError, TypeError) as e:
                sys.exit(f"{source} line {number}: not a metrics record ({e})")
        target = out / f"{name}.metrics.jsonl"
        partial = target.with_name(f".{target.name}.tmp")
        partial.write_text("".join(line + "\n" for line in keep))
        partial.replace(target)
        print(f"{target}: {len(keep)} of {len(lines)} records")


if __name__ == "__main__":
    main(sys.argv[1:])
