"""The recipe suite: fixed protocols on every openly licensed dataset in ../shared/data, one table.

Protocols (a recipe is judged by the mean over all of them, never by one):
- chase   CHASE_DB1: images sorted by name, first 20 train / last 8 test, 1st observer, metrics inside the FOV.
- hrf     HRF: the 15/30 split of its splits.csv (Orlando et al. 2017), full resolution, inside the FOV.
- c1      PolypGen centre C1: train on its train + validation splits (the trainer holds out its own validation
          images), test on its test split.
- c1c6    A C1 model tested on all 88 photos of centre C6 (another hospital and endoscope). The shipped lesion start
          was pretrained on C6 (bench/pretrain.py), so this row always trains from scratch (`init` column).
- c6c1    The mirror: train on all 88 photos of C6, test on C1's test split (the c1 rows' 25 photos). Both shipped
          starts saw C6 and the current one C1's training photos, so this row trains from scratch unless `--start`
          names other weights: with the C6-only start (`git show a8f49ea:resources/models/lesions-init.*`), which
          never saw C1, it measures the product's default path on another clinic without a leak (a start that knows
          the clinic whose photos it is fine-tuned on, tested on a clinic neither saw: as the shipped start, which saw
          C1 and C6, meets another hospital's photos).
- c1-20   The clinician's regime: 20 C1 training photos (a seeded draw), 3 minutes, tested on the C1 test split.
Per run: mean per-image AUC (images whose truth has one class are skipped), mean Dice and IoU at the model's
threshold (chosen on the validation images; 0.5 for models without one), lesion recall (a lesion is found when a
predicted component has IoU >= 0.5 with it; specks are not lesions) and HD95 (core/lesions.py), inference s/image
and s/Mpx, training px/s, the run's peak RSS, the precision, CPU model and date. Empty truth masks (5 PolypGen
frames without a polyp): Dice and IoU are 1 when the prediction is empty too and 0 otherwise; recall and HD95 skip
them; AUC skips them.
Each run is a subprocess (clean peak-RSS figure). Not a test: prints JSON lines and a table.
A budget of 0 minutes scores the shipped start of the regime the labels call for (or `--start`'s), untrained and
uncalibrated (its raw map at 0.5): the floor every run from that start should beat.

Usage: python bench/suite.py --protocols chase hrf c1 c1-20 --presets default --budgets 3 10 [--json runs.jsonl]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import logging
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"
PROTOCOLS = ("chase", "hrf", "c1", "c1c6", "c6c1", "c1-20")
CROSS_CLINIC = ("c1c6", "c6c1")  # trained from scratch unless --start names a start that did not see the test clinic
FEW_LABELS, FEW_MINUTES = 20, 3.0


def _rgb(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise SystemExit(f"cannot read {path}")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def _mask(path: Path, cut: int = 128) -> np.ndarray:
    m = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if m is None:
        raise SystemExit(f"cannot read {path}")
    return m >= cut


def load(protocol: str, data: Path):
    """(train samples, test samples) of a protocol."""
    from medseg_gui.ml.train import Sample

    if protocol == "chase":
        folder = data / "chase_db1"
        stems = sorted(p.stem for p in folder.glob("Image_*.jpg"))
        s = [Sample(_rgb(folder / f"{t}.jpg"), _mask(folder / f"{t}_1stHO.png"), _mask(folder / f"{t}_mask.png"))
             for t in stems]
        return s[:20], s[20:]
    if protocol == "hrf":
        folder = data / "hrf"
        rows = list(csv.DictReader(open(folder / "splits.csv")))

        def sample(stem: str):
            return Sample(_rgb(folder / "images" / f"{stem}.jpg"), _mask(folder / "manual" / f"{stem}.png"),
                          _mask(folder / "mask" / f"{stem}.png"))
        return ([sample(r["stem"]) for r in rows if r["split_orlando2017"] == "train"],
                [sample(r["stem"]) for r in rows if r["split_orlando2017"] == "test"])
    rows = polypgen_rows(data, "C1")
    test = [r for r in rows if r["split"] == "test"]
    if protocol == "c6c1":
        return load_c6(data), polypgen_samples(data, test)
    c1_train = [r for r in rows if r["split"] in ("train", "validation")]
    if protocol == "c1-20":
        pick = np.random.default_rng(0).permutation(len(c1_train))[:FEW_LABELS]
        c1_train = [c1_train[i] for i in sorted(pick)]
    return polypgen_samples(data, c1_train), polypgen_samples(data, test)


def polypgen_rows(data: Path, centre: str) -> list[dict]:
    """The rows (stem, centre, split) of one PolypGen centre's photos in its splits.csv."""
    return [r for r in csv.DictReader(open(data / "polypgen" / "splits.csv")) if r["centre"] == centre]


