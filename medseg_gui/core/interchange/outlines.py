"""Export photos with each class's outline drawn on them (for reports, teaching and the patient record, like the cervix
reference implementation's figures): <out>/<stem>_outlined.png, the photo at its own size, untouched but for the
lines (lossless PNG), and manifest.json saying which outline is a human label and which a model prediction.

Drawing convention: a human label's outline is a solid line, a model prediction's (thresholded) a dashed one; a
sparse label completed by the prediction ('label+prediction') is solid where the user annotated and dashed elsewhere.
Every outline (outer boundaries and holes) is in its class's colour with a thin dark edge, so that it shows on bright
and dark tissue; its width grows with the photo (2 px up to about 1 megapixel, 7 px at 12). A thin-structure class
(vessels: core.label_status.known_thin, else its mask's shape) gets a 1 px line just outside each vessel and its edge
beyond it, so the vessels themselves stay as photographed (an outside trial's 8 Mpx fundus photos: 12-16 px of line
and edge on both sides of a vessel covered it). An image with no mask of any chosen class gets no file.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from medseg_gui.core.errors import CancelledError, MedsegError, skip, write_error
from medseg_gui.core.export import (SOURCES, MaskToExport, check_export_target, has_source, masks_of_image,
                                     refuse_foreign_files, unique_png_name)
from medseg_gui.core.images import write_png
from medseg_gui.core.interchange.manifest import ACCEPTED, LABEL_AND_PREDICTION, MANIFEST, Manifest
from medseg_gui.core.label_status import ACCEPTED_KEY, has_mark, known_thin
from medseg_gui.core.project import Project
from medseg_gui.core.shapes import is_thin

log = logging.getLogger(__name__)

OUTLINED_SUFFIX = "_outlined"  # <stem>_outlined.png: never the name of a mask a PNG export wrote there (review)
DASH = 4  # a dash and a gap are each this many line widths long
EDGE = (0, 0, 0)  # the thin dark edge around every line
LINES = {"label": "solid", "prediction": "dashed", ACCEPTED: "dashed (a model's prediction accepted as the label)",
         LABEL_AND_PREDICTION: "solid where annotated, dashed where the prediction filled in"}
DRAWING_NOTE = ("Outlines: a human label's is a solid line, a model prediction's (at the threshold) a dashed one; a "
                "sparse label filled in by the prediction ('label+prediction') is solid where it was annotated and "
                "dashed elsewhere; a prediction accepted whole as the label (Accept prediction) is dashed too. Each "
                "class in its own colour with a thin dark edge; a thin-structure class's (vessels) is a 1 px line "
                "just outside each vessel, which it leaves untouched; the photo is otherwise unchanged.")
THIN_WIDTH = 1  # a thin-structure class's line, whatever the photo's size


def line_width(shape: Sequence[int], thin: bool = False) -> int:
    """The outline's width in pixels for a photo of `shape` (H, W, ...): 2 up to about 1 megapixel, then growing with
    the photo's side (7 at 12 megapixels); THIN_WIDTH for a thin-structure class (`thin`)."""
    return THIN_WIDTH if thin else max(2, round(2 * math.sqrt(shape[0] * shape[1] / 1e6)))


def _drawn_points(points: np.ndarray, period: float, solid: np.ndarray | bool) -> np.ndarray:
    """bool per point of a closed contour (N x 2, x y): True where the line is drawn, the dashes spread evenly round
    it (at least one gap however short it is), always where `solid` (bool or HxW bool) is True there."""
    steps = np.hypot(*(np.roll(points, -1, axis=0) - points).T)
    along = np.concatenate([[0.0], np.cumsum(steps)[:-1]])
    repeat = steps.sum() / max(1, round(steps.sum() / period))
    dashed = (along % repeat) < repeat / 2 if repeat > 0 else np.ones(len(points), bool)
    if isinstance(solid, np.ndarray):
        return dashed | solid[points[:, 1], points[:, 0]]
    return dashed | solid


def _runs(drawn: np.ndarray) -> list[slice]:
    """The runs of True in a closed (circular) sequence, as slices into it rolled so that no run wraps."""
    edges = np.flatnonzero(np.diff(np.concatenate([[False], drawn, [False]]).astype(np.int8)))
    return [slice(a, b) for a, b in zip(edges[::2], edges[1::2])]


