"""Conventions for getting projects into the window: the last project reopens at start (or the first-start choice
when it is gone or unreadable), File → Open Recent, the dialogs' start folders, and drag-and-drop."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from medseg_gui.qt import dialogs
from medseg_gui.qt.project_files import add_images, sort_drop
from medseg_gui.qt.recent import MAX_RECENT, RecentMenu, RecentProjects
from medseg_gui.qt.window_state import WindowMemory
from tests.workers.helpers import make_images, make_project, open_window


def _drop_on(widget, paths: list[Path]) -> bool:
    """Drag `paths` over `widget` and drop them there (through the window, like a real drag); True if accepted."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    point = widget.mapTo(widget.window(), widget.rect().center())
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    handle = widget.window().windowHandle()
    QApplication.sendEvent(handle, QDragEnterEvent(point, *args))
    drop = QDropEvent(QPointF(point), *args)
    QApplication.sendEvent(handle, drop)
    return drop.isAccepted()


def test_recent_list_is_newest_first_bounded_and_shows_missing_projects_disabled(tmp_path, qtbot):
    recent = RecentProjects(WindowMemory(tmp_path / "settings.ini"), data_dir=tmp_path / "data")
    folders = [tmp_path / f"p{i}" for i in range(MAX_RECENT + 2)]
    for folder in folders:
        folder.mkdir()
        recent.add(folder)
    recent.add(folders[3])  # opened again: moves to the top, not listed twice
    assert recent.paths() == [folders[3]] + [f for f in reversed(folders) if f != folders[3]][:MAX_RECENT - 1]
    assert RecentProjects(WindowMemory(tmp_path / "settings.ini")).paths() == recent.paths()  # kept on disk
    assert recent.start_folder("open") == tmp_path  # the folder holding the last project, not a data folder
    (tmp_path / "data" / "demo").mkdir(parents=True)
    recent.add(tmp_path / "data" / "demo")
    assert recent.start_folder("open") == tmp_path

    folders[3].rmdir()
    menu = RecentMenu(recent)
    qtbot.addWidget(menu)
    entries = {a.text(): a.isEnabled() for a in menu.actions() if a.text()}
    assert entries[f"&2  {folders[3].name}  (missing)"] is False
    assert entries["&1  Vessel demo (6 retinal photos)"] is True and entries["&Clear list"] is True  # not "demo"
    next(a for a in menu.actions() if a.text() == "&Clear list").trigger()
    menu.rebuild()
    assert recent.paths() == [] and not next(a for a in menu.actions() if a.text() == "No recent projects").isEnabled()


def test_a_dialog_starts_where_the_last_of_its_kind_was_chosen(tmp_path):
    recent = RecentProjects(WindowMemory(tmp_path / "settings.ini"))
    starts = []
    assert recent.ask("export", tmp_path, lambda start: starts.append(start)) is None  # cancelled: nothing kept
    assert recent.ask("export", tmp_path, lambda start: starts.append(start) or tmp_path / "out") == tmp_path / "out"
    (tmp_path / "out").mkdir()
    recent.ask("add", None, lambda start: starts.append(start) or [tmp_path / "out" / "a.png"])  # files: their folder
    recent.ask("add", None, lambda start: starts.append(start) or [])
    recent.ask("export", tmp_path, lambda start: starts.append(start))
    assert starts == [tmp_path, tmp_path, None, tmp_path / "out", tmp_path / "out"]


def test_last_project_reopens_and_a_missing_or_unreadable_one_falls_back(tmp_path, qtbot, messages):
    settings = tmp_path / "settings.ini"
    project = make_project(tmp_path / "p", n=2)
    first = open_window(qtbot, settings_file=settings)
    with qtbot.waitSignal(first.project_loaded, timeout=30_000):
        first.open_folder(project.root)
    first.close()

    fallbacks: list[str] = []
    second = open_window(qtbot, settings_file=settings)
    with qtbot.waitSignal(second.project_loaded, timeout=30_000):
        second.files.reopen_last(lambda: fallbacks.append("demo"))
    assert second.project.root == project.root and fallbacks == []
    recent_menu = second.files.recent_menu
    recent_menu.rebuild()
    assert recent_menu.actions()[0].toolTip() == str(project.root)
    second.close()

    (project.root / "project.json").write_text("{ not json", encoding="utf-8")
    third = open_window(qtbot, settings_file=settings)
    third.files.reopen_last(lambda: fallbacks.append("demo"))
    qtbot.waitUntil(lambda: fallbacks == ["demo"], timeout=30_000)
    assert third.project is None and "could not be opened" in third.statusBar().currentMessage()
    assert "your labels and images in" in third.last_error and "untouched" in third.last_error  # in the dialog
    third.close()

    (project.root / "project.json").unlink()
    project.root.rename(tmp_path / "moved")
    fourth = open_window(qtbot, settings_file=settings)
    fourth.files.reopen_last(lambda: fallbacks.append("demo"))
    assert fallbacks == ["demo", "demo"] and "no longer there" in fourth.statusBar().currentMessage()


def test_open_and_export_dialogs_start_in_the_last_folder(tmp_path, qtbot, messages, monkeypatch):
    starts: list[Path | None] = []
    chosen = [None, None, tmp_path / "exports", None]
    monkeypatch.setattr(dialogs, "choose_directory",
                        lambda parent, title, start=None, new=False: starts.append(start) or chosen[len(starts) - 1])
    (tmp_path / "exports").mkdir()
    project = make_project(tmp_path / "projects" / "p", n=1)
    window = open_window(qtbot, settings_file=tmp_path / "settings.ini")
    window.actions.open_folder.trigger()
    with qtbot.waitSignal(window.project_loaded, timeout=30_000):
        window.open_folder(project.root)
    window.actions.open_folder.trigger()
    with qtbot.waitSignal(window.export_ended, timeout=30_000):
        window.actions.export_masks.trigger()  # first export: beside the project
    window.actions.export_masks.trigger()  # then where the last export went (cancelled here)
    assert starts == [None, tmp_path / "projects", tmp_path / "projects", tmp_path / "exports"]


