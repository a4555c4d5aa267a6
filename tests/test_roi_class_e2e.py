"""Two-stage segmentation end to end on synthetic photos: a bright disc ("cervix") with a dark blob inside it
("lesion") and lesion-like dark blobs outside it. The lesion class is restricted to the cervix (`roi_class`):
training samples, predictions (0 outside) and metrics all see only the cervix region, via the CLI and the pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from medseg_gui import cli, cli_train, pipeline
from medseg_gui.core.images import read_image, write_png
from medseg_gui.core.lesions import per_image_metrics
from medseg_gui.core.project import ClassSpec, Project
from medseg_gui.ml.config import PRESETS, Augment, Preset, TrainConfig, UNetConfig

SIZE = 64
PRESET = "tiny-two-stage"  # a one-pooling U-Net that traces in seconds: this tests the plumbing, not the recipe
TINY_ARGS = ["--preset", PRESET, "--max-steps", "4"]
TINY = TrainConfig(preset=PRESET, minutes=None, max_steps=4)
CERVIX_LABELLED = 4  # of 6 images: the other two get their cervix region from the cervix model's prediction


def _photo(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(rgb, cervix, lesion, distractors): a bright disc, a dark blob inside it, two dark blobs outside it."""
    yy, xx = np.mgrid[:SIZE, :SIZE]
    cy, cx = rng.integers(30, 35, 2)
    cervix = (yy - cy) ** 2 + (xx - cx) ** 2 < 18**2
    ly, lx = cy + rng.integers(-6, 7), cx + rng.integers(-6, 7)
    lesion = (yy - ly) ** 2 + (xx - lx) ** 2 < 5**2
    distractors = np.zeros_like(cervix)
    for y, x in ((6, 6), (SIZE - 7, SIZE - 7)):
        distractors |= (yy - y) ** 2 + (xx - x) ** 2 < 5**2
    rgb = rng.integers(60, 90, (SIZE, SIZE, 3)).astype(np.uint8)
    rgb[cervix] += 120
    rgb[lesion | distractors] = rng.integers(0, 25, (int((lesion | distractors).sum()), 3)).astype(np.uint8)
    return rgb, cervix, lesion, distractors


@pytest.fixture(scope="module", autouse=True)
def tiny_preset():
    PRESETS[PRESET] = Preset(name=PRESET, description="test only", unet=UNetConfig(filters=(4, 8)), patch_size=32,
                             batch_size=4, loss="bce_dice", optimizer="adamw", augment=Augment(),
                             positive_fraction=0.5, steps_per_epoch=4, tile_size=64, tile_overlap=16)
    yield
    PRESETS.pop(PRESET, None)


@pytest.fixture
def project(tmp_path):
    rng = np.random.default_rng(7)
    project = Project.create(tmp_path / "colpo", (ClassSpec("cervix", (0, 200, 255)),
                                                  ClassSpec("lesion", (255, 215, 0), roi_class="cervix")))
    truth = {}
    for i in range(6):
        rgb, cervix, lesion, distractors = _photo(rng)
        src = tmp_path / f"photo{i}.png"
        write_png(src, rgb)
        stem = project.add_image(src).stem
        if i < CERVIX_LABELLED:
            project.save_label("cervix", stem, cervix)
        project.save_label("lesion", stem, lesion)
        truth[stem] = (cervix, lesion, distractors)
    project.truth = truth  # type: ignore[attr-defined]
    return project


def test_training_samples_are_restricted_to_the_cervix_label(project, caplog):
    samples, stems = pipeline.load_samples(project, "lesion")
    assert stems == project.stems
    for sample, stem in zip(samples[:CERVIX_LABELLED], stems):
        np.testing.assert_array_equal(sample.roi, project.truth[stem][0])
    # no cervix label, prediction or model yet: trained on the whole image (no image ROI here), and the log says so
    assert all(s.roi is None for s in samples[CERVIX_LABELLED:])
    notes = [r.getMessage() for r in caplog.records if "is not restricted there" in r.getMessage()]
    assert len(notes) == 6 - CERVIX_LABELLED and "label or predict 'cervix' first" in notes[0]
    plain, _ = pipeline.load_samples(project, "cervix")
    assert all(s.roi is None for s in plain)


