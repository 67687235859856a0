#!/usr/bin/env python3
"""Write crates/glue/tests/fixtures/metrics.json: GLUE metric values computed by sklearn and
scipy, the independent reference for the Rust metrics in crates/glue/src/metrics.rs.

Dependencies are pinned in requirements.txt (Python 3.11); create the environment with
setup.sh, then run from the repository root:

    tools/glue_metrics/.venv/bin/python tools/glue_metrics/make_fixtures.py

The output depends only on the pins and the fixed seed. Each case holds the inputs and the
values of the metrics that apply to it:

* classification: accuracy (sklearn accuracy_score), mcc (matthews_corrcoef) and, for two
  classes, f1 (f1_score, binary, pos_label=1, zero_division default "warn" -> 0.0);
* regression: pearson (scipy.stats.pearsonr) and spearman (scipy.stats.spearmanr). scipy
  gives NaN for a constant input; that is written as null, and the Rust crate returns 0
  there by design (see the module docs of metrics.rs).

This is how HF `glue_compute_metrics` (which the reference calls) computes them.
"""

import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import scipy
import sklearn
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

SEED = 20240605
OUT = Path(__file__).resolve().parents[2] / "crates/glue/tests/fixtures/metrics.json"


def finite_or_none(x):
    x = float(x)
    return None if math.isnan(x) else x


def classification(name, predictions, gold, num_classes):
    predictions = [int(p) for p in predictions]
    gold = [int(g) for g in gold]
    case = {
        "name": name,
        "kind": "classification",
        "num_classes": num_classes,
        "predictions": predictions,
        "gold": gold,
        "accuracy": float(accuracy_score(gold, predictions)),
        "mcc": float(matthews_corrcoef(gold, predictions)),
    }
    if num_classes == 2:
        case["f1"] = float(f1_score(gold, predictions, pos_label=1, average="binary"))
    return case


def regression(name, predictions, gold):
    predictions = [float(p) for p in predictions]
    gold = [float(g) for g in gold]
    return {
        "name": name,
        "kind": "regression",
        "predictions": predictions,
        "gold": gold,
        "pearson": finite_or_none(pearsonr(predictions, gold)[0]),
        "spearman": finite_or_none(spearmanr(predictions, gold)[0]),
    }


def classification_cases(rng):
    cases = []
    for n in [2, 3, 5, 10, 37, 100, 1000]:
        for k in [2, 3]:
            gold = rng.integers(0, k, n)
            noisy = np.where(rng.random(n) < 0.7, gold, rng.integers(0, k, n))
            cases.append(classification(f"random n={n} k={k}", rng.integers(0, k, n), gold, k))
            cases.append(classification(f"70% right n={n} k={k}", noisy, gold, k))
    for p_pos in [0.05, 0.5, 0.95]:
        gold = (rng.random(200) < p_pos).astype(int)
        pred = (rng.random(200) < p_pos).astype(int)
        cases.append(classification(f"imbalanced p={p_pos}", pred, gold, 2))
    gold = rng.integers(0, 2, 50)
    cases += [
        classification("perfect", gold, gold, 2),
        classification("inverted", 1 - gold, gold, 2),
        classification("constant predictions 1", np.ones(50), gold, 2),
        classification("constant predictions 0", np.zeros(50), gold, 2),
        classification("gold all 1", gold, np.ones(50), 2),
        classification("gold all 0", gold, np.zeros(50), 2),
        classification("no positives anywhere", np.zeros(20), np.zeros(20), 2),
        classification("all positive both", np.ones(20), np.ones(20), 2),
        classification("n=1 right", [1], [1], 2),
        classification("n=1 wrong", [0], [1], 2),
        classification("n=2 swapped", [0, 1], [1, 0], 2),
        classification("3-class one class missing in predictions", [0, 0, 1, 1, 0, 1], [0, 1, 2, 1, 0, 2], 3),
        classification("3-class constant gold", [0, 1, 2, 1], [2, 2, 2, 2], 3),
        classification("3-class perfect", [0, 1, 2, 2, 1], [0, 1, 2, 2, 1], 3),
    ]
    return cases


def regression_cases(rng):
    cases = []
    for n in [2, 3, 4, 10, 50, 1500]:
        gold = rng.uniform(0, 5, n)
        cases.append(regression(f"random n={n}", rng.uniform(0, 5, n), gold))
        cases.append(regression(f"correlated n={n}", gold + rng.normal(0, 1, n), gold))
    # STS-B-like: gold on a 0.2 grid (many ties), predictions rounded too.
    for n in [20, 300]:
        gold = np.round(rng.uniform(0, 5, n) * 5) / 5
        pred = np.round((gold + rng.normal(0, 0.8, n)) * 2) / 2
        cases.append(regression(f"ties n={n}", pred, gold))
    x = rng.uniform(-3, 3, 40)
    cases += [
        regression("monotone nonlinear", np.exp(x), x),
        regression("anti-correlated", -2 * x + 1, x),
        regression("all tied but one", [1, 1, 1, 1, 2], [0.5, 2.0, 3.5, 1.0, 4.0]),
        regression("constant predictions", np.full(10, 2.5), rng.uniform(0, 5, 10)),
        regression("constant gold", rng.uniform(0, 5, 10), np.full(10, 3.0)),
        regression("both constant", np.full(5, 1.0), np.full(5, 4.0)),
        regression("n=2", [0.0, 1.0], [5.0, 2.0]),
        regression("large offset", 1e6 + x, x),
    ]
    return cases


def main():
    rng = np.random.default_rng(SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero-division and constant-input warnings
        cases = classification_cases(rng) + regression_cases(rng)
    doc = {
        "generator": "tools/glue_metrics/make_fixtures.py",
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "seed": SEED,
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
