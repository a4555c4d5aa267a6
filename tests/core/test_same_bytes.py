"""`SameBytes`: which known file holds the same bytes as another (File → Add images… skips such copies)."""

from __future__ import annotations

from medseg_gui.core.same_bytes import SameBytes


def test_only_a_file_with_the_same_bytes_is_found(tmp_path):
    a, b, c = (tmp_path / "a.jpg", tmp_path / "b.jpg", tmp_path / "c.jpg")
    a.write_bytes(b"photo one")
    b.write_bytes(b"photo two")  # same size, other bytes
    c.write_bytes(b"a longer photo")
    known = SameBytes({"a": a, "b": b, "gone": tmp_path / "missing.jpg"})  # a listed file that is gone is left out
    (tmp_path / "elsewhere").mkdir()
    copy = tmp_path / "elsewhere" / "01_h.jpg"
    copy.write_bytes(b"photo two")
    assert known.find(copy) == "b" and known.find(c) is None and known.find(a) is None  # a itself is no copy
    assert known.find(tmp_path / "missing.jpg") is None
    known.add("c", c)
    copy.write_bytes(b"a longer photo")
    assert known.find(copy) == "c"