def outline_pixels(mask: np.ndarray, width: int, solid: np.ndarray | bool = True) -> np.ndarray:
    """bool HxW: the line along the boundaries of `mask` (outer ones and holes), `width` pixels wide and centred on
    the mask's boundary pixels; dashed except where `solid` (True: everywhere; an HxW bool: there)."""
    line = np.zeros(mask.shape, np.uint8)
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    for contour in contours:
        points = contour.reshape(-1, 2)
        drawn = _drawn_points(points, 2 * DASH * width, solid)
        if drawn.all():
            cv2.polylines(line, [points], True, 1, width)
            continue
        start = int(np.argmin(drawn))  # begin at a gap: no run wraps round the contour's end
        points, drawn = np.roll(points, -start, axis=0), np.roll(drawn, -start)
        for run in _runs(drawn):
            cv2.polylines(line, [points[run]], False, 1, width)
    return line.view(bool)


def draw_outline(photo: np.ndarray, mask: np.ndarray, color: Sequence[int], width: int,
                 solid: np.ndarray | bool = True, outside: bool = False) -> None:
    """Draw `mask`'s outline (outline_pixels) in `color` on the uint8 HxWx3 RGB `photo`, in place, with a dark edge
    about a quarter of `width` wide (at least 1 px) around the line; other pixels are left as they are. `outside`
    (a thin-structure class): the line runs along the pixels just outside `mask` and neither it nor its edge covers a
    pixel of `mask`."""
    inside = np.asarray(mask, bool)
    if outside:  # the line's pixels lie just outside: so does where it is solid (a sparse label's traced vessels)
        grown = cv2.dilate(inside.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool)
        if isinstance(solid, np.ndarray):
            solid = cv2.dilate(solid.astype(np.uint8), np.ones((3, 3), np.uint8)).view(bool)
    line = outline_pixels(grown if outside else inside, width, solid)
    edge = 2 * max(1, round(width / 4)) + 1
    around = cv2.dilate(line.view(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (edge, edge))).view(bool)
    edged = around & ~line
    photo[edged & ~inside if outside else edged] = EDGE
    photo[line] = tuple(int(v) for v in color)


@dataclass(frozen=True)
class OutlineExport:
    """What export_outlines wrote: the photos, how many outlines of each class by source ({class: {source: n}})."""

    out_dir: Path
    files: tuple[Path, ...]
    drawn: dict[str, dict[str, int]]
    threshold: float
    skipped: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.files)

    def convention(self) -> str:
        """'solid line = your label, dashed = the model's prediction ≥ 0.50' for the sources drawn."""
        sources = {s for counts in self.drawn.values() for s in counts}
        parts = ["solid line = your label"] if sources & {"label", LABEL_AND_PREDICTION} else []
        if sources & {"prediction", LABEL_AND_PREDICTION}:
            parts.append(f"dashed = the model's prediction ≥ {self.threshold:.2f}")
        if ACCEPTED in sources:
            parts.append("a prediction you accepted as the label is dashed too (the model drew it)")
        if LABEL_AND_PREDICTION in sources:
            parts.append("a sparse label filled in by the prediction is solid where you annotated it")
        return ", ".join(parts)

    def summary(self) -> str:
        """'Wrote 3 photos with outlines to /out: lesion on 3 (2 labels, 1 prediction); solid line = …'."""
        text = f"Wrote {self.count} photo{'' if self.count == 1 else 's'} with outlines to {self.out_dir}"
        per_class = [f"{cls} on {sum(n.values())} ({_counted(n)})" for cls, n in self.drawn.items() if n]
        return text + (f": {', '.join(per_class)}; {self.convention()}" if per_class else "")


def _counted(counts: dict[str, int]) -> str:
    words = {"label": "label", "prediction": "prediction", LABEL_AND_PREDICTION: "label filled by the prediction",
             ACCEPTED: "accepted prediction"}
    return ", ".join(f"{n} {words[s]}{'' if n == 1 else 's'}" for s, n in counts.items())


