"""core.rewrite: a JSON file the app reads back is never written over while it cannot be read; it is moved to
.unreadable/ beside it first, bytes unchanged, and where it cannot be moved nothing is written."""

from __future__ import annotations

import errno
import json
import logging
import os
from pathlib import Path

import pytest

from medseg_gui.core.rewrite import json_problem, rewrite_json

DAMAGED = [b'{"img0": {"id": "2026', b"\x00\xff garbage", b"", b"[1, 2]"]  # cut off, not UTF-8, empty, a list


def refuse_moves_in(monkeypatch, folder: Path) -> None:
    """os.replace and mkdir fail for paths in `folder`, as in a read-only folder (tests run as root)."""
    real_replace, real_mkdir = os.replace, Path.mkdir

    def replace(src, dst):
        if Path(src).parent == folder or Path(dst).parent == folder:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(src))
        real_replace(src, dst)

    def mkdir(self, *args, **kwargs):
        if self.parent == folder:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(Path, "mkdir", mkdir)


@pytest.mark.parametrize("damaged", DAMAGED)
def test_a_file_that_cannot_be_read_is_kept_aside_as_it_was_and_a_new_one_written(tmp_path, caplog, damaged):
    path = tmp_path / "provenance.json"
    path.write_bytes(damaged)
    with caplog.at_level(logging.WARNING):
        rewrite_json(path, {"img1": {"id": "new"}})
    kept = tmp_path / ".unreadable" / "provenance.json"
    assert kept.read_bytes() == damaged
    assert json.loads(path.read_text("utf-8")) == {"img1": {"id": "new"}}
    assert str(path) in caplog.text and str(kept) in caplog.text


def test_a_second_damaged_file_does_not_replace_the_first_one_kept(tmp_path):
    path = tmp_path / "metrics.json"
    for n, damaged in enumerate((b"{", b"{{")):
        path.write_bytes(damaged)
        rewrite_json(path, {"n": n})
    assert (tmp_path / ".unreadable" / "metrics.json").read_bytes() == b"{"
    assert (tmp_path / ".unreadable" / "metrics_2.json").read_bytes() == b"{{"


def test_a_readable_file_of_the_kind_written_or_none_is_replaced_without_a_copy(tmp_path):
    obj, lst = tmp_path / "current.json", tmp_path / "history.json"
    rewrite_json(obj, {"id": "a"})  # none there
    rewrite_json(obj, {"id": "b"})
    lst.write_text('\ufeff[{"id": "a"}]', "utf-8")  # a UTF-8 BOM (Notepad) is still readable
    rewrite_json(lst, [{"id": "b"}])
    assert json.loads(obj.read_text()) == {"id": "b"} and json.loads(lst.read_text()) == [{"id": "b"}]
    assert not (tmp_path / ".unreadable").exists()
    assert json_problem(tmp_path / "missing.json") is None  # a missing file is not damaged


def test_an_object_where_a_list_belongs_is_kept_too(tmp_path):
    path = tmp_path / "history.json"
    path.write_text('{"not": "a list"}')
    assert json_problem(path, list) == "it is not a JSON list"
    rewrite_json(path, [])
    assert (tmp_path / ".unreadable" / "history.json").read_text() == '{"not": "a list"}'


def test_in_a_read_only_folder_nothing_is_written_over_it(tmp_path, monkeypatch):
    path = tmp_path / "provenance.json"
    path.write_bytes(b"\x00\xff garbage")
    refuse_moves_in(monkeypatch, tmp_path)
    with pytest.raises(OSError) as err:
        rewrite_json(path, {"img1": {"id": "new"}})
    assert err.value.filename == str(path) and err.value.errno == errno.EROFS
    assert "cannot be read" in err.value.strerror and "Read-only file system" in err.value.strerror
    assert path.read_bytes() == b"\x00\xff garbage"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["provenance.json"]  # no temp file, no copy


def test_where_only_the_copy_cannot_be_made_nothing_is_written_over_it_either(tmp_path):
    """A file named .unreadable in the folder: the folder takes the new file, but the old one has nowhere to go."""
    path = tmp_path / "metrics.json"
    path.write_bytes(b"{")
    (tmp_path / ".unreadable").write_text("someone's notes")
    with pytest.raises(OSError, match="could not be moved to .unreadable/"):
        rewrite_json(path, {"img0": {"auc": 0.9}})
    assert path.read_bytes() == b"{"
