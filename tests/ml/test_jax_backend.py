"""The ml package runs on JAX too (keras / keras.ops only): tiny train + predict + save/load in a subprocess."""

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")]

SCRIPT = textwrap.dedent("""
    import sys, tempfile
    import numpy as np
    import keras
    assert keras.backend.backend() == "jax"
    sys.path.insert(0, sys.argv[1])
    from tests.ml.conftest import blob_sample
    from medseg_gui.ml.config import TrainConfig
    from medseg_gui.ml.train import train
    from medseg_gui.ml.store import save_if_better, load_segmenter
    rng = np.random.default_rng(0)
    samples = [blob_sample(rng) for _ in range(2)]
    cfg = TrainConfig(minutes=None, max_steps=4, steps_per_epoch=2, batch_size=2, patch_size=32, base_filters=4)
    result = train(samples, cfg)
    prob = result.segmenter.predict(blob_sample(rng, 70, 53).image)
    assert prob.shape == (70, 53) and prob.dtype == np.float32 and 0 <= prob.min() <= prob.max() <= 1
    with tempfile.TemporaryDirectory() as d:
        assert save_if_better(d, result).kept_new
        assert load_segmenter(d).predict(np.zeros((40, 40, 3), np.uint8)).shape == (40, 40)
    print("JAX-OK", result.steps)
""")


def test_tiny_train_and_predict_on_jax():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", SCRIPT, root], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "JAX-OK 4" in out.stdout
