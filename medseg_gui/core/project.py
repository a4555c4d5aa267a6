"""The project (format version 1, see docs/ARCHITECTURE.md): a `ProjectFolder` (image list, classes, paths, atomic
writes) with its data files — images (read, sizes cached), labels (complete or sparse), ROIs, predictions, metrics and
uncertainty scores.

All writes are atomic; a Project may be used from a worker thread (see core.project_folder).
"""

from __future__ import annotations

import datetime as _dt
import errno
import logging
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from medseg_gui.core.atomic import atomic_write_bytes, move_aside
from medseg_gui.core.errors import LabelSizeError
from medseg_gui.core.images import probe_image, read_image, read_label, read_mask, write_png
from medseg_gui.core.label_encoding import LabelPixels, encode_label
from medseg_gui.core.project_folder import ProjectFolder
from medseg_gui.core.project_format import (
    ASIDE_REPLACED,
    ASIDE_UNREADABLE,
    DEFAULT_CLASSES,
    FORMAT,
    PROJECT_FILE,
    VERSION,
    ClassSpec,
    ImageEntry,
    decode_probability,
    encode_probability,
    metrics_to_json,
    metrics_from_json,
    read_model_pointer,
    read_rewritable_json,
)
from medseg_gui.core.regions import class_region
from medseg_gui.core.rewrite import read_problem, rewrite_json
from medseg_gui.core.uncertainty import UncertaintyScores, scores_from_json, scores_to_json

__all__ = ["DEFAULT_CLASSES", "FORMAT", "PROJECT_FILE", "VERSION", "ClassSpec", "ImageEntry", "Project"]

log = logging.getLogger(__name__)


