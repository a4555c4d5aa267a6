"""core.rewrite: a JSON file the app reads back is never written over when the reading the new content was made from
could not use it; it is moved to .unreadable/ beside it first, bytes unchanged, and where it cannot be moved nothing
is written. The decision is that reading's, not a second one's (review: a read that failed once and then worked let
the file be written over)."""

from __future__ import annotations

import errno
import json
import logging
import os
from pathlib import Path

import pytest

from medseg_gui.core.project_format import read_rewritable_json
from medseg_gui.core.rewrite import read_problem, rewrite_json

DAMAGED = [b'{"img0": {"id": "2026', b"\x00\xff garbage", b"", b"[1, 2]"]  # cut off, not UTF-8, empty, a list
EIO = OSError(errno.EIO, os.strerror(errno.EIO))


def rewrite(path: Path, obj: dict | list) -> Path:
    """rewrite_json as its callers use it: from one reading of `path`."""
    return rewrite_json(path, obj, read_rewritable_json(path))


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
        rewrite(path, {"img1": {"id": "new"}})
    kept = tmp_path / ".unreadable" / "provenance.json"
    assert kept.read_bytes() == damaged
    assert json.loads(path.read_text("utf-8")) == {"img1": {"id": "new"}}
    assert str(path) in caplog.text and str(kept) in caplog.text


def test_a_file_the_reading_could_not_use_is_kept_even_when_it_reads_well_now(tmp_path, caplog):
    """The review's fault: the caller's reading failed (EIO on a network drive), the file is fine a moment later;
    the new content lacks its entries, so it is kept as it is now, with the reading's error in the warning."""
    path = tmp_path / "history.json"
    path.write_text(json.dumps([{"id": f"m{i}"} for i in range(5)]))
    before = path.read_bytes()
    with caplog.at_level(logging.WARNING):
        rewrite_json(path, [{"id": "m9"}], EIO)
    assert (tmp_path / ".unreadable" / "history.json").read_bytes() == before
    assert json.loads(path.read_text()) == [{"id": "m9"}]
    assert os.strerror(errno.EIO) in caplog.text


def test_the_file_is_not_read_again(tmp_path, monkeypatch):
    """A file the caller's reading could use is written over as that reading saw it: a reading failing now (the
    review's fault the other way round) does not move it aside."""
    path = tmp_path / "metrics.json"
    path.write_text('{"img0": {"auc": 0.5}}')
    read = read_rewritable_json(path)

    def fail(*_a, **_k):
        raise EIO

    monkeypatch.setattr("medseg_gui.core.project_format.read_regular_file", fail)
    monkeypatch.setattr(Path, "read_bytes", fail)
    rewrite_json(path, {"img0": {"auc": 0.9}}, read)
    assert not (tmp_path / ".unreadable").exists()
    assert json.loads(path.read_text()) == {"img0": {"auc": 0.9}}


def test_a_second_damaged_file_does_not_replace_the_first_one_kept(tmp_path):
    path = tmp_path / "metrics.json"
    for n, damaged in enumerate((b"{", b"{{")):
        path.write_bytes(damaged)
        rewrite(path, {"n": n})
    assert (tmp_path / ".unreadable" / "metrics.json").read_bytes() == b"{"
    assert (tmp_path / ".unreadable" / "metrics_2.json").read_bytes() == b"{{"


def test_a_readable_file_of_the_kind_written_or_none_is_replaced_without_a_copy(tmp_path):
    obj, lst = tmp_path / "current.json", tmp_path / "history.json"
    rewrite(obj, {"id": "a"})  # none there
    rewrite(obj, {"id": "b"})
    lst.write_text('\ufeff[{"id": "a"}]', "utf-8")  # a UTF-8 BOM (Notepad) is still readable
    rewrite(lst, [{"id": "b"}])
    assert json.loads(obj.read_text()) == {"id": "b"} and json.loads(lst.read_text()) == [{"id": "b"}]
    assert not (tmp_path / ".unreadable").exists()
    assert read_rewritable_json(tmp_path / "missing.json") is None
    assert read_problem(None) is None  # a missing file is not damaged
    rewrite_json(tmp_path / "gone.json", {"id": "c"}, EIO)  # a file that could not be read and is gone now
    assert json.loads((tmp_path / "gone.json").read_text()) == {"id": "c"}


def test_an_object_where_a_list_belongs_is_kept_too(tmp_path):
    path = tmp_path / "history.json"
    path.write_text('{"not": "a list"}')
    assert read_problem(read_rewritable_json(path), list) == "it is not a JSON list"
    assert read_problem([], dict) == "it is not a JSON object" and read_problem(EIO) == os.strerror(errno.EIO)
    rewrite(path, [])
    assert (tmp_path / ".unreadable" / "history.json").read_text() == '{"not": "a list"}'


def test_in_a_read_only_folder_nothing_is_written_over_it(tmp_path, monkeypatch):
    path = tmp_path / "provenance.json"
    path.write_bytes(b"\x00\xff garbage")
    refuse_moves_in(monkeypatch, tmp_path)
    with pytest.raises(OSError) as err:
        rewrite(path, {"img1": {"id": "new"}})
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
        rewrite(path, {"img0": {"auc": 0.9}})
    assert path.read_bytes() == b"{"