def test_drops_open_a_folder_add_images_and_refuse_anything_else(tmp_path, qtbot, messages):
    project = make_project(tmp_path / "p", n=2)
    extra = make_images(tmp_path / "more", n=4)[2:]  # photos the project does not have
    note = tmp_path / "notes.txt"
    note.write_text("x")
    assert sort_drop([project.root]) == ("open", [project.root])
    assert sort_drop(extra) == ("add", extra)
    assert sort_drop([note, extra[0]]) == ("refuse", [note])
    web = tmp_path / "web.webp"  # a trial's was refused by the window, though read by `medseg predict`
    Image.fromarray(np.full((8, 8, 3), 90, np.uint8)).save(web)
    assert sort_drop([web]) == ("add", [web])
    assert sort_drop([project.root, tmp_path / "more"])[0] == "refuse"

    window = open_window(qtbot)
    window.files.drop(extra)
    assert "No project is open" in window.last_error
    window.train_panel.show_result("Kept the new model")  # as if a run had ended in another project
    with qtbot.waitSignal(window.project_loaded, timeout=30_000):
        assert _drop_on(window.canvas, [project.root])  # as the window system delivers it, onto the canvas
    assert window.project.root == project.root and window.train_panel.result_label.text() == ""

    with qtbot.waitSignal(window.project_loaded, timeout=30_000):
        window.files.drop(extra)  # copied in on a worker, then the project is opened again
    assert len(window.image_list.stems()) == 4
    assert len(list((project.root / "images").glob("*.png"))) == 4 and all(p.is_file() for p in extra)
    window.files.drop([note])
    assert "notes.txt" in window.last_error and "Drop one folder" in window.last_error
    assert "image files (PNG, JPEG, TIFF, BMP, GIF, WebP or PPM/PGM)" in window.last_error  # the types read


def test_file_add_images_copies_the_chosen_files_in(tmp_path, qtbot, messages, monkeypatch, caplog):
    """A returning-user trial found no way to add new photos from the window but dropping them (copied into the
    project's folder on disk, they stayed unlisted until it was reopened). Then it said nothing of what it added,
    nor that a name the project had was copied under another (review, session 40); then said it only in the status
    bar, replaced 4 s later by the image's size (verification trial, session 40)."""
    project = make_project(tmp_path / "p", n=2)
    extra = make_images(tmp_path / "today", n=3)[1:]  # a file named img1.png is in the project already, img2.png is not
    extra[0].write_bytes(make_images(tmp_path / "other", n=4)[3].read_bytes())  # another photo of that name
    asked = []
    monkeypatch.setattr(dialogs, "choose_files", lambda parent, title, start, suffixes: asked.append(
        (start, ".png" in suffixes)) or list(extra))
    window = open_window(qtbot, project, settings_file=tmp_path / "settings.ini")
    assert window.actions.add_images in window.menuBar().actions()[0].menu().actions()  # in the File menu
    with caplog.at_level(logging.INFO), qtbot.waitSignal(window.project_loaded, timeout=30_000):
        window.actions.add_images.trigger()
    assert len(window.image_list.stems()) == 4 and asked == [(project.root.parent, True)]
    said = ("2 images added to p; img1.png added as img1_2.png: the project already has a file named img1.png. They "
            "have no prediction yet: Train → Predict all images (Ctrl+P) makes them with the current model.")
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == said, timeout=5_000)
    assert said in caplog.messages and (project.root / "images" / "img1_2.png").is_file()
    assert messages == [said]  # in a message box too, as Import masks… says: the status bar soon shows the image size
    monkeypatch.setattr(dialogs, "choose_files", lambda *a: asked.append(a[2]) or [])  # cancelled: nothing
    assert window.files.ask_add() is None and asked[-1] == extra[0].parent  # where the last ones came from
    assert len(window.image_list.stems()) == 4


def test_a_copy_of_a_photo_the_project_has_is_not_added_again(tmp_path):
    """A verification trial added a byte-identical copy of a project's photo (another folder, same or another name)
    as a new image: the same photo could land in training and validation and inflate the scores (session 40)."""
    project = make_project(tmp_path / "p", n=2)
    new = make_images(tmp_path / "new", n=4)[3]
    (tmp_path / "usb").mkdir()
    same_name, other_name, twice = (tmp_path / "usb" / n for n in ("img0.png", "01_h.png", "again.png"))
    same_name.write_bytes(project.image_path("img0").read_bytes())
    other_name.write_bytes(project.image_path("img1").read_bytes())
    twice.write_bytes(new.read_bytes())  # the same photo twice in one drop: the second is a copy of the first
    added = add_images(project, [same_name, other_name, new, twice])
    assert project.stems == ["img0", "img1", "img3"]
    assert sorted(p.name for p in (project.root / "images").iterdir()) == ["img0.png", "img1.png", "img3.png"]
    assert added.summary() == ("1 image added to p; img0.png not added: the project already has this photo as img0; "
                               "01_h.png not added: the project already has this photo as img1; again.png not added: "
                               "the project already has this photo as img3. It has no prediction yet: Train → "
                               "Predict all images (Ctrl+P) makes it with the current model.")
