"""manifest.json: what each exported mask is. A human label (complete, or sparse with its not-annotated pixels as
background 0), a model prediction (which model, thresholded at what, cleared outside the region of interest), or in
`auto` mode a sparse label whose not-annotated pixels are the prediction ("label+prediction").

Which model made a prediction is recorded when it is made (predictions/<class>/provenance.json, written by
pipeline.predict_class); predictions made before that record existed say "model": null with a note.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from medseg_gui.core.atomic import atomic_write_json, sweep_temp_files
from medseg_gui.core.errors import MedsegError, write_error
from medseg_gui.core.label_status import ACCEPTED_KEY, has_mark
from medseg_gui.core.project import Project
from medseg_gui.core.project_format import read_json_file
from medseg_gui.core.rewrite import rewrite_json

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "medseg-export-manifest"  # its "format": how an export knows its own earlier files
STAMPS = "file_stamps"  # name → [size, mtime_ns] when written: a file changed since is no longer the export's
OTHER_FILES = "other_files"  # the files an export wrote besides its masks' (COCO images, an nnU-Net dataset's)
PROVENANCE = "provenance.json"
LABEL_AND_PREDICTION = "label+prediction"  # source of a sparse label whose not-annotated pixels are the prediction
UNANNOTATED_NOTE = ("Sparse labels with source 'label': pixels that were not annotated are exported as background "
                    "(0), like every pixel not painted as the class.")
SOURCE_RULES = {"auto": "the human label where one exists (a sparse label: where it was annotated), otherwise the "
                        "model prediction at the threshold",
                "labels": "human labels only", "predictions": "model predictions only, at the threshold"}
PREDICTIONS_NOTE = "Predictions are the model's probability >= threshold, set to 0 outside the region of interest."
FILLED_NOTE = ("'label+prediction': a sparse label (e.g. a corrected prediction) whose annotated pixels are the human "
               "label and whose not-annotated pixels are the model prediction at the threshold, as the window showed "
               "it. Export with source 'labels' for the annotated pixels alone.")
ACCEPTED = "accepted prediction"  # a label entry's "label": a model's prediction taken whole by Accept prediction
ACCEPTED_NOTE = ("'label': 'accepted prediction': a model's prediction you took whole as the label (Accept "
                 "prediction) and did not edit since; counted under accepted_predictions, not human_labels.")
UNKNOWN_MODEL = ("not recorded (a prediction stopped while it replaced this map, or one by an older version of "
                 "medseg); see the project's models folder")


def provenance_path(project: Project, cls: str) -> Path:
    """predictions/<class>/provenance.json, beside the class's metrics.json."""
    return project.metrics_path(cls).with_name(PROVENANCE)


REGION_THRESHOLD = "region_threshold"  # a provenance entry of a class inside another: its region's threshold


def record_predictions(project: Project, cls: str, stems: list[str], model: dict[str, Any]) -> None:
    """Note that `model` ({"id", "trained_at", ...}) made the saved predictions of `stems` (now, UTC), at once
    (`ProvenanceLog` notes them map by map while a prediction runs)."""
    log = ProvenanceLog(project, cls)
    for stem in stems:
        log.made(stem, model)
    log.close()


