"""core.image_view: what a view leaves out, and why it says so (a fault-injection trial replaced an image file by a
photo of another size and put it back)."""

from __future__ import annotations

import numpy as np

from medseg_gui.core.atomic import atomic_write_bytes
from medseg_gui.core.image_view import load_view
from medseg_gui.core.images import write_png
from medseg_gui.core.project_format import encode_probability
from tests.workers.helpers import H, W, make_project


def test_a_prediction_of_another_size_is_not_for_drawing_but_for_retrain_or_predict(tmp_path):
    project = make_project(tmp_path / "p", n=1, labelled=1)
    stem = project.stems[0]
    write_png(project.prediction_path("lesion", stem), encode_probability(np.full((10, 12), 0.7, np.float32)))
    view = load_view(project, stem)
    assert view.predictions["lesion"] is None and view.labels["lesion"] is not None
    (warning,) = view.warnings
    assert warning == (f"The saved 'lesion' prediction of {stem} does not fit this image (12×10 pixels, the image "
                       f"{W}×{H}); Retrain or Predict makes a new one.")
    assert view.misfit == frozenset()


def test_a_label_of_another_size_is_named_as_not_fitting(tmp_path):
    project = make_project(tmp_path / "p", n=1, labelled=1)
    stem = project.stems[0]
    write_png(project.label_path("lesion", stem), np.full((10, 12), 255, np.uint8))
    view = load_view(project, stem)
    assert view.labels["lesion"] is None and view.misfit == {"lesion"}
    assert "12×10 pixels but the image is 64×48" in view.warnings[0] and "Draw a new one" in view.warnings[0]


def test_an_image_file_replaced_while_its_view_is_read_is_read_again(tmp_path, monkeypatch):
    """Read while another photo stood there for a moment: the labels were judged by that photo and left out."""
    project = make_project(tmp_path / "p", n=1, labelled=1)
    stem = project.stems[0]
    path = project.image_path(stem)
    original, read = path.read_bytes(), project.load_image
    calls = []

    def load_image(s):
        calls.append(s)
        if len(calls) == 1:  # the first read finds another photo, put back at once
            write_png(path, np.full((60, 80, 3), 90, np.uint8))
            rgb = read(s)
            atomic_write_bytes(path, original)
            return rgb
        return read(s)

    monkeypatch.setattr(project, "load_image", load_image)
    view = load_view(project, stem)
    assert len(calls) == 2 and view.shape == (H, W)
    assert view.labels["lesion"] is not None and view.warnings == [] and view.misfit == frozenset()
