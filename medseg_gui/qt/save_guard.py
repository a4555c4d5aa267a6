"""Labels that are not on disk yet, and image marks project.json could not take (qt.mark_keeper): tell the user once
when a save fails, and never leave (quit, open another project) before every label and mark is written, discarded by
the user, or the user cancels. Waiting shows a modal progress dialog while the event loop keeps running, so slow
storage never freezes the window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import QEventLoop, QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from medseg_gui.core.images import IMAGE_FILE
from medseg_gui.core.lock import LOCK_ELSEWHERE
from medseg_gui.core.pending_marks import Mark, mark_text
from medseg_gui.paths import UNSAVED_LABELS, rescue_dir
from medseg_gui.qt.mark_keeper import MarkKeeper
from medseg_gui.workers.label_saver import Key, LabelSaver

log = logging.getLogger(__name__)

RETRY, DISCARD, CANCEL = "retry", "discard", "cancel"
SAVED = "saved"  # ask_unsaved: every label was saved while the question was open
IN_THE_WAY = ("File exists", "Not a directory", "Is a directory")  # strerror of EEXIST, ENOTDIR, EISDIR
MISFIT = "pixels but the image is"  # core.project's LabelSizeError: a label not the size of its image file on disk
UNREADABLE_IMAGE = f"{IMAGE_FILE} '"  # core.images' ImageReadError: the photo a label is checked against
DIALOG_QUIET_MS = 1000  # a save's dialog opens once the drawing paused this long (the line and the list say it at once)


def what_to_do(reasons: Iterable[str]) -> str:
    """The advice after failed saves: about the lock when another program took it over (free disk space would not
    help), about the image when its file changed size on disk or cannot be read (a label is saved only once its
    size is checked against the photo's), about what is in the way when a file stands where a folder belongs (or the
    reverse), else about disk space and permissions."""
    reasons = list(reasons)
    if any(LOCK_ELSEWHERE in reason for reason in reasons):
        return "Close the program that took over the project's lock, then open the project again."
    if any(MISFIT in reason for reason in reasons):
        return "The image file on disk changed size since the image was shown: reopen the image."
    if any(UNREADABLE_IMAGE in reason for reason in reasons):
        return "The image file cannot be read (moved, deleted or still being synced): put it back where it was."
    if any(phrase in reason for reason in reasons for phrase in IN_THE_WAY):
        return ("Something in the project folder is in the way (a file where a folder belongs, or a folder where "
                "the label file belongs): move it out of the project.")
    return "Free some disk space or fix the folder's permissions."


def unsaved_text(unsaved: dict[Key, str], retry_s: float, marks: dict[Mark, tuple[bool, str]] | None = None) -> str:
    """The question asked before leaving with unsaved labels or marks (one line each, at most 8)."""
    marks = marks or {}
    lines = [f"• the '{cls}' label of {stem}: {reason}" for (cls, stem), reason in unsaved.items()]
    lines += [f"• {mark[0]} {mark_text(mark, on)}: {reason}" for mark, (on, reason) in marks.items()]
    if len(lines) > 8:
        lines[8:] = [f"• … and {len(lines) - 8} more"]
    heads = ([f"{len(unsaved)} label(s) could not be saved"] if unsaved else []) + (
        [f"{len(marks)} image mark(s) could not be written to project.json"] if marks else [])
    reasons = [*unsaved.values(), *(reason for _on, reason in marks.values())]
    return (" and ".join(heads) + ":\n" + "\n".join(lines) +
            f"\n\nThey are kept in memory and retried every {retry_s:g} s. {what_to_do(reasons)[:-1]}, "
            "then choose Save again. Discard throws these " + ("strokes" if not marks else "changes") + " away.")


def marks_text(marks: dict[Mark, tuple[bool, str]]) -> str:
    """Why Retrain, a class edit or a removal waits for marks project.json could not take (`marks`: not empty)."""
    mark, (on, reason) = next(iter(marks.items()))
    return (f"{len(marks)} image mark(s) could not be written to project.json ({mark[0]} was not {mark_text(mark, on)}:"
            f" {reason.rstrip('.')}). {what_to_do(r for _on, r in marks.values())}")


def set_aside_text(cls: str, stem: str, reason: str, folder: str) -> str:
    """A label the project refused for its size (LabelSaver.set_aside): not saved there, kept in `folder`."""
    return (f"The '{cls}' label of {stem} was NOT saved into the project: {reason}\nThe image file on disk changed "
            f"size since the image was shown, so your strokes were drawn on another picture. They are kept in "
            f"{folder} (offered back when the project opens, if they fit the image then) and the project's label "
            "was left as it was. The window shows the image as it is now on disk: draw on that.")


def failed_text(cls: str, stem: str, reason: str, retry_s: float) -> str:
    return (f"The '{cls}' label of {stem} is NOT saved: {reason}\nYour strokes are kept in memory and saving is "
            f"retried every {retry_s:g} s and after your next stroke; the title shows * and the list marks the image "
            f"until it is saved. {what_to_do([reason])}")


def ask_unsaved(parent: QWidget | None, text: str, saver: LabelSaver | None = None,
                marks: MarkKeeper | None = None) -> str:
    """Blocking three-way question: RETRY, DISCARD or CANCEL (the default); SAVED when `saver`'s periodic retry
    saved every label (and `marks` every mark) while it was open (fault injection: the question stayed
    after the labels were saved, and Discard then discarded nothing it said). Tests monkeypatch it."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Labels not saved", text, QMessageBox.StandardButton.NoButton, parent)
    retry = box.addButton("Save again", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    saved_meanwhile = []

    def check(*_args: object) -> None:
        if saver is not None and not saver.unsaved() and not (marks is not None and marks.pending(None)):
            saved_meanwhile.append(True)
            box.done(0)

    if saver is not None:
        saver.saved.connect(check)
        if marks is not None:
            marks.changed.connect(check)
        check()  # a save that ended before the connection: no question
    try:
        if not saved_meanwhile:
            box.exec()
    finally:
        if saver is not None:
            saver.saved.disconnect(check)
            if marks is not None:
                marks.changed.disconnect(check)
    if saved_meanwhile:
        return SAVED
    clicked = box.clickedButton()
    return RETRY if clicked is retry else DISCARD if clicked is discard else CANCEL


class SaveGuard(QObject):
    """Watches a LabelSaver and its MarkKeeper (`marks`, the window's way to set image marks): `problem(message,
    dialog)` when a save fails (a dialog only for the first failure after everything was saved; marks alike) or moved
    another program's version of a label aside (always a dialog), `recovered(message)` when everything is saved
    again after that, `unsaved_changed()` whenever the set of failed labels or kept marks may have changed,
    `modified(bool)` whether anything is not on disk (the title's *). A message comes at once without its dialog;
    the dialog comes through `later` (the window's: once the drawing pauses, canvas.drawing_pause), if still true:
    a modal dialog opening between two strokes dropped the second one without a word."""

    problem = Signal(str, bool)
    unsaved_changed = Signal()
    recovered = Signal(str)  # every label is on disk again after a failed save (replaces the "NOT saved" line)
    modified = Signal(bool)

    def __init__(self, saver: LabelSaver, dialog_parent: QWidget) -> None:
        super().__init__(dialog_parent)
        self.saver, self._parent = saver, dialog_parent
        self.marks = MarkKeeper(saver, self)
        self._told = False  # the user was shown a dialog for the current run of failures
        self._told_marks = False  # … and for the current run of marks not written
        self._closing = False  # the window closes: a failure is no longer reported as retried (begin_close)
        self.later: Callable[[int, Callable[[], object]], None] = lambda _quiet_ms, show: show()
        saver.failed.connect(self._on_failed)
        saver.saved.connect(self._on_saved)
        saver.kept_aside.connect(self._on_kept_aside)
        saver.set_aside.connect(self._on_set_aside)
        saver.pending_changed.connect(self._on_pending)
        self.marks.kept.connect(self._on_mark_kept)
        self.marks.changed.connect(self._on_marks_changed)
        self.marks.written.connect(self._on_marks_written)

    def has_pending(self) -> bool:
        """Whether a label or an image mark is not on disk (queued, being written, failed or kept)."""
        return self.saver.has_pending() or bool(self.marks.pending(None))

    def begin_close(self) -> None:
        """The window closes for good: failed saves are tried once more (before `close` waits for them), and a
        failure from now on is not reported as "kept in memory and retried every … s" (nothing retries it after
        the close; `close` logs where the labels went)."""
        self._closing = True
        self.saver.retry()
        self.marks.retry()

    def close(self, timeout: float, project_root: Path | None) -> bool:
        """Stop the saver at the window's close (LabelSaver.close); labels still not on disk then (the close was not
        asked about: a signal, a logout) are written to a new folder in the user data folder (LabelSaver.rescue:
        a fault-injection trial's SIGTERM while the label folder was unwritable lost the stroke), the log says
        where, and the project's next opening offers them back (qt.rescued_flow). False when something was not
        saved in the project."""
        self._closing = True
        if not self.marks.retry():  # nothing retries them after the close: the log says what was lost
            lost = [f"{mark[0]} {mark_text(mark, on)}" for mark, (on, _why) in self.marks.pending(None).items()]
            log.error("Some image marks could not be written to project.json before closing; lost: %s", "; ".join(lost))
        if self.saver.close(timeout):
            return True
        unsaved = self.saver.unsaved()
        folder = rescue_dir(UNSAVED_LABELS, project_root) if project_root is not None else None
        written = self.saver.rescue(folder) if folder is not None else []
        log.error("Some labels could not be saved before closing: %s; %s", unsaved or "still being written",
                  f"their last versions were written to {folder} (offered back the next time the project "
                  "opens)" if written else "they are lost")
        return False

    def _tell(self, text: str, dialog: bool = True, still: Callable[[], bool] = lambda: True) -> None:
        """`problem(text, False)` now; with `dialog`, `problem(text, True)` once the drawing pauses, unless `still()`
        is no longer true then (saved meanwhile: "NOT saved" would be wrong) or the window closes."""
        self.problem.emit(text, False)
        if dialog:
            self.later(DIALOG_QUIET_MS, lambda: not self._closing and still() and self.problem.emit(text, True))

    @Slot(str, str, str)
    def _on_failed(self, cls: str, stem: str, reason: str) -> None:
        if self._closing:  # queued before the saver stopped (a SIGTERM's close): the window is gone
            return
        self._tell(failed_text(cls, stem, reason, self.saver.retry_s), not self._told,
                   lambda: (cls, stem) in self.saver.unsaved())
        self._told = True
        self.unsaved_changed.emit()

    @Slot(str, str, str)
    def _on_mark_kept(self, stem: str, what: str, reason: str) -> None:
        if self._closing:
            return
        self._tell(f"{stem} was not {what} in project.json: {reason}\nThe mark is kept in memory and written "
                   f"again every {self.saver.retry_s:g} s; the title shows * and the list marks the image until "
                   f"it is, and Retrain waits for it. {what_to_do([reason])}", not self._told_marks,
                   lambda: bool(self.marks.pending(None)))
        self._told_marks = True

    @Slot()
    def _on_marks_changed(self) -> None:
        self.unsaved_changed.emit()
        self.modified.emit(self.has_pending())

    @Slot()
    def _on_marks_written(self) -> None:
        if self._told_marks:
            self.recovered.emit("Every image mark is written to project.json now (it was retried).")
        self._told_marks = False

    @Slot(str, str, str)
    def _on_kept_aside(self, cls: str, stem: str, path: str) -> None:
        self._tell(f"The '{cls}' label file of {stem} was changed by another program since it was opened "
                   f"here. Your edit is saved; the other version was moved to {path} (nothing was deleted).")

    @Slot(str, str, str, str)
    def _on_set_aside(self, cls: str, stem: str, reason: str, folder: str) -> None:
        if not self._closing:
            self._tell(set_aside_text(cls, stem, reason, folder))
            self.unsaved_changed.emit()

    @Slot(str, str, bool)
    def _on_saved(self, _cls: str, _stem: str, _present: bool) -> None:
        self.unsaved_changed.emit()

    @Slot(bool)
    def _on_pending(self, _late: bool) -> None:
        self.modified.emit(self.has_pending())
        if not self.saver.has_pending():
            if self._told:
                self.recovered.emit("All labels are saved now (the failed save was retried).")
            self._told = False
            self.unsaved_changed.emit()

    def wait_for_saver(self, text: str = "Saving labels…") -> bool:
        """Let queued saves finish with the event loop running (modal progress dialog); False if the user
        cancelled the wait while saves were still being written."""
        if not self.saver.is_writing():
            return True
        dialog = QProgressDialog(text, "Cancel", 0, 0, self._parent)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        loop = QEventLoop()
        self.saver.drained.connect(loop.quit)
        dialog.canceled.connect(loop.quit)
        try:
            if self.saver.is_writing():  # checked after connecting: a drain in between is not missed
                loop.exec()
        finally:
            self.saver.drained.disconnect(loop.quit)
            dialog.canceled.disconnect(loop.quit)
            dialog.reset()
            dialog.deleteLater()
        return not self.saver.is_writing()

    def all_saved(self) -> bool:
        """Try every failed save and kept mark again and wait (without freezing) for the queue; True when all is on
        disk."""
        self.saver.retry()
        labels = self.wait_for_saver() and not self.saver.unsaved()
        return self.marks.retry() and labels

    def why_unsaved(self) -> str | None:
        """None when every label is on disk (`all_saved`); else why not, for a refusal: the saves that failed and
        what to do (a trial's removal said "try again in a moment" of a label folder nobody could write), or that
        saving is still under way."""
        if self.all_saved():
            return None
        failed = self.saver.unsaved()
        if not failed and (marks := self.marks.pending(None)):
            return marks_text(marks)
        if not failed:
            return "some labels are not saved yet (still being written); try again in a moment."
        (cls, stem), reason = next(iter(failed.items()))
        return (f"{len(failed)} label{'s' if len(failed) > 1 else ''} could not be saved (the '{cls}' label of "
                f"{stem}: {reason.rstrip('.')}). {what_to_do(failed.values())}")

    def confirm_leave(self) -> bool:
        """True when every label is on disk or the user discarded the unsaved ones; False to stay. Failed saves
        are tried once more first (the disk may be back)."""
        self.saver.retry()
        while True:
            if not self.wait_for_saver():
                return False
            self.marks.retry()
            unsaved, marks = self.saver.unsaved(), self.marks.pending(None)
            if not unsaved and not marks:
                return True
            answer = ask_unsaved(self._parent, unsaved_text(unsaved, self.saver.retry_s, marks), self.saver,
                                 self.marks)
            if answer == SAVED:
                continue
            if answer == DISCARD:
                self.saver.discard()
                self.marks.discard()
                self._told_marks = False
                self.unsaved_changed.emit()
                return True
            if answer != RETRY:
                return False
            self.saver.retry()
