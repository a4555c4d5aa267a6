"""Complete or sparse, said by the clinician: K switches the label on screen between complete (unpainted = background)
and sparse (unpainted = not annotated), recording nothing; Shift+K keeps it complete and records that in project.json
(core.label_status ``CONFIRMED_KEY``). K on a sparse label that would look incomplete once complete asks first, and a
Yes records it as Shift+K does (an outside trial's K turned 0.1 % of traced vessels, 10 % predicted, into a complete
label at once, every untraced vessel taught as background, with no "✓ ?"). After every edit, and when a prediction
arrives, a complete label that plainly is not (``core.label_status.doubt``) is reported: the status bar says why and
what to press, the image list marks it. A label the prediction agreed with and the clinician then cut down by hand
(erasing a false positive) is a correction, not an unfinished label: it is confirmed complete instead
(``core.label_status.cut_by_hand``)."""

from __future__ import annotations

import weakref

import numpy as np
from PySide6.QtCore import QObject, Signal

from medseg_gui.core.label_status import CONFIRMED_KEY, NONE_KEY, counted_doubt, cut_by_hand, doubt
from medseg_gui.core.left_out import PredictedGrid, predicted_grid
from medseg_gui.qt import dialogs
from medseg_gui.qt.image_session import ImageSession
from medseg_gui.qt.keymap import ACTIONS

FIX_HINT = (f"Press {ACTIONS['label_sparse'].keys[0]} to make it sparse (unpainted = not annotated), or "
            f"{ACTIONS['label_complete'].keys[0]} if it really is complete.")


