"""Which maps of a class inside another (roi_class) a rejected Retrain predicts again because their region changed
(prediction_update.region_changed), from what pipeline.predict_class notes of each map's region (provenance.json)."""

from __future__ import annotations

import os

import numpy as np

from medseg_gui import pipeline
from medseg_gui.core.project import ClassSpec, Project
from medseg_gui.prediction_update import region_changed
from tests.workers.helpers import disc, make_images


class _Model:
    """Predicts 0.7 wherever it may (no Keras: only what predict_class records is under test)."""
    metadata = {"id": "m1", "trained_at": "2026-12-07T00:00:00+00:00"}

    def predict(self, image, region):
        prob = np.full(image.shape[:2], 0.7, np.float32)
        return prob if region is None else prob * region


def _age(path, seconds: float = 30.0) -> None:
    """Make `path` older than the maps predicted since (mtimes of one tick count as newer)."""
    when = path.stat().st_mtime - seconds
    os.utime(path, (when, when))


def test_a_region_label_deleted_since_its_map_was_made_counts_as_a_changed_region(tmp_path):
    """The region of `drawn` was its cervix label when its lesion map was made; with that label erased the region
    is the (older) cervix prediction, so the map is out of date (was: nothing noticed it, the prediction being older
    than the map); an image whose region was predicted is out of date only at another threshold."""
    classes = (ClassSpec("cervix", (0, 200, 255)), ClassSpec("lesion", (255, 215, 0), roi_class="cervix"))
    project = Project.create(tmp_path / "p", classes)
    for path in make_images(tmp_path / "src", 3):
        project.add_image(path)
    kept, drawn, predicted = project.stems
    big = disc(r=20, cx=32)
    for stem in project.stems:
        project.save_prediction("cervix", stem, big.astype(np.float32))
        _age(project.prediction_path("cervix", stem))
    for stem in (kept, drawn):
        project.save_label("cervix", stem, big)
        _age(project.label_path("cervix", stem))
    pipeline.predict_class(project, "lesion", segmenter=_Model(), threshold=0.5)
    assert region_changed(project, "lesion", project.stems, 0.5) == []
    assert region_changed(project, "lesion", project.stems, 0.4) == [predicted]
    project.label_path("cervix", drawn).unlink()
    assert region_changed(project, "lesion", project.stems, 0.5) == [drawn]
