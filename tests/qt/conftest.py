"""Shared fixtures for the Qt tests."""

import pytest

from medseg_gui.qt import dialogs
from medseg_gui.qt.canvas import Canvas


@pytest.fixture
def messages(monkeypatch):
    """Record message boxes instead of showing them (they are non-blocking anyway); returns the texts shown."""
    shown: list[str] = []
    monkeypatch.setattr(dialogs, "show_message", lambda parent, title, text, **kw: shown.append(text))
    return shown


@pytest.fixture
def shown_canvas(qtbot):
    """A factory: `shown_canvas(image, colors)` is a 400×300 Canvas on screen showing `image` (HxWx3 uint8) with an
    empty label for each class of `colors` (class → RGB)."""
    def make(image, colors: dict[str, tuple[int, int, int]]) -> Canvas:
        canvas = Canvas()
        qtbot.addWidget(canvas)
        canvas.resize(400, 300)
        canvas.show()
        qtbot.waitExposed(canvas)
        canvas.set_image("img", image)
        canvas.set_labels({cls: None for cls in colors}, colors)
        return canvas
    return make