class ProvenanceLog:
    """provenance.json kept true map by map while `cls` is predicted (pipeline.predict_class): a map's record leaves
    the file before the map is replaced, and its maker is noted with the next write, so a prediction stopped at any
    point (Ctrl+C, SIGTERM, a kill, a crash) never leaves a record naming a model for a map it did not make (a trial's
    12 of 25 maps rewritten named the old model); the map being replaced then reads as not recorded. `close()` notes
    the maps made and gives a record back to a map left unchanged. A write is refused like the project's others; a
    provenance.json that cannot be read is kept in .unreadable/ by the first write (core.rewrite)."""

    def __init__(self, project: Project, cls: str) -> None:
        self.project, self.cls, self.path = project, cls, provenance_path(project, cls)
        self._recorded = set(self._read())  # stems with a record on disk
        self._made: dict[str, dict[str, Any]] = {}  # maps written, not recorded yet
        self._dropped: dict[str, tuple[dict[str, Any], tuple[int, int, int] | None]] = {}  # record, map's stamp
        self._raised = ""  # the write failure `replacing` raised: said once, not again by `close`

    def _read(self) -> dict[str, dict[str, Any]]:
        """The records on disk; {} when absent or unreadable (no warning: the write that keeps it aside gives one)."""
        records = _records(self.path)
        return {} if isinstance(records, Exception) else records

    def replacing(self, stem: str) -> None:
        """Before `stem`'s map is replaced: its record leaves provenance.json (written now with the maps made so
        far; nothing is written for a map without a record). A MedsegError when it cannot be written (refused, or
        a disk error): then the map must not be replaced, and its record stays."""
        if stem not in self._recorded:
            return
        old = self._read().get(stem)
        if old is not None:
            self._dropped[stem] = (old, _file_stamp(self.project.prediction_path(self.cls, stem)))
        try:
            self._write()
        except MedsegError as err:
            self._dropped.pop(stem, None)  # still in the file: no record to give back
            self._raised = str(err)
            raise

    def made(self, stem: str, model: dict[str, Any]) -> None:
        """`model` ({"id", "trained_at", ...}) made the map of `stem` just saved (noted with the next write)."""
        self._dropped.pop(stem, None)
        self._made[stem] = {**model, "predicted_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}

    def close(self) -> None:
        """Write the makers of the maps made; a dropped record goes back where its map is unchanged (the run stopped
        before it was written). A MedsegError when provenance.json cannot be written, unless it is the failure
        `replacing` raised already (the caller reports that one: a read-only folder gave a warning and an error line
        with the same sentence)."""
        for stem, (old, stamp) in self._dropped.items():
            if stamp is not None and _file_stamp(self.project.prediction_path(self.cls, stem)) == stamp:
                self._made.setdefault(stem, old)
        self._dropped = {}
        if not self._made:
            return
        try:
            self._write()
        except MedsegError as err:
            if str(err) != self._raised:
                raise
            log.debug("provenance.json still not written: %s", err)

    def _write(self) -> None:
        self.project.check_writable(PROVENANCE)
        read = _records(self.path)  # the one reading this write is made from: one it could not use is kept aside
        record = {**({} if isinstance(read, Exception) else read), **self._made}
        known = set(self.project.stems) - set(self._dropped)
        try:
            rewrite_json(self.path, {s: v for s, v in record.items() if s in known}, read)
        except OSError as err:
            raise write_error(f"Could not note which model made the {self.cls} predictions", err, self.path) from None
        self._recorded = (self._recorded | set(self._made)) - set(self._dropped)
        self._made = {}


def _file_stamp(path: Path) -> tuple[int, int, int] | None:
    """(inode, size, mtime in ns) of `path`, None when it cannot be read: a map replaced (atomically) differs."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def read_provenance(project: Project, cls: str) -> dict[str, dict[str, Any]]:
    """{stem: {"id", "trained_at", "predicted_at", ...}} of the class's predictions; {} when absent or damaged (a
    warning; the file is left as it is until the next prediction keeps it in .unreadable/)."""
    path = provenance_path(project, cls)
    records = _records(path)
    if isinstance(records, Exception):
        log.warning("cannot read %s (%s); exported predictions will not name their model", path, records)
        return {}
    return records


def _records(path: Path) -> dict[str, dict[str, Any]] | Exception:
    """provenance.json's records ({} when there is none), or why it cannot be read."""
    try:
        data = read_json_file(path)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        return err
    if not isinstance(data, dict):
        return ValueError("it is not a JSON object")
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}


