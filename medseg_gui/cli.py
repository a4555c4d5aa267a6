"""medseg: train, predict, evaluate and export segmentation projects from the command line (no window needed).

Never imports Qt. Every user-caused error (a MedsegError, or an OSError such as a full disk) is printed as one line
`medseg: error: ...` on stderr, exit status 1; bad arguments exit 2. Images that cannot be read are skipped and
listed as `medseg: warning: ...` lines.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

from medseg_gui import __version__
from medseg_gui.cli_args import Parser, positive_int, positive_number, probability
from medseg_gui.core import overlays
from medseg_gui.core.atomic import atomic_write_bytes
from medseg_gui.core.errors import ImageReadError, MedsegError, ProjectError
from medseg_gui.core.images import read_image, write_png
from medseg_gui.core.lesions import METRIC_KEYS
from medseg_gui.core.project import Project
from medseg_gui.core.project_format import metrics_to_json
from medseg_gui.logs import setup_logging

log = logging.getLogger(__name__)
CELL_FORMATS = {"lesions": "{:.4g}", "found": "{:.4g}", "false_lesions": "{:.4g}", "hd95": "{:.2f}", "assd": "{:.2f}"}
"""How a float column prints when it is not a 0–1 score (counts, distances in pixels); others get 4 decimals."""
EVALUATE_NOTE = (
    "MEAN: mean over images, undefined values (nan) skipped. POOLED: pixel metrics over all ROI pixels together.\n"
    "lesions: 8-connected truth components; found: matched one-to-one by a predicted component with IoU >= 0.5;\n"
    "recall = found / lesions; false_lesions: predicted components touching no truth pixel;\n"
    "hd95, assd: 95th percentile and mean of the boundary distances, in pixels. Lesion metrics are per image only."
)


def _mmss(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


class TerminalProgress:
    """Progress on stderr for training (TrainProgress) and prediction (done, total, stem).

    On a terminal: one line redrawn in place (carriage return). Elsewhere (a log file, a pipe): a plain line every
    `log_every_s` seconds and the final one, so logs hold readable lines instead of one long line of updates.
    """

    def __init__(self, stream=None, log_every_s: float = 5.0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty and isatty())
        self.every_s = 0.2 if self.tty else log_every_s
        self.last: float | None = None
        self.open_line = False  # terminal: a redrawn line is showing without its newline
        self.unwritten = ""  # log: the latest report, when it fell between two written lines

    def _line(self, text: str, final: bool = False) -> None:
        now = time.monotonic()
        if not (final or self.last is None or now - self.last >= self.every_s):
            self.unwritten = text
            return
        self.last, self.unwritten = now, ""
        if self.tty:
            self.stream.write("\r" + text[:110].ljust(110) + ("\n" if final else ""))
            self.open_line = not final
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def train(self, p) -> None:
        frac = p.fraction
        bar = "#" * int(30 * frac)
        val = f" · val AUC {p.val_auc:.4f}" if p.val_auc is not None else ""
        loss = f"{p.loss:.4f}" if np.isfinite(p.loss) else "–"
        if p.step == 0:
            self._line(p.message or "Preparing data and building the network…")
            return
        clock = f"{_mmss(p.elapsed_s)} of {_mmss(p.elapsed_s + p.eta_s)}"
        self._line(f"[{bar:<30}] {clock} · step {p.step} · epoch {p.epoch + 1} · loss {loss}{val}")

    def predict(self, done: int, total: int, stem: str) -> None:
        self._line(f"predicting {done}/{total} {stem}", final=done == total)

    def done(self) -> None:
        """End the progress output: close the terminal line, or write the last report a log has not seen."""
        if self.open_line:
            self.stream.write("\n")
        elif self.unwritten:
            self.stream.write(self.unwritten + "\n")
        self.open_line, self.unwritten = False, ""
        self.stream.flush()


def _train_config(args: argparse.Namespace):
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


def _open(path: Path, cls: str | None = None) -> Project:
    project = Project.open(path)
    if cls is not None and cls not in project.class_names:
        raise ProjectError(f"Class '{cls}' is not in {path}; classes: {', '.join(project.class_names)}.")
    return project


def _format_table(rows: list[dict], columns: list[str]) -> str:
    def cell(c: str, v) -> str:
        return CELL_FORMATS.get(c, "{:.4f}").format(v) if isinstance(v, float) else str(v)

    widths = [max(len(c), *(len(cell(c, r.get(c, ""))) for r in rows)) for c in columns]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(cell(c, r.get(c, "")).ljust(w) for c, w in zip(columns, widths)) for r in rows]
    return "\n".join(lines)


COMMAND_WHAT = {"demo": "The demo", "import": "Import", "train": "Training", "predict": "Prediction",
                "evaluate": "Evaluation", "export": "Export", "classes": "Changing the classes",
                "models": "Changing the current model"}


def _warn(messages) -> None:
    """One `medseg: warning:` line per skipped image (stderr, so --json output stays clean)."""
    for message in messages:
        print(f"medseg: warning: {message}", file=sys.stderr)


def _left_out(n: int) -> str:
    return f" ({n} left out, listed above)" if n else ""


def _os_error_line(command: str, err: OSError) -> str:
    """'<what failed> (<path>): <reason>' for an OSError nobody turned into a clearer MedsegError."""
    where = f" ({err.filename})" if err.filename else ""
    return f"{COMMAND_WHAT.get(command, command)} failed{where}: {err.strerror or err}"


def _say_region(project: Project, cls: str) -> None:
    """One line 'lesion is restricted to cervix' for a two-stage class (nothing otherwise)."""
    from medseg_gui import pipeline

    note = pipeline.region_note(project, cls)
    if note is not None:
        print(f"{note} (trained, predicted and scored only inside it).")


def _do_train(project: Project, cls: str, config) -> None:
    from medseg_gui import pipeline

    _say_region(project, cls)
    bar = TerminalProgress()
    outcome = pipeline.train_class(project, cls, config, progress=bar.train)
    bar.done()
    _warn(outcome.skipped)
    res = outcome.result
    print(f"Trained {res.steps} steps in {res.seconds:.0f} s on {len(outcome.stems)} labelled images"
          f"{_left_out(len(outcome.skipped))}.")
    print(outcome.summary())


def cmd_train(args: argparse.Namespace) -> int:
    from medseg_gui.core.lock import project_lock

    project = _open(args.project, args.cls)
    with project_lock(project.root):  # a window editing the project (or another command) refuses us clearly
        _do_train(project, args.cls, _train_config(args))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    project = _open(args.project, args.cls)
    _say_region(project, args.cls)
    if not args.images:
        from medseg_gui.core.lock import project_lock

        with project_lock(project.root):
            return _predict_project(project, args)
    return _predict_files(project, args)


def _predict_project(project: Project, args: argparse.Namespace) -> int:
    """`medseg predict PROJECT`: every image of the project, predictions and metrics saved into it."""
    from medseg_gui import pipeline

    skipped: list[str] = []
    metrics = pipeline.predict_class(project, args.cls, progress=TerminalProgress().predict, skipped=skipped)
    _warn(skipped)
    not_predicted = sum(" not predicted: " in m for m in skipped)
    if args.out is not None:
        from medseg_gui.core.export import export_masks

        not_written: list[str] = []
        paths = export_masks(project, args.cls, args.out, source="predictions", threshold=args.threshold,
                             skipped=not_written)
        _warn(not_written)
        print(f"Wrote {len(paths)} masks to {args.out}{_left_out(len(not_written))}")
    print(f"Predicted {len(project.stems) - not_predicted} of {len(project.stems)} images"
          f"{_left_out(not_predicted)}; metrics for {len(metrics)} labelled images.")
    return 0


def _predict_files(project: Project, args: argparse.Namespace) -> int:
    """`medseg predict PROJECT IMAGE...`: images outside the project, masks written to --out (nothing saved in it)."""
    from medseg_gui import pipeline

    segmenters = pipeline.load_segmenters(project, args.cls)  # two-stage: the roi_class's model(s) first
    out = Path(args.out) if args.out else Path.cwd()
    failed = []
    for path in map(Path, args.images):
        try:
            image = read_image(path)
        except MedsegError as err:
            failed.append(f"{path.name} not predicted: {err}")
            continue
        prob = pipeline.predict_external(segmenters, image, args.threshold)
        write_png(out / f"{path.stem}_prob.png", np.round(prob * 65535).astype(np.uint16))
        write_png(out / f"{path.stem}_mask.png", ((prob >= args.threshold) * 255).astype(np.uint8))
        print(f"{path.name}: wrote {path.stem}_prob.png and {path.stem}_mask.png to {out}")
    if len(failed) == len(args.images):
        raise ImageReadError(failed[0] if len(failed) == 1 else f"None of the {len(failed)} images could be read; "
                             f"first: {failed[0]}")
    _warn(failed)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from medseg_gui import pipeline

    report = pipeline.evaluate_class(_open(args.project, args.cls), args.cls, threshold=args.threshold)
    _warn(report.skipped)
    if args.json:
        data = {"class": report.cls, "images": report.per_image, "mean": report.mean, "pooled": report.pooled}
        print(json.dumps(metrics_to_json(data), indent=2))  # NaN (undefined) → null
        return 0
    rows = [{"image": s, **m} for s, m in report.per_image.items()]
    rows += [{"image": "MEAN", **report.mean}, {"image": "POOLED", **report.pooled}]
    print(_format_table(rows, ["image", *METRIC_KEYS]))
    print(EVALUATE_NOTE)
    return 0


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


def cmd_export(args: argparse.Namespace) -> int:
    from medseg_gui.core.export import export_hdf5
    from medseg_gui.core.interchange.formats import export_as

    project = _open(args.project)
    classes = _export_classes(project, args.cls)
    skipped: list[str] = []
    done = export_as(args.format, project, classes, Path(args.out), source=args.source, threshold=args.threshold,
                     skipped=skipped)
    _warn(skipped)
    print(f"{done.summary}{_left_out(len(skipped))}")
    if args.hdf5:
        skipped = []
        export_hdf5(project, classes[0], Path(args.hdf5), skipped=skipped)
        _warn(skipped)
        print(f"Wrote {args.hdf5}{_left_out(len(skipped))}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from medseg_gui.core.importers import import_dataset

    project = import_dataset(Path(args.src), Path(args.project), args.layout, cls=args.cls, masks=args.masks)
    shown = [args.cls] if args.layout != "labelme" else [c for c in project.class_names if project.labelled_stems(c)]
    labelled = ", ".join(f"{len(project.labelled_stems(c))} with '{c}' labels" for c in shown) or "no labels"
    print(f"Imported {len(project.stems)} images ({labelled}) into {project.root}")
    return 0


def cmd_classes(args: argparse.Namespace) -> int:
    from medseg_gui.core.lock import project_lock

    project = _open(args.project)
    changes = [(cls, roi) for cls, roi in args.set_roi] + [(cls, None) for cls in args.clear_roi]
    if changes:
        with project_lock(project.root):
            for cls, roi_class in changes:
                project.set_roi_class(cls, roi_class)
    rows = [{"class": c.name, "colour": "{},{},{}".format(*c.color), "inside": c.roi_class or "(whole image)"}
            for c in project.classes]
    print(_format_table(rows, ["class", "colour", "inside"]))
    return 0


def _model_rows(entries) -> list[dict]:
    """`medseg models` table rows, newest first; '*' marks the current model."""
    def score(x: float | None) -> str:
        return "–" if x is None else f"{x:.4f}"

    return [{"": "*" if e.current else "", "model": e.id, "trained (UTC)": e.trained_at[:16].replace("T", " "),
             "preset": f"{e.preset} ({e.regime})" if e.regime and e.regime != e.preset else e.preset,
             "images": "–" if e.train_images is None else f"{e.train_images}+{e.val_images or 0}",
             "val AUC": score(e.val_auc), "val Dice": score(e.val_dice),
             "kept": {True: "kept", False: "rejected", None: "?"}[e.kept], "stored": "yes" if e.present else "removed"}
            for e in reversed(entries)]


def cmd_models(args: argparse.Namespace) -> int:
    """List the stored models of a class; --use ID makes one current again (predictions are re-made only with
    --predict: predicting every image can take minutes, so it is a choice, and the reminder is printed)."""
    from medseg_gui.ml import store

    if args.predict and args.use is None:
        raise MedsegError("--predict re-predicts with the model chosen by --use MODEL; give both (or run "
                          "`medseg predict`).")
    project = _open(args.project, args.cls)
    model_dir = project.model_dir(args.cls)
    if args.use is not None:
        from medseg_gui import pipeline
        from medseg_gui.core.lock import project_lock

        with project_lock(project.root):
            store.rollback(model_dir, args.use)
            print(f"Model {args.use} is the current '{args.cls}' model again.")
            if args.predict:
                skipped: list[str] = []
                pipeline.predict_class(project, args.cls, progress=TerminalProgress().predict, skipped=skipped)
                _warn(skipped)
                print(f"Predicted {len(project.stems)} images with it{_left_out(len(skipped))}.")
            else:
                print(f"The saved predictions still come from the model used before; re-make them with "
                      f"`medseg predict {args.project} --class {args.cls}`.")
    entries = store.list_models(model_dir)
    if not entries:
        print(f"No trained models for class '{args.cls}' yet.")
        return 0
    print(_format_table(_model_rows(entries), ["", "model", "trained (UTC)", "preset", "images", "val AUC",
                                               "val Dice", "kept", "stored"]))
    print("images: training + validation. * = current. Only stored models can be used again (--use MODEL).")
    return 0


def _class_pair(text: str) -> tuple[str, str]:
    """'lesion=cervix' → ('lesion', 'cervix')."""
    cls, sep, roi_class = text.partition("=")
    if not sep or not cls or not roi_class:
        raise argparse.ArgumentTypeError(f"expected CLASS=ROI_CLASS (e.g. lesion=cervix), got '{text}'")
    return cls, roi_class


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
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=["image", "class", "labelled", *METRIC_KEYS])
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(out / "report.csv", text.getvalue().encode("utf-8"))
    return rows


def cmd_info(args: argparse.Namespace) -> int:
    from medseg_gui import info

    print(info.format_rows(info.cheap_rows() + info.keras_rows(args.precision)))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from medseg_gui import pipeline
    from medseg_gui.core.demo import DEMOS, prepare_demo_output

    out = Path(args.out)
    proj_dir = prepare_demo_output(out, args.which)  # refuses a folder the demo did not make
    project = Project.open(proj_dir)
    cls = DEMOS[args.which].cls
    print(f"Demo project copied to {proj_dir}; training '{cls}' for {args.minutes:g} min ({args.preset} preset).")
    started = time.monotonic()
    _do_train(project, cls, _train_config(args))
    pipeline.predict_class(project, cls, progress=TerminalProgress().predict)
    rows = write_demo_outputs(project, cls, out)
    print(_format_table(rows, ["image", "labelled", *METRIC_KEYS]))
    print(f"Done in {time.monotonic() - started:.0f} s. Masks: {out / 'masks' / cls}  overlays: {out / 'overlays'}  "
          f"report: {out / 'report.csv'}")
    print("Note: AUC on labelled images includes images the model was trained on; unlabelled ones have none.")
    return 0


def _add_train_args(p: argparse.ArgumentParser, minutes: float) -> None:
    from medseg_gui.ml.config import preset_names

    p.add_argument("--preset", default="default", choices=preset_names(),
                   help="network recipe: default (recommended: reads from the labels whether they are thin vessels or "
                   "lesions and picks the vessels or lesions recipe and working scale), or the reference U-Nets "
                   "cvxtz / fxfviolet")
    p.add_argument("--init", default="auto", choices=["auto", "current", "scratch", "pretrained"],
                   help="where training starts: auto (the current model when it fits, else the shipped pretrained "
                   "lesion start when it fits, else scratch), current, scratch, or pretrained (default %(default)s)")
    p.add_argument("--precision", default="auto", choices=["auto", "float32", "bfloat16"],
                   help="auto: bfloat16 on CPUs/GPUs that compute it natively, float32 elsewhere")
    p.add_argument("--minutes", type=positive_number, default=minutes,
                   help="wall-clock training budget (default %(default)s)")
    p.add_argument("--epochs", type=positive_int, default=None, help="train for N epochs instead of a time budget")
    p.add_argument("--seed", type=int, default=0)
    for name in ("--max-steps", "--steps-per-epoch", "--patch-size", "--batch-size", "--base-filters"):
        p.add_argument(name, type=positive_int, default=None, help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    from medseg_gui.core.demo import DEMOS
    from medseg_gui.core.importers import LAYOUTS

    parser = Parser(prog="medseg", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--version", action="version", version=f"medseg {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="train on the bundled demo, predict, write masks, overlays and report.csv")
    p.add_argument("--out", required=True, type=Path, help="folder for the project copy, masks, overlays, report.csv")
    p.add_argument("--which", choices=tuple(DEMOS), default="vessel",
                   help="vessel: retinal photographs (CHASE_DB1); lesion: colonoscopy polyps (PolypGen)")
    p.add_argument("--lesion", dest="which", action="store_const", const="lesion", help="same as --which lesion")
    _add_train_args(p, minutes=1.0)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("import", help="create a project from a DRIVE / CHASE_DB1 / STARE folder, a plain folder or "
                       "a labelme folder (one JSON per image; its labels become classes)")
    p.add_argument("src", type=Path)
    p.add_argument("project", type=Path)
    p.add_argument("--layout", required=True, choices=LAYOUTS)
    p.add_argument("--class", dest="cls", default="vessel")
    p.add_argument("--masks", type=Path, default=None, help="folder of masks for --layout folder")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("classes", help="list the classes; --set-roi lesion=cervix makes a class two-stage")
    p.add_argument("project", type=Path)
    p.add_argument("--set-roi", action="append", default=[], type=_class_pair, metavar="CLASS=ROI_CLASS",
                   help="train, predict and score CLASS only inside ROI_CLASS (its label, else its prediction)")
    p.add_argument("--clear-roi", action="append", default=[], metavar="CLASS",
                   help="CLASS again covers the whole image (its region of interest only)")
    p.set_defaults(func=cmd_classes)

    p = sub.add_parser("train", help="train the class's model on all labelled images")
    p.add_argument("project", type=Path)
    p.add_argument("--class", dest="cls", required=True)
    _add_train_args(p, minutes=3.0)
    p.set_defaults(func=cmd_train)

    for name, func, text in (
        ("predict", cmd_predict, "predict project images (default) or external IMAGE files"),
        ("evaluate", cmd_evaluate, "per-image, mean and pooled AUC, Dice, IoU, Se, Sp, lesion recall, false lesions, "
                                   "HD95 and ASSD inside the ROI"),
        ("export", cmd_export, "export masks as 0/255 PNG, an nnU-Net dataset, COCO JSON or HDF5, with a manifest"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("project", type=Path)
        p.add_argument("--class", dest="cls", required=True)
        p.add_argument("--threshold", type=probability, default=0.5, help="mask threshold, 0 to 1 (default 0.5)")
        p.set_defaults(func=func)
        if name == "predict":
            p.add_argument("images", nargs="*", type=Path)
            p.add_argument("--out", type=Path, default=None)
        elif name == "evaluate":
            p.add_argument("--json", action="store_true")
        else:
            from medseg_gui.core.interchange.formats import FORMATS

            p.add_argument("--out", type=Path, required=True, help="folder to write into (outside the project)")
            p.add_argument("--source", choices=("auto", "labels", "predictions"), default="auto",
                           help="auto: your label where drawn, else the prediction (default); the manifest.json "
                           "written with every export says which each mask is")
            p.add_argument("--format", choices=tuple(FORMATS), default="png",
                           help="; ".join(f"{k}: {v}" for k, v in FORMATS.items()) + " (default png). --class may "
                           "name several classes (lesion,vessel) or all")
            p.add_argument("--hdf5", type=Path, default=None, help="also write this HDF5 file (first class)")

    p = sub.add_parser("models", help="list the class's trained models (kept and rejected); --use MODEL rolls back")
    p.add_argument("project", type=Path)
    p.add_argument("--class", dest="cls", required=True)
    p.add_argument("--use", metavar="MODEL", default=None, help="make this stored model current again")
    p.add_argument("--predict", action="store_true", help="with --use: re-predict every image with it now")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("info", help="versions, compute device, precision, and the settings, data and log paths")
    p.add_argument("--precision", default="auto", choices=["auto", "float32", "bfloat16"],
                   help="report what this --precision of train/demo would use (default %(default)s)")
    p.set_defaults(func=cmd_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "predict" and not any(e.startswith("-") for e in extra):
        args.images += [Path(e) for e in extra]  # IMAGEs given after --class (argparse stops at the option)
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    setup_logging("medseg", logging.INFO if args.verbose else logging.WARNING, "%(levelname)s %(message)s")
    log.info("medseg %s: %s", __version__, " ".join(sys.argv[1:] if argv is None else argv))
    try:
        return args.func(args)
    except MedsegError as err:
        print(f"medseg: error: {err}", file=sys.stderr)
        return 1
    except OSError as err:  # disk full, read-only folder, no permission … where no clearer message was made
        print(f"medseg: error: {_os_error_line(args.command, err)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nmedseg: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
