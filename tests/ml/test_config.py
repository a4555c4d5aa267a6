import dataclasses
import subprocess
import sys

import pytest

from medseg_gui.ml.config import PRESETS, TrainConfig, preset_names
from medseg_gui.ml.progress import TrainProgress


def test_config_and_progress_do_not_import_keras():
    code = ("import sys, medseg_gui.ml, medseg_gui.ml.config, medseg_gui.ml.progress; "
            "bad = [m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_preset_names():
    assert preset_names()[0] == "default"
    assert set(preset_names()) >= {"default", "cvxtz", "fxfviolet"}


def test_reference_presets_match_their_description():
    cv, fx = PRESETS["cvxtz"], PRESETS["fxfviolet"]
    assert cv.unet.filters == (32, 64, 128, 256, 512) and not cv.unet.batchnorm and cv.unet.dropout == 0.1
    assert cv.unet.activation == "relu" and cv.loss == "bce" and cv.optimizer == "adam"
    assert cv.learning_rate == 1e-3 and cv.patch_size == 64 and cv.batch_size == 16 and cv.crops_per_image == 4
    assert cv.augment.affine and cv.augment.flips
    assert fx.unet.filters == (16, 32, 64, 128, 256) and fx.unet.batchnorm and fx.unet.dropout_at == "pool"
    assert fx.unet.kernel_initializer == "he_normal" and fx.unet.upsampling == "transpose"
    assert fx.input_mode == "gray" and fx.unet.in_channels == 1


def test_resolved_overrides_and_rounding():
    p = TrainConfig(preset="default", batch_size=3, patch_size=40, learning_rate=0.01, base_filters=8).resolved()
    assert p.batch_size == 3 and p.learning_rate == 0.01
    assert p.patch_size % p.unet.multiple == 0 and p.patch_size >= 40
    assert p.unet.filters[0] == 8
    assert TrainConfig().resolved() == PRESETS["default"]
    with pytest.raises(KeyError):
        TrainConfig(preset="nope").resolved()


def test_progress_fraction():
    p = TrainProgress(step=5, total_steps=10, epoch=0, loss=0.5, elapsed_s=10, eta_s=30, val_auc=None, message="")
    assert p.fraction == 0.5


def test_late_phase_and_explicit_sizes_turn_it_off():
    p = dataclasses.replace(PRESETS["default"], patch_size=48, batch_size=48, late_patch_size=96, late_batch_size=12)
    late = p.late_phase()
    assert (late.patch_size, late.batch_size, late.late_phase()) == (96, 12, None)
    assert dataclasses.replace(p, late_patch_size=0).late_phase() is None
    PRESETS["_late_test"] = dataclasses.replace(p, name="_late_test")
    try:
        assert TrainConfig(preset="_late_test").resolved().late_phase() is not None
        assert TrainConfig(preset="_late_test", patch_size=32).resolved().late_phase() is None
        assert TrainConfig(preset="_late_test", batch_size=8).resolved().late_phase() is None
    finally:
        PRESETS.pop("_late_test")
