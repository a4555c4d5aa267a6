"""Labels rescued at an unanswered close (rescue folders in the user data folder): found for their own project
only, brought back into it without destroying what is there, and not offered again once restored."""

from __future__ import annotations

import json

import numpy as np

from medseg_gui.core.images import read_label, read_mask, write_png
from medseg_gui.core.label_encoding import encode_label
from medseg_gui.core.label_status import CONFIRMED_KEY, marked, set_mark
from medseg_gui.core.rescued_labels import RESCUE_FILE, find_rescues, record_rescue, rescued_text, restore_rescues
from tests.workers.helpers import H, W, disc, make_project


def _rescue(base, project, labels: dict[tuple[str, str], np.ndarray], name: str = "p-20240501-101500"):
    """A rescue folder as LabelSaver.rescue writes it: <class>/<stem>.png (label files) and rescued.json."""
    folder = base / name
    for (cls, stem), mask in labels.items():
        (folder / cls).mkdir(parents=True, exist_ok=True)
        write_png(folder / cls / f"{stem}.png", encode_label(mask))
    record_rescue(folder, project.root, list(labels))
    return folder


def test_a_rescue_is_found_for_its_own_project_only(tmp_path):
    base = tmp_path / "unsaved-labels"
    project = make_project(tmp_path / "a" / "p", n=2)
    same_name = make_project(tmp_path / "b" / "p", n=2)  # another project with the same folder name
    folder = _rescue(base, project, {("lesion", project.stems[1]): disc()})
    record = json.loads((folder / RESCUE_FILE).read_text())
    assert record["project"] == str(project.root.resolve())
    stem = project.stems[1]
    assert record["labels"] == [{"class": "lesion", "image": stem, "file": f"lesion/{stem}.png"}]
    (found,) = find_rescues(base, project.root)
    assert found.folder == folder and found.labels == (("lesion", project.stems[1]),) and found.time
    assert find_rescues(base, same_name.root) == []
    assert find_rescues(tmp_path / "none-yet", project.root) == []


def test_a_rescue_record_saved_with_a_bom_is_found_and_marked_done(tmp_path):
    """rescued.json edited in Windows Notepad (a UTF-8 BOM): read by project_format.read_json_file, as the files
    rewritten are (it was not offered)."""
    base = tmp_path / "unsaved-labels"
    project = make_project(tmp_path / "p", n=2)
    folder = _rescue(base, project, {("lesion", project.stems[1]): disc()})
    (folder / RESCUE_FILE).write_bytes(b"\xef\xbb\xbf" + (folder / RESCUE_FILE).read_bytes())
    (found,) = find_rescues(base, project.root)
    assert restore_rescues(project, [found]).restored == (("lesion", project.stems[1]),)
    assert json.loads((folder / RESCUE_FILE).read_text("utf-8"))["done"]
    assert not (folder / ".unreadable").exists()


def test_restore_brings_labels_back_keeps_the_one_saved_since_and_leaves_what_is_gone(tmp_path):
    base = tmp_path / "unsaved-labels"
    project = make_project(tmp_path / "p", n=3, labelled=1)
    s0, s1, _s2 = project.stems
    saved_since = read_mask(project.label_path("lesion", s0))
    set_mark(project, s0, CONFIRMED_KEY, "lesion", True)  # said of the label saved since
    rescued0, rescued1 = disc(r=4), disc(cx=40, r=5)
    folder = _rescue(base, project, {("lesion", s0): rescued0, ("lesion", s1): rescued1,
                                     ("lesion", "gone"): disc(), ("polyp", s1): disc()})
    result = restore_rescues(project, find_rescues(base, project.root))

    assert result.restored == (("lesion", s0), ("lesion", s1))
    np.testing.assert_array_equal(read_mask(project.label_path("lesion", s0)), rescued0)
    np.testing.assert_array_equal(read_mask(project.label_path("lesion", s1)), rescued1)
    ((key, aside),) = result.moved_aside  # the label saved since is kept, not deleted
    assert key == ("lesion", s0) and aside.parent == project.label_path("lesion", s0).parent / ".replaced"
    np.testing.assert_array_equal(read_mask(aside), saved_since)
    assert s0 not in marked(project, CONFIRMED_KEY, "lesion")
    left = dict(result.left)
    assert "no longer in the project" in left[("lesion", "gone")]
    assert "'polyp'" in left[("polyp", s1)]
    assert (folder / "lesion" / "gone.png").is_file() and (folder / "polyp" / f"{s1}.png").is_file()  # left there
    assert (folder / "lesion" / f"{s0}.png").is_file()  # the rescue folder is never emptied
    assert not result.failed and "Brought back 2 rescued labels" in result.summary()
    assert "the label the project held (from before the failure, or saved since) moved to" in result.summary()
    assert "saved there since" not in result.summary()  # it was usually the older one (outside trial)
    assert find_rescues(base, project.root) == []  # done: not offered again
    assert json.loads((folder / RESCUE_FILE).read_text())["done"]


