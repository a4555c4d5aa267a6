"""Defect 8 of issue 13: exporting into <project>/labels/… turned predictions into labels, and the export dialog
started in the project root. Now exports into the project's data folders are refused (CLI and GUI go through
core.export), and the dialog starts beside the project."""

from __future__ import annotations

import numpy as np
import pytest

from medseg_gui.core.errors import ProjectError
from medseg_gui.core.export import export_masks
from medseg_gui.qt import dialogs
from tests.qt.conftest import messages  # noqa: F401 (fixture)
from tests.workers.helpers import H, W, make_project, open_window


def _with_prediction(tmp_path):
    project = make_project(tmp_path / "p", n=2, labelled=1)
    for stem in project.stems:
        project.save_prediction("lesion", stem, np.full((H, W), 0.9, np.float32))
    return project


def _snapshot(root):
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("inside", ["labels", "labels/lesion", "predictions/lesion", "roi", "models", "images"])
def test_export_into_project_data_folders_is_refused(tmp_path, inside):
    project = _with_prediction(tmp_path)
    before = _snapshot(project.root)
    with pytest.raises(ProjectError, match="Choose a folder outside the project"):
        export_masks(project, "lesion", project.root / inside)
    assert _snapshot(project.root) == before
    assert project.labelled_stems("lesion") == project.stems[:1]  # the prediction did not become a label


def test_export_through_a_link_to_the_labels_folder_is_refused(tmp_path):
    project = _with_prediction(tmp_path)
    (project.root / "labels").mkdir(exist_ok=True)
    alias = tmp_path / "looks_harmless"
    alias.symlink_to(project.root / "labels" / "lesion")
    with pytest.raises(ProjectError):
        export_masks(project, "lesion", alias)


def test_export_into_a_plain_folder_projects_own_images_is_refused(tmp_path):
    """Fault-injection trial (session 32): `medseg export` into the folder a plain folder of photos was opened in
    wrote img0.png over the user's only copy of the photo."""
    from medseg_gui import cli
    from medseg_gui.core.images import write_png
    from medseg_gui.core.project import Project
    from tests.workers.helpers import disc

    folder = tmp_path / "photos"
    for i in range(2):
        write_png(folder / f"img{i}.png", np.full((H, W, 3), 40 + i, np.uint8))
    project = Project.open_or_create_for_folder(folder)
    project.save_label("lesion", project.stems[0], disc())
    before = _snapshot(folder)
    with pytest.raises(ProjectError, match="the project's images are there"):
        export_masks(project, "lesion", folder)
    assert cli.main(["export", str(folder), "--class", "lesion", "--out", str(folder)]) == 1
    assert _snapshot(folder) == before
    assert [p.name for p in export_masks(project, "lesion", tmp_path / "out")] == ["img0.png"]


def test_export_of_all_classes_checks_every_target_before_writing_any(tmp_path):
    from medseg_gui.core.interchange.formats import export_as

    project = _with_prediction(tmp_path)
    project.add_class("other", (0, 200, 0))
    out = tmp_path / "out"
    out.mkdir()
    (project.root / "labels" / "lesion").mkdir(parents=True, exist_ok=True)
    (out / "other").symlink_to(project.root / "labels" / "lesion")  # the second class's folder leads into labels
    with pytest.raises(ProjectError, match="inside the project's own 'labels' folder"):
        export_as("png", project, ["lesion", "other"], out)
    assert not (out / "lesion").exists()  # nothing half-written


def test_export_beside_the_project_still_works(tmp_path):
    project = _with_prediction(tmp_path)
    written = export_masks(project, "lesion", tmp_path / "masks")
    first, second = project.stems  # the first is labelled; the second only predicted, and named so
    assert [p.name for p in written] == [f"{first}.png", f"{second}_prediction.png"]


def test_gui_export_starts_beside_the_project_and_refuses_its_labels_folder(tmp_path, qtbot, messages, monkeypatch):
    project = _with_prediction(tmp_path)
    window = open_window(qtbot, project)
    starts = []
    monkeypatch.setattr(dialogs, "choose_directory",
                        lambda parent, title, start=None, new=False: starts.append(start) or project.root / "labels")
    before = _snapshot(project.root)
    assert window.export_masks() is None
    assert starts == [project.root.parent]
    assert "Choose a folder outside the project" in window.last_error and messages
    assert _snapshot(project.root) == before
