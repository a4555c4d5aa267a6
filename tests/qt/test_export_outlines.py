"""File → Export photos with outlines: asks for the folder, writes the photos with each class's outline in the
worker, and the finished message says what was written and what a solid and a dashed line mean."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtWidgets import QMenu

from medseg_gui.core.images import read_image
from medseg_gui.qt import dialogs
from tests.workers.helpers import disc, make_project, open_window


@pytest.fixture
def messages(monkeypatch):
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(dialogs, "show_message", lambda parent, title, text, **kw: shown.append((title, text)))
    return shown


def test_the_file_menu_exports_photos_with_outlines(tmp_path, qtbot, messages, monkeypatch):
    project = make_project(tmp_path / "p", n=3, labelled=1)
    stems = project.stems
    project.save_prediction("lesion", stems[1], np.where(disc(cx=40), 0.9, 0.1).astype(np.float32))
    project.save_label("lesion", stems[2], disc(cx=20))
    photo_file = project.image_path(stems[2])
    data = bytearray(photo_file.read_bytes())
    data[100:400] = bytes(300)  # its pixels unreadable, its header and end intact
    photo_file.write_bytes(bytes(data))
    out_dir, asked = tmp_path / "figures", []
    monkeypatch.setattr(dialogs, "choose_directory", lambda parent, title, start=None, new=False: asked.append(
        (title, start)) or out_dir)
    window = open_window(qtbot, project)
    window.layers.threshold_spin.setValue(0.7)
    file_menu = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == "&File")
    item = next(a for a in file_menu.actions() if a.text() == "Export &photos with outlines…")
    items = file_menu.actions()
    assert items[items.index(item) - 1] is window.actions.export_labels and item.isEnabled()
    statuses: list[str] = []
    window.exporter.status.connect(statuses.append)
    with qtbot.waitSignal(window.export_ended, timeout=30_000) as ended:
        item.trigger()
    assert ended.args == ["finished"], window.last_error
    assert asked == [("Export photos with outlines: your label solid, the prediction ≥ 0.70 dashed",
                      project.root.parent)]
    assert f"Exporting photos with outlines to {out_dir}…" in statuses
    assert sorted(p.name for p in out_dir.iterdir()) == sorted([f"{stems[0]}_outlined.png", f"{stems[1]}_outlined.png",
                                                                "manifest.json"])
    photo = read_image(out_dir / f"{stems[1]}_outlined.png")
    assert (photo == project.class_spec("lesion").color).all(axis=2).any()
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert manifest["threshold"] == pytest.approx(0.7)
    assert [(m["source"], m["line"]) for m in manifest["masks"]] == [("label", "solid"), ("prediction", "dashed")]
    title, text = messages[-1]
    assert title == "Export finished" and f"Wrote 2 photos with outlines to {out_dir}" in text
    assert "solid line = your label, dashed = the model's prediction ≥ 0.70" in text
    assert "manifest.json in that folder says" in text and "nothing to export" not in text
    assert f"1 left out: {stems[2]} not exported" in text  # named, not only in the log
