"""`medseg` commands say when labels of the project they open were rescued at a close and not brought back yet."""

from __future__ import annotations

from medseg_gui.core.images import write_png
from medseg_gui.core.label_encoding import encode_label
from medseg_gui.core.rescued_labels import record_rescue
from tests.workers.helpers import disc, make_project


def test_medseg_commands_note_rescued_labels_of_the_project_they_open(tmp_path, monkeypatch, capsys):
    from medseg_gui.cli_common import open_project
    from medseg_gui.paths import UNSAVED_LABELS, rescue_base

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "userdata"))
    project = make_project(tmp_path / "p", n=1)
    other = make_project(tmp_path / "q" / "p", n=1)
    folder = rescue_base(UNSAVED_LABELS) / "p-20240501-101500"
    (folder / "lesion").mkdir(parents=True)
    write_png(folder / "lesion" / f"{project.stems[0]}.png", encode_label(disc()))
    record_rescue(folder, project.root, [("lesion", project.stems[0])])
    open_project(other.root)
    assert capsys.readouterr().err == ""
    open_project(project.root)
    err = capsys.readouterr().err
    assert err.startswith("medseg: note: 1 label of p (img0 ('lesion')) could not be saved") and str(folder) in err
    assert "Open the project in medseg-gui to bring it back." in err
