"""The main window's Tab order, in one place: the screen's, top to bottom and left to right within each part, parts
from left to right (image list, canvas, then the right-hand column's Draw, Train and Layers panels). Shift+Tab walks
it backwards.

Qt's default is the order the widgets were made in: an outside trial's Tab from the canvas skipped the Class box,
ran Brush → Brush size → Wand tolerance → New label although New label sits above the sliders, and reached the
threshold at the top of Layers last, after seven checkbox and slider pairs."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget


def tab_chain(window: Any) -> list[QWidget]:
    """The window's controls in Tab order (some take no focus now, e.g. a disabled button or an unchecked tool:
    Qt skips those, and only the checked tool of the tool grid is a stop; arrow keys move between the tools)."""
    images, tools, train, layers = window.image_list, window.tools, window.train_panel, window.layers
    chain: list[QWidget] = [images.table, images.next_button, window.canvas,
                            tools.class_combo, tools.mode_combo, tools.brush_slider, tools.wand_slider,
                            *tools.tool_buttons.values(), tools.accept_button,
                            train.preset_combo, train.minutes_spin, train.scratch_check, train.retrain_button,
                            train.continuous_button, train.cancel_button, train.models_button,
                            layers.threshold_spin, layers.suggestion]
    for layer, check in layers.checks.items():
        chain += [check, layers.sliders[layer]]
    return chain


def set_tab_order(window: Any) -> None:
    """Make Tab follow `tab_chain(window)` (and wrap from its last control to its first)."""
    chain = tab_chain(window)
    for before, after in zip(chain, chain[1:]):
        QWidget.setTabOrder(before, after)
