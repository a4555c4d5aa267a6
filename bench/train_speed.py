"""Training and inference speed per preset on synthetic data: patches/s (train_on_batch, as ml.train runs it, after
warm-up; and the same batches through model.fit for comparison) and seconds per 999x960 image (tiled inference, BN
folded). A preset with a late phase gets a second row, `<name>+`, for its late-run patches. Not a test; prints a
table. The CPU may be shared: load is shown.

Usage: python bench/train_speed.py [--presets default cvxtz fxfviolet] [--steps 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from medseg_gui.ml.keras_quiet import keras
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from medseg_gui.ml.config import TrainConfig  # noqa: E402
from medseg_gui.ml.data import prepare, sample_batch  # noqa: E402
from medseg_gui.ml.losses import MaskedSegLoss  # noqa: E402
from medseg_gui.ml.predict import Segmenter, preset_metadata  # noqa: E402
from medseg_gui.ml.train import _optimizer  # noqa: E402
from medseg_gui.ml.unet import build_unet, inference_model  # noqa: E402


class _Batches(keras.utils.PyDataset):
    """Precomputed batches as a PyDataset, so model.fit sees the same data as the train_on_batch loop."""

    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, idx: int):
        return self.batches[idx]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", nargs="+", default=["default", "cvxtz", "fxfviolet"])
    ap.add_argument("--steps", type=int, default=10)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (999, 960, 3)).astype(np.uint8)
    mask = rng.random((999, 960)) < 0.1
    print(f"cpu={os.cpu_count()} load={os.getloadavg()[0]:.2f}")
    print(f"{'preset':<10} {'params':>9} {'batch':>9} {'data ms':>8} {'step s':>7} {'fit step s':>10} {'patch/s':>8} "
          f"{'Mpx/s':>6} {'infer s':>8}")
    phases = []
    for name in args.presets:
        p = TrainConfig(preset=name).resolved()
        phases.append((name, p))
        if p.late_phase() is not None:  # the preset's larger late-run patches, timed on their own
            phases.append((f"{name}+", p.late_phase()))
    for name, p in phases:
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
        model.fit(_Batches(batches[:1]), epochs=1, verbose=0)  # trace fit's own train function first
        t0 = time.perf_counter()
        model.fit(_Batches(batches), epochs=1, verbose=0)
        fit_step = (time.perf_counter() - t0) / args.steps
        seg = Segmenter(inference_model(model, p.unet), preset_metadata(p))
        seg.predict(image)
        t0 = time.perf_counter()
        for _ in range(3):
            seg.predict(image)
        infer = (time.perf_counter() - t0) / 3
        px = p.batch_size * p.patch_size**2
        print(f"{name:<10} {model.count_params():>9} {p.batch_size:>3}x{p.patch_size:<4} {data_ms:>8.1f} {step:>7.3f} "
              f"{fit_step:>10.3f} "
              f"{p.batch_size / step:>8.1f} {px / step / 1e6:>6.2f} {infer:>8.3f}", flush=True)
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
