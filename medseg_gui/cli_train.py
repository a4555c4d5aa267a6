"""`medseg train`, `predict`, `evaluate` and `models`: the commands that make, use, score and choose a class's model."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from shlex import quote
from typing import Any

import numpy as np

from medseg_gui.cli_common import format_table, interrupts_held, left_out, open_project, warn
from medseg_gui.cli_progress import TerminalProgress, end_stop_line
from medseg_gui.core.errors import ImageReadError, MedsegError, ModelError, skip, write_error
from medseg_gui.core.fingerprint import CLI_SCRATCH_ADVICE, SCRATCH_ADVICE
from medseg_gui.core.fov import prediction_region
from medseg_gui.core.images import read_image, write_png
from medseg_gui.core.label_status import ENOUGH_IMAGES, few_images_note
from medseg_gui.core.model_names import local_time
from medseg_gui.core.project import Project
from medseg_gui.core.project_format import encode_probability, metrics_to_json
from medseg_gui.core.regions import region_classes



def train_config(args: argparse.Namespace):
    from medseg_gui.ml.config import TrainConfig

    minutes = None if args.epochs is not None else args.minutes
    kwargs = {"preset": args.preset, "minutes": minutes, "seed": args.seed, "init": args.init,
              "precision": args.precision}
    if args.epochs is not None:
        kwargs["epochs"] = args.epochs
    if args.max_steps is not None:
        kwargs["max_steps"] = args.max_steps
    for name in ("steps_per_epoch", "patch_size", "batch_size", "base_filters"):
        if getattr(args, name, None) is not None:
            kwargs[name] = getattr(args, name)
    return TrainConfig(**kwargs)


def region_line(project: Project, cls: str, done: str, total: int, unrestricted: int = 0) -> str | None:
    """'lesion is restricted to cervix (trained only inside it on 6 of 6 images).' for a two-stage class (None
    otherwise), true of this run: `unrestricted` of its `total` images had no region (a warning names them). An
    outside tester was told so of images none of which had one, and README promised the count."""
    from medseg_gui import pipeline

    note = pipeline.region_note(project, cls)
    if note is None:
        return None
    roi_class = project.class_spec(cls).roi_class
    if not unrestricted:
        return f"{note} ({done} only inside it on {total} of {total} image{'' if total == 1 else 's'})."
    if unrestricted < total:
        return (f"{note} ({done} only inside it on {total - unrestricted} of {total} images; the others have no "
                f"{roi_class} region yet).")
    return f"{note}, but none of the {total} images has a {roi_class} region yet: {done} unrestricted."


def say_region(project: Project, cls: str, done: str, total: int, unrestricted: int = 0) -> None:
    """Print `region_line` where there is one."""
    if (line := region_line(project, cls, done, total, unrestricted)) is not None:
        print(line)


def train_notes(outcome) -> list[str]:
    """What `medseg train` notes of a pipeline.TrainOutcome on stderr, as the Train panel says it: labelled images
    its shipped start saw (their validation is no held-out check), too few labelled images."""
    notes = [outcome.result.seen.replace(SCRATCH_ADVICE, CLI_SCRATCH_ADVICE)] if outcome.result.seen else []
    if (n := len(outcome.stems)) < ENOUGH_IMAGES:
        notes.append(few_images_note(n))
    return notes


def train_json(project: Project, cls: str, outcome, notes: list[str]) -> dict:
    """`medseg train --json`: what the run did and whether its model became current (val_auc: the new model's and the
    current one's on the validation images; compared: what keep-unless-better compared, both to 4 decimals as the
    validation's figures are; None where unknown)."""
    decision, res = outcome.decision, outcome.result
    current = (project.current_model_info(cls) or {}).get("id")
    return metrics_to_json({
        "class": cls, "kept_new": bool(decision and decision.kept_new), "cancelled": outcome.cancelled,
        "new_model": decision and decision.model_id, "current_model": current, "reason": outcome.summary(),
        "compared": {"metric": decision.metric, "new": _score(decision.new_score),
                     "current": _score(decision.old_score), **({"basis": decision.basis} if decision.basis else {})}
        if decision else None,
        "val_auc": {"new": res.val_auc, "current": res.previous_val_auc},
        "val_dice": getattr(res.segmenter, "metadata", {}).get("val_dice"),
        "steps": res.steps, "seconds": round(float(res.seconds), 1), "images": list(outcome.stems),
        "skipped": list(outcome.skipped), "notes": notes})


def _score(value: float | None) -> float | None:
    """A compared validation figure as the validation rounds its own (4 decimals); None (and NaN) as it is."""
    return value if value is None or value != value else round(float(value), 4)


def stopped_json(project: Project, cls: str, before: str | None, seconds: float) -> dict:
    """`medseg train --json` of a run that Ctrl+C or SIGTERM stopped: train_json's keys, `cancelled` true, what the
    run never learnt null. No new model, unless the stop came as it was being made current (`before`: the current
    model's id when the run began): then `kept_new` says so."""
    from medseg_gui.outcomes import TRAIN_CANCELLED

    current = (project.current_model_info(cls) or {}).get("id")
    kept = current != before
    reason = "Training was stopped as its new model became current." if kept else TRAIN_CANCELLED
    return {"class": cls, "kept_new": kept, "cancelled": True, "new_model": current if kept else None,
            "current_model": current, "reason": reason,
            "compared": None, "val_auc": {"new": None, "current": None}, "val_dice": None, "steps": None,
            "seconds": round(seconds, 1), "images": None, "skipped": None, "notes": []}


def do_train(project: Project, cls: str, config, as_json: bool = False) -> None:
    """Train `cls` and say what came of it (say_trained): prose on stdout, or (`as_json`) one JSON object. Stopped by
    Ctrl+C or SIGTERM, it is said before the interrupt goes on to end the command (130 or 143): `say_stopped`; once
    the run returned (its model stored), the stop waits until it is said."""
    from medseg_gui import pipeline

    before, started = (project.current_model_info(cls) or {}).get("id"), time.monotonic()
    outcome, said = None, False
    try:
        with TerminalProgress() as bar:  # -v: the log lines after the last report ("Saved the new model.") follow it
            outcome = pipeline.train_class(project, cls, config, progress=bar.train)
        with interrupts_held():
            said = not as_json  # prose: from its first line a second stop prints nothing more
            say_trained(project, cls, outcome, as_json)
            said = True  # a JSON cut short by a second stop is not followed by another
            if as_json:  # last: once it is printed the command has said everything
                print(json.dumps(outcome_json(project, cls, outcome), indent=2), flush=True)
    except KeyboardInterrupt as stop:  # Terminated (SIGTERM) too; cli._run says so
        if not said:
            say_stopped(project, cls, outcome, before, time.monotonic() - started, as_json, stop)
        raise


def say_stopped(project: Project, cls: str, outcome, before: str | None, seconds: float, as_json: bool,
                stop: BaseException) -> None:
    """What `do_train` says of a run stopped before its result was said. One that returned (the stop came before
    the result was held: its model is stored) says it as unstopped (`as_json`: the object alone); one stopped inside
    says stopped_json, or in prose only that its new model became current where the stop came as it did (a trial's
    prose said nothing of a model it had stored). Whatever it says starts a line of its own (`end_stop_line`)."""
    if outcome is not None and not as_json:
        end_stop_line(stop)
        say_trained(project, cls, outcome, as_json)
        return
    report = outcome_json(project, cls, outcome) if outcome is not None else \
        stopped_json(project, cls, before, seconds)
    if as_json or report["kept_new"]:  # prose of a plain stop: `medseg: interrupted` alone says it
        end_stop_line(stop)
        print(json.dumps(report, indent=2) if as_json else report["reason"], flush=True)


def outcome_json(project: Project, cls: str, outcome) -> dict:
    """train_json of a run that returned, with the notes `medseg train` gives: a two-stage class's region line, the
    region warnings (warned of on stderr too), then train_notes."""
    region = region_line(project, cls, "trained", len(outcome.stems), len(outcome.unrestricted))
    head = [region] if region else []
    return train_json(project, cls, outcome, [*head, *outcome.outside, *outcome.weak_region, *train_notes(outcome)])


def say_trained(project: Project, cls: str, outcome, as_json: bool) -> None:
    """What a run that returned did: its warnings and notes on stderr, and the result lines on stdout unless
    `as_json` (do_train then prints outcome_json alone there)."""
    from medseg_gui.core.project import dataset_test_stems

    warn(outcome.notes)
    region = region_line(project, cls, "trained", len(outcome.stems), len(outcome.unrestricted))
    notes = [*([region] if region and as_json else []), *train_notes(outcome)]
    if not as_json:
        if region:
            print(region)
        res = outcome.result
        held = len(dataset_test_stems(project) & set(project.labelled_stems(cls)))
        test = f" ({held} of the dataset's test split not trained on: `medseg evaluate` scores them)" if held else ""
        print(f"Trained {res.steps} step{'' if res.steps == 1 else 's'} in {res.seconds:.0f} s on "
              f"{len(outcome.stems)} labelled images{left_out(len(outcome.skipped))}{test}.")
        print(outcome.summary())
    for note in notes:
        print(f"medseg: note: {note}", file=sys.stderr)


def cmd_train(args: argparse.Namespace) -> int:
    from medseg_gui.core.lock import project_lock

    project = open_project(args.project, args.cls)
    with project_lock(project.root):  # a window editing the project (or another command) refuses us clearly
        do_train(project, args.cls, train_config(args), args.json)
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    project = open_project(args.project, args.cls)
    if not args.images:
        from medseg_gui.core.lock import project_lock

        with project_lock(project.root):
            return _predict_project(project, args)
    return _predict_files(project, args)


def predict_all(project: Project, cls: str) -> tuple[int, int]:
    """Predict every image of `cls` with its current model (progress on stderr, a warning for each image left out):
    (images predicted, how many of them were scored against a label). Counted here: the pipeline's metrics keep the
    old scores of an image that cannot be read now ("Predicted 7 of 8 images …; metrics for 8 labelled images",
    outside trial)."""
    from medseg_gui import pipeline

    skipped: list[str] = []
    predicted: list[str] = []
    gaps: dict[str, str] = {}
    with TerminalProgress() as bar:
        metrics = pipeline.predict_class(project, cls, progress=bar.predict, skipped=skipped,
                                         on_saved=lambda stem, _map: predicted.append(stem), unrestricted=gaps)
    warn(skipped)
    say_region(project, cls, "predicted and scored", len(predicted), len(gaps))
    return len(predicted), sum(stem in metrics for stem in predicted)


def _predict_project(project: Project, args: argparse.Namespace) -> int:
    """`medseg predict PROJECT`: every image of the project, predictions and metrics saved into it."""
    done, scored = predict_all(project, args.cls)
    if args.out is not None:
        from medseg_gui.core.export import export_masks

        not_written: list[str] = []
        paths = export_masks(project, args.cls, args.out, source="predictions", threshold=args.threshold,
                             skipped=not_written)
        warn(not_written)
        print(f"Wrote {len(paths)} predicted mask{'s' if len(paths) != 1 else ''} (threshold {args.threshold:g}) to "
              f"{args.out}{left_out(len(not_written))}; its manifest.json says which model made each.")
    total = len(project.stems)
    print(f"Predicted {done} of {total} images{left_out(total - done)}; metrics for {scored} labelled "
          f"image{'' if scored == 1 else 's'}.")
    return 0


def _predict_files(project: Project, args: argparse.Namespace) -> int:
    """`medseg predict PROJECT IMAGE...`: images outside the project, masks written to --out (nothing saved in it);
    an image that cannot be read is warned of and the others predicted, then exit status 1 (as cp)."""
    out = Path(args.out) if args.out else Path.cwd()
    images = list({p.resolve(): p for p in map(Path, args.images)}.values())  # a file given twice: once
    check_prediction_files(project, out, images, args.overwrite)
    notes: list[str] = []
    segmenters = load_segmenters(project, args.cls, notes)  # two-stage: the roi_class's model(s) first
    warn(notes)
    if not notes:
        say_region(project, args.cls, "predicted", len(images))
    failed = []
    for path in images:
        try:
            image = read_image(path)
        except MedsegError as err:
            failed.append(f"{path.name} not predicted: {err}")
            continue
        prob = predict_external(segmenters, image, args.threshold)
        for name, array in ((f"{path.stem}_prob.png", encode_probability(prob)),
                            (f"{path.stem}_mask.png", ((prob >= args.threshold) * 255).astype(np.uint8))):
            try:  # the file named, as elsewhere (fault-injection trial: "Prediction failed: File too large")
                write_png(out / name, array)
            except OSError as err:
                raise write_error(f"Could not write the prediction of {path.name}", err, out / name) from err
        print(f"{path.name}: wrote {path.stem}_prob.png and {path.stem}_mask.png to {out}")
    if len(images) == 1 and failed:
        raise ImageReadError(failed[0])
    warn(failed)
    if failed:  # as cp: every file named on the command line is processed, or the exit status says it was not
        raise ImageReadError(f"{len(failed)} of the {len(images)} images named {'was' if len(failed) == 1 else 'were'} "
                             "not predicted (listed above).")
    return 0


def check_prediction_files(project: Project, out: Path, images: list[Path], overwrite: bool) -> None:
    """Before anything is predicted (fault injection: each of these lost or hid a file): `out` must lie outside the
    project's own folders (predictions there would become labels or images), two images may not share a name (the
    second's files replaced the first's, both reported written) and, unless `overwrite`, no <stem>_prob.png or
    <stem>_mask.png may exist there already (a ground-truth <stem>_mask.png beside the photo was replaced)."""
    from medseg_gui.core.export import check_export_target

    check_export_target(project, out, "Predicted masks cannot be written into")
    first: dict[str, Path] = {}
    for path in images:
        other = first.setdefault(path.stem.lower(), path)
        if other is not path:
            raise MedsegError(f"{other} and {path} would write the same files ({path.stem}_prob.png, "
                              f"{path.stem}_mask.png): predict them into different --out folders.")
    targets = [out / f"{p.stem}_{kind}.png" for p in images for kind in ("prob", "mask")]
    for target in targets:  # even with --overwrite (a trial's scan_mask.png photo was replaced); samefile: links, case
        if target.exists() and any(p.exists() and target.samefile(p) for p in images):
            raise MedsegError(f"{target} is one of the images to predict and would be replaced by another's mask: "
                              "predict into another --out folder.")
    existing = [t for t in targets if t.exists()]
    if existing and not overwrite:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise MedsegError(f"{existing[0]} already exists{more}: choose another --out folder, or add --overwrite "
                          "to replace it.")


def load_segmenters(project: Project, cls: str, notes: list[str] | None = None) -> list[tuple[str, Any]]:
    """[(class, Segmenter)] from the outermost roi_class down to `cls`: what predicts `cls` on an image outside the
    project (two-stage); ModelError when `cls` has no usable model. A roi_class without one is left out with the
    classes around it, so the class inside it is not restricted, as README promises: one note in `notes` (else the
    log) says so (an outside tester's prediction stopped with an error instead)."""
    from medseg_gui import pipeline
    from medseg_gui.ml import store

    chain = [cls, *region_classes(project, cls)]
    segmenters, missing = [], None
    for name in reversed(chain):
        try:
            segmenters.append((name, store.load_segmenter(project.model_dir(name))))
        except ModelError as err:
            if name == cls:
                raise
            segmenters, missing = [], (chain[chain.index(name) - 1], err)  # the classes outside it restrict nothing
    if missing is not None:
        inner, err = missing
        skip(notes, f"{pipeline.region_note(project, inner)}, which has no usable model, so {inner} is not restricted "
                    f"on these images: {err}")
    return segmenters


def predict_external(segmenters: list[tuple[str, Any]], image: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """float32 HxW probabilities of the last class of `segmenters` (load_segmenters) on `image`: each class is
    predicted inside the previous one's thresholded prediction (0 outside it), the first inside the photo's
    estimated field of view when its model was trained inside regions of interest (core.fov)."""
    region, prob = None, None
    if segmenters and segmenters[0][1].metadata.get("trained_in_roi"):  # trained inside fields of view (core.fov)
        region = prediction_region(image)
    for _, segmenter in segmenters:
        prob = segmenter.predict(image, region)
        region = prob >= threshold
    return prob


def other_predictions(project: Project, cls: str) -> set[str]:
    """The images whose saved prediction of `cls` another model than the current one made, as provenance.json
    records it (core.interchange.manifest.stale_predictions)."""
    from medseg_gui.core.interchange.manifest import stale_predictions

    return stale_predictions(project, cls, (project.current_model_info(cls) or {}).get("id"))


def _model_rows(entries) -> list[dict]:
    """`medseg models` table rows, newest first; '*' marks the current model."""
    def score(x: float | None) -> str:
        return "–" if x is None else f"{x:.4f}"

    return [{"": "*" if e.current else "", "model": e.id, "trained": local_time(e.trained_at),
             "preset": f"{e.preset} ({e.regime})" if e.regime and e.regime != e.preset else e.preset,
             "images": "–" if e.train_images is None else f"{e.train_images}+{e.val_images or 0}",
             "val AUC": score(e.val_auc), "val Dice": score(e.val_dice),
             "kept": e.decision, "stored": "yes" if e.present else "removed"}
            for e in reversed(entries)]


def cmd_models(args: argparse.Namespace) -> int:
    """List the stored models of a class; --use ID makes one current (predictions are re-made only with
    --predict: predicting every image can take minutes, so it is a choice; a reminder counts the saved
    predictions another model made)."""
    from medseg_gui.ml import store

    project = open_project(args.project, args.cls)
    model_dir = project.model_dir(args.cls)
    if args.use is not None:
        from medseg_gui.core.lock import project_lock

        with project_lock(project.root):
            store.rollback(model_dir, args.use)
            print(f"Model {args.use} is now the current '{args.cls}' model.")
            if args.predict:
                done, total = predict_all(project, args.cls)[0], len(project.stems)
                print(f"Predicted {done} of {total} images with it{left_out(total - done)}.")
            elif other := other_predictions(project, args.cls):  # not those it made itself (provenance.json)
                print(f"{len(other)} of the saved predictions still come from another model; re-make them "
                      f"with `medseg predict {quote(str(args.project))} --class {quote(args.cls)}`.")
    entries = store.list_models(model_dir)
    if not entries:
        print(f"No trained models for class '{args.cls}' yet.")
        return 0
    print(format_table(_model_rows(entries), ["", "model", "trained", "preset", "images", "val AUC",
                                               "val Dice", "kept", "stored"]))
    print("images: training + validation. * = current. Only stored models can be used again (--use MODEL).")
    return 0

