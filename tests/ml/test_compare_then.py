"""Keep-unless-better compares a new model with the current one on the validation labels as they were when the
current model was trained: corrective strokes made since mark the current model's own mistakes."""

import dataclasses

import numpy as np
import pytest

from medseg_gui.ml import store
from medseg_gui.ml.samples import Sample
from medseg_gui.ml.validation import views_as_then

from .conftest import tiny_config


def _sample(name: str, annotated: np.ndarray | None, shape=(8, 8)) -> Sample:
    mask = np.zeros(shape, bool)
    mask[2:5, 2:5] = True
    return Sample(np.zeros((*shape, 3), np.uint8), mask, None, annotated, name)


def test_views_as_then_keeps_only_the_pixels_annotated_back_then():
    old = np.zeros((8, 8), bool)
    old[:4] = True
    now = old.copy()
    now[6:] = True  # a corrective stroke since
    samples = [_sample("a", now), _sample("b", None)]
    views = views_as_then(samples, [0], {"a": old})
    assert len(views) == 1 and np.array_equal(views[0].annotated, old) and views[0].name == "a"
    # a pixel annotated back then but erased since is not judged either
    erased, stroke = old.copy(), now.copy()
    erased[0], stroke[0] = False, False
    assert np.array_equal(views_as_then([_sample("a", stroke)], [0], {"a": old})[0].annotated, erased)
    assert views_as_then([_sample("a", erased)], [0], {"a": old}) is None  # only erased since: today's pixels
    # a complete label now, sparse back then: the pixels annotated then
    assert np.array_equal(views_as_then(samples, [1], {"b": old})[0].annotated, old)
    # a complete label back then: today's label as it is, and nothing else restricted -> None (compare as usual)
    assert views_as_then(samples, [1], {"b": None}) is None
    assert views_as_then([_sample("a", old)], [0], {"a": old}) is None  # unchanged annotation
    # an image the current model did not validate on is left out; with none left, compare as usual
    both = views_as_then(samples, [0, 1], {"a": old})
    assert [v.name for v in both] == ["a"]
    assert views_as_then(samples, [1], {"a": old}) is None
    assert views_as_then(samples, [0], None) is None and views_as_then(samples, [0], {}) is None
    assert views_as_then(samples, [0], {"a": np.ones((4, 4), bool)}) is None  # another size: not the same image
    assert views_as_then(samples, [0], {"a": np.zeros((8, 8), bool)}) is None  # nothing annotated then



@pytest.mark.slow
def test_validation_labels_are_stored_with_each_model(trained, tmp_path):
    result, _ = trained
    sparse = np.zeros((64, 64), bool)
    sparse[10:20, 5:50] = True
    labelled = dataclasses.replace(result, val_annotation={"img 1": sparse, "img-2": None})
    decision = store.save_if_better(tmp_path, labelled)
    back = store.validation_labels(tmp_path, decision.model_id)
    assert set(back) == {"img 1", "img-2"} and back["img-2"] is None and np.array_equal(back["img 1"], sparse)
    assert store.validation_labels(tmp_path, "no-such-model") is None
    (tmp_path / f"{decision.model_id}.val.npz").write_bytes(b"damaged")
    assert store.validation_labels(tmp_path, decision.model_id) is None  # read as unknown: compare as usual
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no temp files left behind


@pytest.mark.slow
def test_the_current_model_is_judged_on_the_labels_it_was_made_by(samples, trained, tiny_preset):
    """Sparse labels annotated back then only where the current model is right, complete now (the strokes since mark
    its mistakes): on the labels back then it scores as if flawless; on today's it loses."""
    from medseg_gui.ml.compare import BASIS_THEN
    from medseg_gui.ml.train import train
    from medseg_gui.ml.validation import dice_as_predicted, evaluate_views

    previous = trained[0].segmenter
    named, then = [], {}
    for i, s in enumerate(samples):
        right = (previous.predict(s.image, s.roi) >= 0.5) == s.mask
        assert (~right).any(), "the test needs a current model that errs somewhere"
        named.append(dataclasses.replace(s, name=f"s{i}"))
        then[f"s{i}"] = right
    config = tiny_config(tiny_preset, max_steps=2)
    judged_then = train(named, config, previous=previous, previous_annotation=then)
    judged_now = train(named, config, previous=previous)
    after, before = judged_then.comparison, judged_now.comparison
    assert after.basis == BASIS_THEN and before.basis == "" and after.metric == before.metric
    assert after.current > before.current
    val = [i for i, s in enumerate(named) if s.name in judged_then.val_annotation]
    views = [dataclasses.replace(named[i], annotated=then[named[i].name]) for i in val]
    expected = (dice_as_predicted(previous, views) if after.metric == "Dice"
                else evaluate_views(previous, views).auc)
    assert after.current == pytest.approx(expected, abs=1e-6)
    new = (dice_as_predicted(judged_then.segmenter, views) if after.metric == "Dice"
           else evaluate_views(judged_then.segmenter, views).auc)
    assert after.new == pytest.approx(new, abs=1e-6)  # the new model on the same pixels
    assert all(judged_then.val_annotation[named[i].name] is None for i in val)  # complete labels now