def test_an_empty_cervix_region_leaves_the_image_out_of_lesion_training(project):
    stem = project.stems[0]
    project.save_label("cervix", stem, np.zeros((SIZE, SIZE), bool))
    skipped: list[str] = []
    _, stems = pipeline.load_samples(project, "lesion", skipped)
    assert stem not in stems
    assert skipped == [f"{stem} left out of training: its 'cervix' region, which 'lesion' is restricted to, is empty"]


def test_metrics_count_only_pixels_inside_the_cervix(project):
    """Known answer: a prediction that is the lesion plus the distractors outside the cervix is perfect inside it."""
    for stem, (_, lesion, distractors) in project.truth.items():
        project.save_prediction("lesion", stem, (lesion | distractors).astype(np.float32))
        project.save_prediction("cervix", stem, project.truth[stem][0].astype(np.float32))
    report = pipeline.evaluate_class(project, "lesion")
    assert len(report.per_image) == 6
    for metrics in report.per_image.values():
        assert metrics["dice"] == 1.0 and metrics["false_lesions"] == 0.0 and metrics["auc"] == 1.0
    assert report.pooled["dice"] == 1.0
    project.set_roi_class("lesion", None)  # the same files scored on the whole image: the distractors count
    whole = pipeline.evaluate_class(project, "lesion")
    assert all(m["false_lesions"] == 2.0 and m["dice"] < 0.7 for m in whole.per_image.values())


@pytest.mark.slow
def test_two_stage_train_and_predict_end_to_end(project, capsys, tmp_path):
    outcome = pipeline.train_class(project, "cervix", TINY)
    assert outcome.decision is not None and len(outcome.stems) == CERVIX_LABELLED
    assert not any(project.prediction_path("cervix", s).exists() for s in project.stems)

    assert cli.main(["train", str(project.root), "--class", "lesion", *TINY_ARGS]) == 0
    out = capsys.readouterr().out
    assert "lesion is restricted to cervix" in out
    # the two images without a cervix label got their region from the cervix model, predicted before training
    unlabelled = project.stems[CERVIX_LABELLED:]
    assert all(project.prediction_path("cervix", s).is_file() for s in unlabelled)

    assert cli.main(["predict", str(project.root), "--class", "lesion"]) == 0
    assert "lesion is restricted to cervix" in capsys.readouterr().out
    metrics = project.load_metrics("lesion")
    for stem in project.stems:
        prob = project.load_prediction("lesion", stem)
        cervix_label = project.load_label("cervix", stem)
        region = cervix_label if cervix_label is not None else project.load_prediction("cervix", stem) >= 0.5
        np.testing.assert_array_equal(project.class_roi("lesion", stem), region)
        assert np.all(prob[~region] == 0.0), stem  # nothing outside the cervix, distractors included
        if cervix_label is not None:
            assert not prob[project.truth[stem][2]].any()  # the distractors lie outside the cervix label
            assert prob[region].max() > 0.0  # really predicted inside
            truth = project.load_label("lesion", stem)
            expected = per_image_metrics(prob, truth, region)
            assert metrics[stem]["dice"] == pytest.approx(expected["dice"], nan_ok=True)
            assert metrics[stem]["auc"] == pytest.approx(expected["auc"], abs=1e-3)  # saved map is 16-bit

    # an image from outside the project: the cervix model finds the region, the lesion model predicts inside it
    rgb, *_ = _photo(np.random.default_rng(99))
    photo = tmp_path / "new.png"
    write_png(photo, rgb)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    assert cli.main(["predict", str(project.root), "--class", "lesion", str(photo), "--out", str(out_dir)]) == 0
    segmenters = cli_train.load_segmenters(project, "lesion")
    assert [name for name, _ in segmenters] == ["cervix", "lesion"]
    region = segmenters[0][1].predict(rgb) >= 0.5
    prob = cli_train.predict_external(segmenters, rgb)
    assert np.all(prob[~region] == 0.0)
    assert (out_dir / "new_prob.png").is_file()


