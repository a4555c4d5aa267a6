"""Outside trial: a second window on a project another window edits restored the same remembered geometry and opened
exactly on top of the first, so the user did not see there were two; closed last, it would also have set where the
next start opens. It steps aside by a title bar's height and does not remember its geometry."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRect, QSettings

from medseg_gui.qt.second_window import aside_geometry
from tests.workers.helpers import make_project, open_window

SCREEN = QRect(0, 0, 1920, 1040)


def test_a_second_window_moves_down_and_right_when_there_is_room():
    assert aside_geometry(QRect(100, 50, 1400, 860), SCREEN, 30) == QRect(130, 80, 1400, 860)


def test_a_second_window_moves_back_where_the_screen_ends():
    assert aside_geometry(QRect(500, 170, 1400, 860), SCREEN, 30) == QRect(470, 140, 1400, 860)  # at the corner
    assert aside_geometry(QRect(500, 50, 1400, 860), SCREEN, 30) == QRect(470, 80, 1400, 860)  # one axis only


def test_a_screen_sized_window_shrinks_to_show_the_one_below():
    assert aside_geometry(QRect(0, 0, 1920, 1040), SCREEN, 30) == QRect(30, 30, 1890, 1010)
    offset_screen = QRect(1920, 24, 1280, 1000)  # a second monitor right of the first, below a top panel
    assert aside_geometry(QRect(1920, 24, 1280, 1000), offset_screen, 30) == QRect(1950, 54, 1250, 970)


def _saved_geometry(settings) -> QByteArray:
    return QSettings(str(settings), QSettings.Format.IniFormat).value("window/geometry")


def test_a_read_only_second_window_opens_aside_and_remembers_no_geometry(tmp_path, qtbot, messages):
    settings = tmp_path / "settings.ini"
    project = make_project(tmp_path / "p", n=1)
    editor = open_window(qtbot, settings_file=settings)
    editor.setGeometry(100, 80, 700, 500)
    with qtbot.waitSignal(editor.project_loaded, timeout=20_000):
        editor.open_folder(project.root)
    editor.close()  # remembers 100, 80 …
    editor = open_window(qtbot, settings_file=settings)
    with qtbot.waitSignal(editor.project_loaded, timeout=20_000):
        editor.open_folder(project.root)
    viewer = open_window(qtbot, settings_file=settings)
    assert viewer.frameGeometry() == editor.frameGeometry()  # … and both restore it: one on top of the other
    with qtbot.waitSignal(viewer.project_loaded, timeout=20_000):
        viewer.open_folder(project.root)
    assert viewer.read_only is not None and editor.read_only is None
    moved = viewer.frameGeometry().topLeft() - editor.frameGeometry().topLeft()
    assert abs(moved.x()) >= 24 and abs(moved.y()) >= 24 and viewer.size() == editor.size()
    assert viewer.screen().availableGeometry().contains(viewer.frameGeometry())
    saved = _saved_geometry(settings)
    editor.close()
    assert _saved_geometry(settings) == saved  # an unmoved editor writes what it read
    qtbot.waitUntil(lambda: "has closed" in viewer.banner.text(), timeout=10_000)
    viewer.close()  # closed last, still read-only
    assert _saved_geometry(settings) == saved  # the next start opens where the editor was


def test_a_second_window_that_gets_to_edit_remembers_its_geometry(tmp_path, qtbot, messages):
    settings = tmp_path / "settings.ini"
    project = make_project(tmp_path / "p", n=1)
    editor = open_window(qtbot, settings_file=settings)
    with qtbot.waitSignal(editor.project_loaded, timeout=20_000):
        editor.open_folder(project.root)
    viewer = open_window(qtbot, settings_file=settings)
    with qtbot.waitSignal(viewer.project_loaded, timeout=20_000):
        viewer.open_folder(project.root)
    editor.close()
    with qtbot.waitSignal(viewer.project_loaded, timeout=20_000):
        viewer.read_only_view.try_editing_again()
    assert viewer.read_only is None
    viewer.close()  # the editing window now
    assert _saved_geometry(settings) == viewer.saveGeometry()