def export_outlines(
    project: Project, classes: list[str], out_dir: str | os.PathLike[str], source: str = "auto",
    threshold: float = 0.5, skipped: list[str] | None = None, should_stop: Callable[[], bool] = lambda: False,
    progress: Callable[[tuple[int, int, str]], None] = lambda _p: None,
) -> OutlineExport:
    """Write out_dir/<stem>_outlined.png (the photo with the outlines of `classes`, core.export.mask_to_export's
    masks for `source` and `threshold`) for every image with a mask of one of them, and manifest.json. Reports
    `(done, total, file)` after each image; CancelledError between images when `should_stop()` (the manifest lists
    those written); unreadable images are skipped with a message (to `skipped` when given, else the log); WriteError
    when a file cannot be written (those before it stay; the message says how far it got)."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    for cls in classes:
        project.class_spec(cls)  # ProjectError for an unknown class before anything is written
    out = Path(out_dir)
    check_export_target(project, out)
    taken: set[str] = set()
    names = {stem: unique_png_name(stem + OUTLINED_SUFFIX, taken) for stem in project.stems
             if any(has_source(project, cls, stem, source) for cls in classes)}
    refuse_foreign_files(project, out, names.values())
    manifest = Manifest(project, "outlines", source, threshold)
    manifest.notes.append(DRAWING_NOTE)
    if names:
        manifest.claim(out, names.values())
    left_out: list[str] = []
    files: list[Path] = []
    drawn: dict[str, dict[str, int]] = {cls: {} for cls in classes}
    known = known_thin(project)
    try:
        for n, (stem, name) in enumerate(names.items(), start=1):
            if should_stop():
                raise CancelledError(f"Export cancelled after {len(files)} of {len(names)} photos (in {out}).")
            found = masks_of_image(project, classes, stem, source, threshold, left_out)
            photo = _outlined(project, stem, found, left_out, known) if found else None
            if photo is not None:
                path = out / name
                try:
                    write_png(path, photo)
                except OSError as err:
                    raise write_error(f"Export incomplete: could not write photo {n} of {len(names)} "
                                      f"({len(files)} written)", err, path) from err
                files.append(path)
                for cls, mask in found.items():
                    kind = _kind(project, cls, stem, mask)
                    drawn[cls][kind] = drawn[cls].get(kind, 0) + 1
                    manifest.add(stem, cls, mask.source, sparse=mask.annotated is not None, file=name,
                                 line=LINES[kind])
            progress((n, len(names), name))
    except BaseException:
        _finish(manifest, out, files, left_out, skipped, quiet=True)  # the error that stopped it is the one said
        raise
    _finish(manifest, out, files, left_out, skipped)
    return OutlineExport(out, tuple(files), drawn, threshold, tuple(left_out))


def _finish(manifest: Manifest, out: Path, files: list[Path], left_out: list[str],
            skipped: list[str] | None, quiet: bool = False) -> None:
    """manifest.json once some photo was written (also when the export stops half-way), and the images left out.
    `quiet` (stopped by another error): a manifest that cannot be written is logged, not raised over that error (a
    full disk said 'could not write the manifest', not how far the export got: review)."""
    for message in left_out:
        skip(skipped, message)
    if not files:
        return
    try:
        manifest.write(out)
    except OSError as err:
        if quiet:
            log.warning("could not write %s after the export stopped: %s", out / MANIFEST, err)
            return
        raise write_error("Export incomplete: could not write the manifest", err, out / MANIFEST) from err
    log.info("exported %d photo(s) with outlines to %s", len(files), out)


def _outlined(project: Project, stem: str, found: dict[str, MaskToExport], left_out: list[str],
              known: dict[str, bool]) -> np.ndarray | None:
    """`stem`'s photo (uint8 HxWx3 RGB, as the app reads it) with the outlines of `found` drawn on it in class order,
    thin-structure classes (`known`: known_thin; a class it leaves out: its mask's shape) thin; None (with a message
    in `left_out`) when the photo cannot be read or is not the size of the masks."""
    try:
        photo = project.load_image(stem)
    except MedsegError as err:
        skip(left_out, f"{stem} not exported: {err}")
        return None
    odd = next((cls for cls, mask in found.items() if mask.mask.shape != photo.shape[:2]), None)
    if odd is not None:  # the photo was replaced while exporting
        skip(left_out, f"{stem} not exported: its {odd} mask is not the size of the photo "
                       f"({photo.shape[1]}x{photo.shape[0]})")
        return None
    for cls, mask in found.items():
        thin = known[cls] if cls in known else bool(is_thin(mask.mask))
        draw_outline(photo, mask.mask, project.class_spec(cls).color, line_width(photo.shape, thin),
                     _solid(project, cls, stem, mask), outside=thin)
    return photo


def _kind(project: Project, cls: str, stem: str, mask: MaskToExport) -> str:
    """The mask's source, or ACCEPTED for a label that is a model's prediction taken whole with Accept prediction
    (core.label_status; drawn dashed: a verification trial read its solid line as the clinician's outline)."""
    if mask.source == "label" and has_mark(project, stem, ACCEPTED_KEY, cls):
        return ACCEPTED
    return mask.source


def _solid(project: Project, cls: str, stem: str, mask: MaskToExport) -> np.ndarray | bool:
    """Where the outline is solid: everywhere for a label, nowhere for a prediction (or a prediction accepted as the
    label), where the user annotated for a sparse label filled in by the prediction (nowhere when that label cannot
    be read again)."""
    if mask.source != LABEL_AND_PREDICTION:
        return _kind(project, cls, stem, mask) == "label"
    try:
        pixels = project.load_label_pixels(cls, stem)
    except MedsegError:
        return False
    return False if pixels is None or pixels.annotated is None else pixels.annotated