def polypgen_samples(data: Path, rows: list[dict]):
    from medseg_gui.ml.train import Sample

    folder = data / "polypgen"
    return [Sample(_rgb(folder / "images" / f"{r['stem']}.jpg"), _mask(folder / "masks" / f"{r['stem']}.jpg"))
            for r in rows]


def load_c6(data: Path):
    return polypgen_samples(data, polypgen_rows(data, "C6"))


def score(segmenter, test, threshold: float) -> dict:
    """Mean per-image metrics (see the module doc) and inference speed."""
    from medseg_gui.core.lesions import lesion_metrics
    from medseg_gui.core.metrics import roc_auc

    per, secs, mpx = [], [], []
    for s in test:
        t0 = time.perf_counter()
        prob = segmenter.predict(s.image, s.roi)
        secs.append(time.perf_counter() - t0)
        mpx.append(s.image.shape[0] * s.image.shape[1] / 1e6)
        m = lesion_metrics(prob >= threshold, s.mask, s.roi)
        m["auc"] = roc_auc(prob, s.mask, s.roi)
        per.append(m)

    def mean(key: str) -> float:
        v = [p[key] for p in per if not np.isnan(p[key])]
        return float(np.mean(v)) if v else float("nan")
    steady = secs[1:] or secs
    return {"n_test": len(test), "auc": mean("auc"), "dice": mean("dice"), "iou": mean("iou"),
            "recall": mean("recall"), "hd95": mean("hd95"), "infer_s": float(np.median(steady)),
            "infer_s_per_mpx": float(np.median(np.array(steady) / np.array(mpx[1:] or mpx)))}


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def keep(folder: Path, name: str, segmenter, test) -> None:
    """Store a run's model (`<name>.keras` + `.json`) and its test maps (`<name>.npz`: float16 probabilities,
    calibrated, without flips or clean-up; the truth masks), for analysis after the run (e.g. of clean-ups)."""
    folder.mkdir(parents=True, exist_ok=True)
    segmenter.model.save(folder / f"{name}.keras")
    (folder / f"{name}.json").write_text(json.dumps(segmenter.metadata, indent=1, default=str))
    maps = {f"prob{i}": segmenter.predict(s.image, s.roi, tta=1, clean=False).astype(np.float16)
            for i, s in enumerate(test)}
    np.savez_compressed(folder / f"{name}.npz", **maps, **{f"mask{i}": s.mask for i, s in enumerate(test)})


def read_start(path: Path):
    """The InitWeights of a `--start` (a `.weights.h5` with its JSON, ml/init.py); exits naming it when unreadable."""
    from medseg_gui.ml.init import read_init

    if (start := read_init(path)) is None:
        raise SystemExit(f"cannot read the start {path} (a .weights.h5 with its .json)")
    return start


def start_alone(train_set, cfg, given=None) -> tuple:
    """(a Segmenter of `given` (InitWeights), else of the shipped start for the regime `train_set`'s labels call for,
    untrained, at the working scale a run would use; the preset)."""
    from medseg_gui.ml.init import fits, shipped_init
    from medseg_gui.ml.predict import Segmenter, preset_metadata
    from medseg_gui.ml.regime import labels_recipe
    from medseg_gui.ml.unet import build_unet, inference_model

    preset = cfg.resolved(labels_recipe(train_set, cfg))
    start = given if given is not None else shipped_init(preset.regime)
    if start is None or fits(start, preset):
        raise SystemExit(f"no {'given' if given is not None else 'shipped'} start fits the {preset.name} recipe")
    model = build_unet(preset.unet)
    model.load_weights(start.path)
    return Segmenter(inference_model(model, preset.unet), preset_metadata(preset)), preset


