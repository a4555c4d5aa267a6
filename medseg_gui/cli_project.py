"""`medseg import`, `export`, `classes`, `remove`, `info` and `demo`: the commands that make, change, describe and
export projects."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from shlex import quote

from medseg_gui.cli_common import csv_text, format_table, left_out, open_project, reading, warn
from medseg_gui.cli_progress import TerminalProgress
from medseg_gui.cli_train import do_train, train_config
from medseg_gui.core import overlays
from medseg_gui.core.atomic import atomic_write_bytes
from medseg_gui.core.errors import MedsegError, ProjectError
from medseg_gui.core.images import write_png
from medseg_gui.core.lesions import METRIC_KEYS, class_regime, shown_keys
from medseg_gui.core.project import Project
from medseg_gui.core.project_format import PROJECT_FILE


def _export_classes(project: Project, text: str) -> list[str]:
    """`--class` of export: one class, several separated by commas, or `all`."""
    if text == "all":
        return project.class_names
    classes = [text] if text in project.class_names else [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in classes if c not in project.class_names]
    if unknown or not classes:
        raise ProjectError(f"Class '{', '.join(unknown) or text}' is not in {project.root}; classes: "
                           f"{', '.join(project.class_names)}.")
    return classes


def _nothing_exported(project, classes: list[str], source: str, left_out: int) -> str:
    """Why an export wrote nothing: its `left_out` images (each warned of) were all it had, no image has what `source`
    takes, or a data folder is not a folder."""
    from medseg_gui.core.export import SOURCE_FILES

    odd = [f"{project.root / name} is not a folder" for name in ("labels", "predictions")
           if (project.root / name).exists() and not (project.root / name).is_dir()]
    names = ", ".join(map(repr, classes))
    why = (f"the {left_out} image(s) with a {SOURCE_FILES[source]} of {names} were left out (above)" if left_out
           else f"no image has a {SOURCE_FILES[source]} of {names}")  # a misfit label is not "no label" (review)
    return f"nothing exported: {why}" + "".join(f"; {o}" for o in odd)


def cmd_export(args: argparse.Namespace) -> int:
    from medseg_gui.core.interchange.formats import export_as
    from medseg_gui.core.interchange.hdf5 import check_hdf5_target, export_hdf5

    with reading(args.project, "export") as project:  # no `medseg` command changes it meanwhile
        classes = _export_classes(project, args.cls)
        if args.hdf5:
            check_hdf5_target(project, Path(args.hdf5))  # before anything is written (the rule --out follows)
        skipped: list[str] = []
        with TerminalProgress() as bar:
            done = export_as(args.format, project, classes, Path(args.out), source=args.source,
                             threshold=args.threshold, skipped=skipped, progress=bar.counter("exporting"))
        warn(skipped)
        if not done.count:
            warn([_nothing_exported(project, classes, args.source, len(skipped))])
        print(f"{done.summary}{left_out(len(skipped))}")
        if args.hdf5:
            skipped = []
            export_hdf5(project, classes[0], Path(args.hdf5), skipped=skipped)
            warn(skipped)
            print(f"Wrote {args.hdf5}{left_out(len(skipped))}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from medseg_gui.core.importers import import_dataset
    from medseg_gui.core.mask_files import resized_note

    if args.project is None:
        return _import_into(args)
    resized: list[str] = []
    refused: list[str] = []  # mask files left out (each with its own `medseg: warning:` line, logged by the import)
    project = import_dataset(Path(args.src), Path(args.project), args.layout, cls=args.cls, masks=args.masks,
                             roi=args.roi, resized=resized, left_out=refused)
    shown = [args.cls] if args.layout != "labelme" else [c for c in project.class_names if project.labelled_stems(c)]
    labelled = ", ".join(f"{len(project.labelled_stems(c))} with '{c}' labels" for c in shown) or "no labels"
    with_roi = sum(1 for stem in project.stems if project.roi_path(stem).is_file())
    labelled += f", {with_roi} with a region of interest" if with_roi else ""
    labelled += f"; {resized_note(resized)}" if resized else ""
    print(f"Imported {len(project.stems)} images ({labelled}) into {project.root}")
    rois = [name for name in refused if name.endswith(" (region of interest)")]
    nothing: list[str] = []  # named folders none of whose masks came in, though some were found (rc 1, as for cp)
    labels = len(project.labelled_stems(args.cls))
    for folder, count, what, lost in ((args.masks, labels, f"masks ('{args.cls}' labels)", len(refused) - len(rois)),
                                      (args.roi, with_roi, "regions of interest", len(rois))):
        if folder is not None and args.layout == "folder" and not count:  # an outside tester read past "(0 with …)"
            if lost:  # found but left out, each warned of with why
                nothing.append(none_imported(what, folder, lost))
            else:
                print(f"No {what} were imported: none of the files in {folder} is a readable mask named after an "
                      "image (NAME.png or NAME_anything.png for the image NAME).")
    src = Path(args.src)
    if args.masks is None and (src / PROJECT_FILE).is_file():  # a folder the app opened is a project in place
        print(f"medseg: note: {src} is itself a medseg project: its labels (in {src / 'labels'}/<class>/) were not "
              f"imported; use it as the project directly, or import them with --masks {src / 'labels'}/<class> "
              "--class <class>.", file=sys.stderr)
    if nothing:
        raise MedsegError(f"{'; '.join(nothing)}; the project was made with its {len(project.stems)} images.")
    return 0


def _import_into(args: argparse.Namespace) -> int:
    """`medseg import PROJECT --masks DIR [--roi DIR] [--replace]`: masks into an existing project, as the window's
    File → Import masks… does (core.mask_import), under the project's lock."""
    from medseg_gui.core.lock import project_lock
    from medseg_gui.core.mask_import import ROI, import_masks

    for folder in (args.masks, args.roi):
        if folder is not None and not folder.is_dir():
            raise ProjectError(f"Cannot import: {folder} is not a folder.")
    project = open_project(args.src, args.cls if args.masks is not None else None, new_class=True)
    nothing: list[str] = []  # as cmd_import
    with project_lock(project.root):
        project = open_project(args.src)  # what the previous writer left, now that nobody else writes
        for folder, cls in ((args.masks, args.cls), (args.roi, ROI)):
            if folder is not None:
                with TerminalProgress() as bar:
                    result = import_masks(project, folder, cls, replace=args.replace and cls is not ROI,
                                          progress=bar.counter("importing"))
                warn(result.failed)
                print(result.summary(folder))
                if result.failed and not result.imported:
                    what = "regions of interest" if cls is ROI else f"masks ('{cls}' labels)"
                    nothing.append(none_imported(what, folder, len(result.failed)))
                if result.kept and cls is not ROI:
                    print("medseg: note: --replace replaces the labels kept (each first copied to the project's "
                          "replaced-labels/ folder).", file=sys.stderr)
    if nothing:
        raise MedsegError("; ".join(nothing) + ".")
    return 0


