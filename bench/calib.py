"""Calibration of vessel models retrained on sparse strokes (bench/annotator.py's warm arm, CHASE_DB1), and the
thresholds candidate rules would choose. Not a test: prints a table and writes JSON lines.

For each round's new warm model (and the shipped start alone, before any training) on the test images, inside the
FOV: predicted vessel share at the model's threshold vs the true share, test Dice at the calibrated map's
0.2, 0.3, ..., 0.9, the best test Dice over raw thresholds 0.05..0.95, and the raw threshold each rule picks:
  a   the model's operating point (validation.operating_point; before session 36 the best mean Dice over
      THRESHOLDS on the scored pixels of the validation view, since then, for strokes, rule d1o's);
  b   the middle of the THRESHOLDS whose validation Dice is within 0.002 of the best;
  c   prevalence matching: the raw threshold at which the new model's predicted share on the labelled images (in
      ROI, pooled) equals the start's share at its own threshold (round 0: the shipped start's raw map at 0.5; later:
      the previous round's current model at its operating point);
  d1  pseudo-dense validation Dice: on the validation view, truth = the strokes where painted, the start's binary
      prediction elsewhere (in ROI); the best threshold over 0.20..0.80 (0.01 steps; complete labels: rule a);
  d2  the same on every labelled image (training images too);
  e   the raw map at 0.5 (no calibration);
  c0, d1o, d2o  rules c, d1 and d2 with the shipped start (its raw map at 0.5) as the reference in every round.
`--spill N`: object strokes are not cut to the truth but dilated by N px (a brush wider than the vessel), cut to
the ROI only; background strokes stay cut to the truth's complement.

Usage: python bench/calib.py --rounds 3 --seconds 60 --seed 0 [--spill 3] [--out /tmp/calib]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from annotator import Arm, label_figures, samples_for, suggest_next, train_arm  # noqa: E402
from annotator_strokes import Annotation, first_strokes  # noqa: E402
from suite import DATA, cpu_model, load  # noqa: E402

RAW_GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)
CAL_GRID = np.round(np.arange(0.2, 0.91, 0.1), 2)
FINE = np.round(np.arange(0.20, 0.801, 0.01), 2)

# ---- spilling strokes -------------------------------------------------------------------------------------------
SPILL = {"px": 0, "roi": None}
_paint = Annotation.paint


def _spilling_paint(self, pixels, allowed, foreground):
    if foreground and SPILL["px"] > 0:
        r = SPILL["px"]
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        pixels = cv2.dilate(pixels.astype(np.uint8), disc).astype(bool)
        allowed = SPILL["roi"]
    return _paint(self, pixels, allowed, foreground)


Annotation.paint = _spilling_paint


def with_roi(roi, fn, *a, **kw):
    SPILL["roi"] = roi.astype(bool)  # CHASE_DB1: every image has its FOV
    return fn(*a, **kw)


# ---- measures ---------------------------------------------------------------------------------------------------
def raw(seg):
    return seg.variant(operating_point=None)


def op(seg) -> float:
    return seg.operating_point or 0.5


def raw_of_cal(c: float, p: float) -> float:
    """The raw threshold a calibrated map's threshold c means (predict.calibrate inverted)."""
    return c * p / 0.5 if c < 0.5 else p + (c - 0.5) * (1 - p) / 0.5


def dices(prob, truth, where, ts):
    """Dice at each threshold in ts over the pixels `where` (1 when both empty)."""
    p = prob[where]
    t = truth[where].astype(bool)
    allp = np.sort(p)
    posp = np.sort(p[t])
    ts = np.asarray(ts, np.float64)
    n_pred = len(allp) - np.searchsorted(allp, ts, side="left")
    tp = len(posp) - np.searchsorted(posp, ts, side="left")
    den = n_pred + t.sum()
    return np.where(den > 0, 2.0 * tp / np.maximum(den, 1), 1.0)


def share(prob, where, t):
    return float((prob[where] >= t).mean())


