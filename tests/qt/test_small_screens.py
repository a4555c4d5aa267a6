"""Small screens and large scaling (an outside trial at 1366×768 and 1280×720 with 125-150 % scaling, where a window
of 911×499 logical pixels is maximised): no text sets a width that grows the window or moves the splitter, the
right-hand column narrows with its rows wrapped, and a finished run leaves its result's start in view."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtWidgets import QLabel

from medseg_gui.ml.config import TrainConfig
from medseg_gui.workers.training import TrainWorker
from tests.qt.test_main_window_panels import _progress
from tests.workers.helpers import make_project, open_window

SMALL = QSize(911, 499)  # 1366×768 at 150 %, maximised under a title bar
CPU = "CPU: Intel(R) Xeon(R) Platinum 8480+ Processor @ 2.00GHz (2 cores, 4 threads)"
READOUT = "x 1024  y 768  |  RGB 183, 96, 69  |  p 0.12  |  zoom 32 %  |  lesion  |  area 123456 px"
STEM = "EndoCV2021_C6_0100010_a_photo_name_without_spaces"


def _small_window(qtbot, tmp_path):
    window = open_window(qtbot, make_project(tmp_path / "p", n=2, labelled=1))
    window.resize(SMALL)
    qtbot.waitUntil(lambda: window.size() == SMALL, timeout=5_000)
    return window


def _inside(widget, parent) -> bool:
    return parent.rect().contains(QRect(widget.mapTo(parent, QPoint(0, 0)), widget.size()))


def test_the_training_line_and_the_pixel_readout_never_widen_the_window(tmp_path, qtbot, messages):
    """While training with the pointer on the image, the status bar's fields asked for 1499 of the screen's 1366
    pixels: the window grew past the screen, Cancel and the readout cut off. They end in "…" instead, whole in their
    tooltips."""
    window = _small_window(qtbot, tmp_path)
    window.train_panel.running_changed.emit(True)
    window.training.keras_rows.emit([("Device", CPU), ("Precision", "bfloat16 (auto)")])
    window.pixel_label.setText(READOUT)
    qtbot.wait(50)
    bar, device = window.statusBar(), window.device_label
    assert device.isVisible() and device.text() == f"Training on {CPU} · bfloat16"  # the whole text
    assert window.minimumSizeHint().width() < SMALL.width() and bar.minimumSizeHint().width() < SMALL.width()
    assert window.size() == SMALL
    for field in (device, window.pixel_label):
        shown = QLabel.text(field)
        assert _inside(field, bar) and shown.endswith("…") and field.text().startswith(shown[:-1])
        assert field.toolTip() == field.text()
    window.resize(1900, 700)  # room again: whole, no tooltip
    qtbot.waitUntil(lambda: window.width() == 1900, timeout=5_000)
    window.pixel_label.setText(READOUT)  # (the canvas' new zoom replaced it)
    qtbot.waitUntil(lambda: QLabel.text(window.pixel_label) == READOUT, timeout=5_000)
    assert window.pixel_label.toolTip() == ""


def test_the_right_hand_column_narrows_with_its_rows_wrapped(tmp_path, qtbot, messages):
    """At 150 % the column could not be narrowed below 500 of 1366 pixels (the Train panel's four buttons in a row,
    the Draw tools three a row, the threshold's suggestion beside its box, a combo box's longest item); the image
    kept 330. Narrowed, the rows wrap and every control stays whole."""
    window = _small_window(qtbot, tmp_path)
    window.tools.set_classes([("lesion", (255, 200, 0)), ("a_long_class_name_for_the_right_column", (0, 90, 255))])
    window.layers.show_suggestion({"threshold": 0.35, "val_dice": 0.62})
    panel, layers, side = window.train_panel, window.layers, window.side_scroll
    buttons = [panel.retrain_button, panel.continuous_button, panel.cancel_button, panel.models_button]
    one_row = sum(b.sizeHint().width() for b in buttons)
    threshold_row = sum(w.sizeHint().width() for w in (layers.threshold_spin, layers.suggestion))
    qtbot.wait(50)
    assert side.minimumWidth() < min(one_row, threshold_row + layers.fontMetrics().horizontalAdvance("Threshold"))
    sizes = window.splitter.sizes()
    window.splitter.setSizes([sizes[0], sum(sizes) - sizes[0] - side.minimumWidth(), side.minimumWidth()])
    qtbot.waitUntil(lambda: side.width() == side.minimumWidth(), timeout=5_000)
    qtbot.wait(50)
    rows = {b.geometry().center().y() for b in buttons}
    assert len(rows) == 2  # two rows of two
    assert layers.suggestion.mapTo(layers, QPoint(0, 0)).y() > layers.threshold_spin.mapTo(layers, QPoint(0, 0)).y()
    tools = list(window.tools.tool_buttons.values())
    for widget in (*buttons, *tools, layers.threshold_spin, layers.suggestion, window.tools.class_combo):
        assert widget.width() >= widget.minimumSizeHint().width() and _inside(widget, widget.parentWidget()), widget
    assert side.widget().width() <= side.viewport().width()


def test_the_splitter_stays_put_as_texts_change(tmp_path, qtbot, messages):
    """At 1280×720 with 150 % the image list narrowed whenever a photo with a long name loaded ("Loading
    EndoCV2021_C6_0100010…" in the canvas' place asked for its width) and the column widened as a run began (the
    loss curve's key on one line)."""
    window = _small_window(qtbot, tmp_path)
    qtbot.wait(50)
    sizes, least = window.splitter.sizes(), window.side_scroll.minimumWidth()
    window.canvas_area.show_message(f"Loading {STEM}…")
    panel = window.train_panel
    panel.attach(TrainWorker(tmp_path, "lesion", TrainConfig(minutes=1.0)))  # a real worker, never started
    panel.show_progress(_progress(1, 0, loss=0.5, val_auc=0.8))
    panel.curve.key.setText(panel.curve.key.text().replace("validation", "validation Dice at its best threshold"))
    window.layers.show_suggestion({"threshold": 0.35, "val_dice": 0.62})
    qtbot.wait(100)
    assert window.splitter.sizes() == sizes and window.side_scroll.minimumWidth() == least
    assert window.size() == SMALL


def test_a_finished_run_keeps_the_start_of_its_result_in_view(tmp_path, qtbot, messages):
    """At 150 % the run's end scrolled the column to the Layers panel, which cut off the result's first lines
    ("Previous model kept…"): the column scrolls towards the layers only as far as the result's start stays."""
    window = _small_window(qtbot, tmp_path)
    panel, side = window.train_panel, window.side_scroll
    panel.attach(TrainWorker(tmp_path, "lesion", TrainConfig(minutes=1.0)))
    for step in range(1, 30):
        panel.show_progress(_progress(step, 0, loss=0.5))
    panel.show_result("Previous model kept: the new one validated lower. " + "Its reasons in many words. " * 30)
    side.verticalScrollBar().setValue(0)
    qtbot.waitUntil(lambda: side.widget().height() > side.viewport().height(), timeout=5_000)
    qtbot.wait(50)  # said while the images were predicted
    panel.ended.emit("finished", "Every image was predicted.")
    qtbot.wait(50)
    result = panel.result_label
    assert result.isVisible() and side.verticalScrollBar().value() > 0  # scrolled towards the layers ...
    top = result.mapTo(side.widget(), QPoint(0, 0)).y() - side.verticalScrollBar().value()
    assert 0 <= top < side.viewport().height()  # ... as far as the result's start stays in view
