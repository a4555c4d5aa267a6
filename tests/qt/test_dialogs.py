"""The export folder chooser takes the name of a folder that does not exist yet and creates it (Qt's own folder
dialog answers "Directory not found"); an existing folder is chosen as before; nothing is created on cancel."""

from PySide6.QtWidgets import QDialog, QMessageBox

from medseg_gui.qt.dialogs import NewFolderDialog


def test_a_typed_new_folder_is_created_and_chosen(tmp_path, qtbot):
    dialog = NewFolderDialog(None, "Export masks", tmp_path)
    qtbot.addWidget(dialog)
    dialog.selectFile("masks for Dr X")  # typed into the name box
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert (tmp_path / "masks for Dr X").is_dir()
    assert dialog.selectedFiles() == [str(tmp_path / "masks for Dr X")]


def test_an_existing_folder_is_chosen_and_cancel_creates_nothing(tmp_path, qtbot):
    (tmp_path / "old").mkdir()
    dialog = NewFolderDialog(None, "Export masks", tmp_path)
    qtbot.addWidget(dialog)
    dialog.selectFile("old")
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted and dialog.selectedFiles() == [str(tmp_path / "old")]
    dialog = NewFolderDialog(None, "Export masks", tmp_path)
    qtbot.addWidget(dialog)
    dialog.selectFile("never")
    dialog.reject()
    assert not (tmp_path / "never").exists()


def test_a_new_folder_under_a_missing_folder_is_not_made(tmp_path, qtbot):
    """Only the last part may be new: a typo in a parent folder does not create a tree of folders."""
    dialog = NewFolderDialog(None, "Export masks", tmp_path)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.selectFile(str(tmp_path / "typo" / "masks"))
    dialog.accept()
    assert not (tmp_path / "typo").exists() and dialog.isVisible()  # still asking, a message says why
    box = next(w for w in dialog.findChildren(QMessageBox) if w.isVisible())
    assert "typo" in box.text() and "does not exist" in box.text()
