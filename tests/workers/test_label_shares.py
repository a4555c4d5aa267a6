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
