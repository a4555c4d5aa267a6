"""Issue 13 #16: project.json gaps: a FIFO hung the reader, deep nesting raised RecursionError, `classes: []` crashed
the GUI later, a NUL in a stem silently dropped the image, a UTF-8 BOM was refused. Every error names the file."""

import json
import os

import pytest

from medseg_gui.core import project_format
from medseg_gui.core.errors import ProjectError
from medseg_gui.core.project import Project
from tests.faults.hangs import without_hanging


def _doc(**changes):
    doc = {
        "format": "medseg-project",
        "version": 1,
        "layout": "managed",
        "classes": [{"name": "lesion", "color": [255, 215, 0]}],
        "images": [{"stem": "a", "path": "images/a.png", "state": {}}],
    }
    return doc | changes


def _write(folder, doc, prefix=b""):
    (folder / "project.json").write_bytes(prefix + json.dumps(doc).encode("utf-8"))


def _open_error(folder) -> str:
    with pytest.raises(ProjectError) as info:
        Project.open(folder)
    text = str(info.value)
    assert str(folder / "project.json") in text, text  # every message names the file
    return text


def test_utf8_bom_is_accepted(tmp_path):
    _write(tmp_path, _doc(), prefix=b"\xef\xbb\xbf")  # Windows Notepad saves one
    assert Project.open(tmp_path).stems == ["a"]


def test_deep_nesting_is_a_clear_error(tmp_path):
    (tmp_path / "project.json").write_text('{"format": "medseg-project", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert "nested too deeply" in _open_error(tmp_path)


def test_no_classes_is_a_clear_error(tmp_path):
    _write(tmp_path, _doc(classes=[]))
    assert "lists no classes" in _open_error(tmp_path)
    with pytest.raises(ProjectError, match="at least one class"):
        Project.create(tmp_path / "new", classes=())
    assert not (tmp_path / "new" / "project.json").exists()


@pytest.mark.parametrize(
    "images, shown",
    [
        ([{"stem": "a\u0000b", "path": "images/a.png"}], r"name 'a\x00b' contains a control character"),
        ([{"stem": "a", "path": "images/a\u0000.png"}], r"path 'images/a\x00.png' contains a control character"),
        ([{"stem": "bad\udce4", "path": "images/x.png"}], "name 'bad\ufffd' is not valid UTF-8"),
    ],
)
def test_unusable_names_are_not_silently_dropped(tmp_path, images, shown):
    (tmp_path / "project.json").write_text(json.dumps(_doc(images=images)))  # json escapes NUL and lone surrogates
    assert f"image 1's {shown}" in _open_error(tmp_path)


def test_bad_class_names_and_colours_name_the_file(tmp_path):
    _write(tmp_path, _doc(classes=[{"name": "a/b", "color": [1, 2, 3]}]))
    assert "'a/b' cannot be used as a class name" in _open_error(tmp_path)
    _write(tmp_path, _doc(classes=[{"name": "a\u0000", "color": [1, 2, 3]}]))
    assert "cannot be used as a class name" in _open_error(tmp_path)
    for colour in ([1, 2], [0, 300, 0]):
        _write(tmp_path, _doc(classes=[{"name": "ok", "color": colour}]))
        assert "colour for class 'ok' must be three values" in _open_error(tmp_path)


def test_oversized_project_file_is_not_read(tmp_path, monkeypatch):
    _write(tmp_path, _doc())
    monkeypatch.setattr(project_format, "MAX_PROJECT_FILE_BYTES", 100)
    assert "was not read: it is 0 MB, more than such a file can be" in _open_error(tmp_path)


def test_directory_named_project_json(tmp_path):
    (tmp_path / "project.json").mkdir()
    assert "was not read: it is not a regular file" in _open_error(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_fifo_project_json_does_not_hang(tmp_path):
    os.mkfifo(tmp_path / "project.json")
    err = str(without_hanging(lambda: Project.open(tmp_path), tmp_path / "project.json")["err"])
    assert "was not read: it is not a regular file" in err and str(tmp_path / "project.json") in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_fifo_metrics_json_does_not_hang(tmp_path):
    _write(tmp_path, _doc())
    p = Project.open(tmp_path)
    p.metrics_path("lesion").parent.mkdir(parents=True)
    os.mkfifo(p.metrics_path("lesion"))
    assert without_hanging(lambda: p.load_metrics("lesion"), p.metrics_path("lesion"))["value"] == {}
