"""Model history: every stored model is listed; rolling back makes an earlier model current again, so its
predictions come back byte-for-byte; a missing or damaged model is refused without touching the folder."""

import json

import numpy as np
import pytest

from medseg_gui.core.errors import ModelError
from medseg_gui.ml.store import KEEP_MODELS, list_models, load_segmenter, rollback, save_if_better
from tests.ml.conftest import tiny_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_models(samples, tiny_preset, tmp_path_factory):
    """A model folder with two kept models of the tiny preset (different seeds), the second current."""
    from medseg_gui.ml.train import train

    folder = tmp_path_factory.mktemp("models")
    results = [train(samples, tiny_config(tiny_preset, max_steps=4, seed=seed)) for seed in (0, 1)]
    first, second = (save_if_better(folder, r) for r in results)
    assert first.kept_new and second.kept_new
    return folder, first.model_id, second.model_id, results


def _image() -> np.ndarray:
    return np.random.default_rng(3).integers(0, 255, (48, 40, 3)).astype(np.uint8)


def test_list_models_names_every_model_and_marks_the_current_one(two_models):
    folder, first, second, _ = two_models
    entries = list_models(folder)
    assert [e.id for e in entries] == [first, second]
    assert [e.current for e in entries] == [False, True]
    assert all(e.kept and e.present and e.preset == "tiny-test" for e in entries)
    assert all(e.train_images is not None and e.train_images + (e.val_images or 0) == 3 for e in entries)
    assert list_models(folder / "nothing-here") == []


def test_rollback_restores_the_earlier_models_predictions_byte_for_byte(two_models, tmp_path):
    folder, first, second, _ = two_models
    image = _image()
    now = load_segmenter(folder).predict(image)
    assert load_segmenter(folder).metadata["id"] == second
    rollback(folder, first)
    assert json.loads((folder / "current.json").read_text())["previous"] == second
    back = load_segmenter(folder)
    assert back.metadata["id"] == first
    earlier = back.predict(image)
    assert not np.array_equal(earlier, now)  # the two models really differ, so the check below can fail
    rollback(folder, second)
    assert np.array_equal(load_segmenter(folder).predict(image), now)
    rollback(folder, first)
    assert np.array_equal(load_segmenter(folder).predict(image), earlier)
    assert np.array_equal(earlier.view(np.uint32), back.predict(image).view(np.uint32))
    history = json.loads((folder / "history.json").read_text())
    assert [h.get("rollback_to") for h in history if "rollback_to" in h] == [first, second, first]
    assert [e.id for e in list_models(folder)] == [first, second]  # rollbacks are not models
    assert [e.current for e in list_models(folder)] == [True, False]


def test_rollback_to_a_missing_or_damaged_model_is_refused_and_changes_nothing(two_models):
    folder, first, second, _ = two_models
    pointer = (folder / "current.json").read_bytes()
    with pytest.raises(ModelError, match="not stored"):
        rollback(folder, "20990101-000000-abcdef")
    with pytest.raises(ModelError, match="not a model id"):
        rollback(folder, "../current")
    damaged = folder / "20990101-000000-bad000.keras"
    damaged.write_bytes(b"not a zip file")
    (folder / "20990101-000000-bad000.json").write_text(json.dumps({"preset": "tiny-test"}))
    try:
        with pytest.raises(ModelError):
            rollback(folder, "20990101-000000-bad000")
        assert (folder / "current.json").read_bytes() == pointer
    finally:
        damaged.unlink()
        (folder / "20990101-000000-bad000.json").unlink()


def test_pruning_never_removes_a_rolled_back_current_model_or_the_one_it_replaced(two_models, tmp_path):
    import dataclasses

    _, _, _, (r1, r2) = two_models
    old, replaced = save_if_better(tmp_path, r1).model_id, save_if_better(tmp_path, r2).model_id
    rollback(tmp_path, old)
    worse = dataclasses.replace(r2, val_auc=0.1, previous_val_auc=0.9, comparison=None)
    rejected = [save_if_better(tmp_path, worse) for _ in range(KEEP_MODELS + 1)]
    assert not any(d.kept_new for d in rejected)
    stored = {p.stem for p in tmp_path.glob("*.keras")}
    assert {old, replaced} <= stored and rejected[0].model_id not in stored  # the oldest rejected one was pruned
    entries = {e.id: e for e in list_models(tmp_path)}
    assert entries[old].current and entries[old].present and not entries[rejected[0].model_id].present
    # what keep-unless-better compared, both on the same images (a trial read the own-run scores as the gain)
    # (an outside trial looked for the 0.900 in the table, where the model then current shows its own run's figure)
    assert entries[rejected[-1].model_id].decision == ("rejected: AUC 0.100 against the then current model's 0.900, "
                                                       "both on this run's validation images")
    assert entries[old].decision == "kept"  # a first model was compared with nothing
    assert [d.model_id in stored for d in rejected] == [False] + [True] * KEEP_MODELS


def test_rollback_in_a_folder_that_cannot_be_written_says_so_in_one_line(two_models, monkeypatch):
    """A fault-injection trial's read-only model folder: the Models dialog showed 'Unexpected error (OSError: …
    .current.json.medseg-vm-….tmp)'. A WriteError names current.json and the reason; nothing changes."""
    import errno
    import os

    from medseg_gui.core.errors import WriteError

    folder, first, second, _ = two_models
    pointer = (folder / "current.json").read_bytes()
    current = json.loads(pointer)["id"]
    other = second if current == first else first

    def refuse(*_a, **_k):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(folder / ".current.json.medseg-x.tmp"))

    monkeypatch.setattr("medseg_gui.ml.store.rewrite_json", refuse)
    with pytest.raises(WriteError) as err:
        rollback(folder, other)
    assert str(err.value) == (f"Model {other} could not be made current ({folder / 'current.json'}): "
                              "Read-only file system")
    assert (folder / "current.json").read_bytes() == pointer
