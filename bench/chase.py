"""CHASE_DB1 benchmark: train each preset for the same wall-clock budget, report test AUC/Dice and speed.

Protocol: images sorted by name, first 20 train, last 8 test, first observer (`_1stHO`), metrics inside the FOV mask.
Training uses only the 20 training images (the trainer holds out `--val-fraction` of them for validation).
Usage: python bench/chase.py --presets default cvxtz fxfviolet --budgets 2 5 10 --data ../shared/data/chase_db1
Not a test; prints a table (and optional JSON lines with --json).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from medseg_gui.core.metrics import dice, roc_auc  # noqa: E402
from medseg_gui.ml.config import TrainConfig  # noqa: E402
from medseg_gui.ml.train import Sample, train  # noqa: E402


def load_chase(folder: Path) -> tuple[list[Sample], list[Sample]]:
    stems = sorted(p.stem for p in folder.glob("Image_*.jpg"))
    if len(stems) != 28:
        raise SystemExit(f"expected 28 CHASE_DB1 images in {folder}, found {len(stems)}")
    samples = []
    for s in stems:
        img = cv2.cvtColor(cv2.imread(str(folder / f"{s}.jpg")), cv2.COLOR_BGR2RGB)
        mask = cv2.imread(str(folder / f"{s}_1stHO.png"), cv2.IMREAD_GRAYSCALE) > 127
        fov = cv2.imread(str(folder / f"{s}_mask.png"), cv2.IMREAD_GRAYSCALE) > 127
        samples.append(Sample(img, mask, fov))
    return samples[:20], samples[20:]


def load_avg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def evaluate(segmenter, test: list[Sample], tta: bool) -> dict:
    aucs, dices, secs = [], [], []
    pooled_p, pooled_t = [], []
    for s in test:
        t0 = time.perf_counter()
        prob = segmenter.predict(s.image, s.roi, tta=tta)
        secs.append(time.perf_counter() - t0)
        aucs.append(roc_auc(prob, s.mask, s.roi))
        dices.append(dice(prob >= 0.5, s.mask, s.roi))
        pooled_p.append(prob[s.roi])
        pooled_t.append(s.mask[s.roi])
    pooled = roc_auc(np.concatenate(pooled_p), np.concatenate(pooled_t))
    return {"auc": float(np.mean(aucs)), "auc_pooled": float(pooled), "dice": float(np.mean(dices)),
            "infer_s": float(np.median(secs[1:] or secs))}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", nargs="+", default=["default", "cvxtz", "fxfviolet"])
    ap.add_argument("--budgets", nargs="+", type=float, default=[2, 5, 10], help="minutes per training run")
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/chase_db1")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--val-fraction", type=float, default=0.2)
    ap.add_argument("--tta", action="store_true", help="flip test-time augmentation at test time")
    ap.add_argument("--base-filters", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--patch-size", type=int, default=None)
    ap.add_argument("--learning-rate", type=float, default=None)
    ap.add_argument("--json", type=Path, default=None, help="append one JSON line per run to this file")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    train_set, test_set = load_chase(args.data)
    rows = []
    print(f"CHASE_DB1: {len(train_set)} train, {len(test_set)} test; cpu={os.cpu_count()} load={load_avg()}",
          flush=True)
    for preset in args.presets:
        for minutes in args.budgets:
            cfg = TrainConfig(preset=preset, minutes=minutes, epochs=10_000, seed=args.seed,
                              val_fraction=args.val_fraction, base_filters=args.base_filters,
                              batch_size=args.batch_size, patch_size=args.patch_size,
                              learning_rate=args.learning_rate)
            load0 = load_avg()
            result = train(train_set, cfg)
            metrics = evaluate(result.segmenter, test_set, args.tta)
            row = {"preset": preset, "minutes": minutes, "steps": result.steps, "seconds": round(result.seconds, 1),
                   "patches_per_s": round(result.patches / result.seconds, 1),
                   "px_per_s": round(result.pixels / result.seconds),
                   "val_auc": round(result.val_auc, 4), "stop": result.stop_reason, "load_before": load0,
                   "load_after": load_avg(), "tta": args.tta, **{k: round(v, 4) for k, v in metrics.items()}}
            rows.append(row)
            print(json.dumps(row), flush=True)
            if args.json:
                with open(args.json, "a") as fh:
                    fh.write(json.dumps(row) + "\n")
    print()
    print(f"{'preset':<10} {'min':>5} {'steps':>6} {'patch/s':>8} {'val AUC':>8} {'test AUC':>9} {'pooled':>7} "
          f"{'Dice':>6} {'infer s':>8}  load")
    for r in rows:
        print(f"{r['preset']:<10} {r['minutes']:>5g} {r['steps']:>6} {r['patches_per_s']:>8} {r['val_auc']:>8.4f} "
              f"{r['auc']:>9.4f} {r['auc_pooled']:>7.4f} {r['dice']:>6.3f} {r['infer_s']:>8.3f}  "
              f"{r['load_before']} -> {r['load_after']}")


if __name__ == "__main__":
    main()
