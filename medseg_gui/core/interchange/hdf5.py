"""The HDF5 export: one file per class with images/<stem>, labels/<stem>, roi/<stem>, predictions/<stem> (gzip),
annotated/<stem> for sparse labels, and the manifest (core.interchange.manifest) as JSON text in its attributes;
written atomically, never over a file that is not an earlier HDF5 export of the same project."""

from __future__ import annotations

import io
import json
import logging
import os
from pathlib import Path

import h5py
import numpy as np

from medseg_gui.core.atomic import make_temp
from medseg_gui.core.errors import MedsegError, ProjectError, skip, write_error
from medseg_gui.core.export import check_export_target
from medseg_gui.core.interchange.manifest import Manifest
from medseg_gui.core.project import Project

log = logging.getLogger(__name__)

HDF5_FORMAT = "medseg-export"  # the file attribute "format": how an export knows its own earlier file


def _write_hdf5(project: Project, cls: str, file: h5py.File, skipped: list[str] | None) -> None:
    spec = project.class_spec(cls)
    manifest = Manifest(project, "hdf5", "labels and predictions", None)
    manifest.notes.append("A sparse label's annotated pixels are in annotated/<stem>.")
    file.attrs.update({"format": HDF5_FORMAT, "version": 1, "class": spec.name, "color": list(spec.color)})
    file.attrs["description"] = ("images uint8 HxWx3 RGB; labels/roi uint8 {0,1}; predictions float32 [0,1]; "
                                 "annotated uint8 {0,1} for sparse labels only (labels are 0 where not annotated)")
    opts = {"compression": "gzip", "compression_opts": 4}
    for stem in project.stems:
        try:
            image = project.load_image(stem)
        except MedsegError as err:
            skip(skipped, f"{stem} not exported: {err}")
            continue
        file.create_dataset(f"images/{stem}", data=image, **opts)
        parts = (("labels", lambda s: _label_parts(project, cls, s, file), np.uint8),
                 ("roi", project.load_roi, np.uint8),
                 ("predictions", lambda s: project.load_prediction(cls, s), np.float32))
        for group, load, dtype in parts:
            try:
                data = load(stem)
            except MedsegError as err:
                skip(skipped, f"{stem}: {group} not exported: {err}")
                continue
            if data is not None:
                file.create_dataset(f"{group}/{stem}", data=data.astype(dtype), **opts)
                if group != "roi":
                    manifest.add(stem, cls, group[:-1], sparse=f"annotated/{stem}" in file, dataset=f"{group}/{stem}")
    file.attrs["manifest"] = json.dumps(manifest.to_json(), ensure_ascii=False)


def _label_parts(project: Project, cls: str, stem: str, file: h5py.File) -> np.ndarray | None:
    """The label mask of `stem`; for a sparse label also writes annotated/<stem>."""
    pixels = project.load_label_pixels(cls, stem)
    if pixels is None:
        return None
    if pixels.annotated is not None:
        file.create_dataset(f"annotated/{stem}", data=pixels.annotated.astype(np.uint8), compression="gzip")
    return pixels.mask


class _CarefulFile(io.FileIO):
    """The file h5py writes through: a write, truncate or flush that fails (a full disk) is recorded in `error` and
    the rest are skipped, so that h5py never sees it. Fault injection: h5py, writing with its own driver or through a
    file object that raised, crashed the process (a segfault while its objects were freed after the failed write)."""

    error: OSError | None = None

    def write(self, data) -> int:  # noqa: ANN001 (any bytes-like object)
        view = memoryview(data).cast("B")
        done = 0
        while self.error is None and done < len(view):
            try:
                done += super().write(view[done:]) or 0
            except OSError as err:
                self.error = err
        return len(view)  # (the file is deleted when `error` is set; h5py seeks before every write)

    def truncate(self, size: int | None = None) -> int:
        try:
            return super().truncate(size) if self.error is None else int(size or 0)
        except OSError as err:
            self.error = err
            return int(size or 0)

    def flush(self) -> None:
        try:
            super().flush()
        except OSError as err:
            self.error = self.error or err


def _own_hdf5(path: Path, project: Project) -> bool:
    """Whether the HDF5 file at `path` is an earlier export of `project` (its attributes say so)."""
    try:
        with h5py.File(path, "r") as file:
            manifest = json.loads(str(file.attrs.get("manifest", "{}")))
            return file.attrs.get("format") == HDF5_FORMAT and manifest.get("project") == str(project.root)
    except (OSError, ValueError, AttributeError):
        return False


def check_hdf5_target(project: Project, path: Path) -> None:
    """ProjectError when an HDF5 export may not be written at `path`: its folder is one of the project's data folders
    (export.check_export_target; the project folder or its image folder are fine: no mask replaces a photo), or
    `path` is a folder or a file that is not an earlier HDF5 export of `project`. Reads nothing else: `medseg export
    --hdf5` checks before the PNGs are written."""
    check_export_target(project, path.parent, "An HDF5 export cannot be written into", masks=False)
    if path.is_dir():
        raise ProjectError(f"{path} is a folder: name the HDF5 file to write (e.g. {path / 'export.h5'}).")
    if path.exists() and not _own_hdf5(path, project):
        raise ProjectError(f"{path} already exists and is not an HDF5 export of this project, and an export never "
                           "replaces such files. Choose another name or folder.")


def export_hdf5(
    project: Project, cls: str, path: str | os.PathLike[str], skipped: list[str] | None = None
) -> Path:
    """One HDF5 with images/<stem>, labels/<stem>, roi/<stem>, predictions/<stem> (gzip) and the manifest as JSON
    text in the file attribute `manifest`; written atomically.

    Unreadable files are skipped with a message; ProjectError where check_hdf5_target refuses `path`; WriteError
    (and no file) when the HDF5 cannot be written.
    """
    target = Path(path)
    project.class_spec(cls)
    check_hdf5_target(project, target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = make_temp(target.parent, target.name)
    except OSError as err:
        raise write_error("Could not write the HDF5 export", err, target) from err
    try:
        with _CarefulFile(fd, "r+b") as fh:
            try:
                with h5py.File(fh, "w") as file:
                    _write_hdf5(project, cls, file, skipped)
            except Exception:
                if fh.error is None:
                    raise
            if fh.error is not None:  # what went wrong first (h5py may fail later on the short file)
                raise fh.error
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise write_error("Could not write the HDF5 export", err, target) from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("exported %s to %s", cls, target)
    return target
