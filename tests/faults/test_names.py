"""Issue 13 #6/#7: a file name that is not valid UTF-8 (from a Windows zip) crashed import leaving a half-made
project and made folders and projects unopenable, never naming the file; name-prefix matching gave `scan.png` the
mask of `scan_2.png`."""

import json
import logging
import os

import cv2
import numpy as np
import pytest

from medseg_gui.core.errors import ImageReadError, ProjectError
from medseg_gui.core.importers import import_dataset
from medseg_gui.core.names import name_problem, shown_name
from medseg_gui.core.project import Project

H, W = 8, 12
BAD = b"Patient_M\xfcller.png"  # Latin-1 ü: not valid UTF-8
SHOWN = "Patient_M\ufffdller.png"


def _png(path, arr):
    ok, buf = cv2.imencode(".png", arr)
    path = os.fsencode(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(buf.tobytes())


def _image(seed=0):
    return np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8)


def _mask(seed=0):
    return (np.random.default_rng(seed).random((H, W)) > 0.5).astype(np.uint8) * 255


@pytest.fixture
def bad_name_folder(tmp_path):
    src = tmp_path / "src"
    _png(src / "ok.png", _image(1))
    try:
        _png(os.path.join(os.fsencode(src), BAD), _image(2))
    except OSError:
        pytest.skip("this file system refuses names that are not valid UTF-8")
    return src


def test_shown_name_and_name_problem():
    name = os.fsdecode(BAD)
    assert shown_name(name) == SHOWN and "not valid UTF-8" in name_problem(name)
    assert shown_name("a\x00b\n") == "a\\x00b\\n" and "control character" in name_problem("a\x00b")
    assert name_problem("Größe_眼底.png") is None and shown_name("Größe_眼底.png") == "Größe_眼底.png"


def test_import_skips_the_file_naming_it(tmp_path, bad_name_folder, caplog):
    with caplog.at_level(logging.WARNING):
        p = import_dataset(bad_name_folder, tmp_path / "proj", "folder")
    assert p.stems == ["ok"]
    assert SHOWN in caplog.text and "not valid UTF-8" in caplog.text
    json.loads((tmp_path / "proj" / "project.json").read_text("utf-8"))
    assert Project.open(tmp_path / "proj").stems == ["ok"]


def test_folder_with_such_a_file_opens(bad_name_folder, caplog):
    with caplog.at_level(logging.WARNING):
        p = Project.open_or_create_for_folder(bad_name_folder)
    assert p.stems == ["ok"] and SHOWN in caplog.text
    assert Project.open_or_create_for_folder(bad_name_folder).stems == ["ok"]  # and reopens


def test_a_backslash_in_a_file_name_is_skipped_not_a_project_that_cannot_reopen(tmp_path, caplog):
    """Fault-injection trial, session 33: `x\\y.png` on Linux was listed, its label saved, and every later open
    refused project.json as damaged (a stem with a folder separator)."""
    src = tmp_path / "src"
    _png(src / "ok.png", _image(1))
    _png(src / "x\\y.png", _image(2))
    with caplog.at_level(logging.WARNING):
        p = Project.open_or_create_for_folder(src)
    assert p.stems == ["ok"] and "backslash" in caplog.text and "x\\y.png" in caplog.text
    assert Project.open_or_create_for_folder(src).stems == ["ok"]  # and reopens
    with pytest.raises(ImageReadError, match="backslash"):
        p.add_image(src / "x\\y.png")


def test_existing_project_stays_openable_when_such_a_file_appears(tmp_path):
    src = tmp_path / "src"
    _png(src / "ok.png", _image(1))
    p = import_dataset(src, tmp_path / "proj", "folder")
    try:
        _png(os.path.join(os.fsencode(p.root / "images"), BAD), _image(2))
    except OSError:
        pytest.skip("this file system refuses names that are not valid UTF-8")
    q = Project.open(tmp_path / "proj")
    assert q.refresh_images() == [] and q.stems == ["ok"]
    with pytest.raises(ImageReadError, match="Patient_M\ufffdller.png.*not valid UTF-8"):
        q.add_image(os.fsdecode(os.path.join(os.fsencode(tmp_path / "proj" / "images"), BAD)))


