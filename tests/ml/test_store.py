import dataclasses
import json

import numpy as np
import pytest

from medseg_gui.core.errors import ModelError
from medseg_gui.ml.store import FALLBACK_KEY, current_model_path, has_model, load_segmenter, save_if_better

pytestmark = pytest.mark.slow


def test_save_load_roundtrip_and_keep_unless_better(trained, tmp_path):
    result, _ = trained
    img = np.random.default_rng(0).integers(0, 255, (40, 36, 3)).astype(np.uint8)
    assert not has_model(tmp_path)
    with pytest.raises(ModelError):
        load_segmenter(tmp_path)

    first = save_if_better(tmp_path, result)
    assert first.kept_new and has_model(tmp_path)
    loaded = load_segmenter(tmp_path)
    assert np.allclose(loaded.predict(img), result.segmenter.predict(img), atol=1e-5)
    assert loaded.metadata["preset"] == "default"
    assert not list(tmp_path.glob(".candidate-*"))

    worse = dataclasses.replace(result, val_auc=0.5, previous_val_auc=0.9, comparison=None)  # AUC
    decision = save_if_better(tmp_path, worse)
    assert not decision.kept_new and "kept" in decision.reason
    pointer = json.loads((tmp_path / "current.json").read_text())
    assert pointer["val_auc"] == pytest.approx(result.val_auc) and pointer["id"] == first.model_id
    assert pointer["previous"] is None
    assert (tmp_path / f"{decision.model_id}.keras").is_file()  # the rejected model is kept for inspection

    better = dataclasses.replace(result, val_auc=0.95, previous_val_auc=0.9, comparison=None)
    third = save_if_better(tmp_path, better)
    assert third.kept_new
    pointer = json.loads((tmp_path / "current.json").read_text())
    assert pointer["val_auc"] == 0.95 and pointer["id"] == third.model_id and pointer["previous"] == first.model_id
    assert current_model_path(tmp_path) == tmp_path / f"{third.model_id}.keras"
    history = json.loads((tmp_path / "history.json").read_text())
    assert [h["kept"] for h in history] == [True, False, True]


def test_lesion_models_are_compared_on_validation_dice(trained, tmp_path):
    from medseg_gui.ml.compare import Comparison
    from medseg_gui.ml.progress import AS_PREDICTED

    result, _ = trained
    assert save_if_better(tmp_path, result).kept_new
    auc_up_dice_down = dataclasses.replace(result, val_auc=0.95, previous_val_auc=0.9,
                                           comparison=Comparison("Dice", 0.6, 0.655))
    decision = save_if_better(tmp_path, auc_up_dice_down)
    assert not decision.kept_new and decision.metric == "Dice" and "validation Dice 0.6000" in decision.reason
    assert decision.reason.endswith(AS_PREDICTED)  # not the Dice its progress showed (trial: 0.436, then 0.225)
    assert (decision.new_score, decision.old_score, decision.new_auc) == (0.6, 0.655, 0.95)
    dice_up_auc_down = dataclasses.replace(result, val_auc=0.85, previous_val_auc=0.9,
                                           comparison=Comparison("Dice", 0.7, 0.655))
    kept = save_if_better(tmp_path, dice_up_auc_down)
    assert kept.kept_new and kept.current["compared"] == {"metric": "Dice", "new": 0.7, "current": 0.655}
    assert AS_PREDICTED in kept.reason


def test_a_new_model_within_the_tie_margin_leaves_the_current_one(trained, tmp_path):
    """An outside trial's 1-minute run from the current model trained one step and replaced it on Dice 0.9303
    against 0.9295: within TIE_MARGIN the two are tied and the current one stays; better by more, the new one wins."""
    from medseg_gui.ml.compare import Comparison
    from medseg_gui.ml.store import TIE_MARGIN

    result, _ = trained
    first = save_if_better(tmp_path, result)

    def decide(metric, new, old):
        return save_if_better(tmp_path, dataclasses.replace(result, comparison=Comparison(metric, new, old)))

    assert TIE_MARGIN == {"Dice": 0.002, "AUC": 0.0005}
    for metric, new, old in (("Dice", 0.9303, 0.9295), ("Dice", 0.9295, 0.9295), ("AUC", 0.9804, 0.98)):
        tie = decide(metric, new, old)
        assert not tie.kept_new and f"is not better than the current one ({old:.4f}) by more than" in tie.reason
    assert json.loads((tmp_path / "current.json").read_text())["id"] == first.model_id
    assert "by more than" not in decide("Dice", 0.92, 0.9295).reason  # worse: plainly not better
    assert decide("Dice", 0.9316, 0.9295).kept_new and decide("AUC", 0.9806, 0.98).kept_new