def run_job(protocol: str, preset: str, minutes: float, seed: int, data: Path, precision: str, init: str,
            keep_dir: Path | None = None, learning_rate: float | None = None, warm_mix: float | None = None,
            full_rate_mix: float | None = None, start: Path | None = None, patch_size: int | None = None,
            batch_size: int | None = None) -> list[dict]:
    """Train once and score; c1 from scratch also scores the same model on C6 (row `c1c6`); the c1c6 job trains
    on C1 from scratch and scores only C6. `keep_dir`: store the model and its test maps there (`keep`);
    `learning_rate`: the run's peak rate as given (None: the recipe's, lowered when fine-tuning: ml/fine_tune.py);
    `warm_mix`, `full_rate_mix`: the share of the trained weights a run from trained weights keeps with few / many
    labels (None: the recipe's, Preset.warm_mix / full_rate_mix); `start`: a `.weights.h5` start (with its JSON,
    ml/init.py) every run begins from instead of the shipped one (the cross-clinic rows: instead of scratch);
    `patch_size`, `batch_size`: the recipe's patches per step and their side, as given (None: the recipe's)."""
    from medseg_gui.ml.config import TrainConfig
    from medseg_gui.ml.train import train

    c6_only = protocol == "c1c6"
    given = read_start(start) if start is not None else None
    init = "current" if given is not None else "scratch" if protocol in CROSS_CLINIC else init
    train_set, test_set = load("c1" if c6_only else protocol, data)
    cfg = TrainConfig(preset=preset, minutes=minutes, epochs=100_000, seed=seed, precision=precision, init=init,
                      learning_rate=learning_rate, warm_mix=warm_mix, full_rate_mix=full_rate_mix,
                      patch_size=patch_size, batch_size=batch_size)
    if minutes == 0:  # the shipped start alone (module doc)
        segmenter, resolved = start_alone(train_set, cfg, given)
        row = {"protocol": protocol, "preset": preset, "minutes": 0, "seed": seed, "steps": 0, "train_s": 0.0,
               "train_px_s": 0, "threshold": 0.5, "regime": resolved.regime, "scale": resolved.scale,
               "precision": "float32", "init": "start alone", "start": str(start) if given is not None else None,
               "n_train": len(train_set), "cpu": cpu_model(),
               "cores": os.cpu_count(), "date": dt.date.today().isoformat(), **score(segmenter, test_set, 0.5)}
        return [{**row, "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}]
    result = train(train_set, cfg, init=given)
    md = result.segmenter.metadata
    threshold = float(md.get("threshold", 0.5))
    base = {"preset": preset, "minutes": minutes, "seed": seed, "steps": result.steps,
            "train_s": round(result.seconds, 1), "train_px_s": round(result.pixels / max(result.seconds, 1e-9)),
            "val_auc": result.val_auc, "stop": result.stop_reason, "threshold": threshold,
            "start_kept": md.get("start_kept"), "operating_point": md.get("operating_point"),
            "regime": md.get("regime"), "scale": md.get("scale"), "precision": md.get("precision"),
            "init": ("given" if given is not None and md.get("init") == given.source else "pretrained"
                     if "pretrained" in str(md.get("init")) else str(md.get("init")).split(" ")[0]),
            "start": str(start) if given is not None else None,
            "n_train": len(train_set), "learning_rate": learning_rate, "patch_size": patch_size,
            "batch_size": batch_size,
            "weight_mix": md.get("weight_mix"), "cpu": cpu_model(), "cores": os.cpu_count(),
            "date": dt.date.today().isoformat(),
            "validations": [[h["step"], h["val_auc"], h.get("val_dice")] for h in result.history]}
    rows = [] if c6_only else [{"protocol": protocol, **base, **score(result.segmenter, test_set, threshold)}]
    if keep_dir is not None and not c6_only:
        keep(keep_dir, f"{protocol}-{preset}-{minutes:g}-{seed}", result.segmenter, test_set)
    if rows and ("tta" in md or "postprocess" in md or "scales" in md):  # what the model's own choices changed
        from medseg_gui.ml.predict import Segmenter

        plain = Segmenter(result.segmenter.model, {k: v for k, v in md.items()
                                                    if k not in ("tta", "postprocess", "scales")})
        rows[0].update(dice_plain=score(plain, test_set, threshold)["dice"], tta=md.get("tta", 1),
                       scales=md.get("scales"), postprocess=md.get("postprocess"))
    if c6_only or (protocol == "c1" and base["init"] == "scratch"):
        del train_set, test_set
        rows.append({"protocol": "c1c6", **base, **score(result.segmenter, load_c6(data), threshold)})
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    for r in rows:
        r["peak_rss_mb"] = round(rss)
    return rows


def jobs_for(protocols: list[str], presets: list[str], budgets: list[float], init: str, start: Path | None = None
             ) -> list[tuple[str, str, float]]:
    jobs = []
    for preset in presets:
        for proto in protocols:
            if proto == "c1c6" and "c1" in protocols and init == "scratch" and start is None:
                continue  # scored by the c1 run
            for minutes in (sorted({m and FEW_MINUTES for m in budgets}) if proto == "c1-20" else budgets):
                if not (proto in CROSS_CLINIC and minutes == 0 and start is None):  # the shipped start saw both
                    jobs.append((proto, preset, minutes))
    return jobs


def print_table(rows: list[dict]) -> None:
    print(f"\n{'protocol':<8} {'preset':<10} {'min':>4} {'steps':>6} {'AUC':>7} {'Dice':>6} {'IoU':>6} "
          f"{'recall':>6} {'HD95':>7} {'s/img':>6} {'s/Mpx':>6} {'kpx/s':>6} {'RSS MB':>7} {'prec':>8} "
          f"{'init':>10}  scale")
    for r in rows:
        print(f"{r['protocol']:<8} {r['preset']:<10} {r['minutes']:>4g} {r['steps']:>6} {r['auc']:>7.4f} "
              f"{r['dice']:>6.3f} {r['iou']:>6.3f} {r['recall']:>6.3f} {r['hd95']:>7.1f} {r['infer_s']:>6.2f} "
              f"{r['infer_s_per_mpx']:>6.2f} {r['train_px_s'] / 1000:>6.0f} {r['peak_rss_mb']:>7} "
              f"{r['precision']:>8} {r['init']:>10}  {r['scale']}")
    if rows:
        print(f"machine: {rows[0]['cpu']}, {rows[0]['cores']} cores; {rows[0]['date']}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--protocols", nargs="+", default=list(PROTOCOLS), choices=PROTOCOLS)
    ap.add_argument("--presets", nargs="+", default=["default"])
    ap.add_argument("--budgets", nargs="+", type=float, default=[3, 10], help="minutes per run (c1-20: always 3)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--precision", default="auto", choices=["auto", "float32", "bfloat16"])
    ap.add_argument("--init", default="auto", choices=["auto", "scratch", "pretrained"],
                    help="start of each run (c1c6, c6c1: from scratch, the shipped start saw both clinics)")
    ap.add_argument("--start", type=Path, default=None,
                    help="a .weights.h5 start (with its .json) for every run instead of the shipped one")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--json", type=Path, default=None, help="append one JSON line per row to this file")
    ap.add_argument("--learning-rate", type=float, default=None, help="peak rate of every run, as given")
    ap.add_argument("--warm-mix", type=float, default=None,
                    help="share of the trained weights a fine-tuning run keeps (1: off; default: the recipe's)")
    ap.add_argument("--full-rate-mix", type=float, default=None,
                    help="the same for runs from trained weights at the full rate (many complete labels)")
    ap.add_argument("--keep", type=Path, default=None, help="store each run's model and raw test maps here")
    ap.add_argument("--patch-size", type=int, default=None, help="side of the training patches (default: the recipe's)")
    ap.add_argument("--batch-size", type=int, default=None, help="patches per step (default: the recipe's)")
    ap.add_argument("--job", nargs=3, metavar=("PROTOCOL", "PRESET", "MINUTES"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.WARNING)
    if args.job:
        proto, preset, minutes = args.job
        for row in run_job(proto, preset, float(minutes), args.seed, args.data, args.precision, args.init,
                           args.keep, args.learning_rate, args.warm_mix, args.full_rate_mix, args.start,
                           args.patch_size, args.batch_size):
            print("ROW " + json.dumps(row), flush=True)
        return
    rows = []
    for proto, preset, minutes in jobs_for(args.protocols, args.presets, args.budgets, args.init, args.start):
        cmd = [sys.executable, __file__, "--job", proto, preset, str(minutes), "--seed", str(args.seed),
               "--precision", args.precision, "--init", args.init, "--data", str(args.data)]
        cmd += ["--start", str(args.start)] if args.start else []
        cmd += ["--keep", str(args.keep)] if args.keep else []  # (no maps are kept of a start-alone row)
        cmd += ["--learning-rate", str(args.learning_rate)] if args.learning_rate else []
        cmd += ["--warm-mix", str(args.warm_mix)] if args.warm_mix is not None else []
        cmd += ["--full-rate-mix", str(args.full_rate_mix)] if args.full_rate_mix is not None else []
        cmd += ["--patch-size", str(args.patch_size)] if args.patch_size else []
        cmd += ["--batch-size", str(args.batch_size)] if args.batch_size else []
        out = subprocess.run(cmd, capture_output=True, text=True)
        got = [json.loads(line[4:]) for line in out.stdout.splitlines() if line.startswith("ROW ")]
        if out.returncode != 0 or not got:
            print(f"{proto} {preset} {minutes:g} min FAILED:\n{out.stderr[-2000:]}", flush=True)
            continue
        for row in got:
            rows.append(row)
            print(json.dumps(row), flush=True)
            if args.json:
                with open(args.json, "a") as fh:
                    fh.write(json.dumps(row) + "\n")
    print_table(rows)


if __name__ == "__main__":
    main()
