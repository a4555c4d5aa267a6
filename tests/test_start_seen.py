"""A Retrain whose weights come from a shipped start, on labelled photos that start was trained on, says so once (its
validation on them is no held-out check and favours the start): in what the Train panel shows (the run line and the
decision text) and on the command line. Without such photos, or from scratch with no such model, nothing is said.
The shipped start and its fingerprints are faked, so no shared data is needed."""

from pathlib import Path

import numpy as np
import pytest

from medseg_gui import cli, pipeline
from medseg_gui.core.fingerprint import SeenPhotos, fingerprint
from medseg_gui.core.images import write_png
from medseg_gui.core.project import Project
from medseg_gui.ml.config import TrainConfig
from medseg_gui.ml.init import FROM_START, InitWeights
from medseg_gui.ml.progress import TrainProgress
from medseg_gui.train_process import TrainSummary
from tests.test_cli import TINY, synthetic_pair

pytestmark = pytest.mark.slow
CONFIG = dict(minutes=None, max_steps=2, steps_per_epoch=2, patch_size=32, batch_size=4, base_filters=8)


def make_project(tmp_path: Path, n: int = 3) -> tuple[Project, list[np.ndarray]]:
    rng = np.random.default_rng(5)
    project, images = Project.create(tmp_path / "proj"), []
    for i in range(n):
        image, mask, _ = synthetic_pair(rng, 64, 64)
        write_png(tmp_path / f"photo{i}.png", image)
        project.save_label("vessel", project.add_image(tmp_path / f"photo{i}.png").stem, mask)
        images.append(image)
    return project, images


def fake_start(monkeypatch, seen: list[np.ndarray]) -> None:
    """Runs that may start from the shipped start do (its weights not loaded: the network's own), and that start
    was trained on the photos `seen`."""
    from medseg_gui.ml import init, train

    def load_start(model, preset, config, given):
        if config.init == "scratch":
            return "scratch", None
        if config.init in ("auto", "current") and given is not None:
            return given.source, given
        return "the pretrained start (test)", InitWeights(preset.unet, {}, Path("start.weights.h5"), "test")

    monkeypatch.setattr(train, "load_start", load_start)
    monkeypatch.setattr(init, "shipped_seen", lambda regime: SeenPhotos(regime, "HRF",
                                                                        tuple(fingerprint(i) for i in seen)))


def test_a_run_from_the_start_on_its_photos_says_so_in_the_run_line_and_the_decision(tmp_path, monkeypatch):
    from medseg_gui.qt.panels.train_text import outcome_text

    project, images = make_project(tmp_path)
    fake_start(monkeypatch, images)
    told = []
    outcome = pipeline.train_class(project, "vessel", TrainConfig(**CONFIG), progress=told.append)
    [stem] = outcome.result.segmenter.metadata["val_stems"]  # the note names only the validation image
    assert outcome.result.seen.startswith(f"1 of this run's validation images ({stem}) is one of the HRF photos the "
                                          "built-in ")
    assert "not a held-out check" in outcome.result.seen and "or tick Start from scratch" in outcome.result.seen
    assert [p.note for p in told if isinstance(p, TrainProgress) and p.note] == [outcome.result.seen]  # once
    child = TrainSummary.of(outcome.result)  # what the training process hands the window
    assert child.seen == outcome.result.seen
    shown = outcome_text(pipeline.TrainOutcome(child, outcome.decision))
    assert shown.endswith(outcome.result.seen) and shown.count("not a held-out check") == 1
    assert shown[:-len(outcome.result.seen)].endswith(". ")  # two sentences (a trial read '…threshold) 217 of your')
    assert project.current_model_info("vessel")[FROM_START] == outcome.result.segmenter.metadata[FROM_START]

    # the trial's second Retrain: the current model came from the start, so even a run from scratch is compared
    # with a model that learnt these photos (ticking Start from scratch is no way out then)
    again = pipeline.train_class(project, "vessel", TrainConfig(**CONFIG, init="scratch"))
    assert "validation images (" in again.result.seen and "Start from scratch" not in again.result.seen


