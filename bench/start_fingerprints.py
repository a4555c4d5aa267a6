"""Write the fingerprints of the photos each shipped start was trained on (resources/models/<regime>-init.seen.json,
core/fingerprint.py), from ../shared/data and the file lists bench/pretrain.py trains on; `--measure` prints what
the match threshold (core.fingerprint.MATCH_BITS) rests on: the least distance between two different photos of
HRF, PolypGen and CHASE_DB1, the most between a photo and its JPEG q70 / 0.5x copy, and the time per hash.

Usage: python bench/start_fingerprints.py [--measure] [--data ../shared/data] [--out resources/models]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pretrain import LESION_SETS, photos_for  # noqa: E402
from suite import DATA, _rgb  # noqa: E402

from medseg_gui.core.fingerprint import MATCH_BITS, SeenPhotos, distance, fingerprint  # noqa: E402
from medseg_gui.ml.init import seen_path  # noqa: E402

PHOTOS = {"vessels": "HRF", "lesions": "PolypGen"}


def lesion_sets(models: Path) -> list[str]:
    """The --sets of the shipped lesion start, from its JSON's "trained_on" (bench/pretrain.py LESION_SETS)."""
    trained_on = json.loads((models / "lesions-init.json").read_text())["trained_on"]
    by_tag = {tag: name for name, (_, tag) in LESION_SETS.items()}
    return [by_tag[t] for t in trained_on]


def write(regime: str, data: Path, models: Path) -> Path:
    photos = photos_for(regime, data, lesion_sets(models) if regime == "lesions" else [])
    seen = SeenPhotos(regime, PHOTOS[regime], tuple(fingerprint(s.image) for s in photos))
    path = seen_path(models / f"{regime}-init.weights.h5")
    path.write_text(seen.to_json(), "utf-8")
    print(f"wrote {path}: {len(seen.hashes)} photos, {path.stat().st_size} bytes")
    return path


def _jpeg(image: np.ndarray, quality: int = 70) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def _half(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    return cv2.resize(image, (w // 2, h // 2), interpolation=cv2.INTER_AREA)


def measure(data: Path) -> None:
    files = (sorted((data / "hrf" / "images").glob("*.jpg")) + sorted((data / "polypgen" / "images").glob("*.jpg"))
             + sorted((data / "chase_db1").glob("Image_*.jpg")))
    hashes, same, seconds = {}, [], []
    for f in files:
        image = _rgb(f)
        t0 = time.perf_counter()
        h = fingerprint(image)
        seconds.append((time.perf_counter() - t0, image.shape[0] * image.shape[1] / 1e6))
        hashes[f] = h
        same.append(max(distance(h, fingerprint(_jpeg(image))), distance(h, fingerprint(_half(image))),
                        distance(h, fingerprint(_half(_jpeg(image))))))
    pairs = sorted((distance(hashes[a], hashes[b]), a.name, b.name) for a, b in itertools.combinations(files, 2))
    big = max(seconds, key=lambda s: s[1])
    print(f"{len(files)} photos; most bits from a photo to its JPEG q70 / 0.5x / both copy: {max(same)} "
          f"(mean {np.mean(same):.2f}); least between two different photos: {pairs[0][0]} ({pairs[0][1]}, "
          f"{pairs[0][2]}); the 8 closest pairs: {pairs[:8]}; pairs within "
          f"{MATCH_BITS} bits: {sum(d <= MATCH_BITS for d, *_ in pairs)}; hash of a {big[1]:.1f}-Mpx photo "
          f"{1000 * big[0]:.0f} ms")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=ROOT / "resources" / "models")
    ap.add_argument("--measure", action="store_true", help="print the distances the threshold rests on, write nothing")
    args = ap.parse_args(argv)
    if args.measure:
        measure(args.data)
        return
    for regime in PHOTOS:
        write(regime, args.data, args.out)


if __name__ == "__main__":
    main()