def test_measures(seg, test, point: float) -> dict:
    """Raw maps of `seg` on the test images: share at `point` vs truth, Dice curves, AUC."""
    from medseg_gui.core.metrics import roc_auc

    r = raw(seg)
    curves, shares, truths, aucs, pts = [], [], [], [], []
    cal_raw = [raw_of_cal(c, point) for c in CAL_GRID]
    for s in test:
        prob = r.predict(s.image, s.roi, clean=False)
        roi = s.roi.astype(bool)
        curves.append(dices(prob, s.mask, roi, RAW_GRID))
        pts.append(dices(prob, s.mask, roi, [point] + cal_raw))
        shares.append(share(prob, roi, point))
        truths.append(float(s.mask[roi].mean()))
        aucs.append(roc_auc(prob, s.mask, roi))
        test_measures.maps.append(prob)
    curve, pt = np.mean(curves, 0), np.mean(pts, 0)
    b = int(np.argmax(curve))
    return {"point": round(point, 4), "share": round(float(np.mean(shares)), 4),
            "true_share": round(float(np.mean(truths)), 4), "dice": round(float(pt[0]), 4),
            "auc": round(float(np.mean(aucs)), 4), "best_dice": round(float(curve[b]), 4),
            "best_raw_t": float(RAW_GRID[b]),
            "cal_curve": {f"{c:.1f}": round(float(d), 4) for c, d in zip(CAL_GRID, pt[1:])},
            "_curve": curve}


test_measures.maps = []


def test_dice_at(t: float, test) -> float:
    return round(float(np.mean([dices(m, s.mask, s.roi.astype(bool), [t])[0]
                                for m, s in zip(test_measures.maps, test)])), 4)


def rules(seg, start, start_point: float, samples, val_stems, orig=None) -> dict:
    """The raw threshold each rule (module doc) picks for `seg`, trained on `samples` from `start`."""
    from medseg_gui.ml.samples import val_view
    from medseg_gui.ml.validation import THRESHOLDS, _dices

    r, rs = raw(seg), raw(start)
    out = {"a": op(seg), "e": 0.5}
    new_maps, start_maps = [], []
    for s in samples:
        new_maps.append(r.predict(s.image, s.roi, clean=False))
        start_maps.append(rs.predict(s.image, s.roi, clean=False))
    rois = [np.ones(s.mask.shape, bool) if s.roi is None else s.roi.astype(bool) for s in samples]
    # b: validation Dice over THRESHOLDS on the scored pixels (as evaluate_views), middle of the ties
    vidx = [j for j, s in enumerate(samples) if s.name in set(val_stems)]
    views = [val_view(samples[j]) for j in vidx]
    vmaps = [val_view(type(samples[j])(new_maps[j], samples[j].mask, samples[j].roi, samples[j].annotated,
                                       samples[j].name)).image for j in vidx]
    vstart = [val_view(type(samples[j])(start_maps[j], samples[j].mask, samples[j].roi, samples[j].annotated,
                                        samples[j].name)).image for j in vidx]
    if views:
        vd = np.mean([_dices(m, v.mask, v.scored) for m, v in zip(vmaps, views)], axis=0)
        best = vd.max()
        tie = THRESHOLDS[vd >= best - 0.002]
        out["a_check"] = float(THRESHOLDS[int(np.argmax(vd))])
        out["b"] = round(float((tie.min() + tie.max()) / 2), 3)
        out["val_curve"] = {f"{t:.2f}": round(float(d), 4) for t, d in zip(THRESHOLDS, vd)}
    orig_maps = start_maps if orig is None else [raw(orig).predict(s.image, s.roi, clean=False) for s in samples]
    vorig = vstart if orig is None else [val_view(type(samples[j])(orig_maps[j], samples[j].mask, samples[j].roi,
                                                                  samples[j].annotated, samples[j].name)).image
                                         for j in vidx]
    pooled = np.sort(np.concatenate([m[w] for m, w in zip(new_maps, rois)]))
    out["labelled_share_at_a"] = round(float((pooled >= op(seg)).mean()), 4)

    def pseudo(mask, annotated, smap, point):
        if annotated is None:  # a complete label: its truth (then d1 is rule a on a finer grid)
            return mask
        return np.where(annotated, mask, smap >= point)

    def best_fine(maps, truths, wheres):
        d = np.mean([dices(m, t, w, FINE) for m, t, w in zip(maps, truths, wheres)], axis=0)
        return float(FINE[int(np.argmax(d))])

    for suffix, smaps, vs, point in (("", start_maps, vstart, start_point), ("0", orig_maps, vorig, 0.5)):
        # c: prevalence matching on all labelled images (pooled, in ROI)
        ref = np.mean(np.concatenate([(m[w] >= point) for m, w in zip(smaps, rois)]))
        k = int(round((1 - ref) * len(pooled)))
        out["c" + suffix] = round(float(pooled[min(max(k, 0), len(pooled) - 1)]), 4)
        out["ref_share" + suffix] = round(float(ref), 4)
        # d1/d2: pseudo-dense truth (strokes where painted, the start's binary prediction elsewhere), all ROI pixels
        if views:
            vroi = [np.ones(v.mask.shape, bool) if v.roi is None else v.roi.astype(bool) for v in views]
            out["d1" + ("o" if suffix else "")] = best_fine(vmaps, [pseudo(v.mask, v.annotated, sm, point)
                                                   for v, sm in zip(views, vs)], vroi)
        out["d2" + ("o" if suffix else "")] = best_fine(new_maps, [pseudo(s.mask, s.annotated, sm, point)
                                                  for s, sm in zip(samples, smaps)], rois)
    return out


