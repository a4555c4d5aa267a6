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


def test_a_prior_teaches_the_unannotated_pixels_its_probability_at_its_weight():
    rng = np.random.default_rng(0)
    s = blob_sample(rng, 64, 64, with_roi=True)
    annotated = np.zeros((64, 64), bool)
    annotated[:, :20] = True
    preset = dataclasses.replace(PRESETS["vessels"], patch_size=32, batch_size=64, augment=Augment(flips=False,
                                 rot90=False), scale=1.0)
    prep = prepare(s.image, s.mask, s.roi, preset, rng, annotated)
    prep.set_prior(np.full((128, 128), 0.7, np.float32), 0.25)  # another resolution: resized to the image's
    x, y = sample_batch([prep], preset, np.random.default_rng(1))
    weights = set(np.unique(y[..., 1]).round(4))
    assert weights == {0.0, 0.25, 1.0}
    taught = y[..., 1] == np.float32(0.25)
    np.testing.assert_allclose(y[..., 0][taught], 0.7, atol=1e-3)  # the prior, not "background"
    assert set(np.unique(y[..., 0][y[..., 1] == 1.0])) <= {0.0, 1.0}  # annotated pixels keep the label
    window = prep.label_window(0, 0, 64, 64)
    assert (window[..., 1][~s.roi] == 0).all()  # outside the ROI nothing is taught
    assert (window[..., 1][s.roi & ~annotated] == np.float32(0.25)).all()
    dense = prepare(s.image, s.mask, s.roi, preset, rng)
    dense.set_prior(np.full((64, 64), 0.7, np.float32), 0.25)
    assert dense.prior is None  # a complete label has no unannotated pixels


@pytest.mark.slow
@pytest.mark.parametrize("weight", [0.0, 0.3])
def test_a_warm_run_on_sparse_labels_teaches_the_start_models_probability(tiny_preset, tmp_path, weight):
    from medseg_gui.ml.init import read_init, save_start
    from medseg_gui.ml.train import Sample, train
    from medseg_gui.ml.unet import build_unet

    rng = np.random.default_rng(2)
    samples = [blob_sample(rng, 64, 64) for _ in range(3)]
    half = np.zeros((64, 64), bool)
    half[:32] = True
    sparse = [Sample(s.image, s.mask & half, None, half) for s in samples]
    save_start(build_unet(PRESETS[tiny_preset].unet), PRESETS[tiny_preset], tmp_path / "start.weights.h5", "start")
    config = tiny_config(tiny_preset, max_steps=2, val_fraction=0.0, prior_weight=weight)
    warm = train(sparse, config, init=read_init(tmp_path / "start.weights.h5"))
    trained = warm.segmenter.metadata["train_images"]
    assert trained >= 2 and warm.segmenter.metadata["prior_images"] == (trained if weight else 0)
    assert train(sparse, dataclasses.replace(config, init="scratch")).segmenter.metadata["prior_images"] == 0
    assert train(samples, config, init=read_init(tmp_path / "start.weights.h5")).segmenter.metadata[
        "prior_images"] == 0  # complete labels
