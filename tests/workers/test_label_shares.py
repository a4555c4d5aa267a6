"""The image list's background read of a class's labels: sparse shares, unreadable files, and complete labels that
look incomplete beside their saved prediction (core.label_status.doubt)."""

from __future__ import annotations

import numpy as np

from medseg_gui.workers.label_shares import read_label_shares
from tests.workers.helpers import disc, make_project


def test_doubts_are_read_for_complete_labels_not_exempt_beside_their_prediction(tmp_path):
    project = make_project(tmp_path / "p", n=5)
    sliver, whole, sparse, exempt, unpredicted = project.stems
    wide = np.where(disc(r=12), 0.9, 0.05).astype(np.float32)
    for stem in (sliver, exempt, unpredicted):
        project.save_label("lesion", stem, disc(r=2))
    project.save_label("lesion", whole, disc(r=12))
    project.save_label("lesion", sparse, disc(r=2), annotated=disc(r=5))
    for stem in (sliver, whole, sparse, exempt):
        project.save_prediction("lesion", stem, wide)
    stems = project.labelled_stems("lesion")
    read = read_label_shares(project, "lesion", stems, 0.5, frozenset({exempt}))
    assert set(read.doubts) == {sliver} and "predicts" in read.doubts[sliver]
    assert read.shares[sparse] is not None and read.shares[sliver] is None
    assert read_label_shares(project, "lesion", stems).doubts == {}  # no threshold: shares only
    assert set(read_label_shares(project, "lesion", stems, 0.95).doubts) == set()  # nothing predicted at 0.95


def test_training_asks_about_the_same_doubts_for_its_validation_split(tmp_path):
    """training_data.doubtful_labels (the training's view, for samples.split_samples) agrees with the list's marks."""
    from medseg_gui.core.label_status import CONFIRMED_KEY, set_mark
    from medseg_gui.training_data import doubtful_labels
    from medseg_gui.training_data import load_samples

    project = make_project(tmp_path / "p", n=4)
    sliver, whole, confirmed, dot_alone = project.stems
    wide = np.where(disc(r=12), 0.9, 0.05).astype(np.float32)
    for stem in (sliver, confirmed):
        project.save_label("lesion", stem, disc(r=2))
        project.save_prediction("lesion", stem, wide)
    project.save_label("lesion", whole, disc(r=12))
    project.save_prediction("lesion", whole, wide)
    project.save_label("lesion", dot_alone, disc(r=0))  # one pixel, no prediction: a click, not an outline
    set_mark(project, confirmed, CONFIRMED_KEY, "lesion", True)
    samples, _stems = load_samples(project, "lesion", [], 0.5)
    check = doubtful_labels(project, "lesion", samples, 0.5)
    assert {s.name for s in samples if check(s.name)} == {sliver, dot_alone}
    assert not check("not-a-sample")


def test_a_weak_models_predictions_doubt_no_label(tmp_path):
    """A trial's cervix model (val Dice 0.12) predicted 35 % of a photo, so an accurate complete label was marked
    "✓ ?" and validated last. A model that validated under JUDGE_DICE does not judge labels by its predictions; the
    rules without a prediction (a dot, a few thin strokes) still hold."""
    from medseg_gui.core.label_status import JUDGE_DICE, judges
    from medseg_gui.training_data import doubtful_labels
    from medseg_gui.training_data import load_samples

    assert judges(None) and judges({"val_dice": None}) and judges({"val_dice": JUDGE_DICE})
    assert not judges({"val_dice": 0.12})
    project = make_project(tmp_path / "p", n=2)
    sliver, dot_alone = project.stems
    project.save_label("lesion", sliver, disc(r=2))
    project.save_prediction("lesion", sliver, np.where(disc(r=12), 0.9, 0.05).astype(np.float32))
    project.save_label("lesion", dot_alone, disc(r=0))
    stems = project.labelled_stems("lesion")
    assert set(read_label_shares(project, "lesion", stems, 0.5).doubts) == {sliver, dot_alone}  # no model: judged
    project.current_model_info = lambda cls: {"val_dice": 0.12, "id": "weak"}
    read = read_label_shares(project, "lesion", stems, 0.5)
    assert set(read.doubts) == {dot_alone} and not read.judged
    samples, _stems = load_samples(project, "lesion", [], 0.5)
    check = doubtful_labels(project, "lesion", samples, 0.5)
    assert not check(sliver) and check(dot_alone)
