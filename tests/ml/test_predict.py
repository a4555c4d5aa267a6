import keras
import numpy as np
import pytest

from medseg_gui.core.errors import CancelledError, LabelSizeError
from medseg_gui.ml.predict import Segmenter, axis_layout, axis_windows

from .conftest import blob_sample

pytestmark = pytest.mark.slow


def test_axis_layout_covers_with_overlap():
    for n in [1, 15, 16, 53, 100, 333, 999, 8000]:
        t, starts = axis_layout(n, 256, 64, 16)
        assert t % 16 == 0 and t <= max(256, -(-n // 16) * 16)
        assert starts[0] == 0 and starts[-1] + t >= n
        for a, b in zip(starts, starts[1:]):
            assert a + t - b >= 64  # consecutive tiles overlap by at least the requested amount
        total = np.zeros(n)
        for s, w in zip(starts, axis_windows(n, t, starts)):
            total[s:s + w.size] += w
        assert np.allclose(total, 1.0, atol=1e-5)  # the raised-cosine windows are a partition of unity


def test_predict_odd_size_shape_dtype_range(trained):
    result, _ = trained
    img = blob_sample(np.random.default_rng(9), 70, 53).image
    prob = result.segmenter.predict(img)
    assert prob.shape == (70, 53) and prob.dtype == np.float32
    assert 0.0 <= prob.min() and prob.max() <= 1.0
    roi = np.zeros((70, 53), bool)
    roi[10:60, 5:40] = True
    prob = result.segmenter.predict(img, roi, tta=True)
    assert prob.shape == (70, 53) and (prob[~roi] == 0).all()
    with pytest.raises(LabelSizeError):
        result.segmenter.predict(img, roi[:, :50])


def test_tiled_inference_matches_whole_image_without_seams():
    """A random depth-2 U-Net (receptive field well inside the 32 px overlap): several 64 px tiles blended with the
    raised-cosine window must reproduce a single whole-image pass, with no step along tile borders."""
    from medseg_gui.ml.config import UNetConfig
    from medseg_gui.ml.unet import build_unet

    keras.utils.set_random_seed(1)  # the random weights, and so the border error, must not depend on test order
    model = build_unet(UNetConfig(filters=(4, 8, 16), batchnorm=False, in_channels=1))
    md = {"input_mode": "green", "contrast": "none", "multiple": 4, "tile_size": 64, "tile_overlap": 32}
    seg = Segmenter(model, md)
    image = blob_sample(np.random.default_rng(4), 150, 130, n=8).image
    tiled, whole = seg.predict(image), seg.predict_whole(image)
    th, ys = axis_layout(150, 64, 32, 4)
    tw, xs = axis_layout(130, 64, 32, 4)
    assert len(ys) >= 3 and len(xs) >= 3
    diff = np.abs(tiled - whole)
    assert diff.mean() < 3e-3 and diff.max() < 0.05
    rows = sorted({s for s in ys[1:]} | {s + th - 1 for s in ys[:-1]})
    cols = sorted({s for s in xs[1:]} | {s + tw - 1 for s in xs[:-1]})
    # no seams: tile edges carry ~zero weight, so the error there is no larger than anywhere else
    assert diff[rows].mean() < 2 * diff.mean() + 1e-4 and diff[:, cols].mean() < 2 * diff.mean() + 1e-4
    big = Segmenter(model, {**md, "tile_size": 256})
    assert np.allclose(big.predict(image), whole, atol=1e-6)  # one tile == whole image


def test_only_the_roi_bounding_box_is_computed():
    """A small ROI in a large image: the network sees only the ROI's box plus a margin, the result inside the ROI
    matches a whole-image pass (this depth-2 net's receptive field, 41 px, fits in the margin), and everything
    outside the ROI is 0."""
    from medseg_gui.ml.config import UNetConfig
    from medseg_gui.ml.unet import build_unet

    keras.utils.set_random_seed(2)
    model = build_unet(UNetConfig(filters=(4, 8, 16), batchnorm=False, in_channels=1))
    seen = []

    class Recording:
        def predict_on_batch(self, x):
            seen.append(x.shape)
            return model.predict_on_batch(x)

    md = {"input_mode": "green", "contrast": "none", "multiple": 4, "tile_size": 512, "tile_overlap": 32}
    seg = Segmenter(Recording(), md)
    image = blob_sample(np.random.default_rng(5), 300, 260, n=8).image
    roi = np.zeros((300, 260), bool)
    roi[100:160, 40:90] = True
    prob = seg.predict(image, roi)
    assert seen == [(1, 124, 116, 1)]  # (60 + 2 * 32) x (50 + 2 * 32) rounded up to multiples of 4
    assert (prob[~roi] == 0).all()
    whole = seg.predict_whole(image, roi)
    assert np.abs(prob - whole)[roi].max() < 1e-4  # the 32 px margin covers this net's receptive field
    assert (seg.predict(image, np.zeros_like(roi)) == 0).all()


def test_predict_cancel(trained):
    result, _ = trained
    img = blob_sample(np.random.default_rng(9), 64, 64).image
    with pytest.raises(CancelledError):
        result.segmenter.predict(img, should_stop=lambda: True)


def test_trained_model_finds_the_blobs(trained):
    from medseg_gui.ml.auc import fast_auc

    result, _ = trained
    s = blob_sample(np.random.default_rng(11), 96, 80, n=5)
    assert fast_auc(result.segmenter.predict(s.image), s.mask) > 0.9


def test_a_model_trained_at_a_working_scale_predicts_full_size(trained):
    result, _ = trained
    plain = {k: v for k, v in result.segmenter.metadata.items()  # compare raw maps at the scale given
             if k not in ("postprocess", "working_sides")}
    seg = Segmenter(result.segmenter.model, {**plain, "scale": 0.5})
    assert seg.scale == 0.5
    img = blob_sample(np.random.default_rng(3), 96, 80).image
    roi = np.zeros((96, 80), bool)
    roi[8:90, 4:70] = True
    prob = seg.predict(img, roi)
    assert prob.shape == (96, 80) and prob.dtype == np.float32 and (prob[~roi] == 0).all()
    assert 0.0 <= prob.min() and prob.max() <= 1.0
    # the same as predicting the half-size image and ROI at scale 1 and resizing back (away from the ROI's edge)
    import cv2

    from medseg_gui.ml.data import resize_to_scale

    small, _, small_roi = resize_to_scale(img, None, roi, 0.5)
    back = cv2.resize(Segmenter(result.segmenter.model, plain).predict(small, small_roi), (80, 96),
                      interpolation=cv2.INTER_LINEAR)
    inner = cv2.erode(roi.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    np.testing.assert_allclose(prob[inner], back[inner], atol=1e-4)


def test_a_models_chosen_clean_up_is_applied_at_its_threshold(trained):
    from medseg_gui.core.postprocess import PostProcess, clean_mask

    result, _ = trained
    img = blob_sample(np.random.default_rng(5), 96, 80, n=4).image
    raw = result.segmenter.predict(img)
    pp = PostProcess(fill_holes=True, min_area=0.05)
    seg = Segmenter(result.segmenter.model, {**result.segmenter.metadata, "threshold": 0.5,
                                             "postprocess": pp.to_json()})
    assert ((seg.predict(img) >= 0.5) == clean_mask(raw >= 0.5, pp)).all()


def test_a_models_chosen_flips_are_its_default_prediction(trained):
    result, _ = trained
    plain = {k: v for k, v in result.segmenter.metadata.items() if k not in ("postprocess", "tta", "operating_point")}
    img = blob_sample(np.random.default_rng(6), 96, 80, n=4).image  # sides are multiples of 16: no padding
    seg = Segmenter(result.segmenter.model, plain)
    assert seg.tta == 1
    mirrored = seg.predict(np.ascontiguousarray(img[:, ::-1]))[:, ::-1]
    two = Segmenter(result.segmenter.model, {**plain, "tta": 2})
    np.testing.assert_allclose(two.predict(img), (seg.predict(img) + mirrored) / 2, atol=1e-5)
    np.testing.assert_allclose(two.predict(img, tta=1), seg.predict(img), atol=1e-6)


def test_a_model_that_chose_several_scales_averages_its_maps_at_each(trained):
    result, _ = trained
    plain = {k: v for k, v in result.segmenter.metadata.items()
             if k not in ("postprocess", "tta", "scales", "working_sides")}
    plain["scale"] = 0.5
    img = blob_sample(np.random.default_rng(7), 96, 80, n=4).image
    at = {f: Segmenter(result.segmenter.model, {**plain, "scale": 0.5 * f}).predict(img) for f in (0.5, 1.0, 2.0)}
    three = Segmenter(result.segmenter.model, {**plain, "scales": [0.5, 1.0, 2.0]})
    assert three.scales == (0.5, 1.0, 2.0) and Segmenter(result.segmenter.model, plain).scales == (1.0,)
    np.testing.assert_allclose(three.predict(img), (at[0.5] + at[1.0] + at[2.0]) / 3, atol=1e-5)
    # validation.choose_prediction scores the average from single-scale variants (the working scale's map reused)
    np.testing.assert_allclose(Segmenter(result.segmenter.model, plain).variant(scales=[2.0]).predict(img), at[2.0],
                               atol=1e-6)
    assert not np.allclose(at[0.5], at[1.0], atol=1e-3)  # the scales differ: the average is no single one


def test_a_photo_at_another_resolution_is_worked_at_a_size_the_model_trained_at(trained):
    """A trial predicted the same photo at 1350 and 3000 px with one lesion model: 8 % and 25 % lesion, the large
    one worked 2.2× larger than any training photo (session 36). A lesion model records its training photos' short
    sides at the working scale ("working_sides") and works a photo outside them at the nearest such size, never
    enlarged past full size; inside them at its scale; a model without the record as before."""
    result, _ = trained
    plain = {k: v for k, v in result.segmenter.metadata.items() if k not in ("postprocess", "working_sides")}
    seg = Segmenter(result.segmenter.model, {**plain, "scale": 0.25, "working_sides": [20.0, 40.0]})
    assert seg.scale_for((120, 200, 3)) == 0.25  # 30 px short side at 0.25: inside
    assert seg.scale_for((400, 500)) == 40.0 / 400  # 100 px at 0.25: down to 40
    assert seg.scale_for((40, 60)) == 0.5  # 10 px at 0.25: up to 20
    assert seg.scale_for((16, 30)) == 1.0  # never enlarged
    assert Segmenter(result.segmenter.model, {**plain, "scale": 0.25}).scale_for((400, 500)) == 0.25
    img = blob_sample(np.random.default_rng(8), 96, 80, n=4).image  # 24 px short side at 0.3: above 16
    narrow = Segmenter(result.segmenter.model, {**plain, "scale": 0.3, "working_sides": [8.0, 16.0]})
    np.testing.assert_allclose(narrow.predict(img), narrow.variant(scale=16 / 80, working_sides=None).predict(img),
                               atol=1e-6)


def test_a_lesion_run_records_the_sizes_it_worked_its_images_at():
    from medseg_gui.ml.config import TrainConfig
    from medseg_gui.ml.train import train

    rng = np.random.default_rng(4)
    samples = [blob_sample(rng, 96, 80), blob_sample(rng, 64, 112), blob_sample(rng, 80, 80)]
    result = train(samples, TrainConfig(minutes=None, max_steps=2, steps_per_epoch=2, batch_size=2, patch_size=32,
                                        base_filters=8))
    md = result.segmenter.metadata
    assert md["regime"] == "lesions"
    low, high = 64 * md["scale"], 80 * md["scale"]
    assert low - 0.1 <= md["working_sides"][0] <= low <= high <= md["working_sides"][1] <= high + 0.1
