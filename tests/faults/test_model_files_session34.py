"""Damaged or misplaced files of a class's model folder (fault-injection trial, session 34): a damaged warm start is
skipped with a warning and kept; a model whose input does not match its description, an empty current.json or a
model folder that is a file give one clear message (or the usual fallback); a damaged history.json is moved aside,
never replaced."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from medseg_gui.core.errors import ModelError
from medseg_gui.ml import store
from medseg_gui.ml.config import PRESETS, TrainConfig
from medseg_gui.ml.predict import Segmenter
from tests.faults.cli_fakes import CLS, META, FakeResult, make_project, run_cli, tiny_segmenter

keras = pytest.importorskip("keras")

IMAGE = np.random.default_rng(0).integers(0, 255, (20, 24, 3)).astype(np.uint8)


def rgb_segmenter(meta: dict) -> Segmenter:
    """A 1x1 conv over three channels: the input an rgb description implies."""
    model = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(1, 1, activation="sigmoid")])
    return Segmenter(model, meta)


def two_models(folder):
    """(first, second) stored in `folder`, the second current; returns their ids."""
    first = store.save_if_better(folder, FakeResult(tiny_segmenter(-3.0))).model_id
    second = store.save_if_better(folder, FakeResult(tiny_segmenter(2.0), val_auc=0.9, previous_val_auc=0.8)).model_id
    return first, second


# -- 1, 2: the current model's warm start ------------------------------------------------------------------------------
@pytest.fixture
def start_of(tmp_path, tiny_preset):
    """(model to start, preset, path of a stored start that fits it)."""
    from medseg_gui.ml.init import save_start
    from medseg_gui.ml.unet import build_unet

    preset = PRESETS[tiny_preset]
    path = tmp_path / "abc.start.weights.h5"
    save_start(build_unet(preset.unet), preset, path, "the model of today")
    return build_unet(preset.unet), preset, path


def test_a_truncated_start_is_skipped_with_a_warning_and_kept(start_of, caplog):
    from medseg_gui.ml.fine_tune import load_start
    from medseg_gui.ml.init import read_init

    model, preset, path = start_of
    with path.open("r+b") as fh:
        fh.truncate(3000)
    before = [np.array(w) for w in model.get_weights()]
    with caplog.at_level(logging.WARNING):
        started, loaded = load_start(model, preset, TrainConfig(preset=preset.name, init="current"), read_init(path))
    assert not loaded and started.startswith("scratch (not the model of today: its weights file")
    assert str(path) in caplog.text and "could not be read" in caplog.text
    assert path.stat().st_size == 3000  # left where it was, as it was
    assert all(np.array_equal(a, np.array(b)) for a, b in zip(before, model.get_weights()))


@pytest.mark.filterwarnings("ignore:Skipping nested container")  # Keras, while it finds the file does not fit
def test_a_start_of_another_network_is_skipped_and_the_model_keeps_its_own_weights(start_of, caplog):
    import dataclasses

    from medseg_gui.ml.fine_tune import load_start
    from medseg_gui.ml.init import read_init
    from medseg_gui.ml.unet import build_unet

    model, preset, path = start_of
    build_unet(dataclasses.replace(preset.unet, in_channels=3)).save_weights(path)  # its .json still says it fits
    before = [np.array(w) for w in model.get_weights()]
    with caplog.at_level(logging.WARNING):
        started, loaded = load_start(model, preset, TrainConfig(preset=preset.name, init="auto"), read_init(path))
    assert not loaded and started.startswith("scratch") and str(path) in caplog.text
    assert all(np.array_equal(a, np.array(b)) for a, b in zip(before, model.get_weights()))


@pytest.mark.parametrize("text", ['{"unet": 5}', '{"unet": {"filters": [4, 8]}, "inputs": 3}', "[1, 2]", '"x"',
                                  '{"unet": {"no_such_field": 1}, "inputs": {}}'])
def test_a_start_description_of_the_wrong_shape_is_ignored_with_a_warning_naming_it(start_of, caplog, text):
    from medseg_gui.ml.init import read_init

    _, _, path = start_of
    meta = path.with_name("abc.start.json")
    meta.write_text(text)
    with caplog.at_level(logging.WARNING):
        assert read_init(path) is None
    assert str(meta) in caplog.text
    assert meta.read_text() == text and path.is_file()


@pytest.mark.slow
@pytest.mark.parametrize("damaged", ["start.weights.h5", "start.json"])
def test_retrain_goes_on_when_the_current_models_start_is_damaged(trained_project, caplog, damaged):
    from medseg_gui import pipeline
    from tests.workers.helpers import TINY_TRAIN

    model_dir = trained_project.model_dir("lesion")
    path = model_dir / f"{json.loads((model_dir / 'current.json').read_text())['id']}.{damaged}"
    if damaged == "start.json":
        path.write_text('{"unet": 5}')
    else:
        with path.open("r+b") as fh:
            fh.truncate(3000)
    kept = path.read_bytes()
    with caplog.at_level(logging.WARNING):
        outcome = pipeline.train_class(trained_project, "lesion", TINY_TRAIN)
    assert outcome.decision is not None and str(path) in caplog.text
    assert path.read_bytes() == kept


# -- 3: a model whose input does not match its description -------------------------------------------------------------
def test_a_gray_model_whose_description_lacks_its_input_is_a_clear_error(tmp_path):
    store.save_if_better(tmp_path, FakeResult(tiny_segmenter()))
    pointer = json.loads((tmp_path / "current.json").read_text())
    del pointer["in_channels"], pointer["input_mode"]  # an rgb model by default: 3 channels
    (tmp_path / "current.json").write_text(json.dumps(pointer))
    with pytest.raises(ModelError, match="takes 1 channels but its description current.json says its input is "
                                         "rgb"):
        store.load_segmenter(tmp_path)


def test_an_input_mismatch_falls_back_to_the_previous_model(tmp_path):
    first, second = two_models(tmp_path)
    pointer = json.loads((tmp_path / "current.json").read_text())
    pointer["input_mode"] = "rgb"
    del pointer["in_channels"]
    (tmp_path / "current.json").write_text(json.dumps(pointer))
    loaded = store.load_segmenter(tmp_path)
    assert loaded.metadata["id"] == first and "takes 1 channels" in loaded.metadata[store.FALLBACK_KEY]
    assert loaded.predict(IMAGE).shape == IMAGE.shape[:2]
    rgb = {**META, "input_mode": "green"}
    del rgb["in_channels"]
    store.save_if_better(tmp_path / "rgb", FakeResult(rgb_segmenter(rgb)))  # 3 channels, described as green
    with pytest.raises(ModelError, match="takes 3 channels .* green \\(1 channels\\)"):
        store.load_segmenter(tmp_path / "rgb")


def test_a_truncated_model_file_says_it_is_not_a_keras_model(tmp_path):
    store.save_if_better(tmp_path, FakeResult(tiny_segmenter()))
    path = store.current_model_path(tmp_path)
    with path.open("r+b") as fh:
        fh.truncate(200)
    with pytest.raises(ModelError, match="could not be read as a Keras model") as err:
        store.load_segmenter(tmp_path)
    assert path.name in str(err.value) and "File not found" not in str(err.value)


# -- 4: history.json ---------------------------------------------------------------------------------------------------
def test_a_damaged_history_is_moved_aside_by_the_next_save_and_only_read_before(tmp_path, caplog):
    first, second = two_models(tmp_path)
    history = tmp_path / "history.json"
    damaged = history.read_bytes()[:200]
    history.write_bytes(damaged)
    with caplog.at_level(logging.WARNING):
        listed = store.list_models(tmp_path)  # reading: warns, starts nothing, changes nothing
    assert {e.id for e in listed} == {first, second}  # from the stored <id>.json files
    assert "history.json" in caplog.text and "new one" not in caplog.text
    assert history.read_bytes() == damaged
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        third = store.save_if_better(tmp_path, FakeResult(tiny_segmenter(1.0), val_auc=0.95, previous_val_auc=0.9))
    aside = tmp_path / ".unreadable" / "history.json"
    assert aside.read_bytes() == damaged and str(aside) in caplog.text
    assert [e["id"] for e in json.loads(history.read_text())] == [third.model_id]
    history.write_text('{"not": "a list"}')  # readable JSON that is no history is not replaced either
    store.rollback(tmp_path, first)
    assert (tmp_path / ".unreadable" / "history_2.json").read_text() == '{"not": "a list"}'
    assert json.loads(history.read_text())[0]["rollback_to"] == first


# -- 5: current.json is {} ---------------------------------------------------------------------------------------------
def test_an_empty_current_json_falls_back_to_the_stored_models(tmp_path):
    first, second = two_models(tmp_path)
    (tmp_path / "current.json").write_text("{}")
    loaded = store.load_segmenter(tmp_path)
    assert loaded.metadata["id"] == second
    assert "current.json" in loaded.metadata[store.FALLBACK_KEY]
    assert "current.keras" not in loaded.metadata[store.FALLBACK_KEY]


def test_an_empty_current_json_alone_is_an_error_naming_it(tmp_path):
    store.save_if_better(tmp_path, FakeResult(tiny_segmenter()))
    (tmp_path / "history.json").unlink()
    (tmp_path / "current.json").write_text("{}")
    with pytest.raises(ModelError, match="current.json .* names no model"):
        store.load_segmenter(tmp_path)


# -- 6: the model folder is a file -------------------------------------------------------------------------------------
def test_a_model_folder_that_is_a_file_is_one_clear_error(tmp_path, capsys):
    project = make_project(tmp_path / "p")
    folder = project.model_dir(CLS)
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("not a folder")
    for command in ("predict", "models"):
        rc, out, err = run_cli(capsys, command, project.root, "--class", CLS)
        assert rc != 0 and "No trained models" not in out
        assert len(err) == 1 and err[0].startswith("medseg: error:") and "is a file" in err[0], err
        assert str(folder) in err[0]
    with pytest.raises(ModelError, match="is a file"):
        store.has_model(folder)
    assert folder.read_text() == "not a folder"
