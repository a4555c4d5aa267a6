"""The current class and what every panel says about it: the class list, the labelled ticks, scores, current model,
region, "none" and "accepted" marks, split and unsaved labels of the class in the image list, and Edit → Classes…
(class_dialog).

The window hands over its panels; the project is read through `project()`, so this object never keeps a copy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from medseg_gui.core.interchange.manifest import stale_predictions
from medseg_gui.core.label_status import ACCEPTED_KEY, known_thin
from medseg_gui.core.pending_marks import mark_text
from medseg_gui.core.fingerprint import recorded_seen
from medseg_gui.core.project import dataset_test_stems, labels_read, model_split
from medseg_gui.qt.class_dialog import ClassesDialog
from medseg_gui.qt.negative_flow import negatives
from medseg_gui.qt.region_flow import region_text
from medseg_gui.qt.reviewed import reviewed_stems


class ClassView(QObject):
    """Keeps the panels on the current class. `status(text)` and `errored(text)` report; `classes_changed(show)`
    asks the window to show the project again after Edit → Classes… changed it (`show`: the class to select)."""

    status = Signal(str)
    errored = Signal(str)
    classes_changed = Signal(str)

    def __init__(self, project: Callable[[], Any], panels: dict[str, Any], saver: Any, label_shares: Any,
                 remember: Callable[[], None], parent: QWidget) -> None:
        super().__init__(parent)
        self._project, self._saver, self._shares, self._remember = project, saver, label_shares, remember
        self._tools, self._canvas, self._session = panels["tools"], panels["canvas"], panels["session"]
        self._images, self._train, self._layers = panels["image_list"], panels["train_panel"], panels["layers"]
        self._tools.class_changed.connect(self.set_current)
        saver.saved.connect(self._on_label_saved)  # (queued: the saver thread emits it)

    def current(self) -> str | None:
        return self._tools.current_class()

    @Slot(str)
    def set_current(self, cls: str) -> None:
        self._say_others_kept(cls)  # first: what show_region says of the image on screen replaces it
        self._canvas.set_current_class(cls)
        self._session.show_region(cls)
        self._train.show_class(cls)
        self.show_state()
        self._remember()

    def _say_others_kept(self, cls: str) -> None:
        """Switching to a class no image has a label of empties the list's ticks and scores: say that the other
        classes' labels are kept and how to get back (a trial pressed 2 by mistake and saw every ✓ go)."""
        project = self._project()
        if project is None or cls not in project.class_names or project.labelled_stems(cls):
            return
        names = project.class_names
        other = next((c for c in names if c != cls and project.labelled_stems(c)), None)
        if other is not None:
            key = f" (key {names.index(other) + 1})" if names.index(other) < 9 else ""
            self.status.emit(f"Now drawing and reviewing '{cls}': no image has a {cls} label yet. Your {other} "
                             f"labels are kept: choose {other} in Draw → Class{key} to see them again.")

    def show_project(self, remembered: str | None) -> None:
        """The class list of a newly shown project; select `remembered`, else keep the current class when it has
        labels, else the first class that has (e.g. the demo opens on 'vessel', the class it has labels for)."""
        project = self._project()
        self._train.preset_combo.release()  # the Preset box shows the current model's preset again
        self._canvas.assume_thin(known_thin(project))  # what Automatic starts before a prediction is seen
        self.show_list()
        labelled = [cls for cls in project.class_names if project.labelled_stems(cls)]
        if remembered in project.class_names:
            self._tools.select_class(remembered)
        elif labelled and self.current() not in labelled:
            self._tools.select_class(labelled[0])

    def show_list(self) -> None:
        classes = self._project().classes
        self._tools.set_classes([(spec.name, tuple(spec.color)) for spec in classes],
                                {spec.name: spec.roi_class for spec in classes if spec.roi_class})

    def show_saved(self) -> None:
        """Every class's saved scores and uncertainties in the list, and the current class's state, as on disk."""
        project = self._project()
        for cls in project.class_names:
            self._images.set_metrics(cls, project.load_metrics(cls))
            self._images.set_uncertainty(cls, project.load_uncertainty(cls))
        self.show_state()

    def show_state(self, model: dict | None = None) -> None:
        """Labelled ticks, AUC/Dice columns and the current model of the current class; `model`: its metadata as a
        finished training handed it over (None: read from current.json)."""
        project, cls = self._project(), self.current()
        if project is None or not cls:
            return
        model = model if model is not None else project.current_model_info(cls)
        with self._images.batch():  # the list re-sorts and fits its columns once, at the end
            self._images.set_current_class(cls, model)  # the model's regime picks the metric columns
            self._images.set_labelled(set(project.labelled_stems(cls)))
            self._images.set_stale(cls, stale_predictions(project, cls, (model or {}).get("id")))  # greyed scores
            self._shares.refresh(project, cls, (model or {}).get("id"))  # "✓ 12 %", "✓ ?", in the background
            self.show_unsaved()
            self._train.show_model(model)
            self._layers.show_suggestion(model)  # best-validation-Dice threshold beside the box
            # "· train" / "· val" / "· test" beside the ticks; "· new" for a label saved after the model's run
            # "· seen" (by the built-in start) for a photo its start saw (those labelled since: self._shares)
            self._images.labelled_column.set_split(*model_split(model), dataset_test_stems(project),
                                                   labels_read(model), str((model or {}).get("id") or ""),
                                                   recorded_seen(model)[0])
            self.show_image_marks()
        self._train.show_region(region_text(project.class_spec(cls).roi_class))

    def show_image_marks(self) -> None:
        """The "none" marks (as in project.json) and "accepted" marks (as last set: qt.mark_keeper) of the current
        class."""
        project, cls = self._project(), self.current()
        if project is not None and cls:
            accepted = self._session.marks.marked(project, ACCEPTED_KEY, cls)
            self._images.labelled_column.set_image_marks(negatives(project, cls), accepted)

    @Slot(str, str, bool)
    def _on_label_saved(self, cls: str, stem: str, _present: bool) -> None:
        """A label saved now was changed after the current model's run read it: "· new" (not "· train")."""
        self._images.labelled_column.set_saved_at(cls, {stem: time.time()})

    @Slot()
    def show_unsaved(self) -> None:
        """Mark the images whose current-class label is not on disk because saving it failed, or whose mark of the
        class (or reviewed mark) project.json does not have yet (qt.mark_keeper); the marks as saved (one kept until
        now may be written)."""
        cls, project = self.current(), self._project()
        unsaved = {stem: why for (c, stem), why in self._saver.unsaved().items() if c == cls}
        for (stem, _key, c), (on, why) in self._session.marks.pending(project).items():
            if c in (cls, None):
                unsaved.setdefault(stem, f"{stem} was not {mark_text((stem, _key, c), on)} in project.json: {why}")
        self._images.labelled_column.set_unsaved(unsaved)
        self.show_image_marks()
        self._images.set_reviewed(reviewed_stems(project))

    @Slot(str, str, bool)
    def on_label_presence(self, cls: str, stem: str, present: bool) -> None:
        if cls == self.current():
            self._images.set_present(stem, present)

    @Slot(str, str)
    def on_region_changed(self, cls: str, message: str) -> None:
        """A class was made two-stage (or not): the panels say so and the canvas outlines its region."""
        self.show_list()
        self.show_state()
        self._session.show_region(self.current())
        self.status.emit(message)

    def edit(self, locked: Callable[[], str | None]) -> ClassesDialog | None:
        """Edit → Classes…: add, rename, recolour or delete a class; `locked()` says why not now (None: go)."""
        if self._project() is None:
            return None
        self._canvas.leave_image()  # a polygon being drawn is saved before a class it was drawn for may change
        box = ClassesDialog(self._project(), locked, self.parent())
        box.changed.connect(self._on_changed)
        box.errored.connect(self.errored)
        box.open()
        return box

    @Slot(str, str)
    def _on_changed(self, message: str, show: str) -> None:
        stem = self._images.current_stem()
        self.classes_changed.emit(show)
        if show:
            self._tools.select_class(show)
        if stem is not None:
            self._images.select(stem)
        self.status.emit(message)