def test_failed_import_leaves_nothing_behind(tmp_path, monkeypatch):
    src = tmp_path / "src"
    for i in range(3):
        _png(src / f"im{i}.png", _image(i))
    calls = []

    def failing_add_image(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_add_image(self, *args, **kwargs)

    real_add_image = Project.add_image
    monkeypatch.setattr(Project, "add_image", failing_add_image)
    with pytest.raises(ProjectError, match="No space left on device"):
        import_dataset(src, tmp_path / "proj", "folder")
    assert sorted(os.listdir(tmp_path)) == ["src"]  # no project, no hidden staging folder
    monkeypatch.setattr(Project, "add_image", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    (tmp_path / "empty").mkdir()
    with pytest.raises(KeyboardInterrupt):
        import_dataset(src, tmp_path / "empty", "folder")
    assert sorted(os.listdir(tmp_path)) == ["empty", "src"] and not os.listdir(tmp_path / "empty")


def test_killed_import_leftovers_are_swept_only_when_stale(tmp_path):
    src = tmp_path / "src"
    _png(src / "a.png", _image(1))
    old, recent = tmp_path / ".proj.medseg-import-old", tmp_path / ".proj.medseg-import-new"
    for folder in (old, recent):
        (folder / "images").mkdir(parents=True)
    os.utime(old, (0, 0))
    import_dataset(src, tmp_path / "proj", "folder")
    assert not old.exists() and recent.is_dir()  # a recent one may be an import still running


def test_import_into_empty_or_unrelated_folder(tmp_path):
    src = tmp_path / "src"
    _png(src / "a.png", _image(1))
    (tmp_path / "empty").mkdir()
    assert import_dataset(src, tmp_path / "empty", "folder").stems == ["a"]
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "notes.txt").write_text("mine")
    p = import_dataset(src, tmp_path / "home", "folder")
    assert p.stems == ["a"] and (tmp_path / "home" / "notes.txt").read_text() == "mine"
    assert sorted(os.listdir(tmp_path / "home")) == ["images", "notes.txt", "project.json"]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "images").mkdir()
    with pytest.raises(ProjectError, match="already has images"):
        import_dataset(src, tmp_path / "other", "folder")


def test_masks_match_whole_names_not_prefixes(tmp_path):
    src, masks = tmp_path / "src", tmp_path / "masks"
    for i, name in enumerate(["scan", "scan_2", "scan_20", "x", "y"]):
        _png(src / f"{name}.png", _image(i))
    m = {name: _mask(i) for i, name in enumerate(["scan_2", "scan_20_mask", "x_seg", "x", "y.ah", "y-fov"])}
    for name, arr in m.items():
        _png(masks / f"{name}.png", arr)
    p = import_dataset(src, tmp_path / "proj", "folder", cls="lesion", masks=masks)
    assert p.labelled_stems("lesion") == ["scan_2", "scan_20", "x", "y"]  # not "scan": it has no mask
    np.testing.assert_array_equal(p.load_label("lesion", "scan_2"), m["scan_2"] > 0)
    np.testing.assert_array_equal(p.load_label("lesion", "scan_20"), m["scan_20_mask"] > 0)
    np.testing.assert_array_equal(p.load_label("lesion", "x"), m["x"] > 0)  # the exact name wins over x_seg
    np.testing.assert_array_equal(p.load_label("lesion", "y"), m["y-fov"] > 0)  # first by name of two


def test_stare_fov_masks_match_whole_names(tmp_path):
    src = tmp_path / "STARE"
    _png(src / "images" / "im0001.ppm", _image(1))
    _png(src / "images" / "im00010.ppm", _image(2))
    _png(src / "mask" / "im00010.png", _mask(3))
    p = import_dataset(src, tmp_path / "proj", "stare")
    assert p.load_roi("im0001") is None
    np.testing.assert_array_equal(p.load_roi("im00010"), _mask(3) > 0)
