"""Edit → Remove image from project… (also the image list's context menu): the image shown leaves the project
(core.remove_images: its files are moved into the project's .removed/ folder, nothing is deleted) after a question
naming it, its labels and where they go. Refused while a training or prediction runs, in a read-only window, while
masks are imported, and until every label is saved (a queued save would write the label back after it moved). The
files move on a worker with drawing paused, once no threshold re-scoring runs (qt.threshold_metrics), and none starts
until they have: that job, computed with the image, saved its scores back after the removal had dropped them. Then the
list shows the project without it, on the next image."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from medseg_gui.core.remove_images import REMOVED_FOLDER, Removed, files_of, remove_images
from medseg_gui.qt import dialogs
from medseg_gui.qt.threshold_metrics import MetricsRefresher
from medseg_gui.workers.base import FunctionWorker, WorkerHost, error_message

PAUSED = "an image is removed from the project"  # why drawing is off meanwhile (ReadOnlyView.pause)


def removal_question(project: Any, stem: str) -> str:
    """What the confirmation says: the image, what goes with it (only what it has: a trial read "0 label(s) and 0
    other file(s) (region of interest, predictions)"), where its files go, what stays."""
    files = files_of(project, stem)
    photo = project.image_path(stem)
    stays = ("" if photo in files else f"\n\nThe photo {photo.name} stays where it is ({photo.parent}); it is no "
             "longer listed, until you add it again (File → Add images…).")
    what = files_text(project, files) or " "
    moved = (f"{what[0].upper()}{what[1:]} {'is' if len(files) == 1 else 'are'} moved to {REMOVED_FOLDER}/{stem}-"
             "<date-time>/ inside the project folder. Nothing is deleted: Edit → Bring back a removed image… brings "
             "it back."
             if files else "It has no labels or other files in the project: only its place in the list goes.")
    return f"Remove the image '{stem}' from the project?\n\n{moved}{stays}"


def files_text(project: Any, files: list[Any]) -> str:
    """What `files` (core.remove_images.files_of) are, by kind: "its 2 labels, its region of interest and the photo"
    ('' for none)."""
    kinds: dict[str, int] = {}
    for path in files:
        parts = path.relative_to(project.root).parts
        kind = ("photo" if parts[0] == "images" else "region of interest" if parts[0] == "roi" else
                "prediction" if parts[0] == "predictions" else "label" if len(parts) == 3 and parts[0] == "labels"
                else "earlier version of a label")
        kinds[kind] = kinds.get(kind, 0) + 1
    names = [f"the {kind}" if kind == "photo" else f"its {kind}" if n == 1 else
             f"its {n} {kind.replace('version', 'versions') if 'version' in kind else kind + 's'}"
             for kind, n in kinds.items()]
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


class RemoveFlow(QObject):
    """`start(refusal)` removes the image shown; reports `status(text)`, `errored(message)` and
    `editing_paused(why)`: PAUSED while the files move, then ''."""

    status = Signal(str)
    said = Signal(str)  # what was removed, beside the next image's own line (a trial's status line was wiped at once)
    errored = Signal(str)
    editing_paused = Signal(str)
    removed = Signal(object)  # Removed

    def __init__(self, host: WorkerHost, parent: QWidget, project: Callable[[], Any], images: Any,
                 reshow: Callable[[], None], scores: MetricsRefresher,
                 leave: Callable[[], object] | None = None) -> None:
        """`images`: the image list (the image shown, the order); `reshow()` shows the project again; `scores`: the
        window's re-scoring, held meanwhile; `leave()` ends an edit under way on the image shown
        (Canvas.leave_image)."""
        super().__init__(parent)
        self._host, self._parent, self._project, self._images, self._reshow = host, parent, project, images, reshow
        self._scores, self._leave = scores, leave

    def start(self, refusal: Callable[[], str | None]) -> FunctionWorker | None:
        """Ask, then move the image shown's files on a worker (once no re-scoring job runs); None when there is none,
        `refusal()` (why the project may not change now, waiting for queued saves) forbids it, or the answer is No."""
        project, stem = self._project(), self._images.current_stem()
        if self._leave is not None:
            self._leave()  # a polygon being drawn is saved first (its label then moves with the rest, not after)
        if project is None or stem is None:
            self.errored.emit("Open a project and choose the image to remove in the list first.")
            return None
        if (why := refusal()) is not None:
            self.errored.emit(f"The image '{stem}' was not removed: {why}")
            return None
        if not dialogs.ask_yes_no(self._parent, "Remove image from project", removal_question(project, stem)):
            return None
        if (why := refusal()) is not None:  # something started or was painted while the question was open
            self.errored.emit(f"The image '{stem}' was not removed: {why}")
            return None
        order = self._images.stems()
        after = order[order.index(stem) + 1:] + order[:order.index(stem)][::-1]  # the next one, else the one before
        worker = FunctionWorker(remove_images, project, [stem])
        self.editing_paused.emit(PAUSED)
        once = " once the scores being updated are saved" if self._scores.busy() else ""
        self.status.emit(f"Removing '{stem}' from the project{once}… Drawing is paused meanwhile.")
        self._scores.hold(lambda: self._host.start(worker, on_done=lambda result: self._done(result, after),
                                                   on_error=self._failed, on_ended=self._ended))
        return worker

    def _ended(self) -> None:
        self._scores.release()
        self.editing_paused.emit("")

    def _done(self, result: Removed, after: list[str]) -> None:
        if result.images:
            self._reshow()
            shown = self._images.stems()
            nxt = next((s for s in after if s in shown), None)
            if nxt is not None:
                self._images.select(nxt)
            self.said.emit("; ".join(f"'{i.stem}' removed from the project, its files moved to "  # said beside the
                                     f"{i.folder.relative_to(i.folder.parents[1])} (nothing deleted)"  # next image's
                                     for i in result.images))  # line: named first (a trial read it as that one's)
        if result.problem:
            self.errored.emit(result.summary())
        elif result.images:  # where the files went and how to bring it back: more than a status line keeps in view
            dialogs.show_message(self._parent, "Image removed", result.moved_text())
        self.removed.emit(result)

    def _failed(self, err: BaseException) -> None:
        self.errored.emit(f"The image was not removed: {error_message(err)}")
