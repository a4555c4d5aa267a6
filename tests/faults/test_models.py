"""Model store faults: file modes, one-step promotion under crashes, fallback to previous, metadata validation,
older folders still loading. Tiny 1x1-conv models stand in for trained U-Nets (no training needed)."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest

from medseg_gui.core.errors import ModelError
from medseg_gui.ml import store
from medseg_gui.ml.predict import Segmenter
from tests.faults.cli_fakes import FakeResult as Result

keras = pytest.importorskip("keras")

META = {"preset": "test", "input_mode": "green", "contrast": "none", "normalise_in_roi": False, "tile_size": 64,
        "tile_overlap": 16, "multiple": 1, "in_channels": 1, "filters": [1]}
IMAGE = np.random.default_rng(0).integers(0, 255, (20, 24, 3)).astype(np.uint8)




def segmenter(bias: float) -> Segmenter:
    """A 1x1 conv whose output is sigmoid(x + bias): different biases give different, checkable predictions."""
    model = keras.Sequential([keras.Input((None, None, 1)), keras.layers.Conv2D(1, 1, activation="sigmoid")])
    model.layers[-1].set_weights([np.ones((1, 1, 1, 1), np.float32), np.full((1,), bias, np.float32)])
    return Segmenter(model, META)


def prediction(model_dir) -> np.ndarray:
    return store.load_segmenter(model_dir).predict(IMAGE)


@pytest.fixture(scope="module")
def old_new():
    return segmenter(-3.0), segmenter(2.0)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_model_files_follow_the_umask_not_0600(tmp_path, old_new):
    store.save_if_better(tmp_path, Result(old_new[0]))
    mask = os.umask(0o022)
    os.umask(mask)
    for path in tmp_path.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask, path.name


def test_promotion_is_one_replace_of_current_json(tmp_path, old_new, monkeypatch):
    store.save_if_better(tmp_path, Result(old_new[0]))
    targets = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: targets.append(os.path.basename(b)) or real_replace(a, b))
    decision = store.save_if_better(tmp_path, Result(old_new[1], val_auc=0.9, previous_val_auc=0.8))
    assert decision.kept_new
    model_id = decision.model_id
    assert targets[:3] == [f"{model_id}.keras", f"{model_id}.json", "current.json"]  # then history.json
    assert [t for t in targets if t.startswith("current")] == ["current.json"]
    assert decision.current == json.loads((tmp_path / "current.json").read_text())  # handed over, not read back
    assert decision.current["id"] == model_id and decision.current["val_auc"] == 0.9
    worse = store.save_if_better(tmp_path, Result(old_new[0], val_auc=0.1, previous_val_auc=0.9))
    assert not worse.kept_new and worse.current is None  # the current model did not change


class Crash(BaseException):
    """Stands for a kill at one moment of the save (BaseException, like KeyboardInterrupt)."""


@pytest.mark.parametrize("crash_at", range(5))
def test_a_crash_at_any_rename_leaves_the_old_or_the_new_model(tmp_path, old_new, monkeypatch, crash_at):
    old, new = old_new
    store.save_if_better(tmp_path, Result(old))
    expected_old, expected_new = old.predict(IMAGE), new.predict(IMAGE)
    calls = []
    real_replace = os.replace

    def crashing_replace(a, b):
        calls.append(b)
        if len(calls) - 1 == crash_at:
            raise Crash
        real_replace(a, b)

    monkeypatch.setattr(os, "replace", crashing_replace)
    try:
        store.save_if_better(tmp_path, Result(new, val_auc=0.9, previous_val_auc=0.8))
    except Crash:
        pass
    monkeypatch.undo()
    got = prediction(tmp_path)
    assert np.allclose(got, expected_old, atol=1e-5) or np.allclose(got, expected_new, atol=1e-5)
    assert len(calls) > crash_at or crash_at == 4  # the test did crash where it meant to (4: after history.json)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_missing_or_damaged_current_falls_back_to_previous(tmp_path, old_new):
    old, new = old_new
    store.save_if_better(tmp_path, Result(old))
    store.save_if_better(tmp_path, Result(new, val_auc=0.9, previous_val_auc=0.8))
    current = store.current_model_path(tmp_path)
    assert np.allclose(prediction(tmp_path), new.predict(IMAGE), atol=1e-5)

    current.write_bytes(b"PK\x03\x04 half a zip")
    loaded = store.load_segmenter(tmp_path)
    assert np.allclose(loaded.predict(IMAGE), old.predict(IMAGE), atol=1e-5)
    assert "damaged" in loaded.metadata[store.FALLBACK_KEY]

    current.unlink()
    loaded = store.load_segmenter(tmp_path)
    assert np.allclose(loaded.predict(IMAGE), old.predict(IMAGE), atol=1e-5)
    assert "missing" in loaded.metadata[store.FALLBACK_KEY]


def test_only_model_missing_is_a_clear_error(tmp_path, old_new):
    store.save_if_better(tmp_path, Result(old_new[0]))
    store.current_model_path(tmp_path).unlink()
    with pytest.raises(ModelError, match="missing"):
        store.load_segmenter(tmp_path)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("tile_size", 0, "'tile_size' must be a whole number"),
    ("tile_size", "256", "'tile_size' must be a whole number"),
    ("multiple", 0, "'multiple'"),
    ("tile_overlap", 64, "smaller than 'tile_size'"),
    ("input_mode", "xray", "'input_mode' must be one of"),
    ("normalise_in_roi", "yes", "true or false"),
    ("contrast", None, "'contrast' must be one of"),
    ("preset", 5, "'preset' must be text"),
    ("val_auc", 7, "'val_auc'"),
    ("scale", 0, "'scale' must be a number above 0"),
    ("scale", 2.5, "'scale'"),
    ("threshold", 1.5, "'threshold'"),
    ("postprocess", {"min_area": 2}, "'postprocess' is invalid"),
    ("tta", True, "'tta' must be a whole number"),
    ("scales", [1.0, "big"], "'scales' must be a list"),
    ("scales", 1.25, "'scales' must be a list"),
    ("in_channels", 3, "takes 1 channels but its description says 3"),
])
def test_invalid_metadata_is_a_model_error_naming_the_file(tmp_path, old_new, key, value, message):
    store.save_if_better(tmp_path, Result(old_new[0]))
    pointer = json.loads((tmp_path / "current.json").read_text())
    pointer[key] = value
    (tmp_path / "current.json").write_text(json.dumps(pointer))
    with pytest.raises(ModelError, match=message) as err:
        store.load_segmenter(tmp_path)
    assert "current.json" in str(err.value) or "channels" in str(err.value)


def test_pointer_cannot_name_a_file_outside_the_folder(tmp_path, old_new):
    inner = tmp_path / "models"
    store.save_if_better(inner, Result(old_new[0]))
    pointer = json.loads((inner / "current.json").read_text())
    (tmp_path / "evil.keras").write_bytes((inner / pointer["model"]).read_bytes())
    pointer["id"] = "../evil"
    (inner / "current.json").write_text(json.dumps(pointer))
    with pytest.raises(ModelError, match="no valid model id"):
        store.load_segmenter(inner)


def test_folder_of_an_older_version_loads_and_migrates(tmp_path, old_new):
    old, new = old_new
    old.model.save(tmp_path / "current.keras")
    (tmp_path / "current.json").write_text(json.dumps({**META, "val_auc": 0.8}))
    assert store.has_model(tmp_path)
    assert np.allclose(prediction(tmp_path), old.predict(IMAGE), atol=1e-5)

    decision = store.save_if_better(tmp_path, Result(new, val_auc=0.9, previous_val_auc=0.8))
    assert decision.kept_new and not (tmp_path / "current.keras").exists()
    pointer = json.loads((tmp_path / "current.json").read_text())
    assert pointer["id"] == decision.model_id and pointer["previous"]
    assert np.allclose(prediction(tmp_path), new.predict(IMAGE), atol=1e-5)
    store.current_model_path(tmp_path).unlink()
    assert np.allclose(prediction(tmp_path), old.predict(IMAGE), atol=1e-5)  # the migrated old one is `previous`


def test_rejected_models_are_stored_but_not_current_and_old_ones_are_pruned(tmp_path, old_new):
    old, new = old_new
    first = store.save_if_better(tmp_path, Result(old, val_auc=0.9))
    rejected = store.save_if_better(tmp_path, Result(new, val_auc=0.5, previous_val_auc=0.9))
    assert not rejected.kept_new and (tmp_path / f"{rejected.model_id}.keras").is_file()
    assert json.loads((tmp_path / "current.json").read_text())["id"] == first.model_id
    for _ in range(store.KEEP_MODELS + 2):
        store.save_if_better(tmp_path, Result(new, val_auc=0.5, previous_val_auc=0.9))
    kept = {p.stem for p in tmp_path.glob("*.keras")}
    assert first.model_id in kept and len(kept) == store.KEEP_MODELS + 1
    assert np.allclose(prediction(tmp_path), old.predict(IMAGE), atol=1e-5)
    history = json.loads((tmp_path / "history.json").read_text())
    assert [h["kept"] for h in history] == [True] + [False] * (store.KEEP_MODELS + 3)


def test_loading_sweeps_a_dead_writers_candidate(tmp_path, old_new):
    import subprocess
    import sys

    from medseg_gui.core.atomic import _host_tag

    store.save_if_better(tmp_path, Result(old_new[0]))
    pid = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                             text=True).stdout)
    stray = tmp_path / f".candidate.medseg-{_host_tag()}-{pid}-abcd1234.keras"
    stray.write_bytes(b"half")
    store.load_segmenter(tmp_path)
    assert not stray.exists()


def test_keras_floor_excludes_releases_with_safe_mode_bypasses():
    """pyproject asks for keras >= 3.14 (older releases have published safe_mode bypasses) and the installed one
    satisfies it."""
    import tomllib
    from pathlib import Path

    from packaging.requirements import Requirement
    from packaging.version import Version

    deps = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]["dependencies"]
    (req,) = [Requirement(d) for d in deps if Requirement(d).name == "keras"]
    assert not req.specifier.contains("3.13.2") and req.specifier.contains("3.14.0")
    assert req.specifier.contains(Version(keras.__version__))
