"""Make a shipped pretrained start (resources/models/<regime>-init.*) from openly licensed data in ../shared/data.

- lesions: the `default` recipe's lesion network trained on PolypGen colonoscopy photos. `--sets c6` (the start
  shipped until session 28): centre C6 only (88 photos), so the suite's C1 protocols stay unseen by the start.
  `--sets c6 c1` (shipped since session 28): C6 and C1's train + validation splits but the lesion demo's ten photos
  (88 + 221 photos: two hospitals), never C1's test split; the suite's C1 rows then measure a start that saw C1's
  training photos, and the demo still shows what a Retrain learns rather than what the start remembers. Either way the
  suite scores its c1c6 row with a model trained from scratch.
- vessels: the `default` recipe's vessel network trained from scratch on the 15 HRF training images (the suite's
  split), each at full resolution and at 0.3x (about CHASE_DB1 / DRIVE size: vessels of other widths). The HRF test
  images and all of CHASE_DB1 stay unseen, so the suite's chase row measures the start on another dataset.

Usage: python bench/pretrain.py --regime lesions --minutes 40 [--out resources/models]
A start trained on other photos (--sets) needs new fingerprints of them: python bench/start_fingerprints.py.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from suite import DATA, cpu_model, load, load_c6, polypgen_rows, polypgen_samples  # noqa: E402

POLYPGEN = "CC BY 4.0: Ali S. et al., Scientific Data 10:75 (2023), doi:10.1038/s41597-023-01981-y"
LESION_SETS = {"c6": ("centre C6 (88 photos)", "polypgen-C6"),
               "c1": ("centre C1 train + validation splits but the lesion demo's photos (221 photos)",
                      "polypgen-C1-train")}
DEMO = ROOT / "resources" / "demo_lesion" / "images"
VESSELS = ("HRF training split (15 fundus photos, full and 0.3x size), CC BY 4.0: Budai A. et al., Int J "
           "Biomed Imaging 2013:154860, doi:10.1155/2013/154860", ["hrf-train"])
SMALL = 0.3  # the vessel start also sees HRF at about CHASE_DB1 / DRIVE size


def c1_photos(data: Path):
    """C1's train + validation photos, the lesion demo's left out."""
    demo = {p.stem for p in DEMO.iterdir()}
    rows = [r for r in polypgen_rows(data, "C1") if r["split"] in ("train", "validation") and r["stem"] not in demo]
    if len(rows) != 231 - len(demo):
        raise SystemExit(f"expected the 231 C1 train + validation photos less the {len(demo)} of the demo")
    return polypgen_samples(data, rows)


def photos_for(regime: str, data: Path, sets: list[str]):
    """The photos a start of `regime` trains on, as read (lesions: PolypGen `sets`; vessels: HRF's training split),
    as samples; bench/start_fingerprints.py fingerprints the same ones."""
    if regime == "lesions":
        return [s for name in sets for s in (load_c6(data) if name == "c6" else c1_photos(data))]
    return load("hrf", data)[0]


def samples_for(regime: str, data: Path, sets: list[str], rim: str = "none"):
    """The start's training samples; `rim` (vessels): which HRF fields of view are widened (see --rim)."""
    if regime == "lesions":
        return photos_for(regime, data, sets)
    import cv2

    from medseg_gui.core.fov import widen
    from medseg_gui.ml.train import Sample

    train = photos_for(regime, data, sets)
    small = []
    for s in train:
        h, w = s.mask.shape
        size = (round(w * SMALL), round(h * SMALL))
        image = cv2.resize(s.image, size, interpolation=cv2.INTER_AREA)
        mask = cv2.resize(s.mask.astype("uint8") * 255, size, interpolation=cv2.INTER_AREA) >= 128
        roi = cv2.resize(s.roi.astype("uint8") * 255, size, interpolation=cv2.INTER_AREA) >= 128
        small.append(Sample(image, mask, widen(roi) if rim != "none" else roi))
    if rim == "all":
        train = [dataclasses.replace(s, roi=widen(s.roi)) for s in train]
    return train + small


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--regime", choices=["lesions", "vessels"], default="lesions")
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sets", nargs="+", choices=sorted(LESION_SETS), default=["c6", "c1"],
                    help="lesions: the PolypGen photos it trains on (module doc)")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=ROOT / "resources" / "models")
    ap.add_argument("--rim", choices=["none", "small", "all"], default="none",
                    help="vessels: widen the HRF fields of view of the 0.3x photos (small) or of all (all) as "
                         "core.fov.estimate_fov widens a field it finds, so the field's edge and the black border "
                         "just outside are trained as background")
    ap.add_argument("--resume", action="store_true",
                    help="continue from the shipped start of this regime (its steps and minutes are added up)")
    ap.add_argument("--learning-rate", type=float, default=None,
                    help="peak learning rate of this run (default: the recipe's; a lower one for --resume keeps more "
                         "of what the start knew: warm-up and cosine decay start again at the peak)")
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    from medseg_gui.ml.config import TrainConfig
    from medseg_gui.ml.init import save_start, shipped_init
    from medseg_gui.ml.train import train

    credit, trained_on = VESSELS
    if args.regime == "lesions":
        credit = f"PolypGen {' and '.join(LESION_SETS[n][0] for n in args.sets)}, {POLYPGEN}"
        trained_on = [LESION_SETS[n][1] for n in args.sets]
    samples = samples_for(args.regime, args.data, args.sets, args.rim)
    before = shipped_init(args.regime) if args.resume else None
    if args.resume and before is None:
        raise SystemExit(f"--resume: no shipped {args.regime} start to continue from")
    meta = json.loads(before.path.with_name(f"{args.regime}-init.json").read_text()) if before else {}
    done = (meta.get("steps", 0), meta.get("minutes", 0.0))
    cfg = TrainConfig(preset="default", minutes=args.minutes, epochs=100_000, seed=args.seed,
                      init="pretrained" if args.resume else "scratch", val_fraction=0.15,
                      learning_rate=args.learning_rate)
    result = train(samples, cfg, progress=lambda p: print(p.message, flush=True) if "validation" in p.message
                   else None)
    if result.preset.regime != args.regime:
        raise SystemExit(f"expected the {args.regime} recipe, got {result.preset.regime}")
    args.out.mkdir(parents=True, exist_ok=True)
    weights = args.out / f"{args.regime}-init.weights.h5"
    save_start(result.model, result.preset, weights, f"the pretrained {args.regime} start ({credit})",
               trained_on=trained_on, trained_in_roi=any(s.roi is not None for s in samples),
               steps=done[0] + result.steps, minutes=done[1] + args.minutes, val_auc=result.val_auc,
               val_dice=result.segmenter.metadata.get("val_dice"), scale=result.preset.scale,
               made=f"bench/pretrain.py on {cpu_model()}, {dt.date.today().isoformat()}")
    print(f"wrote {weights} ({weights.stat().st_size / 1e6:.1f} MB): {result.message}")


if __name__ == "__main__":
    main()
