"""What `medseg models` and the Models dialog say of each model's keep-unless-better comparison."""

import json

from medseg_gui.ml.model_list import list_models


def _decisions(tmp_path, *compared: tuple[bool, float, float]) -> list[str]:
    history = [{"id": f"m{i}", "trained_at": f"2026-12-0{i + 1}T10:00:00+00:00", "kept": kept,
                "compared": {"metric": "AUC", "new": new, "current": old}}
               for i, (kept, new, old) in enumerate(compared)]
    (tmp_path / "history.json").write_text(json.dumps(history))
    return [e.decision.split(", both")[0] for e in list_models(tmp_path)]


def test_two_compared_figures_are_shown_with_the_decimals_that_tell_them_apart(tmp_path):
    """An outside trial read 'kept: AUC 0.987 against the then current model's 0.987' where training had printed
    0.9874 vs 0.9870."""
    assert _decisions(tmp_path, (True, 0.9874, 0.9870), (False, 0.98886, 0.98906), (True, 0.71, 0.7)) == [
        "kept: AUC 0.9874 against the then current model's 0.9870",
        "rejected: AUC 0.9889 against the then current model's 0.9891",
        "kept: AUC 0.710 against the then current model's 0.700"]
