"""The one table of keyboard shortcuts: the window's actions (menu entries), the canvas' own keys, the tools panel's
tooltips and the F1 dialog are all built from it, so a key changes in one place.

Keys are portable ``QKeySequence`` texts ("Ctrl+Shift+Z"; Ctrl is Cmd on macOS); the first of several is the one the
F1 list shows first.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from PySide6.QtCore import QKeyCombination, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence

from medseg_gui.outcomes import PREDICT_ALL_KEY


@dataclass(frozen=True)
class Shortcut:
    keys: tuple[str, ...]
    text: str  # what it does, for the F1 list
    shown: int = 0  # how many of the keys the F1 list shows (0: all)


ACTIONS: dict[str, Shortcut] = {  # WindowActions field → keys; in the order the F1 list shows them
    "next_image": Shortcut(("PgDown", "Ctrl+Tab"), "Next image (in the order of the list)"),
    "prev_image": Shortcut(("PgUp", "Ctrl+Shift+Tab", "Ctrl+Shift+Backtab"), "Previous image", shown=2),
    "next_to_label": Shortcut(("N",), "Next image to label: the most uncertain unlabelled one, else the least "
                                      "annotated sparse label"),
    "smaller_brush": Shortcut(("[",), "Smaller brush"),
    "bigger_brush": Shortcut(("]",), "Larger brush"),
    "undo": Shortcut(("Ctrl+Z",), "Undo this image's last stroke (its strokes since the window opened: the history "
                                  "is not kept after closing); while drawing a polygon, remove its last corner"),
    "redo": Shortcut(("Ctrl+Shift+Z", "Ctrl+Y"), "Redo the last undone stroke; while drawing a polygon, put back the "
                                                  "corner Undo removed (no stroke comes back then)"),
    "retrain": Shortcut(("Ctrl+R",), "Retrain the current class"),
    "predict_all": Shortcut((PREDICT_ALL_KEY,), "Predict every image of the current class that has no prediction "
                                         "of its current model yet (no training)"),
    "cancel": Shortcut(("Esc",), "Cancel a running training or Predict all images"),
    "fit": Shortcut(("Ctrl+0",), "Fit the image to the window"),
    "actual_size": Shortcut(("Ctrl+1",), "Zoom to 100 %: one image pixel per screen pixel"),
    "zoom_in": Shortcut(("Ctrl++", "Ctrl+=", "+"), "Zoom in a step (as a wheel notch), centred on the view"),
    "zoom_out": Shortcut(("Ctrl+-", "-"), "Zoom out a step, centred on the view"),
    "reviewed": Shortcut(("R",), "Mark the current image reviewed (again: not reviewed)"),
    "no_object": Shortcut(("X",), "No object of the current class on this image: an explicit negative, saved as an "
                                  "all-background label (again: take it back)"),
    "label_sparse": Shortcut(("K",), "Switch the current label between complete (unpainted = background) and "
                                     "sparse (unpainted = not annotated); asks first where the complete label "
                                     "would look incomplete"),
    "label_complete": Shortcut(("Shift+K",), "Keep the current label complete: it really has all of the class "
                                             "(silences the \"looks incomplete\" warning)"),
    "accept_prediction": Shortcut(("A",), "Accept prediction: copy the thresholded prediction into the current "
                                          "label (undoable)"),
    "open_folder": Shortcut(("Ctrl+O",), "Open a folder of images"),
    "export_masks": Shortcut(("Ctrl+E",), "Export masks as PNG"),
    "quit": Shortcut(("Ctrl+Q",), "Quit (asks first while training runs)"),
    "shortcuts": Shortcut(("F1",), "This list"),
}

TOOLS: dict[str, tuple[str, str, str]] = {  # canvas tool → (key, button text, what it does); "" = no key
    "brush": ("B", "Brush", "Paint the current class"),
    "eraser": ("E", "Eraser", "Back to unpainted: background on a complete label, not annotated on a sparse one"),
    "background": ("G", "Background", "Mark background; on an image without this label it starts a sparse label"),
    "unannotate": ("U", "Unannotate", "Mark pixels as not annotated: training and scores ignore them"),
    "polygon": ("P", "Polygon", "Click corners, double-click or Enter to fill (drag: lasso)"),
    "fill": ("F", "Fill", "Fill the enclosed region under the click"),
    "wand": ("W", "Wand", "Select similar colours around the click"),
    "pan": ("", "Pan", "Drag to move the view (or hold Space, or drag with the middle button)"),
}

LAYERS: dict[str, tuple[str, str]] = {  # layer → (key, what it toggles)
    "label": ("L", "label"), "others": ("Shift+L", "labels of the other classes"),
    "contours": ("C", "predicted contours"), "fpfn": ("D", "FP-FN overlay"),
    "roi": ("O", "region layer"), "probability": ("M", "probability heat map"),
    "uncertainty": ("Y", "uncertainty layer"),
}

CLASS_KEYS = tuple(str(i) for i in range(1, 10))  # choose the 1st … 9th class

HOLD: dict[str, tuple[str, str]] = {  # canvas hold key → (key, what holding it does); not actions (no key release)
    "pan": ("Space", "Hold and drag to pan (wherever the focus is, except in a text field; on a button, check box "
                     "or link reached by Tab, Space presses it)"),
    "hide_overlays": ("H", "Hide all overlays while held (wherever the focus is, except in a text field)"),
}

CANVAS_ACTIONS = ("undo", "redo", "smaller_brush", "bigger_brush")  # the canvas handles these itself when focused

OTHER_ROWS: tuple[tuple[str, str], ...] = (  # F1 rows that are no single key
    ("Shift + polygon / lasso, fill, wand", "Mark background (erase the class) instead of painting it"),
    ("Ctrl + closing a polygon / lasso", "Accept (copy) the prediction inside it into the label"),
    ("Enter / Esc / Backspace", "While drawing a polygon: close it / cancel it / remove the last corner"),
    ("Tab / Shift+Tab", "Move the keyboard focus between controls"),
    ("Space / Return", "Press the button, check box or link that has the focus (Return: buttons and links)"),
    ("Home / End (image list)", "The first / last image, in the list's order"),
    ("Mouse wheel", "Zoom at the cursor"),
    ("Middle button drag", "Pan"),
)


def tool_tip(tool: str) -> str:
    """Tooltip of a tool button: what it does and its key."""
    key, _, text = TOOLS[tool]
    return f"{text} ({key})" if key else text


def layer_tip(layer: str, text: str) -> str:
    """Tooltip of a layer's check box: `text` and the key that toggles it, if any."""
    key = LAYERS.get(layer, ("", ""))[0]
    return f"{text} ({key})" if key else text


