"""Help → About shows the system rows at once and fills in Keras, device and precision from a worker; the status
bar names the device while training; Help → Open log folder opens the user log folder."""

from __future__ import annotations

import sys

import keras
from PySide6.QtCore import Qt

from medseg_gui import paths
from medseg_gui.core.identity import APP_NAME, GUI_NAME
from medseg_gui.outcomes import TrainOutcome
from medseg_gui.qt import dialogs
from medseg_gui.qt.about import PENDING, AboutBox
from medseg_gui.qt.window_state import default_settings_file
from tests.workers.helpers import make_project, open_window


def _visible_boxes(window) -> list[AboutBox]:
    return [w for w in window.findChildren(AboutBox) if w.isVisible()]


def test_about_shows_paths_at_once_and_keras_rows_when_known(tmp_path, qtbot):
    window = open_window(qtbot, make_project(tmp_path / "p", n=1))
    window.actions.about.trigger()
    (box,) = _visible_boxes(window)
    assert str(paths.log_dir()) in box.text() and "CHASE_DB1" in box.text()
    assert "PolypGen centre C6" in box.text() and "HRF" in box.text()  # what the shipped starts were trained on
    qtbot.waitUntil(lambda: PENDING not in box.text(), timeout=120_000)
    assert f"Keras</b></td><td>&nbsp;&nbsp;{keras.__version__}" in box.text()
    assert "CPU: " in box.text()
    box.close()


def test_about_names_the_licences_and_where_their_texts_are(tmp_path, qtbot, monkeypatch):
    """Outside trial (hospital IT): Help → About named no licence."""
    window = open_window(qtbot, make_project(tmp_path / "p", n=1))
    window.actions.about.trigger()
    (box,) = _visible_boxes(window)
    assert "MIT licence" in box.text() and "Qt and PySide6 are used under the LGPL-3.0" in box.text()
    assert "pip show -f" in box.text() and "THIRD_PARTY_LICENSES.md" not in box.text()  # not the desktop package
    box.close()
    package = tmp_path / "opt" / "medseg"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(package / "medseg-gui"))
    window.actions.about.trigger()
    (box,) = _visible_boxes(window)
    assert f"in {package.resolve()}: THIRD_PARTY_LICENSES.md (an index) and licenses/, beside LICENSE" in box.text()
    assert "MIT licence" in box.text() and "LGPL-3.0" in box.text()
    box.close()


def test_about_with_its_details_stays_on_a_small_screen(tmp_path, qtbot):
    """Outside trial at 1366×768: Help → About → Show Details ran below the bottom of the screen. The box is capped
    to the screen's available height (less a title bar); the text and the details scroll instead."""
    window = open_window(qtbot, make_project(tmp_path / "p", n=1))
    window.actions.about.trigger()
    (box,) = _visible_boxes(window)
    area = box.screen().availableGeometry()  # offscreen: 800×800
    assert box.height() <= area.height() - dialogs.TITLE_BAR
    qtbot.mouseClick(box.details_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(box.details.isVisible, timeout=2_000)
    assert "Please cite" in box.detailedText() and box.details_button.text() == "Hide Details…"
    assert box.maximumHeight() <= area.height() - dialogs.TITLE_BAR
    assert box.height() <= box.maximumHeight() and box.width() <= area.width()
    assert area.top() <= box.geometry().top() and box.geometry().bottom() <= area.bottom()
    assert box.details.height() >= 3 * box.details.fontMetrics().lineSpacing()  # room to read it, scrolling
    box.close()


def test_status_bar_names_the_device_the_training_child_reports_and_starts_no_child(tmp_path, qtbot):
    """Training shows the device its own child reports (TrainingView.keras_rows); the label starts no child of its
    own (a second Keras import beside the starting training), and the About box then needs none either."""
    window = open_window(qtbot, make_project(tmp_path / "p", n=1))
    label = window.device_label
    assert not label.isVisible()
    window.train_panel.running_changed.emit(True)
    assert label.isVisible() and label.text() == "Training on … (reading the device)"
    assert window.system._worker is None  # no child of its own
    rows = [("Keras", "3.0"), ("Backend", "tensorflow 2.21"), ("Device", "CPU: Test CPU"),
            ("Precision", "float32 (auto: the CPU has no bfloat16 instructions)")]
    window.training.keras_rows.emit(rows)
    assert label.text() == "Training on CPU: Test CPU · float32"
    window.train_panel.decided.emit(TrainOutcome(None, None))  # trained, its images predicted (a trial read
    # "Training on CPU … bfloat16" through 4 minutes of predictions)
    assert label.isVisible() and label.text() == "Predicting on CPU: Test CPU"
    window.train_panel.running_changed.emit(False)
    assert not label.isVisible()
    window.train_panel.running_changed.emit(True)  # the next run trains first
    assert label.text() == "Training on CPU: Test CPU · float32"
    window.train_panel.running_changed.emit(False)
    window.actions.about.trigger()
    (box,) = _visible_boxes(window)
    assert "CPU: Test CPU" in box.text() and PENDING not in box.text()
    assert window.system._worker is None  # known already: no child
    box.close()


def test_open_log_folder_opens_the_user_log_folder(tmp_path, qtbot, monkeypatch):
    opened = []
    monkeypatch.setattr(dialogs, "open_in_file_manager", lambda folder: opened.append(folder) or True)
    window = open_window(qtbot, make_project(tmp_path / "p", n=1))
    assert window.actions.open_log_folder in window.menuBar().actions()[-1].menu().actions()
    window.actions.open_log_folder.trigger()
    assert opened == [paths.log_dir()]


def test_settings_path_reported_is_the_one_qt_uses():
    assert paths.settings_file() == default_settings_file(APP_NAME, GUI_NAME)