def measure(name: str, seg, test, start, start_point, samples, extra: dict, orig=None) -> dict:
    test_measures.maps = []
    row = {"model": name, **extra, **test_measures(seg, test, op(seg))}
    if start is not None:
        rr = rules(seg, start, start_point, samples, seg.metadata.get("val_stems") or [], orig)
        row["rules"] = {k: rr[k] for k in ("a", "b", "c", "c0", "d1", "d1o", "d2", "d2o", "e") if k in rr}
        row["rule_dice"] = {k: test_dice_at(v, test) for k, v in row["rules"].items()}
        row["val_curve"] = rr.get("val_curve")
        row.update({k: rr[k] for k in ("a_check", "ref_share", "ref_share0", "labelled_share_at_a") if k in rr})
    row.pop("_curve")
    return row


def print_row(row: dict) -> None:
    rules_ = " ".join(f"{k}={v:.2f}:{row['rule_dice'][k]:.3f}" for k, v in row.get("rules", {}).items())
    print(f"{row['model']:<5} st {row.get('steps', 0):>4} kept {str(row.get('kept', '-')):<5} "
          f"t {row['point']:.2f} share {100 * row['share']:5.1f}% (true {100 * row['true_share']:4.1f}%) "
          f"Dice {row['dice']:.3f} best {row['best_dice']:.3f}@{row['best_raw_t']:.2f} AUC {row['auc']:.4f} | "
          f"{rules_} | ref {100 * row.get('ref_share', float('nan')):.1f}%/"
          f"{100 * row.get('ref_share0', float('nan')):.1f}% "
          f"lab@a {100 * row.get('labelled_share_at_a', float('nan')):.1f}%", flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--fixes", type=int, default=3)
    ap.add_argument("--pool", type=int, default=16)
    ap.add_argument("--spill", type=int, default=0)
    ap.add_argument("--dataset", default="chase", choices=["chase", "hrf"])
    ap.add_argument("--n-test", type=int, default=0, help="score only the first N test images (0: all)")
    ap.add_argument("--dense", action="store_true", help="train on the complete labels of the same images instead")
    ap.add_argument("--no-start", action="store_true", help="skip the shipped start alone")
    ap.add_argument("--out", type=Path, default=Path("/tmp/calib"))
    ap.add_argument("--data", type=Path, default=DATA if (DATA / "chase_db1").is_dir() else Path("/work/shared/data"))
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("medseg_gui.ml.fine_tune").setLevel(logging.INFO)
    SPILL["px"] = args.spill
    from medseg_gui.ml.config import TrainConfig
    from suite import start_alone

    train_set, test_set = load(args.dataset, args.data)
    test_set = test_set[:args.n_test] if args.n_test else test_set
    rng = np.random.default_rng(args.seed)
    kw = {"discs": 3, "lines": 6, "bg_discs": 2, "band": 0.15}
    labels = {int(i): with_roi(train_set[i].roi, first_strokes, train_set[i].mask, train_set[i].roi, "vessels", rng,
                               **kw) for i in rng.choice(len(train_set), size=args.k, replace=False)}
    args.out.mkdir(parents=True, exist_ok=True)
    jsonl = args.out / (f"calib{'_hrf' if args.dataset == 'hrf' else ''}_s{args.seed}_spill{args.spill}"
                        f"{'_dense' if args.dense else ''}.jsonl")
    jsonl.write_text("")
    print(f"{args.dataset} ({len(test_set)} test) seed {args.seed} spill {args.spill}{' DENSE' if args.dense else ''}: "
          f"{args.rounds} rounds x {args.seconds:g} s; {cpu_model()}, "
          f"load {os.getloadavg()[0]:.2f}", flush=True)
    arm = Arm("dense", "dense", True) if args.dense else Arm("warm", "sparse", True)
    samples = samples_for(arm, train_set, labels)
    shipped, _ = start_alone(samples, TrainConfig(preset="default", minutes=1, init="auto"))
    if not args.no_start:
        row = measure("start", shipped, test_set, None, None, None, {"scale": shipped.metadata.get("scale")})
        print_row(row)
        with open(jsonl, "a") as fh:
            fh.write(json.dumps(row) + "\n")
    with tempfile.TemporaryDirectory(prefix="calib-") as tmp:
        arm.folder = Path(tmp) / "warm"
        for rnd in range(args.rounds):
            t0 = time.monotonic()
            if rnd > 0:
                warm = arm.segmenter
                # corrections: patched paint needs each image's ROI
                from annotator_strokes import corrections
                t = float(warm.metadata.get("threshold") or 0.5)
                for i, ann in labels.items():
                    s = train_set[i]
                    pred = warm.predict(s.image, s.roi) >= t
                    with_roi(s.roi, corrections, ann, pred, s.mask, s.roi, "vessels", args.fixes)
                unlabelled = [i for i in range(len(train_set)) if i not in labels]
                nxt = suggest_next(warm, train_set, unlabelled, args.pool, rng)
                labels[nxt] = with_roi(train_set[nxt].roi, first_strokes, train_set[nxt].mask, train_set[nxt].roi,
                                       "vessels", rng, **kw)
            start, start_point = (shipped, 0.5) if arm.segmenter is None else (arm.segmenter, op(arm.segmenter))
            samples = samples_for(arm, train_set, labels)
            info = train_arm(arm, samples, args.seconds, args.seed, rnd, True)
            figs = label_figures(train_set, labels)
            # fg painted outside the truth (spill)
            out_px = sum(int((a.fg & ~train_set[i].mask).sum()) for i, a in labels.items())
            extra = {"round": rnd, "seed": args.seed, "spill": args.spill, **figs, "fg_outside_truth_px": out_px,
                     "steps": info["steps"], "kept": info["kept"], "scale": info["scale"],
                     "val_stems": arm.new.metadata.get("val_stems")}
            row = measure(f"r{rnd}", arm.new, test_set, start, start_point, samples, extra,
                          None if start is shipped else shipped)
            row["round_s"] = round(time.monotonic() - t0, 1)
            print_row(row)
            with open(jsonl, "a") as fh:
                fh.write(json.dumps(row) + "\n")
    print(f"wrote {jsonl}")


if __name__ == "__main__":
    main()
