"""One entry point for every export format, shared by `medseg export --format` and the window's export worker."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from medseg_gui.core.errors import CancelledError, skip
from medseg_gui.core.export import check_export_target, classes_with_masks, export_pngs, left_out_text, older_note
from medseg_gui.core.interchange.hdf5 import export_hdf5
from medseg_gui.core.interchange.coco import export_coco
from medseg_gui.core.interchange.nnunet import export_nnunet
from medseg_gui.core.interchange.outlines import export_outlines
from medseg_gui.core.project import Project

FORMATS = {
    "png": "PNG masks (0/255, one per image and class)",
    "nnunet": "nnU-Net v2 dataset (imagesTr, labelsTr, dataset.json)",
    "coco": "COCO instance segmentation (annotations.json, one polygon per lesion)",
    "hdf5": "HDF5 (one file per class: images, labels, ROIs, predictions)",
    "outlines": ("Photos with each class's outline drawn (PNG, for reports: a label's outline solid, a "
                 "prediction's dashed)"),
}


@dataclass(frozen=True)
class ExportDone:
    """What an export wrote: where, how many files or cases, one line for the user, and the images left out (why,
    one line each)."""

    out_dir: Path
    count: int
    summary: str
    skipped: tuple[str, ...] = ()


def export_as(
    fmt: str, project: Project, classes: list[str], out_dir: str | os.PathLike[str], source: str = "auto",
    threshold: float = 0.5, skipped: list[str] | None = None, should_stop: Callable[[], bool] = lambda: False,
    progress: Callable[[tuple[int, int, str]], None] = lambda _p: None, chosen: bool = True,
) -> ExportDone:
    """Export `classes` of `project` into the folder `out_dir` as `fmt` (a key of FORMATS), with manifest.json.
    PNG: <out>/<class>/ per class, or <out>/ itself for one class, `progress` as export_pngs'; HDF5: <out>/<class>.h5
    (manifest inside); outlines: <out>/<stem>.png, the photos with the classes' outlines. When the user chose the
    classes (`chosen`: `medseg export --class`; the window exports every class), the summary names each one with
    nothing to export (no image has a file for `source`: `left_out_note`). Images left out go to `skipped` when
    given (else the log) and into the result."""
    left: list[str] = []
    try:
        done = _export(fmt, project, classes, Path(out_dir), source, threshold, left, should_stop, progress)
    finally:
        for message in left:
            skip(skipped, message)
    chose = chosen and fmt != "hdf5"  # a class's HDF5 file holds its images even without a mask
    note = left_out_note(project, classes, source, fmt) if chose else ""
    return ExportDone(done.out_dir, done.count, done.summary + note, tuple(left))


def left_out_note(project: Project, classes: list[str], source: str, fmt: str) -> str:
    """'; nothing to export of cervix: no image has a label or prediction of it' for the classes with nothing (COCO:
    'no annotations of cervix', its category is listed), or '' (a trial's nnU-Net export of lesion,cervix said only
    '10 training cases (lesion)')."""
    found = classes_with_masks(project, classes, source)
    missing = [c for c in classes if c not in found]
    return f"; {left_out_text(missing, source, fmt)}" if missing else ""


def _export(fmt: str, project: Project, classes: list[str], out: Path, source: str, threshold: float,
            skipped: list[str] | None, should_stop: Callable[[], bool],
            progress: Callable[[tuple[int, int, str]], None]) -> ExportDone:
    if fmt == "nnunet":
        done = export_nnunet(project, classes, out, source, threshold, skipped)
        return ExportDone(out, done.training, done.summary())
    if fmt == "coco":
        done = export_coco(project, classes, out, source, threshold, skipped)
        return ExportDone(out, done.annotations, done.summary())
    if fmt == "outlines":
        drawn = export_outlines(project, classes, out, source, threshold, skipped, should_stop, progress)
        return ExportDone(out, drawn.count, drawn.summary())
    if fmt not in ("png", "hdf5"):
        raise ValueError(f"format must be one of {tuple(FORMATS)}, got {fmt!r}")
    if fmt == "png":
        done = export_pngs(project, classes, out, source, threshold, skipped=skipped, should_stop=should_stop,
                           progress=progress)
        count, what = done.count, f"mask{'s' if done.count != 1 else ''} (0/255 PNG)"
        older = f"; {older_note(done.older)}" if done.older else ""
        return ExportDone(out, count, f"Wrote {count} {what} to {out}{older}")
    check_export_target(project, out)
    for cls in classes:
        if should_stop():
            raise CancelledError("Export cancelled.")
        export_hdf5(project, cls, out / f"{cls}.h5", skipped=skipped)
    count = len(classes)
    return ExportDone(out, count, f"Wrote {count} HDF5 file{'s' if count != 1 else ''} to {out}")
