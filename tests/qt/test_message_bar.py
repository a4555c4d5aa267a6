"""The status bar's messages wrap instead of being cut off beside the pixel readout (two new-user trials never saw
the key a message named), without changing the canvas' height, and clear after their timeout."""

from PySide6.QtGui import QFontMetrics

from tests.workers.helpers import make_project, open_window


def test_a_long_message_wraps_in_full_and_the_canvas_keeps_its_height(tmp_path, qtbot, messages):
    project = make_project(tmp_path / "p", n=1)
    window = open_window(qtbot, project)
    window.resize(1000, 700)
    window.pixel_label.setText("x 1024  y 768  |  zoom 100 %  |  vessel  |  area 123456 px")
    qtbot.wait(50)
    bar, canvas_height = window.statusBar(), window.canvas.height()
    text = ("Background brush: this image has a complete 'vessel' label, where every unpainted pixel is background "
            "already. To mark background explicitly, first make the label sparse with K.")
    bar.showMessage(text, 200)
    qtbot.wait(50)
    label = bar.message_label
    assert bar.currentMessage() == text == label.text() and label.toolTip() == text
    metrics = QFontMetrics(label.font())
    assert metrics.horizontalAdvance(text) > label.width()  # one line would cut it off ...
    assert label.heightForWidth(label.width()) <= label.height()  # ... the label holds it on its lines
    assert not label.geometry().intersects(window.pixel_label.geometry())
    assert window.canvas.height() == canvas_height
    qtbot.waitUntil(lambda: bar.currentMessage() == "", timeout=5_000)  # the timeout clears it
    assert window.canvas.height() == canvas_height


def test_a_message_longer_than_the_bar_shows_its_lines_whole_and_the_rest_in_tooltip_and_log(tmp_path, qtbot,
                                                                                              messages, caplog):
    """Outside trial at 1366×768: a four-line message, centred in the three lines the bar keeps, lost its first and
    last line to the edges. Now its first lines show whole and the last one ends in "…"; the tooltip and the log
    have it all."""
    import logging

    window = open_window(qtbot, make_project(tmp_path / "p", n=1))
    window.resize(900, 700)
    qtbot.wait(50)
    bar, canvas_height = window.statusBar(), window.canvas.height()
    label = bar.message_label
    text = "First words of a long message. " + "Every labelled image is also a validation image here. " * 12 + "END"
    with caplog.at_level(logging.INFO, logger="medseg_gui.qt.message_bar"):
        bar.showMessage(text)
    qtbot.wait(50)
    assert label.heightForWidth(label.width()) <= label.height()  # nothing beyond the top or bottom edge
    assert label.text().startswith("First words") and label.text().endswith("…") and "END" not in label.text()
    assert bar.currentMessage() == text == label.toolTip()
    assert any(text in record.getMessage() for record in caplog.records)
    assert window.canvas.height() == canvas_height
    window.resize(1300, 700)  # wider: more of it fits, fitted again
    qtbot.waitUntil(lambda: len(label.text()) > 0 and label.heightForWidth(label.width()) <= label.height())
    bar.showMessage("short")
    assert label.text() == "short"
