"""Photo fingerprints (core.fingerprint): a photo matches its re-encoded and resized copies, not another photo, not
even another fundus photo (a bright disc on black); the shipped starts carry theirs, which know the photos each start
was trained on (../shared/data, when present) and not the demos'."""

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from medseg_gui.core.fingerprint import MATCH_BITS, SeenPhotos, distance, fingerprint, read_seen, seen_note
from medseg_gui.core.images import read_image
from medseg_gui.ml.init import seen_path, shipped_init, shipped_seen

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"


def fundus_like(seed: int, h: int = 600, w: int = 900) -> np.ndarray:
    """A bright disc on black, what every fundus photo shares (a 64-bit dHash of gray at 9x8 could not tell two HRF
    photos apart), with what tells them apart: dark random lines (vessels) and uneven shading. Two of these differ
    by 37 bits or more, as two HRF photos by 40 or more."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    disc = (yy - h / 2) ** 2 + (xx - w / 2) ** 2 < (0.45 * h) ** 2
    image = np.zeros((h, w, 3), np.uint8)
    image[disc] = (190, 100, 50)
    for _ in range(20):
        p1, p2 = (tuple(int(v) for v in rng.integers(0, [w, h])) for _ in range(2))
        cv2.line(image, p1, p2, (90, 40, 20), int(rng.integers(3, 9)))
    image[~disc] = 0
    shade = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 15)
    shade = (30 / shade.std() * shade)[..., None]
    return np.clip(image + shade * disc[..., None] + rng.normal(0, 4, image.shape), 0, 255).astype(np.uint8)


def jpeg(image: np.ndarray, quality: int = 70) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1]


def half(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    return cv2.resize(image, (w // 2, h // 2), interpolation=cv2.INTER_AREA)


def copies(image: np.ndarray) -> list[np.ndarray]:
    """A JPEG q70, 0.5x and both copy, and a 0.5x copy saved as JPEG q50."""
    return [jpeg(image), half(image), half(jpeg(image)), jpeg(half(image), 50)]


def test_a_photo_matches_its_reencoded_and_resized_copies_and_not_another():
    photos = [fundus_like(seed) for seed in range(4)]
    marks = [fingerprint(p) for p in photos]
    for photo, mark in zip(photos, marks):
        assert max(distance(mark, fingerprint(c)) for c in copies(photo)) <= MATCH_BITS // 2
    assert min(distance(a, b) for i, a in enumerate(marks) for b in marks[i + 1:]) > 2 * MATCH_BITS
    assert distance(marks[0], fingerprint(np.flipud(photos[0]))) > 2 * MATCH_BITS  # not the same photo
    seen = SeenPhotos("vessels", "HRF", tuple(marks[:2]))
    assert [seen.seen(fingerprint(c)) for c in (jpeg(photos[1]), half(photos[0]), photos[2], photos[3])] == [
        True, True, False, False]


def test_seen_photos_round_trip_and_a_damaged_file_is_no_match(tmp_path):
    seen = SeenPhotos("lesions", "PolypGen", (0, 2**256 - 1, 12345))
    path = tmp_path / "lesions-init.seen.json"
    path.write_text(seen.to_json())
    assert read_seen(path) == seen
    path.write_text('{"regime": "lesions", "hashes": ["zz"]}')
    assert read_seen(path) is None and read_seen(tmp_path / "missing.json") is None


def test_the_note_names_the_images_and_offers_a_way_out_only_where_there_is_one():
    seen = SeenPhotos("vessels", "HRF", ())
    note = seen_note(["01_h", "01_dr", "02_h", "02_dr"], seen, previous_from_start=False)
    assert note.startswith("4 of this run's validation images (01_h, 01_dr, 02_h, …) are HRF photos the built-in "
                           "vessel "
                           "start was trained on: validation on them is not a held-out check")
    assert note.endswith("label other photos or tick Start from scratch.")
    assert seen_note(["01_h"], seen, previous_from_start=True).endswith("For a fair comparison, label other photos.")
    assert seen_note([], seen, previous_from_start=False) == ""


@pytest.mark.parametrize("regime, photos, count, demo", [("vessels", "HRF", 15, "demo"),
                                                         ("lesions", "PolypGen", 309, "demo_lesion")])
def test_each_shipped_start_carries_the_fingerprints_of_its_photos_not_of_the_demo(regime, photos, count, demo):
    init = shipped_init(regime)
    if init is None:
        pytest.skip(f"no shipped {regime} start in this checkout")
    seen = shipped_seen(regime)
    assert seen is not None and (seen.regime, seen.photos, len(set(seen.hashes))) == (regime, photos, count)
    assert seen_path(init.path).stat().st_size < 32_000
    demo_photos = sorted((ROOT / "resources" / demo / "images").iterdir())
    assert demo_photos and not [p.name for p in demo_photos if seen.seen(fingerprint(read_image(p)))]


def _start_and_split(regime: str, dataset: str):
    """The shipped start's SeenPhotos of `regime` (skipped when there is none) and the rows of `dataset`'s
    splits.csv."""
    seen = shipped_seen(regime)
    if seen is None:
        pytest.skip(f"no shipped {regime} start")
    with open(DATA / dataset / "splits.csv", encoding="utf-8") as f:
        return seen, list(csv.DictReader(f))


@pytest.mark.skipif(not (DATA / "hrf" / "splits.csv").is_file(), reason="no ../shared/data/hrf")
def test_the_vessel_start_knows_its_hrf_training_photos_and_copies_of_them_not_the_test_photos():
    seen, rows = _start_and_split("vessels", "hrf")
    train = [r["stem"] for r in rows if r["split_orlando2017"] == "train"]
    test = [r["stem"] for r in rows if r["split_orlando2017"] == "test"]
    for stem in ("01_h", "02_dr", "02_g"):  # photos an outside trial opened
        photo = read_image(DATA / "hrf" / "images" / f"{stem}.jpg")
        assert stem in train and all(seen.seen(fingerprint(c)) for c in [photo, *copies(photo)[:3]])
    for stem in test[:6]:
        assert not seen.seen(fingerprint(read_image(DATA / "hrf" / "images" / f"{stem}.jpg"))), stem


@pytest.mark.skipif(not (DATA / "polypgen" / "splits.csv").is_file(), reason="no ../shared/data/polypgen")
def test_the_lesion_start_knows_polypgen_c6_not_c1s_test_photos():
    seen, rows = _start_and_split("lesions", "polypgen")
    c6 = [r["stem"] for r in rows if r["centre"] == "C6"][:3]
    test = [r["stem"] for r in rows if r["centre"] == "C1" and r["split"] == "test"][:6]
    folder = DATA / "polypgen" / "images"
    assert all(seen.seen(fingerprint(half(read_image(folder / f"{s}.jpg")))) for s in c6)
    assert not [s for s in test if seen.seen(fingerprint(read_image(folder / f"{s}.jpg")))]