def none_imported(what: str, folder: Path, lost: int) -> str:
    """The error of an import none of whose `what` from `folder` came in, `lost` of them left out (warned above)."""
    return f"No {what} were imported from {folder}: {lost} left out (listed above)"


def cmd_classes(args: argparse.Namespace) -> int:
    from medseg_gui.core.lock import project_lock

    project = open_project(args.project)
    roi_changes = [(cls, roi) for cls, roi in args.set_roi] + [(cls, None) for cls in args.clear_roi]
    if roi_changes or args.add or args.rename or args.recolour or args.delete:
        with project_lock(project.root):
            project = open_project(args.project)  # what the previous writer left, now that nobody else writes
            try:
                _change_classes(project, args, roi_changes)
            except ProjectError as err:
                if str(project.root) in str(err):
                    raise
                raise ProjectError(f"{project.root}: {err}") from None
    rows = [{"class": c.name, "colour": "{},{},{}".format(*c.color), "inside": c.roi_class or "(whole image)"}
            for c in project.classes]
    print(format_table(rows, ["class", "colour", "inside"]))
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    """`medseg remove PROJECT STEM [STEM …]`: take images out of the project as Edit → Remove image from project…
    does (core.remove_images: every file moved into .removed/, nothing deleted), under the project's lock;
    `--restore IMAGE_OR_FOLDER` brings one back (core.restore_images), `--list-removed` lists them."""
    from medseg_gui.core.lock import project_lock
    from medseg_gui.core.remove_images import remove_images, removed_before
    from medseg_gui.core.restore_images import removed_images, restore_removed

    project = open_project(args.project)
    if args.list_removed:
        rows = [{"image": r.stem, "removed": r.removed_at, "labels": r.labels, "folder": r.folder.name}
                for r in removed_images(project.root)]
        print(format_table(rows, ["image", "removed", "labels", "folder"]) if rows else
              f"No image was removed from {project.root}.")
        return 0
    if args.restore is not None:
        with project_lock(project.root):
            project = _finished_open(args.project)
            print(restore_removed(project, args.restore).summary())
        return 0
    with project_lock(project.root):
        project = _finished_open(args.project)  # what the previous writer left, now that nobody else writes
        gone = {s: folder for s in args.stems if s not in project.stems and (folder := removed_before(project.root, s))}
        unknown = [s for s in args.stems if s not in project.stems and s not in gone]
        if unknown:
            some = ", ".join(project.stems[:8]) + (", …" if len(project.stems) > 8 else "")
            raise ProjectError(f"{project.root} has no image called {', '.join(unknown)}; nothing was removed. Its "
                               f"images: {some or 'none'}.")
        for stem, folder in gone.items():  # a script run again: done already, not an error
            print(f"'{stem}' was removed before: its files are in {folder}.")
        todo = [s for s in args.stems if s not in gone]
        removed = remove_images(project, todo) if todo else None
    if removed is None:
        return 0
    if removed.images:
        print(removed.moved_text())
    if removed.problem:
        raise ProjectError(removed.problem)
    return 0