def test_a_sparse_rescued_label_stays_sparse(tmp_path):
    base = tmp_path / "unsaved-labels"
    project = make_project(tmp_path / "p", n=1)
    stem = project.stems[0]
    annotated = np.zeros((H, W), bool)
    annotated[10:30, 10:40] = True
    folder = base / "p-1"
    (folder / "lesion").mkdir(parents=True)
    write_png(folder / "lesion" / f"{stem}.png", encode_label(disc(), annotated))
    record_rescue(folder, project.root, [("lesion", stem)])
    assert restore_rescues(project, find_rescues(base, project.root)).restored == (("lesion", stem),)
    pixels = read_label(project.label_path("lesion", stem))
    np.testing.assert_array_equal(pixels.annotated, annotated)


def test_a_restore_that_cannot_write_is_offered_again_and_keeps_the_project_label(tmp_path, monkeypatch):
    from medseg_gui.core.errors import ProjectError

    base = tmp_path / "unsaved-labels"
    project = make_project(tmp_path / "p", n=2, labelled=1)
    s0, s1 = project.stems
    before = read_mask(project.label_path("lesion", s0))
    _rescue(base, project, {("lesion", s0): disc(r=3), ("lesion", s1): disc(r=4)})
    real_save = project.save_label

    def save(cls, stem, *args):
        if stem == s0:
            raise ProjectError("Could not save it: No space left on device.")
        return real_save(cls, stem, *args)

    monkeypatch.setattr(project, "save_label", save)
    result = restore_rescues(project, find_rescues(base, project.root))
    assert result.restored == (("lesion", s1),) and result.failed[0][0] == ("lesion", s0)
    np.testing.assert_array_equal(read_mask(project.label_path("lesion", s0)), before)  # moved back, not lost
    (again,) = find_rescues(base, project.root)
    assert again.labels == (("lesion", s0),)  # only what is still to restore



def test_a_label_rescued_twice_is_offered_as_two_told_apart(tmp_path):
    """Outside trial: an image replaced on disk and put back, a stroke set aside each time; the question named
    "img0 ('lesion'), img0 ('lesion')". Each is told by when it was kept and its size (by its folder if even those
    agree); a label rescued once keeps its short name."""
    base = tmp_path / "unsaved-labels"
    project = make_project(tmp_path / "p", n=2)
    s0, s1 = project.stems
    folders = [_rescue(base, project, {("lesion", s0): disc(), ("lesion", s1): disc()}),
               _rescue(base, project, {("lesion", s0): disc(h=60, w=80)}, name="p-20240501-101500-2"),
               _rescue(base, project, {("lesion", s0): disc(h=60, w=80)}, name="p-20240501-101500-3")]
    for folder, when in zip(folders, ("2024-05-01 10:15:00", "2024-05-01 10:16:30", "2024-05-01 10:16:30")):
        record = json.loads((folder / RESCUE_FILE).read_text())
        (folder / RESCUE_FILE).write_text(json.dumps({**record, "time": when}))
    text = rescued_text("p", find_rescues(base, project.root))
    assert text.startswith(f"4 labels of p ({s0} ('lesion', kept 2024-05-01 10:15:00, {W}×{H} pixels), {s1} "
                           f"('lesion'), {s0} ('lesion', kept 2024-05-01 10:16:30, 80×60 pixels, in "
                           f"p-20240501-101500-2), {s0} ('lesion', kept 2024-05-01 10:16:30, 80×60 pixels, in "
                           "p-20240501-101500-3))"), text
