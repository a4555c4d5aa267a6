"""File → Open demo offers the vessel and the lesion demo; the first start asks which one to open, or a folder
(Esc: nothing)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from medseg_gui.core.demo import DEMOS
from medseg_gui.qt.demo_choice import NOTHING_OPEN_HINT, OPEN_FOLDER, ask_which_demo
from tests.workers.helpers import open_window


def test_file_menu_opens_the_lesion_demo_copy(tmp_path, qtbot, monkeypatch):
    monkeypatch.setattr("medseg_gui.core.demo.user_data_dir", lambda: tmp_path)
    window = open_window(qtbot)
    file_menu = window.menuBar().actions()[0].menu()
    demo_menu = next(a.menu() for a in file_menu.actions() if a.menu() is not None and "demo" in a.text())
    assert demo_menu.actions() == [window.actions.open_demo, window.actions.open_lesion_demo]
    with qtbot.waitSignal(window.project_loaded, timeout=30_000):
        window.actions.open_lesion_demo.trigger()
    assert window.project.root == (tmp_path / DEMOS["lesion"].folder).resolve()
    assert window.project.class_names == ["lesion"]
    assert len(window.image_list.stems()) == len(window.project.stems) == 10


def _ask(qtbot):
    opened: list[str] = []
    said: list[str] = []
    box = ask_which_demo(None, opened.append, lambda: opened.append("folder"), said.append)
    qtbot.addWidget(box)
    return box, opened, said


def test_first_start_question_opens_the_chosen_demo_or_a_folder_once(qtbot):
    for title, expected in ((DEMOS["lesion"].short, "lesion"), (OPEN_FOLDER, "folder")):
        box, opened, said = _ask(qtbot)
        button = next(b for b in box.buttons() if b.text() == title)
        assert button.toolTip() == (DEMOS[expected].title if expected in DEMOS else "")
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda expected=expected, opened=opened: opened == [expected], timeout=5_000)
        assert said == []


def test_first_start_question_dismissed_opens_nothing_and_leaves_a_hint(qtbot):
    box, opened, said = _ask(qtbot)
    qtbot.keyClick(box, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: said == [NOTHING_OPEN_HINT], timeout=5_000)
    assert opened == [] and "Open folder" in said[0]


def test_app_asks_on_the_very_first_start_only(tmp_path):
    """A fresh settings folder: the question is asked; `--demo lesion` opens that demo without asking."""
    from tests.qt.test_app_startup import _run

    code = """
        import sys
        import medseg_gui.qt.demo_choice as choice
        from medseg_gui import app
        from medseg_gui.qt.main_window import MainWindow
        asked = []
        choice.ask_which_demo = lambda window, open_demo, *rest: asked.append(open_demo)
        opened = []
        MainWindow.open_demo = lambda self, which="vessel": opened.append(which)
        code = app.main(sys.argv[1:] + ["--quit-after", "0.5"])
        print("ASKED", len(asked), "OPENED", opened)
        sys.exit(code)
        """
    first = _run(code)
    assert first.returncode == 0, first.stderr
    assert "ASKED 1 OPENED []" in first.stdout
    chosen = _run(code, "--demo", "lesion")
    assert "ASKED 0 OPENED ['lesion']" in chosen.stdout, chosen.stderr


def test_the_hint_names_the_file_menus_entry_as_it_reads(qtbot):
    """Docs review: the hint said "File → Open folder"; the entry is "Open folder of images…"."""
    from PySide6.QtWidgets import QWidget

    from medseg_gui.qt.actions import create_actions

    parent = QWidget()
    qtbot.addWidget(parent)
    entry = create_actions(parent).open_folder.text().replace("&", "")
    assert f"with File → {entry} (" in NOTHING_OPEN_HINT
