"""Opening a project whose labels were rescued at an unanswered close (fault-injection trial: the reopened image showed
its old label with a plain ✓ and nothing said a stroke had been kept in the user data folder)."""

from __future__ import annotations

import numpy as np

from medseg_gui.core.images import read_mask, write_png
from medseg_gui.core.label_encoding import encode_label
from medseg_gui.core.rescued_labels import find_rescues, record_rescue
from medseg_gui.paths import UNSAVED_LABELS, rescue_base, rescue_dir
from medseg_gui.qt import rescued_flow
from tests.workers.helpers import disc, make_project, open_window


def _rescued(project, stem: str, mask: np.ndarray):
    folder = rescue_dir(UNSAVED_LABELS, project.root)
    (folder / "lesion").mkdir(parents=True)
    write_png(folder / "lesion" / f"{stem}.png", encode_label(mask))
    record_rescue(folder, project.root, [("lesion", stem)])
    return folder


def test_opening_a_project_with_a_rescued_label_asks_and_shows_it_restored(tmp_path, qtbot, messages, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "userdata"))
    project = make_project(tmp_path / "p", n=2, labelled=2)
    stem = project.stems[0]
    old = read_mask(project.label_path("lesion", stem))
    rescued = disc(cx=45, r=6)
    folder = _rescued(project, stem, rescued)
    asked = []
    monkeypatch.setattr(rescued_flow, "ask_restore", lambda _parent, text: asked.append(text) or True)
    window = open_window(qtbot)
    window.open_folder(project.root)
    qtbot.waitUntil(lambda: bool(asked), timeout=20_000)
    assert f"1 label of p ({stem} ('lesion'))" in asked[0] and str(folder) in asked[0]
    assert "The label the project holds there, from before the failure or saved since, is moved to labels/<class>/" \
           ".replaced/" in asked[0]  # here the one from before the failure ("saved there since" misled, outside trial)
    qtbot.waitUntil(lambda: window.session.stem == stem and window.canvas.label("lesion")[24, 45]
                    and window.session.paused is None, timeout=20_000)
    np.testing.assert_array_equal(window.canvas.label("lesion"), rescued)
    np.testing.assert_array_equal(read_mask(project.label_path("lesion", stem)), rescued)
    (aside,) = (project.root / "labels" / "lesion" / ".replaced").glob("*.png")  # the label from before: kept
    np.testing.assert_array_equal(read_mask(aside), old)
    assert "Brought back 1 rescued label" in window.statusBar().currentMessage()
    assert find_rescues(rescue_base(UNSAVED_LABELS), project.root) == []  # not offered again


def test_not_now_keeps_the_rescue_for_the_next_opening(tmp_path, qtbot, messages, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "userdata"))
    project = make_project(tmp_path / "p", n=1, labelled=1)
    stem = project.stems[0]
    old = read_mask(project.label_path("lesion", stem))
    _rescued(project, stem, disc(cx=45, r=6))
    asked = []
    monkeypatch.setattr(rescued_flow, "ask_restore", lambda _parent, text: asked.append(text) and False)
    window = open_window(qtbot)
    window.open_folder(project.root)
    qtbot.waitUntil(lambda: bool(asked), timeout=20_000)
    qtbot.waitUntil(lambda: "asked again the next time" in window.statusBar().currentMessage(), timeout=5_000)
    np.testing.assert_array_equal(read_mask(project.label_path("lesion", stem)), old)
    with qtbot.waitSignal(window.project_loaded, timeout=20_000):
        window.open_folder(project.root)
    qtbot.waitUntil(lambda: len(asked) == 2, timeout=20_000)


def test_a_read_only_window_does_not_offer_them(tmp_path, qtbot, messages, monkeypatch):
    from medseg_gui.core.lock import lock_or_reason

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "userdata"))
    project = make_project(tmp_path / "p", n=1, labelled=1)
    _rescued(project, project.stems[0], disc(cx=45, r=6))
    held, _reason = lock_or_reason(project.root, "another window")  # the window that edits it is asked, not this one
    asked = []
    monkeypatch.setattr(rescued_flow, "ask_restore", lambda _parent, text: asked.append(text) or True)
    window = open_window(qtbot)
    try:
        with qtbot.waitSignal(window.project_loaded, timeout=20_000):
            window.open_folder(project.root)
        assert window.read_only
        assert window.rescued.offer(window.project) is None
        qtbot.wait(300)
        assert asked == [] and len(find_rescues(rescue_base(UNSAVED_LABELS), project.root)) == 1
    finally:
        held.release()


def test_two_rescues_of_one_label_are_asked_about_by_when_and_size(tmp_path, qtbot, messages, monkeypatch):
    """Outside trial: a label set aside twice (its image replaced on disk, then put back) was asked about as
    "img0 ('lesion'), img0 ('lesion')"."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "userdata"))
    project = make_project(tmp_path / "p", n=1, labelled=1)
    stem = project.stems[0]
    first = _rescued(project, stem, disc(cx=45, r=6))
    second = _rescued(project, stem, disc(h=60, w=80))
    asked = []
    monkeypatch.setattr(rescued_flow, "ask_restore", lambda _parent, text: asked.append(text) and False)
    window = open_window(qtbot)
    window.open_folder(project.root)
    qtbot.waitUntil(lambda: bool(asked), timeout=20_000)
    times = [r.time for r in find_rescues(rescue_base(UNSAVED_LABELS), project.root)]
    assert f"2 labels of p ({stem} ('lesion', kept {times[0]}, 64×48 pixels" in asked[0]
    assert f"{stem} ('lesion', kept {times[1]}, 80×60 pixels" in asked[0]
    assert str(first) in asked[0] and str(second) in asked[0]
