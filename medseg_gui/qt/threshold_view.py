"""The probability threshold: re-threshold the shown predictions at once, re-score the class (Dice, Se, Sp… and each
image's uncertainty, on a worker) once the value settles or a label changed (saved, or imported), remember it a second
after the last change (Enter in the threshold box hands the keys back: qt.focus_home). The image list follows
the threshold too: it greys scores (Unsure too) made at another one until they are re-scored, and asks for that
(`rescore_due`) wherever they came from (a change, a project opened at another threshold than its metrics.json's or
uncertainty.json's, a rollback's); the scores of an image whose label was saved are greyed until re-scored too, as
are those of labels newer than their scores (or never scored) in a project opened or a class switched to."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QWidget

from medseg_gui.qt.threshold_metrics import MetricsRefresher
from medseg_gui.workers.training import ClassMetrics


class ThresholdView(QObject):
    """`metrics_updated(cls)` after the class's scores were recomputed; `idle()` says whether scores may be
    rewritten now (no training or model change is writing metrics.json)."""

    metrics_updated = Signal(str)

    def __init__(self, project: Callable[[], Any], panels: dict[str, Any], refresher: MetricsRefresher,
                 saver: Any, idle: Callable[[], bool], remember: Callable[[], None], parent: QWidget) -> None:
        super().__init__(parent)
        self._project, self._refresher, self._idle, self._remember = project, refresher, idle, remember
        self._layers, self._session = panels["layers"], panels["session"]
        self._images, self._tools = panels["image_list"], panels["tools"]
        self._remember_later = QTimer(self, singleShot=True, interval=1000)  # the threshold, once it has settled
        self._remember_later.timeout.connect(remember)
        self._due: dict[str, set[str]] = {}  # class → images whose label changed: waits for a training/rollback
        self._wait = QTimer(self, singleShot=True, interval=1000)
        self._wait.timeout.connect(self._rescore_waiting)
        self._images.set_threshold(self._session.threshold)
        self._session.review.events.threshold.connect(self._images.set_threshold)
        self._images.rescore_due.connect(self._rescore_due)
        self._layers.threshold_changed.connect(self.set_threshold)
        refresher.updated.connect(self._on_metrics)
        refresher.unscored.connect(self._on_unscored)
        self._tools.class_changed.connect(self.check_scores)
        saver.saved.connect(self._label_saved)

    def flush(self) -> None:
        """Remember a threshold change that has not been remembered yet (before another project is shown)."""
        if self._remember_later.isActive():
            self._remember_later.stop()
            self._remember()

    @Slot(float)
    def set_threshold(self, threshold: float) -> None:
        """A typed threshold: re-threshold the shown predictions now (the review state holds it; the box and the
        canvas observe it); recompute Dice/Se/Sp of the class once the value settles."""
        self._session.set_threshold(round(float(threshold), 2))
        self._remember_later.start()  # not a settings write per spin step; closing remembers it too
        cls, project = self._tools.current_class(), self._project()
        if project is not None and cls and self._images.has_metrics(cls) and self._idle():
            self._refresher.schedule(project, cls, self._session.threshold)

    @Slot(str)
    def _rescore_due(self, cls: str, changed: Collection[str] = ()) -> None:
        """Re-score `cls` (the list shows scores made at another threshold, or `changed`: images whose label was
        saved), once nothing else writes metrics.json (a training or rollback; looked at again each second until
        then: a label saved meanwhile was never re-scored)."""
        project = self._project()
        if project is None or cls not in project.class_names:
            return
        if not self._idle():
            self._due.setdefault(cls, set()).update(changed)
            self._wait.start()
            return
        self._refresher.schedule(project, cls, self._session.threshold, changed)

    @Slot()
    def _rescore_waiting(self) -> None:
        due, self._due = self._due, {}
        for cls, changed in due.items():
            self._rescore_due(cls, changed)

    @Slot(str)
    def check_scores(self, cls: str | None) -> None:
        """Re-score from their maps, in the background, the `cls` images whose saved scores do not hold (a project
        opened, a class switched to): a trial's polygon saved as the window closed showed '✓ · new' and no scores
        after a restart, as does a label another program wrote meanwhile."""
        project = self._project()
        if project is not None and cls in project.class_names:
            self._refresher.check(project, cls)

    @Slot(object, str, object)
    def _on_unscored(self, project: Any, cls: str, stems: list[str]) -> None:
        if project is self._project():  # greyed as after a save until the new scores come
            self._images.set_edited(cls, stems)
            self._rescore_due(cls, stems)

    @Slot(str, str, bool)
    def _label_saved(self, cls: str, stem: str, _present: bool) -> None:
        """A changed label changes its image's scores (its AUC too), and those of the classes it is the region of
        (roi_class; a trial corrected a cervix and its lesion kept Dice 0.93 where 0.39 was true): greyed at once,
        re-scored once the edits settle."""
        project = self._project()
        if project is not None:
            self._rescore_changed(project, [cls, *(c.name for c in project.classes if c.roi_class == cls)], [stem])

    def rescore_imported(self, result: Any) -> None:
        """Imported labels (or regions of interest, which bound every class's scores; a `MasksImported`) change the
        scores of the images with a prediction: re-scored like saved strokes (a trial's imported label showed no
        Dice)."""
        project = self._project()
        if project is not None and result.imported:
            self._rescore_changed(project, project.class_names if result.cls is None else [result.cls],
                                  result.imported)

    def _rescore_changed(self, project: Any, classes: list[str], stems: Collection[str]) -> None:
        """The labels of `stems` changed: grey the scores of those with a prediction of each of `classes` until they
        are re-scored. An image no longer in the project is left out (the save of a polygon closed before Remove
        image reports in after the image went: CI caught the error it raised)."""
        listed = set(project.stems)
        stems = [stem for stem in stems if stem in listed]
        for cls in classes:
            predicted = [stem for stem in stems if project.prediction_path(cls, stem).is_file()]
            if predicted:
                self._images.set_edited(cls, predicted)
                self._rescore_due(cls, predicted)

    @Slot(object)
    def _on_metrics(self, run: ClassMetrics) -> None:
        with self._images.batch():  # one re-sort for both columns
            self._images.set_metrics(run.cls, run.metrics)
            self._images.set_uncertainty(run.cls, run.uncertainty)
            self._images.set_edited(run.cls, run.changed - self._due.get(run.cls, set()), edited=False)
        self.metrics_updated.emit(run.cls)
