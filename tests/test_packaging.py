"""Packaging and the bundled demo: every package is listed, the demo is found and copied, never written in place."""

from pathlib import Path

import pytest

from medseg_gui.core.demo import demo_source, ensure_demo_copy
from medseg_gui.core.project import Project

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_listed_in_pyproject():
    tomllib = pytest.importorskip("tomllib")
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "medseg_gui").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found | {"medseg_gui._resources"} == listed


def test_demo_is_a_valid_project_with_labels_and_unlabelled_images():
    project = Project.open(demo_source())
    labelled = project.labelled_stems("vessel")
    assert 4 <= len(project.stems) <= 8
    assert 1 <= len(project.stems) - len(labelled) <= 2
    for stem in project.stems:
        h, w = project.load_image(stem).shape[:2]
        assert project.load_roi(stem).shape == (h, w)
    assert (demo_source() / "ATTRIBUTION.md").read_text().count("CC BY 4.0") >= 1


def test_demo_copy_is_made_once_and_reused(tmp_path):
    src_listing = sorted(p.relative_to(demo_source()) for p in demo_source().rglob("*"))
    dest = ensure_demo_copy(tmp_path / "demo")
    assert sorted(p.relative_to(dest) for p in dest.rglob("*")) == src_listing
    marker = dest / "labels" / "vessel" / "edited.txt"
    marker.write_text("user edit")
    assert ensure_demo_copy(tmp_path / "demo") == dest and marker.exists()
    assert sorted(p.relative_to(demo_source()) for p in demo_source().rglob("*")) == src_listing
