"""Which photos a shipped start was trained on: a 256-bit difference hash per photo (`fingerprint`), robust to
re-encoding and resizing (not to cropping), so a Retrain can tell when the clinician's labelled images are among them
(public datasets are what researchers open) and its validation on them is no held-out check.

`<regime>-init.seen.json` beside a start (ml.init.seen_path; bench/start_fingerprints.py writes it):
`{"regime": "vessels", "photos": "HRF", "hashes": ["8f0e...", ...]}` (64 hex digits per photo).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

GRID = 64  # the gray image is first shrunk (area averaging) to GRID x GRID
DETAIL_SIGMA = 8.0  # then what a Gaussian blur of this sigma (pixels of the grid) keeps is taken away
BITS_SIDE = 16  # and the rest shrunk to (BITS_SIDE + 1) x BITS_SIDE: one bit per pair of horizontal neighbours
MATCH_BITS = 12
"""The most of the 256 bits two fingerprints may differ by for one photo (README "Photos the starts were trained
on"; bench/start_fingerprints.py --measure): a JPEG q70, 0.5x or both copy of each HRF, PolypGen and CHASE_DB1 photo
(417) differed from it by at most 4 bits; two different photos by at least 26 (two frames of one colonoscopy video).
Three PolypGen frames stored twice at two sizes were 3-10 bits apart: one photo. A plain 64-bit dHash (gray at
9x8) gave 0 bits between different fundus photos: the bright disc on black is all it sees."""
START_SEEN = "start_seen"
"""Model metadata of a model whose weights are or began from a shipped start (ml.init.FROM_START): {"photos": "HRF",
"stems": the images of its run that start was trained on, "checked": the images its run fingerprinted}. Their scores
are no honest check of it (the image list's "· seen", `medseg evaluate`'s "seen")."""
SHOWN_NAMES = 3  # images named in the note, then "…"
SCRATCH_ADVICE = " or tick Start from scratch"  # the window's words; `medseg train` says CLI_SCRATCH_ADVICE instead
CLI_SCRATCH_ADVICE = " or train with --init scratch"


def fingerprint(image: np.ndarray) -> int:
    """A 256-bit difference hash of a uint8 HxW or HxWx3 RGB image's detail: gray shrunk to GRID x GRID, less its
    blur (the shape every fundus photo shares: a bright disc on black), shrunk to 17 x 16, one bit per pair of
    horizontal neighbours (1: the right one brighter), row by row. About 50 ms for an 8-Mpx photo."""
    gray = image if image.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)
    small = cv2.resize(gray.astype(np.float32), (GRID, GRID), interpolation=cv2.INTER_AREA)
    detail = small - cv2.GaussianBlur(small, (0, 0), DETAIL_SIGMA)
    cells = cv2.resize(detail, (BITS_SIDE + 1, BITS_SIDE), interpolation=cv2.INTER_AREA)
    return int.from_bytes(np.packbits(cells[:, 1:] > cells[:, :-1]).tobytes(), "big")


def distance(a: int, b: int) -> int:
    """Hamming distance: how many bits differ."""
    return (a ^ b).bit_count()


@dataclass(frozen=True)
class SeenPhotos:
    """The fingerprints of the photos a start was trained on and what they are (`photos`: "HRF", "PolypGen")."""

    regime: str
    photos: str
    hashes: tuple[int, ...]

    def seen(self, value: int) -> bool:
        """Whether the photo whose fingerprint is `value` is one of them (within MATCH_BITS of one)."""
        return any(distance(value, h) <= MATCH_BITS for h in self.hashes)

    def to_json(self) -> str:
        return json.dumps({"regime": self.regime, "photos": self.photos,
                           "hashes": [f"{h:064x}" for h in self.hashes]}, indent=0) + "\n"


def read_seen(path: Path | None) -> SeenPhotos | None:
    """The SeenPhotos stored at `path`; None when absent or damaged (a warning then: the check is a courtesy)."""
    if path is None or not path.is_file():
        return None
    try:
        info = json.loads(path.read_text("utf-8"))
        return SeenPhotos(str(info["regime"]), str(info["photos"]), tuple(int(h, 16) for h in info["hashes"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("cannot read which photos the start was trained on from %s (%s)", path, exc)
        return None


def seen_among(images: Iterable[tuple[str, np.ndarray]], seen: SeenPhotos) -> list[str]:
    """The names of `images` (name, uint8 image) that are photos `seen` lists."""
    return [name for name, image in images if seen.seen(fingerprint(image))]


def recorded_seen(info: dict | None) -> tuple[set[str], set[str]]:
    """(the images a model's start saw, the images its run fingerprinted) by its metadata's START_SEEN; both empty
    when it recorded none."""
    record = (info or {}).get(START_SEEN)
    if not isinstance(record, dict):
        return set(), set()
    stems = _names(record.get("stems"))
    return stems, _names(record.get("checked")) | stems


def _names(value: object) -> set[str]:
    return {s for s in value if isinstance(s, str)} if isinstance(value, list) else set()


def seen_note(names: list[str], seen: SeenPhotos, previous_from_start: bool) -> str:
    """What a run whose validation images `names` are photos its start (or the current model, which came from that
    start: `previous_from_start`) was trained on tells the user; '' when none are. Only validation images are named:
    a start's photo among the training images does not bias the comparison (an outside trial was told two training
    photos were 'not a held-out check')."""
    if not names:
        return ""
    n, kind = len(names), seen.regime.removesuffix("s")
    shown = ", ".join(names[:SHOWN_NAMES]) + (", …" if n > SHOWN_NAMES else "")
    what = f"is one of the {seen.photos} photos" if n == 1 else f"are {seen.photos} photos"
    scratch = "" if previous_from_start else SCRATCH_ADVICE
    return (f"{n} of this run's validation images ({shown}) {what} the built-in {kind} start was trained on: "
            f"validation on {'it' if n == 1 else 'them'} is not a held-out check, and it favours the start and models "
            f"trained from it. For a fair comparison, label other photos{scratch}.")