def key_text(action: str) -> str:
    """The first key of a window action as the user reads it ("Ctrl+O"; "⌘O" on macOS), for texts and tooltips."""
    return QKeySequence(ACTIONS[action].keys[0]).toString(QKeySequence.SequenceFormat.NativeText)


def qt_key(text: str) -> Qt.Key:
    """The Qt key of a one-key text ("Space", "H")."""
    return QKeySequence(text)[0].key()


def _combination(event: QKeyEvent) -> str:
    mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    return QKeySequence(QKeyCombination(mods, Qt.Key(event.key()))).toString()


@cache
def _canvas_commands() -> dict[str, str]:
    """Portable key text → "tool:<name>" or a CANVAS_ACTIONS name."""
    commands = {QKeySequence(key).toString(): f"tool:{tool}" for tool, (key, _, _) in TOOLS.items() if key}
    for name in CANVAS_ACTIONS:
        commands.update({QKeySequence(key).toString(): name for key in ACTIONS[name].keys})
    return commands


def canvas_command(event: QKeyEvent) -> str | None:
    """What the canvas does with this key press ("tool:brush", "undo", "bigger_brush", ...), or None."""
    return _canvas_commands().get(_combination(event))


def f1_rows() -> list[tuple[str, str]]:
    """(keys, what they do) for the F1 dialog, built from the tables above."""
    def keys(s: Shortcut) -> str:
        shown = s.keys[:s.shown] if s.shown else s.keys
        return " / ".join(QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText) for k in shown)

    rows = [(f"{CLASS_KEYS[0]} – {CLASS_KEYS[-1]}", "Choose class")]
    rows += [(key, f"{text} – {what[0].lower()}{what[1:]}") for key, text, what in TOOLS.values() if key]
    rows += [(key, text) for key, text in HOLD.values()]
    rows += [(keys(s), s.text) for s in ACTIONS.values()]
    rows += [(key, f"Toggle the {what}") for key, what in LAYERS.values()]
    rows += list(OTHER_ROWS)
    return rows
