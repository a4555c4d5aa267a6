"""The one rule for a model's working scale (ml.metadata.valid_scale), used by the stored model check and by the
starting weights' description (ml.init.read_init) alike. No Keras."""

from __future__ import annotations

import json
import math

import pytest

from medseg_gui.core.errors import ModelError
from medseg_gui.ml.config import PRESETS
from medseg_gui.ml.init import describe, read_init
from medseg_gui.ml.metadata import valid_scale, validate_metadata


@pytest.mark.parametrize("value, expected", [(0.25, 0.25), (1, 1.0), (0, None), (1.5, None), (-0.1, None),
                                             (True, None), ("0.5", None), (None, None), (math.nan, None),
                                             (math.inf, None)])
def test_a_scale_is_a_number_above_0_and_at_most_1_everywhere(tmp_path, value, expected):
    assert valid_scale(value) == expected
    if value is not None:  # a stored model with that scale is refused exactly when the rule says no
        if expected is None:
            with pytest.raises(ModelError, match="'scale'"):
                validate_metadata({"scale": value}, "x.json")
        else:
            assert validate_metadata({"scale": value}, "x.json")["scale"] == value
    weights = tmp_path / "start.weights.h5"
    weights.write_bytes(b"stand-in")
    info = describe(PRESETS["default"], "test") | {"scale": value}
    (tmp_path / "start.json").write_text(json.dumps(info, allow_nan=True))
    init = read_init(weights)
    assert init is not None and init.scale == expected


@pytest.mark.parametrize("sides, ok", [([118.0, 256.0], True), ([64, 64], True), ([256.0, 118.0], False),
                                       ([0, 10], False), ([10], False), ("10,20", False), ([True, 20], False),
                                       ([10, math.nan], False)])
def test_working_sides_are_two_sizes_the_shorter_first(sides, ok):
    if ok:
        assert validate_metadata({"working_sides": sides}, "x.json")["working_sides"] == sides
    else:
        with pytest.raises(ModelError, match="'working_sides'"):
            validate_metadata({"working_sides": sides}, "x.json")
