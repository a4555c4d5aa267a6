"""Accept prediction (A): the thresholded prediction of a class becomes its label on the image shown (one undo step),
asked first when labelled pixels would turn to background.

The question opens only after a pause (canvas.drawing_pause, ASK_AFTER_MS). A window manager can hold back a stroke
made just before A until after the key, and a question that opened at once dropped it without a word. Now such a
stroke is drawn before the question counts the pixels it would turn to background. When nothing labelled would be
lost, nothing is asked: the prediction is accepted at once, and a stroke that comes after it is refused with a note
(canvas.late_input).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject

from medseg_gui.core.label_status import ACCEPTED_KEY
from medseg_gui.core.masks import OBJECT
from medseg_gui.core.postprocess import specks
from medseg_gui.qt.keymap import ACTIONS

if TYPE_CHECKING:
    from medseg_gui.qt.image_session import ImageSession

SPECK_AREA = 0.0005  # Accept prediction leaves out a blob class's predicted regions under this share of the image
# (new-user trial, a C6 photo: seven specks of 8-596 px of 2 Mpx beside one 810,000 px region); a thin-structure
# class's none (outside trial, 8 Mpx HRF photos: 335 such "specks" were vessel segments of up to 2,827 px)
ASK_AFTER_MS = 200  # the question waits this long after A and after the canvas' last press or release (openbox
# held a stroke back for up to 25 ms behind the key: xdotool under Xvfb on the 2-core VM)


class AcceptFlow(QObject):
    """`accept(cls, held_out)` for the image shown; `confirm(question)` asks (the window sets a Yes/No dialog)."""

    def __init__(self, session: ImageSession) -> None:
        super().__init__(session)
        self.session = session
        self.confirm: Callable[[str], bool] = lambda question: True
        self._asking: tuple[str, str] | None = None  # (image, class) of an A whose question waits for a pause

    def accept(self, cls: str, held_out: bool = False, ask: bool = False) -> None:
        """Replace the label of `cls` by its thresholded prediction and say so; a blob class's specks under
        SPECK_AREA of the image are left out (near-invisible at fit, they would be labelled lesions). Recorded in
        project.json (core.label_status ``ACCEPTED_KEY``, cleared by the next edit): Retrain does not validate on it.
        `held_out`: the image validates the current model, whose scores there then measure it against its own
        prediction (about 1.00): the message says so. A polygon left open is closed and saved first. `ask`: the
        question about labelled pixels may open now (else it waits for a pause in the drawing, and all is judged
        again then)."""
        s, canvas = self.session, self.session.canvas
        if s.stem is None or (self._asking is not None and not ask):  # the question of an earlier A is coming
            return
        if (why := s.gate.why_off()) is not None:
            s.problem.emit(f"{why[0].upper()}{why[1:]}; labels cannot be changed.", False)
            return
        if cls not in s.review.probs:
            s.problem.emit(f"There is no {cls} prediction for {s.stem} yet — press Retrain first.", False)
            return
        pred = canvas.doc.preds.get(cls)
        area = 0.0 if canvas.new_label.is_thin(cls) else SPECK_AREA  # pieces of a vessel tree are no specks
        small, n = specks(pred, area) if pred is not None else (None, 0)
        left_out = (f" ({n} speck{'s' if n > 1 else ''} under {SPECK_AREA:.2%} of the image left out)" if n else "")
        if pred is None or np.count_nonzero(pred) <= (np.count_nonzero(small) if n else 0):  # specks lie in pred
            # nothing would be labelled: no label written, nothing to undo (it said "accepted" and saved nothing)
            s.problem.emit(f"The {cls} prediction on {s.stem} finds no {cls}{left_out}, so there is nothing to "
                           f"accept. If there is none here, press {ACTIONS['no_object'].keys[0]} to mark this image "
                           f"as having no {cls}.", False)
            return
        canvas.leave_image()  # a polygon left open is saved first, as on any exit: the question below counts it
        lost = self._labelled_pixels_lost(cls)
        if lost and not ask:  # a modal question drops the mouse input to the window: a stroke still on its way first
            self._asking = (s.stem, canvas.current_class())
            canvas.input.pause.after(ASK_AFTER_MS, lambda: self._ask(cls, held_out))
            return
        if lost and not self.confirm(
                f"Replace your {cls} label on {s.stem} with the prediction? {lost:,} pixel{'s' if lost > 1 else ''} "
                f"you labelled as {cls} would become background ({ACTIONS['undo'].keys[0]} undoes it)."):
            return
        canvas.accept_prediction(~small if n else None)  # (its stroke_finished records the mark too)
        if s.marks.set(s.project, s.stem, ACCEPTED_KEY, cls, True) is None:  # Retrain validates on others
            note = ((f". {s.stem} validated the current model: its scores there" if held_out else
                     ". Its scores") + " now compare the model with its own prediction (about 1.00) until you "
                    "correct the label; Retrain learns from it but validates on other labels")
        else:  # kept and retried; the guard said so (a dialog that may hide this line), the list marks the image
            note = ". project.json does not record yet that this label is the model's prediction; Retrain waits for it"
        s.status.emit(f"Prediction accepted as the {cls} label{left_out} — {ACTIONS['undo'].keys[0]} to undo{note}")

    def _ask(self, cls: str, held_out: bool) -> None:
        """The pause after A: ask about the label as it is now, on the image and class A was pressed for."""
        asked, self._asking = self._asking, None
        s = self.session
        if asked is None:
            return
        if asked != (s.stem, s.canvas.current_class()):  # another image or class since: it would act on that one
            s.problem.emit(f"Prediction not accepted: the image or the class changed before its question opened. "
                           f"Show {asked[0]} with {cls} again and press {ACTIONS['accept_prediction'].keys[0]}.", False)
            return
        self.accept(cls, held_out, ask=True)

    def _labelled_pixels_lost(self, cls: str) -> int:
        """How many labelled `cls` pixels accepting the prediction would turn to background."""
        doc = self.session.canvas.doc
        label, pred = doc.labels.get(cls), doc.preds.get(cls)
        if label is None or pred is None:
            return 0
        return int(np.count_nonzero((label == OBJECT) & (pred == 0)))
