"""Training and inference speed per preset on synthetic data: patches/s (train_on_batch, after warm-up) and seconds
per 999x960 image (tiled inference, BN folded). Not a test; prints a table. The CPU may be shared: load is shown.

Usage: python bench/train_speed.py [--presets default cvxtz fxfviolet] [--steps 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from medseg_gui.ml.config import TrainConfig  # noqa: E402
from medseg_gui.ml.data import prepare, sample_batch  # noqa: E402
from medseg_gui.ml.losses import MaskedSegLoss  # noqa: E402
from medseg_gui.ml.predict import Segmenter, preset_metadata  # noqa: E402
from medseg_gui.ml.train import _optimizer  # noqa: E402
from medseg_gui.ml.unet import build_unet, inference_model  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", nargs="+", default=["default", "cvxtz", "fxfviolet"])
    ap.add_argument("--steps", type=int, default=10)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (999, 960, 3)).astype(np.uint8)
    mask = rng.random((999, 960)) < 0.1
    print(f"cpu={os.cpu_count()} load={os.getloadavg()[0]:.2f}")
    print(f"{'preset':<10} {'params':>9} {'batch':>9} {'data ms':>8} {'step s':>7} {'patch/s':>8} {'Mpx/s':>6} "
          f"{'infer s':>8}")
    for name in args.presets:
        p = TrainConfig(preset=name).resolved()
        model = build_unet(p.unet)
        model.compile(optimizer=_optimizer(p), loss=MaskedSegLoss(1.0 if p.loss == "bce_dice" else 0.0))
        prepared = [prepare(image, mask, None, p, rng)]
        t0 = time.perf_counter()
        batches = [sample_batch(prepared, p, rng) for _ in range(args.steps)]
        data_ms = 1000 * (time.perf_counter() - t0) / args.steps
        model.train_on_batch(*batches[0])
        t0 = time.perf_counter()
        for x, y in batches:
            model.train_on_batch(x, y)
        step = (time.perf_counter() - t0) / args.steps
        seg = Segmenter(inference_model(model, p.unet), preset_metadata(p))
        seg.predict(image)
        t0 = time.perf_counter()
        for _ in range(3):
            seg.predict(image)
        infer = (time.perf_counter() - t0) / 3
        px = p.batch_size * p.patch_size**2
        print(f"{name:<10} {model.count_params():>9} {p.batch_size:>3}x{p.patch_size:<4} {data_ms:>8.1f} {step:>7.3f} "
              f"{p.batch_size / step:>8.1f} {px / step / 1e6:>6.2f} {infer:>8.3f}", flush=True)
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
