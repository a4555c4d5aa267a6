""""No <class> here" (X): an explicit negative. The image gets a complete, all-background label of the class (so
Retrain learns from it as a negative, like any empty label) and project.json records that the clinician said so
(image state `NONE_KEY`: the classes marked), which the list shows as "none". Pressing X again takes it back (the
empty label is removed). Painting the class on such an image, or removing its label, drops the mark."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from medseg_gui.core.label_status import NONE_KEY, marked
from medseg_gui.qt.image_session import ImageSession
from medseg_gui.workers.label_saver import LabelSaver


def negatives(project: Any, cls: str) -> set[str]:
    """Stems marked "no `cls` here" in project.json (the list shows these; a mark kept unwritten is not there)."""
    return marked(project, NONE_KEY, cls)


class NegativeFlow(QObject):
    """`toggle(cls)` marks / unmarks the image on screen; `changed(cls)` after the marks of `cls` changed."""

    changed = Signal(str)

    def __init__(self, session: ImageSession, saver: LabelSaver, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.saver = session, saver
        self._toggling = False  # the flow's own label_presence is no edit of the user's
        session.label_presence.connect(self._on_edit)

    def toggle(self, cls: str | None) -> str:
        """Mark (or unmark) the image on screen as having no `cls`; the sentence for the status bar."""
        project, stem, canvas = self.session.project, self.session.stem, self.session.canvas
        if project is None or stem is None or not cls:
            return "Open an image first."
        if project.read_only is not None:
            return f"This project is open read-only ({project.read_only}); nothing was marked."
        marked = self.session.marks.wanted(project, stem, NONE_KEY, cls)
        if not marked and canvas.is_labelled(cls) and canvas.doc.area(cls) > 0:
            return (f"{stem} has {cls} pixels labelled; erase them (or undo) first, then mark “no {cls} here”.")
        empty = canvas.is_labelled(cls) and canvas.doc.area(cls) == 0 and not canvas.is_sparse(cls)
        if (not marked or empty) and not self.session.may_write(cls):  # a label file left out is moved aside first
            return f"{stem}: nothing was marked; its {cls} label file could not be moved aside (see the message)."
        unwritten = self.session.marks.set(project, stem, NONE_KEY, cls, not marked) is not None  # kept: it says so
        note = " (project.json does not record it yet: it is retried)" if unwritten else ""
        if not marked:
            self.saver.save(cls, stem, np.zeros(canvas.doc.shape, bool))  # complete, all background
        elif empty:
            self.saver.save(cls, stem, None)  # the empty label was only the mark: remove it
        self._toggling = True
        try:
            self.session.label_presence.emit(cls, stem, not marked or not empty)  # the list's tick
        finally:
            self._toggling = False
        self.session.annotated_share.emit(cls, stem, None)
        self.session.show(stem, None, canvas.current_class())  # the canvas shows the saver's newest label
        self.changed.emit(cls)
        if marked:
            return f"{stem}: “no {cls} here” taken back{note}."
        return f"{stem}: no {cls} here — an all-background label; Retrain learns from it as a negative{note}."

    @Slot(str, str, bool)
    def _on_edit(self, cls: str, stem: str, present: bool) -> None:
        """A stroke on a marked image: the mark holds while the label stays empty and complete."""
        project, canvas = self.session.project, self.session.canvas
        if (self._toggling or project is None or stem != self.session.stem
                or not self.session.marks.wanted(project, stem, NONE_KEY, cls)):
            return
        if present and canvas.doc.area(cls) == 0 and not canvas.is_sparse(cls):
            return
        self.session.marks.set(project, stem, NONE_KEY, cls, False)  # not written: kept and retried, said so
        self.changed.emit(cls)