def _finished_open(path: Path) -> Project:
    """The project at `path` (under its lock) with a removal or restore that was cut short finished, as the window
    does at opening (core.removal_recovery), said on stderr."""
    from medseg_gui.core.removal_recovery import finish_interrupted

    project = open_project(path)
    recovered = finish_interrupted(project)
    if recovered:
        print(f"medseg: note: {recovered}", file=sys.stderr)
    return project


def _change_classes(project: Project, args: argparse.Namespace, roi_changes: list[tuple[str, str | None]]) -> None:
    """The changes `medseg classes` asks for: add, rename, recolour, then the regions, then delete (so that
    `--add cervix --set-roi lesion=cervix` and `--delete cervix --clear-roi lesion` work in one call)."""
    from medseg_gui.core.classes import delete_class, free_color, recolour_class, rename_class
    from medseg_gui.core.regions import restriction_text

    if args.add:
        project.add_class(args.add, args.colour or free_color(project))
        print(f"Added the class '{args.add}'.")
    if args.rename:
        rename_class(project, *args.rename)
        print("Renamed '{}' to '{}' (its labels, predictions and models moved with it).".format(*args.rename))
    if args.recolour:
        recolour_class(project, *args.recolour)
        print("New colour for '{}': {},{},{}.".format(args.recolour[0], *args.recolour[1]))
    for cls, roi_class in roi_changes:
        project.set_roi_class(cls, roi_class)
        print(f"{restriction_text(cls, roi_class)}: `medseg train {quote(str(args.project))} --class {quote(cls)}` "
              "trains it that way.")
    if args.delete:
        backup = delete_class(project, args.delete)
        kept = ", ".join(p.name for p in sorted(backup.iterdir())) if backup is not None else ""
        print(f"Deleted the class '{args.delete}'. " + (f"Its files ({kept}) were moved to {backup}; to restore it, "
              "add the class again and move them back." if kept else "It had no labels, predictions or models."))


def write_demo_outputs(project: Project, cls: str, out: Path, threshold: float = 0.5) -> list[dict]:
    """Masks, overlays and report.csv for every image of `cls`; returns the report rows."""
    from medseg_gui.core.export import export_masks
    from medseg_gui.core.lesions import per_image_metrics
    from medseg_gui.core.masks import scored_region

    export_masks(project, cls, out / "masks" / cls, source="predictions", threshold=threshold, skipped=[])
    color = next(c.color for c in project.classes if c.name == cls)
    rows = []
    for stem in project.stems:
        prob = project.load_prediction(cls, stem)
        if prob is None:
            continue
        pred = prob >= threshold
        label, roi = project.load_label_pixels(cls, stem), project.load_roi(stem)
        layers = [overlays.contour_layer(pred, color)]
        row: dict = {"image": stem, "class": cls, "labelled": label is not None}
        if label is not None:  # a sparse label counts its annotated pixels only
            scored = scored_region(roi, label.annotated)
            layers.insert(0, overlays.fp_fn_layer(pred, label.mask, scored))
            row.update(per_image_metrics(prob, label.mask, scored, threshold=threshold))
        write_png(out / "overlays" / f"{stem}.png", overlays.composite(project.load_image(stem), *layers))
        rows.append(row)
    report = csv_text(rows, ["image", "class", "labelled", *METRIC_KEYS])
    atomic_write_bytes(out / "report.csv", report.encode("utf-8"))
    return rows


def cmd_info(args: argparse.Namespace) -> int:
    from medseg_gui import info

    print(info.format_rows(info.cheap_rows() + info.keras_rows(args.precision, chosen_by="with --precision")))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from medseg_gui import pipeline
    from medseg_gui.core.demo import DEMOS, prepare_demo_output

    out, which = Path(args.out), args.which or "vessel"
    proj_dir = prepare_demo_output(out, which)  # refuses a folder the demo did not make
    project = Project.open(proj_dir)
    cls = DEMOS[which].cls
    budget = f"{args.minutes:g} min" if args.epochs is None else f"{args.epochs} epoch{'s' if args.epochs > 1 else ''}"
    print(f"Demo project copied to {proj_dir}; training '{cls}' for {budget} ({args.preset} preset).")
    started = time.monotonic()
    do_train(project, cls, train_config(args))
    with TerminalProgress() as bar:
        pipeline.predict_class(project, cls, progress=bar.predict)
    rows = write_demo_outputs(project, cls, out)  # report.csv has every metric; the table, as `medseg evaluate`'s,
    regime = class_regime(cls, project.current_model_info(cls))  # no lesion counts for vessels (trial: "lesions 4")
    print(format_table(rows, ["image", "labelled", *shown_keys(regime)]))
    print(f"Done in {time.monotonic() - started:.0f} s. Predicted masks: {out / 'masks' / cls}  "
          f"overlays: {out / 'overlays'}  report: {out / 'report.csv'}")
    print("Note: AUC on labelled images includes images the model was trained on; unlabelled ones have none.")
    return 0

