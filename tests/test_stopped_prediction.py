"""A prediction stopped part-way leaves provenance.json true map by map (an outside CLI trial: `medseg predict` ended
by SIGTERM after 12 of 25 maps were rewritten by a newly chosen model; provenance still named the old model for all
25, and the export's manifest and `medseg evaluate` repeated it)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from medseg_gui import pipeline
from medseg_gui.core.interchange.formats import export_as
from medseg_gui.core.interchange.manifest import read_provenance
from tests.test_uncertainty_pipeline import RedIsProbability, project  # noqa: F401  (the fixture)


class Inverted(RedIsProbability):
    """Another model: probability = 1 - red / 255; Ctrl+C arrives as it predicts the image `stop_on`."""

    metadata = {**RedIsProbability.metadata, "id": "20260202-000000-new"}

    def __init__(self, stop_on: np.ndarray | None = None) -> None:
        self.stop_on = stop_on

    def predict(self, image: np.ndarray, roi: np.ndarray | None = None, **_: object) -> np.ndarray:
        if self.stop_on is not None and np.array_equal(image, self.stop_on):
            raise KeyboardInterrupt
        return 1 - super().predict(image, roi)


OLD, NEW = RedIsProbability.metadata["id"], Inverted.metadata["id"]


def _maker(project, cls: str, stem: str) -> str:
    """Which of the two models made `stem`'s saved map, read from its pixels."""
    red = project.load_image(stem)[..., 0].astype(np.float32) / 255
    prob = project.load_prediction(cls, stem)
    return OLD if np.allclose(prob, red, atol=1e-3) else NEW if np.allclose(prob, 1 - red, atol=1e-3) else "?"


def test_a_prediction_stopped_after_a_map_was_written_names_each_maps_maker(project, tmp_path):
    cls = project.class_names[0]
    pipeline.predict_class(project, cls)  # the old model made every map
    second = project.stems[1]
    seen = []

    def on_saved(stem: str, _map: np.ndarray) -> None:  # what a kill -9 right now would leave on disk
        seen.append(read_provenance(project, cls).get(stem, {}).get("id"))
        if stem == second:
            raise KeyboardInterrupt  # SIGTERM (cli_common.Terminated) just after the map was written

    with pytest.raises(KeyboardInterrupt):
        pipeline.predict_class(project, cls, segmenter=Inverted(), on_saved=on_saved)
    assert OLD not in seen  # never the old model for a map the new one had just written
    made = read_provenance(project, cls)
    assert [_maker(project, cls, s) for s in project.stems] == [NEW, NEW, OLD]
    assert [made[s]["id"] for s in project.stems] == [NEW, NEW, OLD]
    export_as("png", project, [cls], tmp_path / "out", source="predictions")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert {m["image"]: m["model"]["id"] for m in manifest["masks"]} == dict(zip(project.stems, [NEW, NEW, OLD]))


def test_a_prediction_stopped_before_a_map_was_written_keeps_that_maps_record(project):
    cls = project.class_names[0]
    pipeline.predict_class(project, cls)
    second = project.stems[1]
    with pytest.raises(KeyboardInterrupt):
        pipeline.predict_class(project, cls, segmenter=Inverted(stop_on=project.load_image(second)))
    made = read_provenance(project, cls)
    assert [_maker(project, cls, s) for s in project.stems] == [NEW, OLD, OLD]
    assert [made[s]["id"] for s in project.stems] == [NEW, OLD, OLD]
