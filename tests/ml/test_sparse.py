"""Sparse labels: unannotated pixels teach nothing and are not scored."""

import dataclasses

import numpy as np
import pytest

from medseg_gui.ml.config import PRESETS, Augment
from medseg_gui.ml.data import prepare, sample_batch

from .conftest import blob_sample, tiny_config


def test_unannotated_pixels_have_zero_loss_weight_and_are_never_patch_centres():
    rng = np.random.default_rng(0)
    s = blob_sample(rng, 64, 64)
    annotated = np.zeros((64, 64), bool)
    annotated[:, :20] = True
    preset = dataclasses.replace(PRESETS["vessels"], patch_size=16, batch_size=64, augment=Augment(flips=False,
                                 rot90=False), scale=1.0)
    prep = prepare(s.image, s.mask, None, preset, rng, annotated)
    cols = np.unravel_index(prep.roi_centres, (64, 64))[1]
    assert cols.max() < 20
    _, y = sample_batch([prep], preset, np.random.default_rng(1))
    assert y[..., 1].sum() > 0 and (prep.roi == annotated).all()  # the loss weight map is the annotated part
    assert (y[..., 1] * (1 - y[..., 0])).sum() > 0  # annotated background still teaches "background"


@pytest.mark.slow
def test_a_background_only_sparse_label_does_not_teach_background_elsewhere(tiny_preset):
    """Image B's blobs are unannotated (its sparse label says only "background here"): trained sparse, B's blobs
    stay foreground; the same strokes read as a complete label (unpainted = background) teach them away."""
    from medseg_gui.ml.train import Sample, train

    rng = np.random.default_rng(4)
    a = [blob_sample(rng, 64, 64, n=4) for _ in range(2)]
    b = blob_sample(rng, 64, 64, n=4)
    band = ~b.mask  # annotated: background pixels far from B's blobs
    from scipy import ndimage as ndi

    band &= ~ndi.binary_dilation(b.mask, iterations=6)
    sparse = Sample(b.image, np.zeros_like(b.mask), None, annotated=band)
    dense_wrong = Sample(b.image, np.zeros_like(b.mask), None)
    cfg = tiny_config(tiny_preset, max_steps=60, learning_rate=1e-2, val_fraction=0.0)
    p_sparse = train([*a, sparse], cfg).segmenter.predict(b.image)
    p_dense = train([*a, dense_wrong], cfg).segmenter.predict(b.image)
    assert p_sparse[b.mask].mean() > p_dense[b.mask].mean() + 0.1
    assert p_sparse[b.mask].mean() > 0.5