def test_classes_command_sets_lists_and_refuses_with_one_error_line(project, capsys):
    root = str(project.root)
    assert cli.main(["classes", root]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["class", "colour", "inside"]
    assert out[1].split() == ["cervix", "0,200,255", "(whole", "image)"] and out[2].split()[-1] == "cervix"
    assert cli.main(["classes", root, "--set-roi", "cervix=lesion"]) == 1  # a circle
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("medseg: error:") and "circle" in err[0]
    assert Project.open(root).class_spec("cervix").roi_class is None
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["classes", root, "--set-roi", "lesion"])
    assert exit_info.value.code == 2 and "CLASS=ROI_CLASS" in capsys.readouterr().err
    assert cli.main(["classes", root, "--clear-roi", "lesion"]) == 0
    assert Project.open(root).class_spec("lesion").roi_class is None
    assert cli.main(["classes", root, "--set-roi", "lesion=cervix"]) == 0
    assert Project.open(root).class_spec("lesion").roi_class == "cervix"


def test_evaluate_says_on_how_many_images_the_lesion_was_restricted_with_one_warning(project, capsys):
    """An outside tester read 'restricted to cervix (… scored only inside it)' where no image had a cervix region,
    and one warning per image."""
    for stem, (_, lesion, _) in project.truth.items():
        project.save_prediction("lesion", stem, lesion.astype(np.float32))
    assert cli.main(["evaluate", str(project.root), "--class", "lesion"]) == 0
    out, err = capsys.readouterr()
    unlabelled = ", ".join(project.stems[CERVIX_LABELLED:])
    assert err.splitlines() == [f"medseg: warning: lesion is not restricted on 2 of 6 images ({unlabelled}): 'cervix' "
                                "has no label or prediction there yet (label or predict 'cervix' first)"]
    assert out.splitlines()[-1] == ("lesion is restricted to cervix (scored only inside it on 4 of 6 images; the "
                                    "others have no cervix region yet).")
    for stem in project.stems[:CERVIX_LABELLED]:
        project.label_path("cervix", stem).unlink()
    assert cli.main(["evaluate", str(project.root), "--class", "lesion"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[-1] == ("lesion is restricted to cervix, but none of the 6 images has a cervix region "
                                    "yet: scored unrestricted.")
    assert len(err.splitlines()) == 1 and "not restricted on 6 of 6 images" in err


@pytest.mark.slow
def test_training_without_a_cervix_region_on_some_images_says_so_once(project, capsys):
    assert cli.main(["train", str(project.root), "--class", "lesion", *TINY_ARGS]) == 0
    out, err = capsys.readouterr()
    assert [line for line in err.splitlines() if "not restricted" in line] == [
        f"medseg: warning: lesion is not restricted on 2 of 6 images ({', '.join(project.stems[CERVIX_LABELLED:])}): "
        "'cervix' has no label or prediction there yet (label or predict 'cervix' first)"]  # once, not per image
    assert "lesion is restricted to cervix (trained only inside it on 4 of 6 images; the others have no cervix " \
           "region yet)." in out


@pytest.mark.slow
def test_without_a_cervix_model_outside_images_are_predicted_unrestricted_with_one_warning(project, capsys,
                                                                                            tmp_path):
    """README: where the cervix has no model 'the lesion is not restricted on that image and a warning says so'; an
    outside tester's `medseg predict P --class lesion x.jpg` stopped with an error instead."""
    pipeline.train_class(project, "lesion", TINY)
    photos = []
    for seed in (1, 2):
        photos.append(tmp_path / f"new{seed}.png")
        write_png(photos[-1], _photo(np.random.default_rng(seed))[0])
    out_dir = tmp_path / "out"
    capsys.readouterr()
    assert cli.main(["predict", str(project.root), "--class", "lesion", *map(str, photos), "--out", str(out_dir)]) == 0
    out, err = capsys.readouterr()
    assert err.splitlines() == ["medseg: warning: lesion is restricted to cervix, which has no usable model, so lesion "
                                "is not restricted on these images: No trained model exists for class 'cervix' yet; "
                                "train one first (Retrain, or `medseg train PROJECT --class cervix`)."]  # once
    assert "restricted" not in out and all((out_dir / f"{p.stem}_mask.png").is_file() for p in photos)
    notes: list[str] = []
    segmenters = cli_train.load_segmenters(project, "lesion", notes)
    assert [name for name, _ in segmenters] == ["lesion"] and len(notes) == 1
    np.testing.assert_array_equal(cli_train.predict_external(segmenters, read_image(photos[0])),
                                  segmenters[0][1].predict(read_image(photos[0])))  # the whole image, unrestricted
