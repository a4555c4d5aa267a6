"""Renaming, recolouring and deleting a class never loses a label: the files move with the class (or into the
project's "deleted classes" folder), and a failed project.json save puts everything back."""

from __future__ import annotations

import json

import numpy as np
import pytest

from medseg_gui.core.classes import NONE_KEY, TRASH_FOLDER, delete_class, free_color, recolour_class, rename_class
from medseg_gui.core.errors import ProjectError
from medseg_gui.core.label_status import CONFIRMED_KEY
from medseg_gui.core.project import ClassSpec, Project
from tests.workers.helpers import make_project


def _project(tmp_path) -> Project:
    project = make_project(tmp_path / "p", n=3, labelled=2, cls="lesion")
    project.save_prediction("lesion", project.stems[0], np.full((48, 64), 0.5, np.float32))
    (project.model_dir("lesion")).mkdir(parents=True)
    (project.model_dir("lesion") / "model.keras").write_bytes(b"weights")
    project.set_state(project.stems[2], NONE_KEY, ["lesion"])
    project.set_state(project.stems[0], CONFIRMED_KEY, ["lesion"])  # a label the clinician confirmed complete
    return project


def _labels(project: Project, cls: str) -> dict[str, np.ndarray]:
    return {stem: project.load_label(cls, stem) for stem in project.labelled_stems(cls)}


def test_rename_moves_labels_predictions_models_and_marks(tmp_path):
    project = _project(tmp_path)
    before = _labels(project, "lesion")
    project.set_roi_class("lesion", "vessel")
    rename_class(project, "vessel", "retina")  # a class another one is restricted to: the restriction follows
    rename_class(project, "lesion", "polyp")
    reopened = Project.open(project.root)
    assert "lesion" not in reopened.class_names and "polyp" in reopened.class_names
    assert reopened.class_spec("polyp").roi_class == "retina"
    after = _labels(reopened, "polyp")
    assert after.keys() == before.keys() and all(np.array_equal(after[s], before[s]) for s in before)
    assert reopened.load_prediction("polyp", reopened.stems[0]) is not None
    assert (reopened.model_dir("polyp") / "model.keras").read_bytes() == b"weights"
    assert reopened.entry(reopened.stems[2]).state[NONE_KEY] == ["polyp"]
    assert reopened.entry(reopened.stems[0]).state[CONFIRMED_KEY] == ["polyp"]
    assert not (project.root / "labels" / "lesion").exists()
    with pytest.raises(ProjectError, match="already has a class"):
        rename_class(reopened, "polyp", "RETINA")
    with pytest.raises(ProjectError, match="cannot be used as a class name"):
        rename_class(reopened, "polyp", "a/b")


def test_failed_save_puts_the_folders_back(tmp_path, monkeypatch):
    project = _project(tmp_path)
    before = _labels(project, "lesion")

    def fail(*_args, **_kwargs):
        raise ProjectError("disk full")

    monkeypatch.setattr(Project, "save", fail)
    with pytest.raises(ProjectError, match="disk full"):
        rename_class(project, "lesion", "polyp")
    with pytest.raises(ProjectError, match="disk full"):
        delete_class(project, "lesion")
    assert project.class_names == ["lesion", "vessel"] and not (project.root / TRASH_FOLDER).exists()
    after = _labels(project, "lesion")
    assert after.keys() == before.keys() and all(np.array_equal(after[s], before[s]) for s in before)
    assert not (project.root / "labels" / "polyp").exists()


def test_delete_keeps_the_files_in_the_projects_deleted_classes_folder(tmp_path):
    project = _project(tmp_path)
    label_files = {p.name: p.read_bytes() for p in (project.root / "labels" / "lesion").glob("*.png")}
    other = [c.name for c in project.classes if c.name != "lesion"]
    project.set_roi_class(other[0], "lesion")
    with pytest.raises(ProjectError, match="restricted to its region"):
        delete_class(project, "lesion")
    project.set_roi_class(other[0], None)
    backup = delete_class(project, "lesion")
    assert backup.parent == project.root / TRASH_FOLDER
    reopened = Project.open(project.root)
    assert "lesion" not in reopened.class_names
    assert {p.name: p.read_bytes() for p in (backup / "labels").glob("*.png")} == label_files
    assert (backup / "models" / "model.keras").is_file() and (backup / "predictions").is_dir()
    marks = json.loads((backup / "no-object-marks.json").read_text(encoding="utf-8"))
    assert marks["no_object_here"] == [reopened.stems[2]] and not reopened.entry(reopened.stems[2]).state.get(NONE_KEY)
    assert not reopened.entry(reopened.stems[0]).state.get(CONFIRMED_KEY)
    empty = reopened.add_class("polyp", free_color(reopened)).name  # no files: no empty backup folder left behind
    (reopened.root / "labels" / empty).mkdir(parents=True, exist_ok=True)
    before = sorted((reopened.root / TRASH_FOLDER).iterdir())
    assert delete_class(reopened, empty) is None and empty not in reopened.class_names
    assert sorted((reopened.root / TRASH_FOLDER).iterdir()) == before
    assert not (reopened.root / "labels" / empty).exists()
    for cls in reopened.class_names[:-1]:
        delete_class(reopened, cls)
    with pytest.raises(ProjectError, match="only class"):
        delete_class(reopened, reopened.class_names[0])


def test_recolour_and_a_free_colour(tmp_path):
    project = _project(tmp_path)
    colour = free_color(project)
    assert colour not in {c.color for c in project.classes}
    recolour_class(project, "lesion", colour)
    assert Project.open(project.root).class_spec("lesion").color == colour
    with pytest.raises(ProjectError, match="three values"):
        recolour_class(project, "lesion", (300, 0, 0))
    added = project.add_class("polyp", free_color(project))
    assert isinstance(added, ClassSpec) and added.color not in {c.color for c in project.classes[:-1]}


def test_new_class_colours_stay_clear_of_the_review_overlays():
    """A trial's new "cervix" class was drawn in (255, 80, 80), beside the false positives' red."""
    import math

    from medseg_gui.core.classes import PALETTE
    from medseg_gui.core.overlays import FN_COLOR, FP_COLOR
    from medseg_gui.core.project_format import DEFAULT_CLASSES
    from medseg_gui.qt.defaults import UNCERTAINTY_RGB

    for colour in PALETTE:
        assert min(math.dist(colour, overlay) for overlay in (FP_COLOR, FN_COLOR, UNCERTAINTY_RGB)) >= 120, colour
    assert len(set(PALETTE)) == len(PALETTE) and not set(PALETTE) & {c.color for c in DEFAULT_CLASSES}
