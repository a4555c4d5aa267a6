"""A two-stage class's labels lying largely outside its region (a trial's lesion lost 64 % of its label to a weak
cervix model's predicted region, and neither `medseg train` nor `evaluate` nor the window said so)."""

from __future__ import annotations

import numpy as np
import pytest

from medseg_gui import cli, pipeline
from medseg_gui.core.images import write_png
from medseg_gui.core.project import ClassSpec, Project
from medseg_gui.core.regions import MOSTLY_OUTSIDE, outside_share
from medseg_gui.qt.panels.train_text import outcome_text

SIZE = 48


@pytest.fixture
def project(tmp_path):
    """Two images, no cervix label, a predicted cervix: the left half of the image on `half`, all of it on
    `inside`; a lesion label in the middle of each (half of it outside the region on `half`)."""
    project = Project.create(tmp_path / "p", (ClassSpec("cervix", (0, 200, 255)),
                                              ClassSpec("lesion", (255, 215, 0), roi_class="cervix")))
    lesion = np.zeros((SIZE, SIZE), bool)
    lesion[16:32, 16:32] = True
    for name, cols in (("half", 24), ("inside", SIZE)):
        src = tmp_path / f"{name}.png"
        write_png(src, np.full((SIZE, SIZE, 3), 120, np.uint8))
        stem = project.add_image(src).stem
        cervix = np.zeros((SIZE, SIZE), np.float32)
        cervix[:, :cols] = 1.0
        project.save_prediction("cervix", stem, cervix)
        project.save_label("lesion", stem, lesion)
        project.save_prediction("lesion", stem, lesion.astype(np.float32))
    return project


WARNING = ("lesion labels lie largely outside their cervix region on 1 image (half: 50 % outside, region "
           "predicted): training and scores use only the part inside; label the cervix there or check the cervix "
           "model")


def test_outside_share_counts_label_pixels_outside_the_region():
    mask = np.zeros((4, 4), bool)
    mask[0, :] = True
    region = np.zeros((4, 4), bool)
    region[:, :1] = True
    assert outside_share(mask, region) == 0.75 > MOSTLY_OUTSIDE
    assert outside_share(mask, None) == 0.0 and outside_share(np.zeros((4, 4), bool), region) == 0.0


def test_training_samples_note_a_label_half_outside_a_predicted_region(project):
    outside: dict[str, float] = {}
    _, stems = pipeline.load_samples(project, "lesion", [], 0.5, {}, outside)
    assert stems == ["half", "inside"] and outside == {"half": 0.5}
    assert pipeline.note_outside(project, "lesion", outside) == (WARNING,)
    assert pipeline.note_outside(project, "lesion", {}) == ()


def test_a_labelled_region_is_named_so(project):
    region = np.zeros((SIZE, SIZE), bool)
    region[:, :24] = True
    project.save_label("cervix", "half", region)
    assert "(half: 50 % outside, region labelled)" in pipeline.note_outside(project, "lesion", {"half": 0.5})[0]


def test_evaluate_warns_once_of_a_label_half_outside_its_region(project, capsys):
    assert cli.main(["evaluate", str(project.root), "--class", "lesion"]) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == [f"medseg: warning: {WARNING}"]
    project.save_prediction("cervix", "half", np.ones((SIZE, SIZE), np.float32))
    assert cli.main(["evaluate", str(project.root), "--class", "lesion"]) == 0
    assert capsys.readouterr().err == ""


def test_the_train_panel_run_line_carries_the_warning():
    from types import SimpleNamespace

    decision = SimpleNamespace(kept_new=False, metric="AUC", new_score=0.8, old_score=0.9, reason="")
    outcome = pipeline.TrainOutcome(SimpleNamespace(note="", seen=""), decision, outside=(WARNING,))
    assert outcome_text(outcome).endswith(WARNING[0].upper() + WARNING[1:])  # a sentence after the decision's


def test_the_region_line_counts_the_images_when_all_were_restricted(project, capsys):
    """README promised the count; the line said only '(scored only inside it).' (trial)."""
    assert cli.main(["evaluate", str(project.root), "--class", "lesion"]) == 0
    line = capsys.readouterr().out.splitlines()[-1]
    assert line == "lesion is restricted to cervix (scored only inside it on 2 of 2 images)."


def train_tiny(root, cls: str) -> int:
    """`medseg train ROOT --class CLS` with a tiny preset registered for the run (two steps); its exit status."""
    from medseg_gui.ml.config import PRESETS, Augment, Preset, UNetConfig

    PRESETS["tiny-region"] = Preset(name="tiny-region", description="test only", unet=UNetConfig(filters=(4, 8)),
                                    patch_size=32, batch_size=2, augment=Augment(), steps_per_epoch=2, tile_size=48,
                                    tile_overlap=8)
    try:
        return cli.main(["train", str(root), "--class", cls, "--preset", "tiny-region", "--max-steps", "2"])
    finally:
        PRESETS.pop("tiny-region", None)


@pytest.mark.slow
def test_medseg_train_warns_once_of_a_label_half_outside_its_region(project, capsys):
    assert train_tiny(project.root, "lesion") == 0
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if "outside" in line] == [f"medseg: warning: {WARNING}"]
