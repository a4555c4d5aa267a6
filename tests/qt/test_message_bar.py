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
