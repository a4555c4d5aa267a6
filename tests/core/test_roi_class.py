"""Two-stage classes (`roi_class` in project.json): format validation, round trip, and the region rule of
Project.class_roi (label wins over prediction, prediction thresholded, intersected with the image ROI)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from medseg_gui.core.errors import ProjectError, RegionUnknownError
from medseg_gui.core.images import write_png
from medseg_gui.core.project import ClassSpec, Project

CLASSES = (ClassSpec("cervix", (0, 200, 255)), ClassSpec("lesion", (255, 215, 0), roi_class="cervix"))


def _project(tmp_path, classes=CLASSES) -> Project:
    project = Project.create(tmp_path / "p", classes)
    src = tmp_path / "img.png"
    write_png(src, np.zeros((8, 10, 3), np.uint8))
    project.add_image(src)
    return project


def _edit_json(root, edit) -> None:
    path = root / "project.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def test_roi_class_round_trips_and_old_projects_are_written_unchanged(tmp_path):
    project = _project(tmp_path)
    reopened = Project.open(project.root)
    assert reopened.class_spec("lesion").roi_class == "cervix"
    assert reopened.class_spec("cervix").roi_class is None
    entries = json.loads((project.root / "project.json").read_text())["classes"]
    assert entries == [{"name": "cervix", "color": [0, 200, 255]},  # no roi_class key where none is set
                       {"name": "lesion", "color": [255, 215, 0], "roi_class": "cervix"}]


def test_set_roi_class_saves_and_clears(tmp_path):
    project = _project(tmp_path, (ClassSpec("cervix", (1, 2, 3)), ClassSpec("lesion", (4, 5, 6))))
    project.set_roi_class("lesion", "cervix")
    assert Project.open(project.root).class_spec("lesion").roi_class == "cervix"
    project.set_roi_class("lesion", None)
    assert Project.open(project.root).class_spec("lesion").roi_class is None


@pytest.mark.parametrize("cls, roi_class, words", [
    ("lesion", "lesion", "its own region"),
    ("cervix", "lesion", "circle (cervix → lesion → cervix"),
    ("lesion", "tumour", "Unknown class 'tumour'"),
])
def test_set_roi_class_refuses_bad_choices_and_changes_nothing(tmp_path, cls, roi_class, words):
    project = _project(tmp_path)
    before = (project.root / "project.json").read_bytes()
    with pytest.raises(ProjectError, match=words.replace("(", r"\(")):
        project.set_roi_class(cls, roi_class)
    assert project.class_spec("lesion").roi_class == "cervix" and project.class_spec("cervix").roi_class is None
    assert (project.root / "project.json").read_bytes() == before


@pytest.mark.parametrize("roi_classes, words", [
    ({"lesion": "tumour"}, "'tumour' (roi_class), which is not a class"),
    ({"lesion": "lesion"}, "its own region"),
    ({"lesion": "cervix", "cervix": "lesion"}, "circle"),
    ({"lesion": 7}, "'7' (roi_class), which is not a class"),
])
def test_damaged_roi_class_in_project_json_is_a_clear_error_naming_the_file(tmp_path, roi_classes, words):
    project = _project(tmp_path)

    def edit(data):
        for entry in data["classes"]:
            entry.pop("roi_class", None)
            if entry["name"] in roi_classes:
                entry["roi_class"] = roi_classes[entry["name"]]

    _edit_json(project.root, edit)
    with pytest.raises(ProjectError, match="project.json is damaged") as info:
        Project.open(project.root)
    assert words in str(info.value)


def test_three_class_circle_is_refused(tmp_path):
    classes = (ClassSpec("a", (1, 1, 1), "c"), ClassSpec("b", (1, 1, 1), "a"), ClassSpec("c", (1, 1, 1), "b"))
    with pytest.raises(ProjectError, match="circle"):
        Project.create(tmp_path / "p", classes)


def test_class_roi_rules(tmp_path):
    project = _project(tmp_path)
    stem = project.stems[0]
    yy, xx = np.mgrid[:8, :10]
    # a class without roi_class and no image ROI: the whole image
    assert project.class_roi("cervix", stem) is None
    # the roi_class has neither label nor prediction: unknown, and the error names it
    with pytest.raises(RegionUnknownError) as info:
        project.class_roi("lesion", stem)
    assert info.value.roi_class == "cervix"
    # prediction only: thresholded (>= threshold)
    prob = (xx / 9.0).astype(np.float32)  # 0 .. 1 across the columns
    project.save_prediction("cervix", stem, prob)
    np.testing.assert_array_equal(project.class_roi("lesion", stem, 0.5), prob >= 0.5)
    np.testing.assert_array_equal(project.class_roi("lesion", stem, 0.8), prob >= 0.8)
    # a label wins over the prediction
    label = (yy < 3)
    project.save_label("cervix", stem, label)
    np.testing.assert_array_equal(project.class_roi("lesion", stem), label)
    # the image ROI intersects both classes' regions
    roi = xx < 4
    project.save_roi(stem, roi)
    np.testing.assert_array_equal(project.class_roi("cervix", stem), roi)
    np.testing.assert_array_equal(project.class_roi("lesion", stem), label & roi)
    assert project.class_roi("lesion", stem).sum() == 12  # 3 rows × 4 columns


def test_class_roi_follows_a_chain(tmp_path):
    classes = (ClassSpec("cervix", (1, 1, 1)), ClassSpec("zone", (2, 2, 2), "cervix"),
               ClassSpec("lesion", (3, 3, 3), "zone"))
    project = _project(tmp_path, classes)
    stem = project.stems[0]
    yy, xx = np.mgrid[:8, :10]
    project.save_label("cervix", stem, yy < 4)
    with pytest.raises(RegionUnknownError) as info:
        project.class_roi("lesion", stem)
    assert info.value.roi_class == "zone"
    project.save_label("zone", stem, xx < 5)
    np.testing.assert_array_equal(project.class_roi("lesion", stem), (yy < 4) & (xx < 5))