class Project(ProjectFolder):
    """A project folder with its data files; build it with `create`, `open` or `open_or_create_for_folder`, not the
    constructor.

    Label files changed by another program: the version of each label file that this object last wrote, or read to
    show and edit it (`load_label_pixels(remember=True)`), is remembered (inode, size, modification time; None = no
    file). A save or delete that finds another version there first moves that one to labels/<class>/.replaced/
    (never overwritten or deleted; a fault-injection trial replaced a label file while its image was open, and the
    next stroke wrote over it without a word) and returns where it went."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._unread_scores: dict[Path, object] = {}  # metrics/uncertainty.json: a failed reading, until a save

    def image_size(self, stem: str) -> tuple[int, int]:
        """(H, W) of the image, cached per stem (re-probed when the file changes); raises ImageReadError."""
        path = self.image_path(stem)
        try:
            st = path.stat()
            sig = (st.st_mtime_ns, st.st_size)
        except OSError:
            sig = (-1, -1)
        with self._lock:
            cached = self._sizes.get(stem)
            if cached is not None and cached[0] == sig:
                return cached[1]
        size = probe_image(path)
        with self._lock:
            self._sizes[stem] = (sig, size)
        return size

    def load_image(self, stem: str) -> np.ndarray:
        """uint8 HxWx3 RGB; raises ImageReadError."""
        return read_image(self.image_path(stem))

    def class_roi(self, cls: str, stem: str, threshold: float = 0.5) -> np.ndarray | None:
        """bool HxW region where `cls` is trained, predicted and scored on `stem`, or None (= whole image): the image's
        ROI, and for a class with a `roi_class` also inside that class's label, else its prediction >= threshold
        (rule: core.regions; a sparse label is no outline, so its prediction is used). RegionUnknownError when the
        roi_class has neither on this image."""
        return class_region(cls, lambda c: self.class_spec(c).roi_class, self.load_roi(stem),
                            lambda c: self._complete_label(c, stem), lambda c: self.load_prediction(c, stem),
                            threshold)

    def _complete_label(self, cls: str, stem: str) -> np.ndarray | None:
        """The mask of a complete label of `cls`, or None (none, or a sparse one)."""
        pixels = self.load_label_pixels(cls, stem)
        return None if pixels is None or pixels.annotated is not None else pixels.mask

    def _check_size(self, what: str, stem: str, shape: tuple[int, ...]) -> None:
        h, w = self.image_size(stem)
        if tuple(shape[:2]) != (h, w) or len(shape) != 2:
            size = f"{shape[1]}×{shape[0]}" if len(shape) >= 2 else f"shape {shape}"
            raise LabelSizeError(f"The {what} for {stem} is {size} pixels but the image is {w}×{h} (width×height).",
                                 (shape[1], shape[0]) if len(shape) >= 2 else None, (w, h))

    def _load_mask(self, what: str, path: Path, stem: str) -> np.ndarray | None:
        if not path.exists():
            return None
        mask = read_mask(path, what)
        self._check_size(what, stem, mask.shape)
        return mask

    def _save_mask(self, what: str, path: Path, stem: str, mask: np.ndarray) -> None:
        arr = np.asarray(mask)
        self._check_size(what, stem, arr.shape)
        self._write(path, lambda p: write_png(p, (arr != 0).astype(np.uint8) * 255))

    def load_label(self, cls: str, stem: str) -> np.ndarray | None:
        """bool HxW of a complete label, or None when not labelled; LabelSizeError if the file's size differs from
        the image; MaskFormatError for a sparse (0/128/255) label: use `load_label_pixels` where those are allowed."""
        return self._load_mask(f"{cls} label", self.label_path(cls, stem), stem)

    def load_label_pixels(self, cls: str, stem: str, *, remember: bool = False) -> LabelPixels | None:
        """(mask, annotated) of the label, complete or sparse (`annotated` None = complete), or None when not
        labelled; LabelSizeError if the file's size differs from the image. `remember`: the label is read to be
        shown and edited (the class doc: a later save keeps another program's version aside)."""
        path = self.label_path(cls, stem)
        if remember:
            self._versions.seen(path)
        if not path.exists():
            return None
        pixels = read_label(path, f"{cls} label")
        self._check_size(f"{cls} label", stem, pixels.mask.shape)
        return pixels

    def save_label(self, cls: str, stem: str, mask: np.ndarray, annotated: np.ndarray | None = None) -> Path | None:
        """Store a bool/{0,1} HxW mask as a 0/255 PNG (an empty mask is a label too), or with `annotated` (bool HxW)
        a sparse label: 255 class, 0 background, 128 not annotated; LabelSizeError if mis-sized. Returns where
        another program's version of the file was moved first (class doc), else None."""
        path = self.label_path(cls, stem)
        arr = np.asarray(mask)
        self._check_size(f"{cls} label", stem, arr.shape)
        if annotated is not None:
            self._check_size(f"{cls} label", stem, np.shape(annotated))
        png = encode_label(arr, annotated)
        return self._write_label(path, lambda p: write_png(p, png))

    def delete_label(self, cls: str, stem: str) -> Path | None:
        """Mark the image as not labelled for `cls` (no error if it was not); returns as `save_label` does."""
        return self._write_label(self.label_path(cls, stem), lambda p: p.unlink(missing_ok=True))

    def _write_label(self, path: Path, writer) -> Path | None:
        """Write (or delete) a label file, first moving aside a version this object did not know (class doc)."""
        kept = None
        if self._versions.changed(path):
            kept = self._aside(path, ASIDE_REPLACED)
            log.warning("the label %s was changed by another program since it was opened here; that version was "
                        "moved to %s", path, kept)
        try:
            self._write(path, writer)
        finally:
            self._versions.written(path)
        return kept

    def copy_label(self, cls: str, stem: str, dest: Path) -> Path:
        """Copy the `cls` label file of `stem` byte for byte to `dest` (atomically; refused like any write when the
        project must not be written): the backup of a label about to be replaced. Returns `dest`."""
        src = self.label_path(cls, stem)
        self._write(dest, lambda p: atomic_write_bytes(p, src.read_bytes()))
        return dest

    def _aside(self, src: Path, folder: str) -> Path:
        """core.atomic.move_aside, refused like any write when the project must not be written."""
        moved: list[Path] = []
        self._write(src, lambda p: moved.append(move_aside(p, folder)))
        return moved[0]

    def move_label_aside(self, cls: str, stem: str, folder: str = ASIDE_UNREADABLE) -> Path:
        """Move a label file to labels/<cls>/`folder`/ (never deleted): one that cannot be read (ASIDE_UNREADABLE),
        or one another label takes the place of (ASIDE_REPLACED: core.rescued_labels); returns its new path."""
        src = self.label_path(cls, stem)
        dest = self._aside(src, folder)
        self._versions.written(src)  # no file there now
        log.warning("moved the label %s to %s", src, dest)
        return dest

    def move_file(self, src: Path, dest: Path) -> None:
        """Move a file of the project to `dest` inside it, never over a file there (its folder is created);
        ProjectError when the project must not be written, OSError when the move fails. What is known of `src`'s
        version is forgotten (a file saved there later is this program's, not another's: class doc), `dest`'s is
        the moved file's."""
        self.check_writable(src.name)
        if dest.exists():
            raise FileExistsError(errno.EEXIST, "a file of that name is there already", str(dest))
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
        self._versions.written(src)
        self._versions.written(dest)  # as moved here, not another program's (an image brought back: its labels)

    def has_label(self, cls: str, stem: str) -> bool:
        return self.label_path(cls, stem).is_file()

    def labelled_stems(self, cls: str) -> list[str]:
        """Stems (project order) that have a `cls` label."""
        folder = self._root / "labels" / self.class_spec(cls).name
        present = {p.stem for p in folder.glob("*.png")} if folder.is_dir() else set()
        return [e.stem for e in self._images if e.stem in present]

    def load_roi(self, stem: str) -> np.ndarray | None:
        """bool HxW region of interest, or None (= whole image)."""
        return self._load_mask("region of interest", self.roi_path(stem), stem)

    def save_roi(self, stem: str, mask: np.ndarray) -> None:
        self._save_mask("region of interest", self.roi_path(stem), stem, mask)

    def save_prediction(self, cls: str, stem: str, prob: np.ndarray) -> np.ndarray:
        """Store float HxW probabilities (clipped to [0, 1], NaN → 0) as a 16-bit PNG round(p * 65535); returns that
        uint16 map (project_format.stored_probability turns it into what `load_prediction` gives)."""
        q = encode_probability(prob)
        self._check_size(f"{cls} prediction", stem, q.shape)
        self._write(self.prediction_path(cls, stem), lambda p: write_png(p, q))
        return q

    def load_prediction(self, cls: str, stem: str) -> np.ndarray | None:
        """float32 HxW in [0, 1], or None when there is no prediction."""
        path = self.prediction_path(cls, stem)
        if not path.exists():
            return None
        prob = decode_probability(path, f"The {cls} prediction file for {stem}")
        self._check_size(f"{cls} prediction", stem, prob.shape)
        return prob

    def load_metrics(self, cls: str) -> dict[str, dict]:
        """{stem: {"auc", "dice", ...}}; {} when absent or damaged (it is recomputed by the next prediction)."""
        return metrics_from_json(self._read_scores(self.metrics_path(cls)))

    def save_metrics(self, cls: str, metrics: dict[str, dict]) -> None:
        """Write metrics.json atomically (NaN stored as null so the file is standard JSON); one that cannot be read, or
        that this object could not read since its last save, is kept in .unreadable/ first (`_rewrite_scores`)."""
        self._rewrite_scores(self.metrics_path(cls), metrics_to_json(dict(metrics)))

    def load_uncertainty(self, cls: str) -> UncertaintyScores:
        """The uncertainty score of each saved prediction and its threshold (core.uncertainty); none when absent or
        damaged."""
        return scores_from_json(self._read_scores(self.uncertainty_path(cls)))

    def save_uncertainty(self, cls: str, scores: UncertaintyScores) -> None:
        """Write uncertainty.json atomically (NaN stored as null); one that cannot be read is kept as metrics.json
        is (`_rewrite_scores`)."""
        self._rewrite_scores(self.uncertainty_path(cls), scores_to_json(scores))

    def _read_scores(self, path: Path) -> object:
        """metrics.json or uncertainty.json as read_rewritable_json reads it; a reading that could not use the file is
        remembered until the next save of it (the scores are loaded long before they are saved, maybe more than once:
        those saved may come from that reading even when a later one succeeded)."""
        data = read_rewritable_json(path)
        if read_problem(data) is not None:
            with self._lock:
                self._unread_scores.setdefault(path, data)
        return data

    def _rewrite_scores(self, path: Path, obj: dict) -> None:
        """core.rewrite.rewrite_json(path, obj) from the failed reading `_read_scores` remembered (the file is kept in
        .unreadable/ then, whatever it holds now), else from a reading now."""
        with self._lock:
            failed = self._unread_scores.get(path)
        read = failed if failed is not None else read_rewritable_json(path)
        self._write(path, lambda p: rewrite_json(p, obj, read))
        with self._lock:
            if self._unread_scores.get(path) is failed:
                self._unread_scores.pop(path, None)

    def current_model_info(self, cls: str) -> dict | None:
        """The metadata of the current model of `cls` (models/<cls>/current.json: val_auc, trained_at, preset, …), or
        None when there is no model or its description cannot be read (logged)."""
        info = read_model_pointer(self.model_dir(cls))
        if isinstance(info, Exception):
            log.warning("%s", info)
            return None
        return info


def model_split(info: dict | None) -> tuple[list[str] | None, list[str] | None]:
    """(train stems, validation stems) a model's metadata records (ml.train.train, from the samples' names); (None,
    None) when not (older models)."""
    train, val = (info or {}).get("train_stems"), (info or {}).get("val_stems")
    if not isinstance(train, list) or not isinstance(val, list):
        return None, None
    return [str(s) for s in train], [str(s) for s in val]


LABELS_READ_AT = "labels_read_at"  # model metadata: when its run began reading the labels (UTC, ISO; pipeline)


def labels_read_at(info: dict | None) -> float | None:
    """When the run of the model with metadata `info` began reading its labels (POSIX seconds): a label file saved
    after it is not the one the model learnt from or validated on. None when not recorded (models trained before it
    was): `trained_at` less `seconds` would be early by the run's last checks, and a label saved just before Retrain
    would be called changed since (review), so such models' marks stay as their split says."""
    return _posix((info or {}).get(LABELS_READ_AT))


LABELS_JOINED_AT = "labels_joined_at"  # model metadata: stem → when continuous training read its label again (pipeline)


@dataclass(frozen=True)
class LabelsRead:
    """When a model's run read the labels (POSIX s): `began` (None: not recorded), and `later`, stem → when it read
    that image's label again (continuous training joins labels saved meanwhile between epochs). A label file saved
    after `at(stem)` is not the one the model learnt from or validated on."""

    began: float | None = None
    later: Mapping[str, float] = field(default_factory=dict)

    def at(self, stem: str) -> float | None:
        return self.later.get(stem, self.began)


def labels_read(info: dict | None) -> LabelsRead:
    """`LabelsRead` from a model's metadata (`labels_read_at`; `later` empty for models without joined labels, or
    from before they were recorded)."""
    joined = (info or {}).get(LABELS_JOINED_AT)
    later = {str(stem): at for stem, value in joined.items()
             if (at := _posix(value)) is not None} if isinstance(joined, dict) else {}
    return LabelsRead(labels_read_at(info), later)


def read_time() -> str:
    """Now, as `LABELS_READ_AT` and `LABELS_JOINED_AT` record a read of labels (UTC, ISO, ms)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def _posix(iso: object) -> float | None:
    """POSIX seconds of an ISO time with its zone; None when it is none."""
    try:
        return _dt.datetime.fromisoformat(str(iso)).timestamp() if iso is not None else None
    except ValueError:
        return None


TEST_SPLIT = "test"  # image state "split" of the images a dataset's layout imported as its test set


def dataset_test_stems(project: ProjectFolder) -> set[str]:
    """Stems a dataset import marked as the dataset's test set (image state "split": "test", e.g. DRIVE's
    test/ folder): never trained or validated on, so that their scores stay honest (`medseg evaluate` scores them)."""
    return {e.stem for e in project.images if e.state.get("split") == TEST_SPLIT}


def split_marks(info: dict | None, stems: list[str], test: set[str] = frozenset(),
                start_saw: Collection[str] = ()) -> dict[str, str] | None:
    """{stem: "train" / "val" / "test" / "new" / "seen"} for `stems` by the model `info` (what it learnt from, held
    out for validation, the dataset's `test` split it never trains on, or none of these: labelled since or left out);
    "seen" for one of the others that is a photo its shipped start was trained on (`start_saw`:
    start_photos.photos_start_saw); None when the model records no split."""
    train, val = model_split(info)
    if train is None or val is None:
        return None
    trained, held_out = set(train), set(val)
    return {s: seen_mark("train" if s in trained else "val" if s in held_out else "test" if s in test else "new",
                         s in start_saw) for s in stems}


SEEN = "seen"  # a split mark: a photo the model's shipped start was trained on (core.fingerprint.START_SEEN)


def seen_mark(split: str, start_saw: bool) -> str:
    """`split`, or SEEN for a photo the model's start saw (`start_saw`) that the model did not train on itself: its
    score there is no honest check either."""
    return SEEN if start_saw and split != "train" else split