def stale_predictions(project: Project, cls: str, model_id: str | None) -> set[str]:
    """The images whose saved prediction of `cls` was made by another model than `model_id` (the current one), as
    provenance.json records it: their scores are from an earlier model (continuous training re-predicts only the
    image shown; a stopped or cancelled prediction phase leaves some). Unknown ones (no record, no current model)
    are not counted."""
    if not model_id:
        return set()
    return {stem for stem, made in read_provenance(project, cls).items()
            if made.get("id") is not None and made.get("id") != model_id}


class Manifest:
    """Collects one entry per exported mask, then writes manifest.json (or the JSON text for an HDF5 attribute)."""

    def __init__(self, project: Project, export: str, source: str, threshold: float | None) -> None:
        self.project, self.export, self.source, self.threshold = project, export, source, threshold
        self.entries: list[dict[str, Any]] = []
        self.notes: list[str] = [UNANNOTATED_NOTE]
        self.unannotated: int | str = 0  # what a sparse label's not-annotated pixel becomes in the export
        self._provenance: dict[str, dict[str, dict[str, Any]]] = {}
        self.earlier_files: list[str] = []  # files an earlier export wrote in the folder and this one did not
        self.other_files: list[str] = []  # files this export wrote besides those its masks name

    def add(self, stem: str, cls: str, source: str, *, sparse: bool = False, **where: Any) -> dict[str, Any]:
        """Record one mask: `source` "label", "prediction" or "label+prediction" (a sparse label filled from the
        prediction); `where` says where it is (file=..., value=...)."""
        entry: dict[str, Any] = {"image": stem, "class": cls, **where, "source": source}
        filled = source == LABEL_AND_PREDICTION
        if source != "prediction":
            entry["label"] = "sparse" if sparse or filled else "complete"
            if source == "label" and has_mark(self.project, stem, ACCEPTED_KEY, cls):  # a nurse's trial: counted
                # as hers (a label filled by the prediction is counted as that, once: review)
                entry["label"] = ACCEPTED
                if ACCEPTED_NOTE not in self.notes:
                    self.notes.append(ACCEPTED_NOTE)
        if filled and FILLED_NOTE not in self.notes:
            self.notes.append(FILLED_NOTE)
        if source != "label":
            if cls not in self._provenance:
                self._provenance[cls] = read_provenance(self.project, cls)
            model = self._provenance[cls].get(stem)
            entry["model"] = model
            if model is None:
                entry["model_note"] = UNKNOWN_MODEL
            entry["threshold"] = self.threshold
        self.entries.append(entry)
        return entry

    def counts(self) -> tuple[int, int, int, int]:
        """(human labels, sparse labels filled in by the prediction, model predictions, accepted predictions)
        recorded so far (a trial's export counted a label of 1 % strokes and 99 % prediction as a human label,
        another an accepted prediction)."""
        filled = sum(e["source"] == LABEL_AND_PREDICTION for e in self.entries)
        predictions = sum(e["source"] == "prediction" for e in self.entries)
        accepted = sum(e.get("label") == ACCEPTED for e in self.entries)
        return len(self.entries) - filled - predictions - accepted, filled, predictions, accepted

    def to_json(self) -> dict[str, Any]:
        labels, filled, predictions, accepted = self.counts()
        return {
            "format": MANIFEST_FORMAT, "version": 1, "export": self.export,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "project": str(self.project.root), "source": self.source,
            "source_rule": SOURCE_RULES.get(self.source, self.source), "threshold": self.threshold,
            "predictions_note": PREDICTIONS_NOTE if self.threshold is not None else
            "Predictions are the model's probabilities (0 to 1), not thresholded.",
            "unannotated_pixels": self.unannotated, "notes": self._notes(),
            "human_labels": labels, "labels_filled_by_prediction": filled, "model_predictions": predictions,
            **({"accepted_predictions": accepted} if accepted else {}),
            "masks": self.entries,
            **({OTHER_FILES: self.other_files} if self.other_files else {}),
            **({"earlier_export_files": self.earlier_files} if self.earlier_files else {}),
        }

    def _notes(self) -> list[str]:
        """The notes, the one on sparse labels' unannotated pixels only where a sparse label was exported as such."""
        sparse = any(e["source"] == "label" and e.get("label") == "sparse" for e in self.entries)
        return [n for n in self.notes if sparse or n != UNANNOTATED_NOTE]

    def write(self, out_dir: str | os.PathLike[str], other_files: Iterable[str] = ()) -> Path:
        """out_dir/manifest.json; `other_files` (relative to out_dir) are the files this export wrote besides its
        masks' (a COCO export's images). The files an earlier export's manifest there listed and this one does not
        (still in the folder) are carried as `earlier_export_files`, so that a later export knows them as its own (a
        COCO export's manifest had made the PNG export's masks beside it foreign)."""
        out = Path(out_dir)
        self.other_files = sorted(set(other_files))
        mine = {str(e["file"]) for e in self.entries if "file" in e} | set(self.other_files)
        earlier = (exported_files(out, self.project) or set()) - mine - {MANIFEST}
        self.earlier_files = sorted(n for n in earlier if (out / n).is_file())
        stamps = _stamps(out, mine | set(self.earlier_files))
        return atomic_write_json(out / MANIFEST, {**self.to_json(), STAMPS: stamps})

    def claim(self, out_dir: Path, names: Iterable[str]) -> None:
        """Before the first file of an export: a manifest.json in `out_dir` naming the files about to be written
        (relative to it) as this project's (with those an earlier export's manifest there named), so that an export
        stopped half-way (a full disk, a kill) can be run again: its files are known as an export's (review: they
        were refused as foreign). Temporary files a killed export left in their folders are removed (core.atomic's
        sweep_temp_files). WriteError ("Nothing exported") when the manifest cannot be written."""
        out = Path(out_dir)
        names = set(names)
        try:
            out.mkdir(parents=True, exist_ok=True)
            for folder in {out, *(out / Path(n).parent for n in names)}:
                sweep_temp_files(folder)
            ours = (exported_files(out, self.project) or set()) - {MANIFEST}
            self.earlier_files = sorted(ours | names)  # the names to be written: no stamp yet, known by name
            atomic_write_json(out / MANIFEST, {**self.to_json(), "masks": [], STAMPS: _stamps(out, ours - names),
                                               "note": "an export under way, or stopped"})
        except OSError as err:
            raise write_error("Nothing exported: could not write the manifest", err, out / MANIFEST) from err