class LabelStatusFlow(QObject):
    """`toggle(cls)` (K), `confirm(cls)` (Shift+K) return the sentence for the status bar; `doubt_changed(cls, stem,
    why or None)` tells the image list."""

    doubt_changed = Signal(str, str, object)

    def __init__(self, session: ImageSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._doubts: dict[tuple[str, str], str] = {}  # (class, stem) → the doubt last reported
        self._marked_project: object = None  # the project `_doubts` were said of (a reopened one is another)
        self._judged: dict[str, bool] = {}  # class → its current model's predictions may doubt labels
        self._predicted: tuple[weakref.ref, float, PredictedGrid] | None = None  # (map, threshold, where it is
        # at or above it, on the grid `left_out` judges on)
        self._agreed: dict[tuple[str, str, str], int] = {}  # (project, class, stem) → label pixels when the last
        # check found the complete label agreeing with the prediction; any other outcome forgets it
        session.canvas.stroke_finished.connect(lambda cls: self.check(cls, edited=True))
        session.review.events.prediction.connect(self.check)

    def check(self, cls: str, edited: bool = False) -> str | None:
        """Report whether the complete `cls` label on screen looks incomplete; the doubt, or None. After an edit
        (`edited`: a stroke, undo or redo) a doubt that goes is said to have gone."""
        s, canvas = self.session, self.session.canvas
        if s.project is None or s.stem is None or cls not in canvas.doc.labels:
            return None
        self._forget_marks_of_another_project()
        why = None
        # as last set: a mark kept unwritten counts (this image's own: all images' marks, read at every step,
        # made the step's cost grow with the list)
        confirmed = s.marks.wanted(s.project, s.stem, CONFIRMED_KEY, cls)
        if confirmed and (not canvas.is_labelled(cls) or canvas.is_sparse(cls)):
            self._mark(cls, False)  # what was confirmed (a complete label) is gone: undone, or made sparse
            confirmed = False
        corrected, key = False, (str(s.project.root), cls, s.stem)
        agreed = self._agreed.pop(key, 0)  # kept below only while the prediction still agrees with the label
        if (canvas.is_labelled(cls) and not canvas.is_sparse(cls)
                and not confirmed and not s.marks.wanted(s.project, s.stem, NONE_KEY, cls)):
            prob = self._judging_prob(cls)
            why = self._doubt(cls, prob)
            area = canvas.doc.area(cls)
            if prob is not None and why is None:
                self._agreed[key] = area
            elif (why is not None and prob is not None and edited and not canvas.can_redo()
                  and cut_by_hand(agreed, area, canvas.doc.shape) and self._mark(cls, True)):
                why, corrected = None, True
        if self._doubts.get((cls, s.stem)) != why or corrected:
            if why is None:
                self._doubts.pop((cls, s.stem), None)
                if corrected:  # new-user trial, session 38: K was offered, and made the erased region unannotated
                    s.status.emit(f"{s.stem}: the {cls} label stays complete: you removed {cls} pixels yourself, so "
                                  f"what you erased is background. Press {ACTIONS['label_sparse'].keys[0]} if it is "
                                  "unfinished instead.")
                elif edited:  # the doubt said in the status bar goes too (trial: it stayed 8 s after an undo)
                    s.status.emit(f"{s.stem}: the {cls} label no longer looks incomplete." if canvas.is_labelled(cls)
                                  else f"{s.stem}: no {cls} label now.")  # every stroke undone (trial, session 39)
            else:
                self._doubts[(cls, s.stem)] = why
                s.status.emit(f"{s.stem}: {why} {FIX_HINT}")
            self.doubt_changed.emit(cls, s.stem, None if why is None else f"{why} {FIX_HINT}")
        return why

    def _judging_prob(self, cls: str) -> np.ndarray | None:
        """The `cls` probability map shown (the review state's own), None where its model does not judge labels."""
        return self.session.review.probs.get(cls) if self._judged.get(cls, True) else None

    def _doubt(self, cls: str, prob: np.ndarray | None) -> str | None:
        """`core.label_status` doubt of the `cls` label on screen taken as complete (a sparse one: its class pixels)."""
        s, canvas = self.session, self.session.canvas
        if canvas.doc.roi is None:  # from counts; the label pooled onto the prediction's cached grid only while
            h, w = canvas.doc.shape  # they doubt it (core.left_out: one read of an 8000² label, no full-size temp)
            shown = None if prob is None else self._predicted_grid(prob, s.review.threshold)
            return counted_doubt(cls, canvas.label_view(cls), canvas.doc.area(cls),
                                 None if shown is None else shown.pixels, h * w, canvas.new_label.is_thin(cls),
                                 None if shown is None else lambda: shown)
        return doubt(cls, canvas.label_view(cls), None if prob is None else prob >= s.review.threshold,
                     canvas.doc.roi, canvas.new_label.is_thin(cls))

    def set_doubts(self, cls: str, doubts: dict[str, str], judged: bool = True) -> None:
        """The doubts of the `cls` labels of images not on screen, read in the background (qt.label_shares): marks
        the new ones in the list and clears those no longer doubtful; the image on screen is checked live instead,
        by the prediction only where the current model `judged` (core.label_status.judges)."""
        self._forget_marks_of_another_project()
        self._judged[cls] = judged
        self.check(cls)  # also an image shown without a prediction, checked only on a stroke before
        shown = self.session.stem
        for c, stem in [key for key in self._doubts if key[0] == cls and key[1] != shown and key[1] not in doubts]:
            del self._doubts[(c, stem)]
            self.doubt_changed.emit(cls, stem, None)
        for stem, why in doubts.items():
            if stem != shown and self._doubts.get((cls, stem)) != why:
                self._doubts[(cls, stem)] = why
                self.doubt_changed.emit(cls, stem, f"{why} {FIX_HINT}")

    def _forget_marks_of_another_project(self) -> None:
        """The doubts said so far belong to the project shown then: a project opened (or opened again, e.g. after
        File → Add images…) has a new list without their marks, so they are said again (a verification trial,
        session 39, saw every "✓ ?" of a reopened project go)."""
        if self.session.project is not self._marked_project:
            self._doubts.clear()
            self._marked_project = self.session.project

    def _predicted_grid(self, prob: np.ndarray, threshold: float) -> PredictedGrid:
        """`prob` at or above `threshold` on the grid `left_out` judges on, with its pixel count, made once per map and
        threshold (not after every stroke); no full-size mask is kept."""
        if self._predicted is None or self._predicted[0]() is not prob or self._predicted[1] != threshold:
            self._predicted = (weakref.ref(prob), threshold, predicted_grid(prob >= threshold))
        return self._predicted[2]

    def toggle(self, cls: str | None) -> str:
        """Complete → sparse, sparse → complete (`_make_complete`)."""
        refused = self._refused(cls)
        if refused:
            return refused
        canvas, stem = self.session.canvas, self.session.stem
        if canvas.is_sparse(cls):
            return self._make_complete(cls)
        if not canvas.mark_complete(cls, False):
            return f"{stem}: the {cls} label has no {cls} pixels painted; paint some first, then make it sparse."
        self._mark(cls, False)
        self.check(cls)
        return (f"{stem}: the {cls} label is sparse now: only what you painted counts (class or, with the "
                f"Background brush, background); training and scores ignore the rest.")

    def _make_complete(self, cls: str) -> str:
        """Sparse → complete, not recorded as confirmed (a later prediction may still doubt it); a label the doubt
        rule would doubt once complete only after one Yes, which confirms it too."""
        s = self.session
        why = self._doubt(cls, self._judging_prob(cls))
        if why is None:
            s.canvas.mark_complete(cls, True)
            self.check(cls)
            undo, confirm = ACTIONS['undo'].keys[0], ACTIONS['label_complete'].keys[0]
            return (f"{s.stem}: the {cls} label is complete now: every unpainted pixel is background ({undo} brings "
                    f"back the background you annotated). Press {confirm} to record that it really is complete.")
        if not dialogs.ask_yes_no(s.canvas.window(), "Make the label complete?", complete_question(s.stem, cls, why)):
            return f"{s.stem}: the {cls} label stays sparse; nothing was changed."
        return self.confirm(cls)

    def confirm(self, cls: str | None) -> str:
        """Keep (or make) the label complete and record that the clinician says so."""
        refused = self._refused(cls)
        if refused:
            return refused
        stem = self.session.stem
        self.session.canvas.mark_complete(cls, True)
        saved = self._mark(cls, True)
        self.check(cls)
        return (f"{stem}: the {cls} label is complete: every unpainted pixel is background." +
                ("" if saved else " (project.json does not record yet that you confirmed it: it is retried.)"))

    def _refused(self, cls: str | None) -> str | None:
        s = self.session
        if s.project is None or s.stem is None or not cls:
            return "Open an image first."
        if s.read_only is not None or s.project.read_only is not None:
            return f"This project is open read-only ({s.read_only or s.project.read_only}); nothing was changed."
        if not s.canvas.is_labelled(cls):
            return f"{s.stem} has no {cls} label yet: paint one first."
        return None

    def _mark(self, cls: str, on: bool) -> bool:
        """Set the confirmed-complete mark; False when project.json does not have it yet (kept and retried)."""
        return self.session.marks.set(self.session.project, self.session.stem, CONFIRMED_KEY, cls, on) is None


def complete_question(stem: str, cls: str, why: str) -> str:
    """What K asks before it makes a sparse label complete that would then look incomplete (`why`, the doubt)."""
    return (f"Made complete, the {cls} label of {stem} would be marked \"✓ ?\" (looks incomplete):\n\n{why}\n\n"
            f"Make it complete anyway? Yes: every pixel you did not paint becomes background, Retrain learns it so, "
            f"and the label is recorded as confirmed complete ({ACTIONS['label_complete'].keys[0]}). No: it stays "
            f"sparse, with the background you annotated.")
