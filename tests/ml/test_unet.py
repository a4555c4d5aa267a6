import numpy as np
import pytest

keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

from medseg_gui.ml.config import PRESETS, UNetConfig  # noqa: E402
from medseg_gui.ml.unet import build_unet, inference_model  # noqa: E402


def _convs(model, prefix):
    return [l for l in model.layers if isinstance(l, layers.Conv2D) and not isinstance(l, layers.Conv2DTranspose)
            and l.name.startswith(prefix)]


@pytest.mark.parametrize("name", ["default", "cvxtz", "fxfviolet"])
def test_presets_build_with_documented_filters(name):
    cfg = PRESETS[name].unet
    model = build_unet(cfg)
    for level, f in enumerate(cfg.filters[:-1]):
        assert [c.filters for c in _convs(model, f"enc{level}_")] == [f, f]
        assert [c.filters for c in _convs(model, f"dec{level}_")] == [f, f]
    assert [c.filters for c in _convs(model, "bottleneck_")] == [cfg.filters[-1]] * 2
    assert len(_convs(model, "")) == 4 * cfg.depth + 2 + 1  # + the 1x1 sigmoid output
    bns = [l for l in model.layers if isinstance(l, layers.BatchNormalization)]
    assert bool(bns) == cfg.batchnorm
    drops = [l for l in model.layers if isinstance(l, layers.Dropout)]
    assert {d.rate for d in drops} == ({cfg.dropout} if cfg.dropout else set())
    transposes = [l for l in model.layers if isinstance(l, layers.Conv2DTranspose)]
    assert len(transposes) == (cfg.depth if cfg.upsampling == "transpose" else 0)
    merges = [l for l in model.layers if isinstance(l, (layers.Add, layers.Concatenate))]
    expected = layers.Add if cfg.skip == "add" else layers.Concatenate
    assert len(merges) == cfg.depth and all(type(m) is expected for m in merges)
    assert model.layers[-1].activation.__name__ == "sigmoid"
    assert model.input_shape == (None, None, None, cfg.in_channels)


def test_additive_skip_needs_transposed_upsampling():
    with pytest.raises(ValueError, match="transpose"):
        UNetConfig(skip="add", upsampling="bilinear")


def test_reference_layer_details():
    cv = build_unet(PRESETS["cvxtz"].unet)
    assert len([l for l in cv.layers if isinstance(l, layers.Dropout)]) == 9  # one per conv block
    fx = build_unet(PRESETS["fxfviolet"].unet)
    names = [l.name for l in fx.layers if isinstance(l, layers.Dropout)]
    assert "pool0_drop" in names and "cat0_drop" in names
    assert fx.get_layer("enc0_conv1").kernel_initializer.__class__.__name__ == "HeNormal"


def test_any_tile_size_and_folded_inference_model_matches():
    cfg = UNetConfig(filters=(4, 8, 16), batchnorm=True, dropout=0.2, in_channels=1)
    model = build_unet(cfg)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 32, 32, 1)).astype("float32")
    y = rng.random((2, 32, 32, 1)).astype("float32")
    model.compile(optimizer="adam", loss="binary_crossentropy", run_eagerly=True)
    model.fit(x, y, epochs=2, verbose=0)  # moves BN statistics away from their initial values
    fast = inference_model(model, cfg)
    assert not any(isinstance(l, (layers.BatchNormalization, layers.Dropout)) for l in fast.layers)
    for shape in [(1, 32, 48, 1), (1, 4, 12, 1)]:
        x = rng.standard_normal(shape).astype("float32")
        a, b = np.asarray(model(x, training=False)), np.asarray(fast(x, training=False))
        assert a.shape == shape and np.allclose(a, b, atol=1e-5)
