"""Two-stage classes in the window: Train → "Restrict class to a region…" asks which class's region the current
class lives in (e.g. the lesion inside the cervix) and saves it as `roi_class` in project.json.

The rule itself (label of that class, else its thresholded prediction, inside the image ROI) is `core.regions`;
training, prediction and metrics follow it in `pipeline`, the canvas outline in `ImageSession.show_region`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QInputDialog, QWidget

from medseg_gui.core.errors import MedsegError
from medseg_gui.core.regions import restriction_text

WHOLE_IMAGE = "(whole image)"


def ask_roi_class(parent: QWidget | None, cls: str, choices: list[str], current: str | None) -> str | None:
    """Blocking chooser (monkeypatched in tests): a class name, WHOLE_IMAGE, or None when cancelled."""
    items = [WHOLE_IMAGE, *choices]
    index = items.index(current) if current in items else 0
    text, ok = QInputDialog.getItem(parent, "Region of interest class",
                                    f"Train, predict and score '{cls}' only inside the region of:", items, index,
                                    False)
    return text if ok else None


def region_text(roi_class: str | None) -> str:
    """What the train panel says about the current class's region ('' for a class on the whole image)."""
    if roi_class is None:
        return ""
    return (f"Inside {roi_class}: trained, predicted and scored only in its label, or its prediction where it has "
            f"no label")


class RegionFlow(QObject):
    """`ask(project, cls)` → the chooser → `set(project, cls, roi_class)`; `changed(cls, message)` after a save,
    `errored(message)` when it was refused (a circle, a read-only project); the project keeps its old setting then."""

    changed = Signal(str, str)
    errored = Signal(str)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._parent = parent

    def ask(self, project: Any, cls: str | None) -> None:
        if project is None or not cls:
            return
        others = [name for name in project.class_names if name != cls]
        choice = ask_roi_class(self._parent, cls, others, project.class_spec(cls).roi_class)
        if choice is not None:
            self.set(project, cls, None if choice == WHOLE_IMAGE else choice)

    def set(self, project: Any, cls: str, roi_class: str | None) -> bool:
        try:
            project.set_roi_class(cls, roi_class)
        except MedsegError as err:
            self.errored.emit(f"'{cls}' was not restricted: {err}")
            return False
        self.changed.emit(cls, f"{restriction_text(cls, roi_class)} — Retrain to train it that way.")
        return True