def test_cancelled_result_leaves_the_folder_untouched(trained, tmp_path):
    result, _ = trained
    save_if_better(tmp_path, result)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    decision = save_if_better(tmp_path, dataclasses.replace(result, cancelled=True, val_auc=0.99))
    assert not decision.kept_new and "cancelled" in decision.reason
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_corrupt_model_or_metadata_raises_model_error(trained, tmp_path):
    result, _ = trained
    save_if_better(tmp_path, result)
    current_model_path(tmp_path).write_bytes(b"not a zip file")
    with pytest.raises(ModelError, match="damaged"):
        load_segmenter(tmp_path)
    save_if_better(tmp_path / "b", result)
    (tmp_path / "b" / "current.json").write_text("{broken")
    assert load_segmenter(tmp_path / "b").metadata[FALLBACK_KEY]  # the newest kept model from history.json
    (tmp_path / "b" / "history.json").unlink()
    with pytest.raises(ModelError, match="damaged"):
        load_segmenter(tmp_path / "b")


def test_a_model_averaged_with_its_start_says_so():
    """The trained weights validated at 0.592 in an outside trial; the model kept, a blend with the start, validated
    lower (0.5188): the decision says what the model is, both figures, and why it is kept (it said "such averages
    scored better on held-out photos than the trained weights alone", untrue of that run). The trained weights' figure
    is at the threshold the model predicts at, not the progress's (a later trial: progress 0.436, this figure 0.289,
    and the tooltip called it "the figure the training progress showed")."""
    from medseg_gui.ml.store import mix_text

    trial = {"weight_mix": 0.25, "val_dice": 0.5188, "weight_mix_trained": 0.5917}
    assert mix_text(trial) == ("The kept model is a blend of 25% the trained weights and 75% the weights the run "
                               "started from: validation Dice 0.5188, against 0.5917 for the trained weights alone, "
                               "each at the threshold it predicts at. It is kept because such blends did "
                               "better on held-out photos in our benchmarks (docs/BENCHMARKS.md).")
    assert mix_text({"weight_mix": 0.25}) == ("The kept model is a blend of 25% the trained weights and 75% the "
                                              "weights the run started from. It is kept because such blends did "
                                              "better on held-out photos in our benchmarks (docs/BENCHMARKS.md).")
    assert mix_text({}) == "" and mix_text({"weight_mix": 0.25, "start_kept": {"metric": "Dice"}}) == ""


def test_a_kept_start_says_which_dice_chose_it():
    """A returning-user trial read 'validation Dice 0.3258 against 0.2907' beside the model's val Dice 0.156 (as it
    predicts, at 0.5): the choice compares each one's best-threshold Dice."""
    from medseg_gui.ml.store import _start_text

    assert _start_text({"start_kept": {"metric": "Dice", "start": 0.3258, "trained": 0.2907}}).endswith(
        "(validation Dice 0.3258 against 0.2907, each at its best threshold).")
    assert _start_text({"start_kept": {"metric": "AUC", "start": 0.9, "trained": 0.8}}).endswith(
        "(validation AUC 0.9000 against 0.8000).")
    assert _start_text({"start_kept": {"metric": "Dice", "start": 0.7867, "trained": 0.7571}, "val_dice": 0.8012}
                       ).endswith("(validation Dice 0.7867 against 0.7571, each at its best threshold; as it predicts "
                                  "(its threshold, flips and clean-up) it validates at 0.8012).")  # trial: 0.801 above