def test_no_note_without_the_starts_photos_or_without_the_start(tmp_path, monkeypatch):
    project, images = make_project(tmp_path)
    other, _, _ = synthetic_pair(np.random.default_rng(99), 64, 64)
    fake_start(monkeypatch, [other])
    assert pipeline.train_class(project, "vessel", TrainConfig(**CONFIG)).result.seen == ""
    fresh, images = make_project(tmp_path / "fresh")
    fake_start(monkeypatch, images)
    assert pipeline.train_class(fresh, "vessel", TrainConfig(**CONFIG, init="scratch")).result.seen == ""


def test_medseg_train_prints_the_note(tmp_path, monkeypatch, capsys):
    project, images = make_project(tmp_path)
    fake_start(monkeypatch, images)
    assert cli.main(["train", str(project.root), "--class", "vessel", *TINY]) == 0
    [stem] = project.current_model_info("vessel")["val_stems"]
    notes = [line for line in capsys.readouterr().err.splitlines() if "not a held-out check" in line]
    assert len(notes) == 1 and notes[0].startswith(f"medseg: note: 1 of this run's validation images ({stem}) is "
                                                   "one of the HRF photos")
    assert notes[0].endswith("or train with --init scratch.")  # the command line's words, not the window's


def test_the_starts_photos_among_the_training_images_only_are_not_called_validation(tmp_path, monkeypatch, caplog):
    """An outside trial's two added photos trained only, yet the note called validation on them no held-out check;
    the run's log line read '10 images (2 validation)' for 12 labelled images."""
    project, images = make_project(tmp_path / "all")
    fake_start(monkeypatch, images)
    first = pipeline.train_class(project, "vessel", TrainConfig(**CONFIG)).result.segmenter.metadata
    validated = first["val_stems"]  # (train_stems is empty when the start itself is kept)
    trained = [stem for stem in project.stems if stem not in validated]
    assert len(trained) == 2 and len(validated) == 1
    twin, images = make_project(tmp_path / "twin")  # the same photos and labels, so the same split
    fake_start(monkeypatch, [images[twin.stems.index(stem)] for stem in trained])
    with caplog.at_level("INFO", logger="medseg_gui.ml.train"):
        outcome = pipeline.train_class(twin, "vessel", TrainConfig(**CONFIG))
    assert outcome.result.segmenter.metadata["val_stems"] == validated and outcome.result.seen == ""
    assert "on 3 images (2 training, 1 validation: " in caplog.text


def test_the_starts_photos_are_recorded_and_medseg_evaluate_calls_them_seen_not_honest(tmp_path, monkeypatch, capsys):
    """An outside trial's kept start had trained on every labelled HRF photo, yet `medseg evaluate` called the
    ones outside its split "new … the honest checks" (and the window "✓ · new")."""
    import json

    from medseg_gui.core.fingerprint import START_SEEN
    from medseg_gui.qt.panels.train_text import validated_well

    project, images = make_project(tmp_path, n=4)
    rng = np.random.default_rng(11)
    later, mask, _ = synthetic_pair(rng, 64, 64)  # labelled after the run, also one of the start's photos
    fresh, fresh_mask, _ = synthetic_pair(rng, 64, 64)  # labelled after the run, a photo the start never saw
    fake_start(monkeypatch, [*images, later])
    meta = pipeline.train_class(project, "vessel", TrainConfig(**CONFIG)).result.segmenter.metadata
    assert meta[START_SEEN] == {"photos": "HRF", "stems": sorted(project.stems), "checked": sorted(project.stems)}
    assert validated_well({**meta, "regime": "vessels", "val_auc": 0.99}) == ""  # no "on 1 held-out image"
    for name, image, label in (("later", later, mask), ("fresh", fresh, fresh_mask)):
        write_png(tmp_path / f"{name}.png", image)
        project.save_label("vessel", project.add_image(tmp_path / f"{name}.png").stem, label)
    assert cli.main(["predict", str(project.root), "--class", "vessel"]) == 0
    capsys.readouterr()
    assert cli.main(["evaluate", str(project.root), "--class", "vessel", "--json"]) == 0
    used = json.loads(capsys.readouterr().out)["used"]
    trained = set(meta["train_stems"])
    assert used == {**{s: "seen" for s in project.stems}, **dict.fromkeys(trained, "train"), "fresh": "new"}
    assert cli.main(["evaluate", str(project.root), "--class", "vessel"]) == 0
    assert "seen = a photo the built-in start was trained on" in capsys.readouterr().out
