"""Labels saved after their scores (as the window closed, or by another program while it was closed) are re-scored
from their saved maps when the project is opened, and only those (an outside trial's polygon saved at quit showed
'✓ · new' with blank scores after a restart)."""

import os

import pytest

from medseg_gui import pipeline
from medseg_gui.qt.panels.image_columns import DICE_COL, EDITED_TIP
from tests.workers.helpers import disc, open_window


def _label_after_scores(project, stem):
    """A lesion label of `stem` written a second after metrics.json (as the window closed, or by another program)."""
    project.save_label("lesion", stem, disc(cx=40))
    later = project.metrics_path("lesion").stat().st_mtime_ns + 1_000_000_000
    os.utime(project.label_path("lesion", stem), ns=(later, later))


def _dice_cell(window, stem):
    panel = window.image_list
    return panel.table.item(panel.stems().index(stem), DICE_COL)


def _wait_scored(qtbot, window, stem):
    """Until `stem`'s Dice is shown and no longer greyed as being recomputed."""
    qtbot.waitUntil(lambda: _dice_cell(window, stem).text() != "" and EDITED_TIP not in
                    _dice_cell(window, stem).toolTip(), timeout=20_000)


def test_a_label_newer_than_its_scores_is_re_scored_on_open_and_the_others_are_not(trained_project, qtbot,
                                                                                    messages, monkeypatch):
    project = trained_project
    new = project.stems[3]  # unlabelled until now, predicted
    _label_after_scores(project, new)
    scored, rethreshold = [], pipeline.rethreshold_class

    def spy(*args, **kwargs):
        result = rethreshold(*args, **kwargs)
        scored.append(set(result))
        return result

    monkeypatch.setattr(pipeline, "rethreshold_class", spy)
    window = open_window(qtbot, project)
    _wait_scored(qtbot, window, new)
    expected = rethreshold(project, "lesion", window.session.threshold, only=[new])[new]
    assert float(_dice_cell(window, new).text()) == pytest.approx(expected["dice"], abs=5e-3)
    assert project.load_metrics("lesion")[new]["dice"] == pytest.approx(expected["dice"])
    assert scored == [{new}]  # the other labelled images' scores held: not re-scored


def test_a_label_another_program_wrote_is_re_scored_when_its_class_is_switched_to(trained_project, qtbot, messages):
    project = trained_project
    project.add_class("cervix", (0, 200, 0))
    window = open_window(qtbot, project)
    assert window.current_class() == "lesion"
    window.tools.select_class("cervix")
    new = project.stems[3]
    _label_after_scores(project, new)
    window.tools.select_class("lesion")
    _wait_scored(qtbot, window, new)


def test_a_label_written_while_the_open_time_check_runs_is_checked_once_that_one_ends(trained_project, qtbot,
                                                                                      messages, monkeypatch):
    """The class switched back to while the open-time check was still running (CI under load): the second check was
    dropped as a duplicate, and the label another program wrote after the first had read the file times stayed
    unscored."""
    import threading

    from medseg_gui.qt import threshold_metrics

    project = trained_project
    project.add_class("cervix", (0, 200, 0))
    real, release, calls = threshold_metrics.unscored_labels, threading.Event(), []

    def slow_first(*args):
        found = real(*args)  # read before the label below is written
        calls.append(found)
        if len(calls) == 1:
            release.wait(20)
        return found

    monkeypatch.setattr(threshold_metrics, "unscored_labels", slow_first)
    window = open_window(qtbot, project)
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=10_000)
    window.tools.select_class("cervix")
    new = project.stems[3]
    _label_after_scores(project, new)
    window.tools.select_class("lesion")
    release.set()
    _wait_scored(qtbot, window, new)
    assert calls[0] == [] and new in calls[-1]
