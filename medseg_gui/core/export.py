"""Export a class's masks as 0/255 PNGs (original image size) or the whole project as one HDF5 file."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import h5py
import numpy as np

from medseg_gui.core.images import write_png
from medseg_gui.core.project import Project

log = logging.getLogger(__name__)

SOURCES = ("auto", "labels", "predictions")


def export_mask(
    project: Project, cls: str, stem: str, source: str = "auto", threshold: float = 0.5
) -> np.ndarray | None:
    """bool HxW mask to export for one image, or None when it has nothing for `source`.

    auto: the label if one exists, else the thresholded prediction; predictions are cleared outside the ROI.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    if source in ("auto", "labels"):
        label = project.load_label(cls, stem)
        if label is not None:
            return label
    if source in ("auto", "predictions"):
        prob = project.load_prediction(cls, stem)
        if prob is not None:
            mask = prob >= threshold
            roi = project.load_roi(stem)
            return mask if roi is None else mask & roi
    return None


def export_masks(
    project: Project, cls: str, out_dir: str | os.PathLike[str], source: str = "auto", threshold: float = 0.5
) -> list[Path]:
    """Write out_dir/<stem>.png (uint8 0/255, original size) for every image that has a mask; the written paths."""
    project.class_spec(cls)  # ProjectError for an unknown class before anything is written
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    out = Path(out_dir)
    written: list[Path] = []
    for stem in project.stems:
        mask = export_mask(project, cls, stem, source, threshold)
        if mask is None:
            log.debug("export: %s has no %s %s, skipped", stem, cls, source)
            continue
        written.append(write_png(out / f"{stem}.png", mask.astype(np.uint8) * 255))
    log.info("exported %d %s mask(s) to %s", len(written), cls, out)
    return written


def _write_hdf5(project: Project, cls: str, file: h5py.File) -> None:
    spec = project.class_spec(cls)
    file.attrs.update({"format": "medseg-export", "version": 1, "class": spec.name, "color": list(spec.color)})
    file.attrs["description"] = "images uint8 HxWx3 RGB; labels/roi uint8 {0,1}; predictions float32 [0,1]"
    opts = {"compression": "gzip", "compression_opts": 4}
    for stem in project.stems:
        file.create_dataset(f"images/{stem}", data=project.load_image(stem), **opts)
        label = project.load_label(cls, stem)
        if label is not None:
            file.create_dataset(f"labels/{stem}", data=label.astype(np.uint8), **opts)
        roi = project.load_roi(stem)
        if roi is not None:
            file.create_dataset(f"roi/{stem}", data=roi.astype(np.uint8), **opts)
        prob = project.load_prediction(cls, stem)
        if prob is not None:
            file.create_dataset(f"predictions/{stem}", data=prob.astype(np.float32), **opts)


def export_hdf5(project: Project, cls: str, path: str | os.PathLike[str]) -> Path:
    """One HDF5 with images/<stem>, labels/<stem>, roi/<stem>, predictions/<stem> (gzip); written atomically."""
    target = Path(path)
    project.class_spec(cls)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with h5py.File(tmp, "w") as file:
            _write_hdf5(project, cls, file)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("exported %s to %s", cls, target)
    return target
