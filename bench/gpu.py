"""GPU figures for README (issue 14): the `default` recipe trained on CHASE_DB1 for a short time box on whatever
device Keras sees, ideally with the JAX backend on an NVIDIA GPU (`pip install -e '.[gpu]'`).

Prints one JSON line: device, backend, precision, steps and steps/s, the first time the validation AUC reached 0.98
(None if it did not), each validation's (seconds, step, AUC), the test AUC / Dice of the CHASE protocol of
bench/suite.py (20 train / 8 test, 1st observer, inside the FOV) and inference ms per test image. Not a test; on a
CPU it runs too, as a smoke check.

Usage: KERAS_BACKEND=jax python bench/gpu.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from suite import DATA, load, score  # noqa: E402

TARGET_AUC = 0.98


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--init", default="scratch", choices=["scratch", "auto"])
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from medseg_gui.ml.keras_quiet import keras

    from medseg_gui.info import device_text
    from medseg_gui.ml.config import TrainConfig
    from medseg_gui.ml.train import train

    train_set, test_set = load("chase", args.data)
    reached: list[float] = []
    validations: list[list] = []  # [seconds, step, validation AUC] of each validation: where the time went

    def progress(p) -> None:
        if p.val_auc is not None and p.val_auc >= TARGET_AUC and not reached:
            reached.append(p.elapsed_s)
        if p.message == "validating":  # the AUC it reaches comes with the next report
            validations.append([round(p.elapsed_s, 1), p.step, None])
        elif validations and validations[-1][2] is None and p.val_auc is not None:
            validations[-1][2] = round(p.val_auc, 4)

    cfg = TrainConfig(preset="default", minutes=args.seconds / 60.0, epochs=100_000, init=args.init)
    t0 = time.perf_counter()
    result = train(train_set, cfg, progress=progress)
    wall = time.perf_counter() - t0
    md = result.segmenter.metadata
    scores = score(result.segmenter, test_set, float(md.get("threshold", 0.5)))
    print(json.dumps({
        "device": device_text(), "backend": keras.backend.backend(), "precision": md.get("precision"),
        "seconds": round(wall, 1), "steps": result.steps,
        "steps_per_s": round(result.steps / max(result.seconds, 1e-9), 2),
        "s_to_val_auc_0.98": round(reached[0], 1) if reached else None,
        "test_auc": round(scores["auc"], 4), "test_dice": round(scores["dice"], 4),
        "infer_ms_per_image": round(1000 * scores["infer_s"], 1), "init": md.get("init"),
        "validations": validations,
    }), flush=True)


if __name__ == "__main__":
    main()
