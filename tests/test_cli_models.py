"""`medseg models`: the table of a class's models, and `--use` rolling back to an earlier one whose predictions then
come back byte-for-byte (`--predict`)."""

import numpy as np
import pytest

from medseg_gui import cli
from medseg_gui.core.project import Project
from medseg_gui.ml import store
from tests.test_cli import vessel_project


def _prediction_bytes(root, cls: str) -> dict[str, bytes]:
    project = Project.open(root)
    return {s: project.prediction_path(cls, s).read_bytes() for s in project.stems}


@pytest.fixture
def project_root(tmp_path):
    return vessel_project(tmp_path / "p", np.random.default_rng(5))[0].root


@pytest.mark.slow
def test_models_lists_both_and_use_restores_the_first_models_predictions(two_models_template, two_models_project,
                                                                          capsys):
    project_root, root = two_models_project.root, str(two_models_project.root)
    first_predictions = _prediction_bytes(two_models_template, "lesion")  # made by the first model, before the second
    first, second = (e.id for e in store.list_models(project_root / "models" / "lesion"))

    capsys.readouterr()
    assert cli.main(["models", root, "--class", "lesion"]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = [line for line in out if first in line or second in line]
    assert len(rows) == 2 and second in rows[0]  # newest first
    from medseg_gui.core.model_names import local_time  # the window's time, not UTC (verification trial)

    newest = store.list_models(project_root / "models" / "lesion")[-1]
    assert local_time(newest.trained_at) in rows[0] and "(UTC)" not in "\n".join(out)
    current = store.list_models(project_root / "models" / "lesion")[-1].current
    assert rows[0].startswith("*") == current and rows[1].startswith("*") != current

    assert cli.main(["models", root, "--class", "lesion", "--use", second, "--predict"]) == 0
    assert _prediction_bytes(project_root, "lesion") != first_predictions  # the second model predicts differently
    capsys.readouterr()
    assert cli.main(["models", root, "--class", "lesion", "--use", first]) == 0
    out = capsys.readouterr().out
    assert "medseg predict" in out  # without --predict it says the predictions must be re-made
    assert [line for line in out.splitlines() if line.startswith("*")][0].split()[1] == first
    # evaluate scores the second model's maps: not marked by the first model's split (a returning-user trial read
    # "new" on images the model that predicted them had trained on)
    assert cli.main(["evaluate", root, "--class", "lesion"]) == 0
    captured = capsys.readouterr()
    rows = [line.split() for line in captured.out.splitlines()[1:] if line.split() and line.split()[0] in
            Project.open(project_root).labelled_stems("lesion")]
    assert rows and all(row[1] == "other" for row in rows)
    assert "were made by another model than the current one" in captured.err
    assert cli.main(["predict", root, "--class", "lesion"]) == 0
    assert _prediction_bytes(project_root, "lesion") == first_predictions
    capsys.readouterr()
    assert cli.main(["evaluate", root, "--class", "lesion"]) == 0
    captured = capsys.readouterr()
    assert "another model" not in captured.err
    assert not any(line.split()[1:2] == ["other"] for line in captured.out.splitlines() if line.split())


@pytest.mark.slow
def test_use_says_the_predictions_must_be_re_made_only_when_another_model_made_them(two_models_project, capsys):
    """Train, predict, train again without predicting, then --use the first model: its own predictions are the saved
    ones (an outside tester was told to re-make them)."""
    root = str(two_models_project.root)
    first = store.list_models(two_models_project.model_dir("lesion"))[0].id
    capsys.readouterr()
    assert cli.main(["models", root, "--class", "lesion", "--use", first]) == 0
    out = capsys.readouterr().out
    assert "still come from" not in out and "medseg predict" not in out
    assert cli.main(["models", root, "--class", "lesion", "--use", store.list_models(
        two_models_project.model_dir("lesion"))[1].id]) == 0
    assert f"{len(two_models_project.stems)} of the saved predictions still come from another model; re-make them " \
           f"with `medseg predict {root} --class lesion`." in capsys.readouterr().out


def test_use_of_an_unknown_model_is_one_error_line(project_root, capsys):
    assert cli.main(["models", str(project_root), "--class", "vessel"]) == 0
    assert "No trained models" in capsys.readouterr().out
    assert cli.main(["models", str(project_root), "--class", "vessel", "--use", "20990101-000000-abcdef"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("medseg: error:") and "20990101-000000-abcdef" in err and err.count("\n") == 1
    assert not (project_root / "models" / "vessel" / "current.json").exists()


def test_use_of_a_model_never_current_says_it_is_now_current(project_root, capsys):
    """Outside CLI trial: `--use` of a model that was rejected when trained said it 'is the current model again'."""
    from tests.faults.cli_fakes import FakeResult, tiny_segmenter

    model_dir = Project.open(project_root).model_dir("vessel")
    store.save_if_better(model_dir, FakeResult(tiny_segmenter(), val_auc=0.8))
    rejected = store.save_if_better(model_dir, FakeResult(tiny_segmenter(0.5), val_auc=0.5, previous_val_auc=0.8))
    assert not rejected.kept_new
    capsys.readouterr()
    assert cli.main(["models", str(project_root), "--class", "vessel", "--use", rejected.model_id]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"Model {rejected.model_id} is now the current 'vessel' model."


def test_predict_without_use_is_a_usage_error(project_root, capsys):
    """Argument misuse exits 2 as argparse's own errors do (`models --predict` alone exited 1, `remove P` alone 2)."""
    with pytest.raises(SystemExit) as stop:
        cli.main(["models", str(project_root), "--class", "vessel", "--predict"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.startswith("medseg: error: --predict re-predicts with the model chosen by "
                                                   "--use MODEL") and err.count("\n") == 1