def exported_files(folder: Path, project: Project) -> set[str] | None:
    """The file names an earlier export of `project` lists in `folder`'s manifest.json ({"manifest.json", ...}),
    without those changed since (size or time: masks edited in another program after the export, review); set()
    when there is none, or it is not one of ours, or another project's (review: a second project's export replaced
    the first one's masks of the same names); None when `folder` does not exist."""
    if not folder.is_dir():
        return None
    try:
        data = json.loads((folder / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return set()
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT or data.get("project") != str(project.root):
        return set()
    masks = data.get("masks") if isinstance(data.get("masks"), list) else []
    earlier = [n for key in ("earlier_export_files", OTHER_FILES) if isinstance(data.get(key), list)
               for n in data[key]]
    named = {str(e["file"]) for e in masks if isinstance(e, dict) and "file" in e} | set(map(str, earlier))
    stamps = data.get(STAMPS) if isinstance(data.get(STAMPS), dict) else {}
    now = _stamps(folder, {n for n in named if n in stamps})
    return {MANIFEST, *(n for n in named if n not in stamps or now.get(n) == stamps[n])}


def _stamps(folder: Path, names: Iterable[str]) -> dict[str, list[int]]:
    """{name: [size, mtime in ns]} of the files in `folder` (those that exist)."""
    stamps = {}
    for name in names:
        try:
            st = (folder / name).stat()
        except OSError:
            continue
        stamps[name] = [st.st_size, st.st_mtime_ns]
    return stamps
