"""Make the shipped pretrained lesion start (resources/models/lesions-init.*): the `default` recipe's lesion
network trained from scratch on PolypGen centre C6 (88 colonoscopy photos, CC BY 4.0).

Only C6 is used, so the suite's C1 protocols (c1, c1-20) stay unseen by the start; the suite scores its c1c6 row
with a model trained from scratch. Usage: python bench/pretrain.py --minutes 30 [--out resources/models]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from suite import DATA, cpu_model, load_c6  # noqa: E402

CREDIT = ("PolypGen centre C6 (88 photos), CC BY 4.0: Ali S. et al., Scientific Data 10:75 (2023), "
          "doi:10.1038/s41597-023-01981-y")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=ROOT / "resources" / "models")
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    from medseg_gui.ml.config import TrainConfig
    from medseg_gui.ml.init import save_start
    from medseg_gui.ml.train import train

    samples = load_c6(args.data)
    cfg = TrainConfig(preset="default", minutes=args.minutes, epochs=100_000, seed=args.seed, init="scratch",
                      val_fraction=0.15)
    result = train(samples, cfg, progress=lambda p: print(p.message, flush=True) if "validation" in p.message
                   else None)
    if result.preset.regime != "lesions":
        raise SystemExit(f"expected the lesion recipe, got {result.preset.regime}")
    args.out.mkdir(parents=True, exist_ok=True)
    weights = args.out / "lesions-init.weights.h5"
    save_start(result.model, result.preset, weights, f"the pretrained lesion start ({CREDIT})",
               trained_on=["polypgen-C6"], steps=result.steps, minutes=args.minutes, val_auc=result.val_auc,
               val_dice=result.segmenter.metadata.get("val_dice"), scale=result.preset.scale,
               made=f"bench/pretrain.py on {cpu_model()}, {dt.date.today().isoformat()}")
    print(f"wrote {weights} ({weights.stat().st_size / 1e6:.1f} MB): {result.message}")


if __name__ == "__main__":
    main()
