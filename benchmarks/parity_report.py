"""Worst relative error of skadam's optimizers against the stored torch trajectories.

Usage: python benchmarks/parity_report.py  (reads tests/data/torch_golden.npz)
"""

import json
from pathlib import Path

import numpy as np

import skadam.optim

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "data" / "torch_golden.npz"


def main():
    with np.load(GOLDEN) as data:
        golden = {key: data[key] for key in data.files}
    configs = json.loads(str(golden["meta/configs_json"]))
    sequences = json.loads(str(golden["meta/sequences_json"]))
    worst = {}
    for config, meta in configs.items():
        for sequence in sequences:
            optimizer = getattr(skadam.optim, meta["optimizer"])(**meta["hyperparameters"])
            params = golden[f"sequences/{sequence}/params0"].copy()
            expected = golden[f"{config}/{sequence}/trajectory"]
            state = optimizer.init_state(params)
            error = 0.0
            for grad, target in zip(golden[f"sequences/{sequence}/grads"], expected,
                                    strict=True):
                optimizer.step(params, grad.copy(), state)
                floor = 1e-3 * np.abs(expected).max()  # the tests' atol / rtol
                error = max(error, float(np.max(np.abs(params - target) /
                                                np.maximum(np.abs(target), floor))))
            worst[config] = max(worst.get(config, 0.0), error)
    print(f"torch {golden['meta/torch_version']}: worst relative error over "
          f"{len(sequences)} sequences of {expected.shape[0]} steps")
    for config, error in sorted(worst.items()):
        print(f"  {config:<40} {error:.1e}")


if __name__ == "__main__":
    main()
