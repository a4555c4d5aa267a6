"""A simulated clinician: sparse strokes, corrections and "next image" suggestions, each followed by a short retrain,
against dense labelling of the same images in the same CPU time. Not a test: prints a table, writes JSON lines and a
plot.

Protocol (datasets and splits from bench/suite.py: `c1` = PolypGen centre C1, `chase` = CHASE_DB1):
- Round 0: `--k` training images drawn at random (seeded) get first strokes (bench/annotator_strokes.py): a few discs
  inside each lesion and a band of background around it (C1), or short lines along the widest vessels and lines of
  background beside them (CHASE), plus a few background discs. Every stroke is cut to the truth it claims.
- Each later round: the current model predicts the labelled images and the clinician paints one stroke on each of
  the `--fixes` largest wrong regions per image that are not yet annotated (missed object: an object stroke; false
  object: a background stroke); then the app's "next image to label" (core/uncertainty.py: `image_uncertainty` of
  the current model's prediction, `rank_next`) over `--pool` unlabelled images drawn at random gets first strokes.
- After the labels of a round, three arms train for `--seconds` each (ml.train, the `default` preset, which reads
  the recipe from the labels as the app does):
  warm    the sparse labels (`Sample.annotated`), starting from the previous round's weights (TrainConfig(init=
          "current") with `init=` the previous run's start weights, as pipeline.train_class passes them); round 0
          starts as the app does (`init="auto"`: the shipped pretrained start where one fits), or from `--start W`
          (C1: the shipped start saw C1's training photos, the pool the clinician labels here, and alone already
          scores what a 45-s run reaches; the C6-only start of a8f49ea never saw C1);
  scratch the same sparse labels from random weights, the same time box (warm must beat it at every round);
  dense   the complete labels of the same images, warm-started like `warm`: dense labelling in the same CPU time.
  Every arm keeps its models as the app does (ml/store.py) and, like the app, keeps its current model when the new
  one validates worse on the labelled validation image, as it was labelled when the current model was trained
  (keep-unless-better; `--no-guard`: always take the new one).
  Each arm's current model is scored on the held-out test split: mean per-image Dice at the model's threshold and
  AUC (bench/suite.py `score`); a new model the guard rejected is scored too (`<arm>_new_dice`, `<arm>_new_auc`).
- Printed per round: images, strokes and annotated pixels so far (as % of the pixels a dense label of the same
  images has; `obj%`: painted object pixels as % of the object pixels), training seconds so far, and per arm the
  training steps of the round's run (`st`: on a busy CPU building and tracing the model can eat the whole box), the
  working scale the recipe chose, test Dice and AUC.

Targets (issue 12): C1: warm Dice >= 95 % of dense Dice with <= 20 % of the pixels annotated; CHASE_DB1: warm test
AUC >= 0.97 with <= 10 % of the vessel pixels annotated (`obj%`); warm beats scratch at every retrain (Dice on C1,
AUC on CHASE_DB1; round 0 has nothing to continue from, so it is not judged). The CPU may be shared: seconds are
wall-clock time boxes, so a busier CPU trains fewer steps.

Usage: python bench/annotator.py --dataset c1 --rounds 4 --k 3 --seconds 45 [--out bench/out] [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from annotator_strokes import Annotation, annotated_share, corrections, first_strokes  # noqa: E402
from suite import DATA, cpu_model, load, read_start, score  # noqa: E402

REGIME = {"c1": "lesions", "chase": "vessels"}
HEADLINE = {"c1": "dice", "chase": "auc"}  # the metric "warm beats scratch" is judged on
ARMS = ("warm", "scratch", "dense")
COLOURS = {"warm": (200, 90, 0), "scratch": (40, 40, 220), "dense": (60, 160, 60)}  # BGR


@dataclass
class Arm:
    """One training arm: its labels ("sparse"/"dense"), whether it continues from its current model, its model
    folder (ml/store.py, as the app keeps a class's models), the seconds trained so far, its current model and the
    one its last run made (the same unless the guard kept the older one)."""

    name: str
    labels: str
    warm: bool
    folder: Path = Path()
    seconds: float = 0.0
    segmenter: Any = None
    new: Any = None


def train_arm(arm: Arm, samples: list, seconds: float, seed: int, rnd: int, guard: bool,
              prior_weight: float | None = None, first: Any = None) -> dict:
    """One time-boxed run of `arm` as pipeline.train_class runs a Retrain: from the current model's stored start
    (warm; before the arm has a model: `first`, given InitWeights, else the shipped start), against the current
    model on the validation images (`guard`: keep-unless-better; without it the new model always replaces the
    current one), stored by store.save_if_better. Returns its test-free figures."""
    from medseg_gui.ml import store
    from medseg_gui.ml.config import TrainConfig
    from medseg_gui.ml.train import train

    start = (store.current_start(arm.folder) or first) if arm.warm else None
    init = ("current" if start is not None else "auto") if arm.warm else "scratch"
    previous = store.load_segmenter(arm.folder) if guard and store.has_model(arm.folder) else None
    cfg = TrainConfig(preset="default", minutes=seconds / 60.0, epochs=100_000, seed=seed + rnd, init=init,
                      prior_weight=prior_weight)
    then = store.validation_labels(arm.folder, previous.metadata.get("id")) if previous is not None else None
    result = train(samples, cfg, init=start, previous=previous, previous_annotation=then)
    kept = store.save_if_better(arm.folder, result).kept_new
    arm.seconds += result.seconds
    arm.new = result.segmenter
    arm.segmenter = result.segmenter if kept else previous
    md = result.segmenter.metadata
    val = [None if v is None or math.isnan(v) else round(float(v), 4)
           for v in (result.val_auc, result.previous_val_auc)]
    cmp = result.comparison
    cmp = [None if cmp is None or v is None or math.isnan(v) else round(float(v), 4)
           for v in ((cmp.new, cmp.current) if cmp is not None else (None, None))]
    return {"steps": result.steps, "scale": round(float(md.get("scale", 1.0)), 3), "kept": kept,
            "val_auc": val[0], "val_auc_current": val[1], "compared_new": cmp[0], "compared_current": cmp[1],
            "compared_then": bool(result.comparison is not None and result.comparison.basis),
            "init": str(md.get("init", "")).split(" (")[0], "threshold": float(md.get("threshold") or 0.5),
            "start_kept": "start_kept" in md}


def threshold_of(segmenter) -> float:
    return float(segmenter.metadata.get("threshold") or 0.5)


def suggest_next(segmenter, train_set: list, unlabelled: list[int], pool: int, rng: np.random.Generator) -> int:
    """The unlabelled image the app would suggest (most uncertain first) among `pool` drawn at random."""
    from medseg_gui.core.uncertainty import image_uncertainty, rank_next

    drawn = [int(i) for i in rng.choice(unlabelled, size=min(pool, len(unlabelled)), replace=False)]
    t = threshold_of(segmenter)
    scores = {str(i): image_uncertainty(segmenter.predict(train_set[i].image, train_set[i].roi), train_set[i].roi, t)
              for i in drawn}
    return int(rank_next([str(i) for i in drawn], scores, {})[0])


def correct(segmenter, train_set: list, labels: dict[int, Annotation], regime: str, fixes: int) -> int:
    """Corrective strokes on every labelled image from the current prediction; returns the strokes painted."""
    t, painted = threshold_of(segmenter), 0
    for i, ann in labels.items():
        s = train_set[i]
        pred = segmenter.predict(s.image, s.roi) >= t
        painted += corrections(ann, pred, s.mask, s.roi, regime, fixes)
    return painted


def label_figures(train_set: list, labels: dict[int, Annotation]) -> dict:
    """Images, strokes, annotated pixels and shares of the labels so far."""
    anns = list(labels.values())
    rois = [train_set[i].roi for i in labels]
    painted = sum(int(a.annotated.sum()) for a in anns)
    obj = sum(int((train_set[i].mask if train_set[i].roi is None else train_set[i].mask & train_set[i].roi).sum())
              for i in labels)
    return {"images": len(anns), "strokes": sum(a.strokes for a in anns), "ann_px": painted,
            "ann_pct": round(100 * annotated_share(anns, rois), 2),
            "obj_pct": round(100 * sum(int(a.fg.sum()) for a in anns) / max(obj, 1), 2)}


def samples_for(arm: Arm, train_set: list, labels: dict[int, Annotation]) -> list:
    from medseg_gui.ml.train import Sample

    if arm.labels == "dense":  # named, as the app names them: the split keeps an image's place across rounds
        return [replace(train_set[i], name=str(i)) for i in labels]
    return [Sample(train_set[i].image, a.fg, train_set[i].roi, a.annotated, name=str(i)) for i, a in labels.items()]


def print_row(row: dict) -> None:
    def arm(a: str) -> str:
        rejected = "" if row[a + "_kept"] else (f" (new Dice {row[a + '_new_dice']:.3f} AUC {row[a + '_new_auc']:.4f}"
                                                f" not kept)")
        return (f"{a}: {row[a + '_train_s']:>5.0f}s {row[a + '_steps']:>4} st x{row[a + '_scale']:<5g} "
                f"Dice {row[a + '_dice']:.3f} AUC {row[a + '_auc']:.4f}{rejected}"
                + (" (the start kept)" if row.get(a + "_start_kept") else ""))
    arms = "  ".join(arm(a) for a in ARMS if a + "_kept" in row)
    print(f"round {row['round']:>2} | {row['images']:>2} img {row['strokes']:>4} strokes {row['ann_px']:>8} px "
          f"({row['ann_pct']:>5.2f} %, obj {row['obj_pct']:>5.2f} %) | {arms}", flush=True)


def verdict(rows: list[dict], dataset: str) -> list[str]:
    """The issue's targets, met or missed, in words."""
    last, key = rows[-1], HEADLINE[dataset]
    if not all(f"{a}_{key}" in last for a in ARMS):
        return ["(not every arm ran: no verdict)"]
    beats = [r["round"] for r in rows[1:] if not r["warm_" + key] > r["scratch_" + key]]
    lines = [f"warm beats scratch ({key}) at every retrain (rounds 1+): "
             f"{'yes' if not beats else 'NO (rounds ' + str(beats) + ')'}" if len(rows) > 1 else ""]
    if dataset == "c1":
        share = last["warm_dice"] / max(last["dense_dice"], 1e-9)
        ok = share >= 0.95 and last["ann_pct"] <= 20
        lines.append(f"C1 target (>= 95 % of dense Dice with <= 20 % annotated): {'MET' if ok else 'MISSED'} "
                     f"({100 * share:.0f} % of dense Dice with {last['ann_pct']:.1f} % annotated)")
    else:
        ok = last["warm_auc"] >= 0.97 and last["obj_pct"] <= 10
        lines.append(f"CHASE target (AUC >= 0.97 with <= 10 % of vessel pixels annotated): {'MET' if ok else 'MISSED'}"
                     f" (AUC {last['warm_auc']:.4f} with {last['obj_pct']:.1f} % of vessel pixels)")
    return lines


def _panel(img: np.ndarray, x0: int, rows: list[dict], key: str, title: str) -> None:
    """One curve panel (test `key` per round for every arm) drawn with OpenCV into `img` at column `x0`."""
    w, h, left, top, bottom = 420, 300, 50, 40, 60
    vals = [r[f"{a}_{key}"] for r in rows for a in ARMS if np.isfinite(r.get(f"{a}_{key}", np.nan))]
    lo, hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
    pad = max(0.02, 0.1 * (hi - lo))
    lo, hi = max(0.0, lo - pad), min(1.0, hi + pad)
    n = max(1, len(rows) - 1)

    def xy(i: int, v: float) -> tuple[int, int]:
        return x0 + left + int(i * (w - left - 10) / n), top + int((hi - v) / max(hi - lo, 1e-9) * (h - top - bottom))

    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(img, title, (x0 + left, 25), font, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.rectangle(img, (x0 + left, top), (x0 + w - 10, h - bottom), (160, 160, 160), 1)
    for v in np.linspace(lo, hi, 5):
        cv2.putText(img, f"{v:.2f}", (x0 + 5, xy(0, v)[1] + 4), font, 0.4, (80, 80, 80), 1, cv2.LINE_AA)
    for i, r in enumerate(rows):
        x = xy(i, lo)[0]
        cv2.putText(img, f"r{r['round']}", (x - 8, h - bottom + 16), font, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(img, f"{r['ann_pct']:.1f}%", (x - 16, h - bottom + 32), font, 0.35, (80, 80, 80), 1, cv2.LINE_AA)
    cv2.putText(img, "round / annotated % of pixels", (x0 + left, h - 8), font, 0.4, (80, 80, 80), 1, cv2.LINE_AA)
    for a in ARMS:
        pts = [xy(i, r[f"{a}_{key}"]) for i, r in enumerate(rows) if np.isfinite(r.get(f"{a}_{key}", np.nan))]
        for p, q in zip(pts, pts[1:]):
            cv2.line(img, p, q, COLOURS[a], 2, cv2.LINE_AA)
        for p in pts:
            cv2.circle(img, p, 4, COLOURS[a], -1, cv2.LINE_AA)


def plot(rows: list[dict], path: Path, title: str) -> None:
    """Test Dice and AUC per round for the three arms, as a PNG (OpenCV: the venv has no matplotlib)."""
    img = np.full((330, 860, 3), 255, np.uint8)
    _panel(img, 0, rows, "dice", f"{title}: test Dice")
    _panel(img, 430, rows, "auc", f"{title}: test AUC")
    for j, a in enumerate(ARMS):
        label = {"warm": "sparse, warm start", "scratch": "sparse, from scratch", "dense": "dense, same time"}[a]
        x = 60 + 280 * j
        cv2.line(img, (x, 318), (x + 24, 318), COLOURS[a], 3, cv2.LINE_AA)
        cv2.putText(img, label, (x + 30, 322), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    if not cv2.imwrite(str(path), img):
        raise SystemExit(f"cannot write {path}")


def run(args: argparse.Namespace) -> list[dict]:
    train_set, test_set = load(args.dataset, args.data)
    regime, rng = REGIME[args.dataset], np.random.default_rng(args.seed)
    first = read_start(args.start) if args.start is not None else None
    strokes = {"discs": args.discs, "lines": args.lines, "bg_discs": args.bg_discs, "band": args.band}
    labels = {int(i): first_strokes(train_set[i].mask, train_set[i].roi, regime, rng, **strokes)
              for i in rng.choice(len(train_set), size=args.k, replace=False)}
    arms = {"warm": Arm("warm", "sparse", True), "scratch": Arm("scratch", "sparse", False),
            "dense": Arm("dense", "dense", True)}
    arms = {name: arm for name, arm in arms.items() if name in args.arms}
    guard = "the app's keep-unless-better guard" if args.guard else "no guard: every new model is taken"
    args.out.mkdir(parents=True, exist_ok=True)
    jsonl = args.out / f"annotator_{args.dataset}.jsonl"
    jsonl.write_text("")
    print(f"{args.dataset}: {len(train_set)} training images (pool), {len(test_set)} test; k={args.k}, "
          f"{args.rounds} rounds x {args.seconds:g} s x {len(arms)} arms; {cpu_model()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.2f}; {guard}; warm arms start from "
          f"{args.start if args.start is not None else 'the shipped start'}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="annotator-") as tmp:
        for rnd in range(args.rounds):
            t0 = time.monotonic()
            if rnd > 0:
                warm = arms["warm"].segmenter
                correct(warm, train_set, labels, regime, args.fixes)
                unlabelled = [i for i in range(len(train_set)) if i not in labels]
                for _ in range(args.next if unlabelled else 0):
                    nxt = suggest_next(warm, train_set, unlabelled, args.pool, rng)
                    labels[nxt] = first_strokes(train_set[nxt].mask, train_set[nxt].roi, regime, rng, **strokes)
                    unlabelled.remove(nxt)
            row: dict[str, Any] = {"dataset": args.dataset, "round": rnd, **label_figures(train_set, labels)}
            for name, arm in arms.items():
                arm.folder = Path(tmp) / name
                info = train_arm(arm, samples_for(arm, train_set, labels), args.seconds, args.seed, rnd, args.guard,
                                 args.prior_weight, first)
                new = score(arm.new, test_set, info["threshold"])
                kept = new if info["kept"] else score(arm.segmenter, test_set, threshold_of(arm.segmenter))
                row.update({f"{name}_train_s": round(arm.seconds, 1), **{f"{name}_{k}": v for k, v in info.items()},
                            f"{name}_dice": kept["dice"], f"{name}_auc": kept["auc"],
                            f"{name}_new_dice": new["dice"], f"{name}_new_auc": new["auc"]})
            row.update(round_s=round(time.monotonic() - t0, 1), cpu=cpu_model(), cores=os.cpu_count(),
                       load=round(os.getloadavg()[0], 2), date=dt.date.today().isoformat(), seconds=args.seconds,
                       k=args.k, seed=args.seed, prior_weight=args.prior_weight, fixes=args.fixes, next=args.next,
                       pool=args.pool, guard=args.guard, start=str(args.start) if args.start else None,
                       **strokes)
            rows.append(row)
            print_row(row)
            with open(jsonl, "a") as fh:
                fh.write(json.dumps(row) + "\n")
    png = args.out / f"annotator_{args.dataset}.png"
    plot(rows, png, {"c1": "PolypGen C1", "chase": "CHASE_DB1"}[args.dataset])
    for line in verdict(rows, args.dataset):
        print(line)
    print(f"wrote {jsonl} and {png}")
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", choices=sorted(REGIME), default="c1")
    ap.add_argument("--rounds", type=int, default=4, help="training rounds, round 0 included")
    ap.add_argument("--k", type=int, default=3, help="images with first strokes in round 0")
    ap.add_argument("--seconds", type=float, default=45.0, help="time box of every retrain (<= 60 for the issue)")
    ap.add_argument("--fixes", type=int, default=3, help="corrective strokes per labelled image per round")
    ap.add_argument("--next", type=int, default=1, help="suggested images labelled per round")
    ap.add_argument("--pool", type=int, default=16, help="unlabelled images the suggestion is chosen from")
    ap.add_argument("--discs", type=int, default=3, help="first strokes: discs inside each lesion")
    ap.add_argument("--band", type=float, default=0.15,
                    help="first strokes: width of the background band around a lesion, x its inscribed radius")
    ap.add_argument("--lines", type=int, default=6, help="first strokes: lines along the longest vessel segments")
    ap.add_argument("--bg-discs", type=int, default=2, help="first strokes: background discs per image")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--arms", type=lambda t: t.split(","), default=list(ARMS),
                    help="comma-separated arms to run (default all: %(default)s); the warm arm must be one of them")
    ap.add_argument("--prior-weight", type=float, default=None,
                    help="loss weight of the start model's own probability on unannotated pixels in warm runs "
                         "(default: the recipe's, Preset.prior_weight)")
    ap.add_argument("--no-guard", dest="guard", action="store_false",
                    help="take every new model (no keep-unless-better, unlike the app)")
    ap.add_argument("--start", type=Path, default=None,
                    help="a .weights.h5 start (with its .json) for the warm and dense arms' first run instead of "
                         "the shipped one (C1: the C6-only start, which never saw C1's photos)")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--quick", action="store_true", help="smoke run: 2 rounds of 10 s, 2 images, pool 4")
    args = ap.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds, args.k, args.pool = 2, 10.0, 2, 4
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.WARNING)
    run(args)


if __name__ == "__main__":
    main()
