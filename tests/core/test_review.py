"""The review state of the open image (core.review): one owner, observed through plain-callback events."""

import numpy as np
import pytest

from medseg_gui.core.review import Event, ReviewState
from medseg_gui.core.uncertainty import uncertainty_u8


def _recorder(state: ReviewState) -> list[tuple]:
    seen: list[tuple] = []
    for name in ("image", "threshold", "prediction", "label", "annotated"):
        getattr(state.events, name).connect(lambda *args, name=name: seen.append((name, *args)))
    return seen


def test_event_calls_each_callback_once_in_order_and_disconnects():
    event, calls = Event("x"), []
    first = event.connect(lambda v: calls.append(("a", v)))
    second = lambda v: calls.append(("b", v))  # noqa: E731
    event.connect(second)
    event.connect(second)  # connected twice: still called once
    event.emit(1)
    event.disconnect(first)
    event.emit(2)
    assert calls == [("a", 1), ("b", 1), ("b", 2)]


def test_unknown_event_name_is_an_error():
    with pytest.raises(AttributeError, match="no event 'painted'"):
        ReviewState().events.painted.connect(print)


def test_threshold_event_only_on_a_change():
    state = ReviewState(0.5)
    seen = _recorder(state)
    state.set_threshold(0.5)
    state.set_threshold(0.3)
    state.set_threshold(0.3)
    assert seen == [("threshold", 0.3)] and state.threshold == 0.3


def test_open_drops_predictions_and_labels_but_keeps_the_threshold():
    state = ReviewState(0.4)
    state.set_prediction("lesion", np.zeros((4, 4), np.float32))
    state.set_labelled("lesion", True)
    seen = _recorder(state)
    state.open("b")
    assert seen == [("image", "b")]
    assert state.stem == "b" and state.probs == {} and state.labelled == set() and state.threshold == 0.4


def test_prediction_set_and_removed():
    state, prob = ReviewState(), np.full((3, 3), 0.7, np.float32)
    seen = _recorder(state)
    state.set_prediction("vessel", prob)
    assert state.probs["vessel"] is prob  # kept, not copied
    state.set_prediction("vessel", None)
    assert "vessel" not in state.probs and seen == [("prediction", "vessel"), ("prediction", "vessel")]


def test_labelled_changes_silently_until_the_edit_is_published():
    state = ReviewState()
    state.open("img1")
    seen = _recorder(state)
    state.set_labelled("lesion", True)  # mid-stroke: nobody is told yet
    assert seen == [] and state.labelled == {"lesion"}
    state.label_edited("lesion", 0.25)
    state.set_labelled("lesion", False)
    state.label_edited("lesion", None)
    assert seen == [("label", "lesion", "img1", True), ("annotated", "lesion", "img1", 0.25),
                    ("label", "lesion", "img1", False), ("annotated", "lesion", "img1", None)]
    assert state.shares == {"lesion": None}


def test_uncertainty_follows_the_map_and_the_threshold():
    state = ReviewState(0.5)
    assert state.uncertainty("lesion") is None
    prob = np.linspace(0, 1, 16, dtype=np.float32).reshape(4, 4)
    state.set_prediction("lesion", prob)
    first = state.uncertainty("lesion")
    np.testing.assert_array_equal(first, uncertainty_u8(prob, 0.5))
    assert state.uncertainty("lesion") is first  # kept while nothing changed
    state.set_threshold(0.2)
    np.testing.assert_array_equal(state.uncertainty("lesion"), uncertainty_u8(prob, 0.2))
    assert not np.array_equal(state.uncertainty("lesion"), first)
