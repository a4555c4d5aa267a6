"""Warm start: a stored model keeps its training-form weights, and the next run starts from them."""

import numpy as np
import pytest

from medseg_gui.ml import store
from medseg_gui.ml.init import fits

from .conftest import tiny_config

pytestmark = pytest.mark.slow


def test_retrain_starts_from_the_current_model(samples, tiny_preset, tmp_path):
    from medseg_gui.ml.train import train

    first = train(samples, tiny_config(tiny_preset, max_steps=6))
    assert store.current_start(tmp_path) is None
    decision = store.save_if_better(tmp_path, first)
    assert decision.kept_new
    init = store.current_start(tmp_path)
    assert init is not None and fits(init, first.preset) == "" and init.source.startswith("the model of")
    kernels = [i for i, w in enumerate(first.model.get_weights()) if np.ndim(w) == 4]
    again = train(samples, tiny_config(tiny_preset, max_steps=1, learning_rate=1e-12), init=init)
    assert again.segmenter.metadata["init"] == init.source
    for i in kernels:
        np.testing.assert_allclose(np.array(again.model.get_weights()[i]), np.array(first.model.get_weights()[i]),
                                   atol=1e-6)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no temp files left behind
