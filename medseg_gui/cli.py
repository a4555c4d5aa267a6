"""medseg: train, predict, evaluate and export segmentation projects from the command line (no window needed).

Never imports Qt. Every user-caused error (a MedsegError, or an OSError such as a full disk) is printed as one line
`medseg: error: ...` on stderr, exit status 1; bad arguments exit 2. Images that cannot be read are skipped and
listed as `medseg: warning: ...` lines. Ctrl+C (SIGINT) and SIGTERM (`timeout`, cron, systemd) end a command the same
clean way (lock released, no half-written file): exit status 130 and 143.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

try:  # Ctrl+C while these load (about 0.4 s) ends as any interrupt does, not with a traceback (trial)
    from medseg_gui import __version__
    from medseg_gui.cli_args import ColourOf, Parser, colour, positive_int, positive_number, probability, usage_problem
    from medseg_gui.cli_common import Terminated, os_error_line, terminate_on_sigterm
    from medseg_gui.cli_project import cmd_classes, cmd_demo, cmd_export, cmd_import, cmd_info, cmd_remove
    from medseg_gui.cli_evaluate import cmd_evaluate
    from medseg_gui.cli_progress import end_stop_line
    from medseg_gui.cli_train import cmd_models, cmd_predict, cmd_train
    from medseg_gui.core.errors import MedsegError
    from medseg_gui.logs import CommandLineFormatter, setup_logging
except KeyboardInterrupt:
    print("medseg: interrupted", file=sys.stderr)
    raise SystemExit(130) from None

log = logging.getLogger(__name__)


def _class_pair(text: str) -> tuple[str, str]:
    """'lesion=cervix' → ('lesion', 'cervix')."""
    cls, sep, roi_class = text.partition("=")
    if not sep or not cls or not roi_class:
        raise argparse.ArgumentTypeError(f"expected CLASS=ROI_CLASS (e.g. lesion=cervix), got '{text}'")
    return cls, roi_class


def _add_train_args(p: argparse.ArgumentParser, minutes: float) -> None:
    from medseg_gui.ml.config import preset_names

    p.add_argument("--preset", default="default", choices=preset_names(),
                   help="network recipe: default (recommended: reads from the labels whether they are thin vessels or "
                   "lesions and picks the vessels or lesions recipe and working scale), or cvxtz / fxfviolet, "
                   "reproductions of two published U-Nets, for comparison")
    p.add_argument("--init", default="auto", choices=["auto", "current", "scratch", "pretrained"],
                   help="where training starts: auto (the current model when it fits, else the shipped pretrained "
                   "start of the recipe's kind, vessels or lesions (with --preset default: the kind the labels "
                   "show), when it fits, else scratch), current, scratch, or pretrained (default %(default)s)")
    p.add_argument("--precision", default="auto", choices=["auto", "float32", "bfloat16"],
                   help="auto: bfloat16 on CPUs/GPUs that compute it natively, float32 elsewhere")
    budget = p.add_mutually_exclusive_group()  # one or the other: both ran N epochs, the minutes ignored (trial)
    budget.add_argument("--minutes", type=positive_number, default=minutes,
                        help="wall-clock training budget (default %(default)s)")
    budget.add_argument("--epochs", type=positive_int, default=None,
                        help="train for N epochs instead of a time budget")
    p.add_argument("--seed", type=int, default=0)
    for name in ("--max-steps", "--steps-per-epoch", "--patch-size", "--batch-size", "--base-filters"):
        p.add_argument(name, type=positive_int, default=None, help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    from medseg_gui.core.demo import DEMOS
    from medseg_gui.core.importers import LAYOUTS

    parser = Parser(prog="medseg", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log what each step does on stderr")
    parser.add_argument("--version", action="version", version=f"medseg {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="train on the bundled demo, predict, write masks, overlays and report.csv")
    p.add_argument("--out", required=True, type=Path, help="folder for the project copy, masks, overlays, report.csv")
    # one or the other (--which vessel --lesion ran the lesion demo: trial); default None, as argparse takes a value
    # that is the default itself for none given
    which = p.add_mutually_exclusive_group()
    which.add_argument("--which", choices=tuple(DEMOS), default=None,
                       help="vessel (default): retinal photographs (CHASE_DB1); lesion: colonoscopy polyps (PolypGen)")
    which.add_argument("--lesion", dest="which", action="store_const", const="lesion", help="same as --which lesion")
    _add_train_args(p, minutes=1.0)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("import", help="create a project from a DRIVE / CHASE_DB1 / STARE folder, a plain folder or "
                       "a labelme folder (one JSON per image; its labels become classes); with one folder, a project, "
                       "import --masks / --roi into it",
                       usage="medseg import SRC PROJECT --layout LAYOUT [--class CLS] [--masks DIR] [--roi DIR]\n"
                             "       medseg import PROJECT --masks DIR [--class CLS] [--replace] [--roi DIR]",
                       epilog="examples: medseg import photos/ clinic/ --layout folder --masks masks/ --class lesion "
                              "(a new project); medseg import clinic/ --masks expert/ --class lesion --replace (masks "
                              "into an existing project)")
    p.add_argument("src", type=Path, help="the dataset or image folder; alone: an existing project to import into")
    p.add_argument("project", type=Path, nargs="?", default=None, help="the new project's folder")
    p.add_argument("--layout", choices=LAYOUTS, help="how SRC is laid out (needed to create a project)")
    p.add_argument("--class", dest="cls", default="vessel", help="the class the masks are labels of (default: vessel)")
    p.add_argument("--masks", type=Path, default=None, help="folder of masks for --layout folder, or for an existing "
                   "project")
    p.add_argument("--roi", type=Path, default=None, help="folder of region-of-interest masks (e.g. a fundus "
                   "photo's field of view) for --layout folder or an existing project, matched to images like --masks")
    p.add_argument("--replace", action="store_true", help="into an existing project: a mask replaces the image's "
                   "own --class label (first copied to replaced-labels/<time>/<class>/ in the project; a label that "
                   "cannot be read is never replaced); without it such images keep their labels")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("classes", help="list, add, rename, recolour or delete classes; --set-roi lesion=cervix makes "
                       "a class two-stage")
    p.add_argument("project", type=Path)
    change = p.add_mutually_exclusive_group()
    change.add_argument("--add", metavar="NAME", help="add a class (its colour: --colour, else a free one)")
    change.add_argument("--rename", nargs=2, metavar=("OLD", "NEW"), help="rename a class; its labels, predictions "
                        "and models move with it")
    change.add_argument("--recolour", nargs=2, action=ColourOf, metavar=("NAME", "COLOUR"),
                        help="give a class a new colour (#rrggbb)")
    change.add_argument("--delete", metavar="NAME", help="remove a class; its files are moved to 'deleted classes/' "
                        "inside the project, never removed")
    p.add_argument("--colour", type=colour, default=None, metavar="#rrggbb", help="with --add: the new class's colour")
    p.add_argument("--set-roi", action="append", default=[], type=_class_pair, metavar="CLASS=ROI_CLASS",
                   help="train, predict and score CLASS only inside ROI_CLASS (its label, else its prediction)")
    p.add_argument("--clear-roi", action="append", default=[], metavar="CLASS",
                   help="CLASS again covers the whole image (its region of interest only)")
    p.set_defaults(func=cmd_classes)

    p = sub.add_parser("remove", help="take images out of the project (a wrong or duplicate photo, withdrawn "
                       "consent): their labels, regions of interest, predictions and copied photo are moved to "
                       ".removed/<image>-<time>/ inside the project, never deleted")
    p.add_argument("project", type=Path)
    p.add_argument("stems", nargs="*", metavar="IMAGE", help="the image's name as the project lists it (no suffix)")
    p.add_argument("--restore", metavar="IMAGE_OR_FOLDER", default=None, help="bring a removed image back instead: "
                   "its files move back from .removed/ (refused, nothing moved, when one would overwrite a file), it "
                   "is listed again where it stood, with its marks and scores; IMAGE: its newest removal, or its "
                   ".removed/ folder")
    p.add_argument("--list-removed", action="store_true", help="list the removed images (name, when, labels, folder)")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("train", help="train the class's model on all labelled images")
    p.add_argument("project", type=Path)
    p.add_argument("--class", dest="cls", required=True)
    _add_train_args(p, minutes=3.0)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the result lines: class, "
                   "kept_new (whether the new model became current), cancelled, new_model, current_model, reason, "
                   "compared (metric, new, current; basis when on only the validation images both share), "
                   "val_auc (new, current), val_dice, steps, seconds, images, skipped, notes; "
                   "unknown values are null; progress, warnings and notes stay on stderr")
    p.set_defaults(func=cmd_train)

    for name, func, text in (
        ("predict", cmd_predict, "predict project images (default) or external IMAGE files"),
        ("evaluate", cmd_evaluate, "per-image, mean and pooled AUC, Dice, IoU, Se, Sp, lesion recall, false lesions, "
                                   "HD95 and ASSD inside the ROI"),
        ("export", cmd_export, "export masks as 0/255 PNG, an nnU-Net dataset, COCO JSON or HDF5, or the photos with "
                               "outlines drawn, with a manifest"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("project", type=Path)
        p.add_argument("--class", dest="cls", required=True)
        p.add_argument("--threshold", type=probability, default=0.5,
                       help="mask threshold, 0 to 1 (default 0.5: a model's maps are calibrated so that 0.5 is its "
                            "best threshold on the validation images)")
        p.set_defaults(func=func)
        if name == "predict":
            p.add_argument("images", nargs="*", type=Path)
            p.add_argument("--out", type=Path, default=None, help="with IMAGE files: the folder for <stem>_prob.png "
                           "and <stem>_mask.png (default: the current folder); without: also export the masks there")
            p.add_argument("--overwrite", action="store_true", help="with IMAGE files: replace <stem>_prob.png and "
                           "<stem>_mask.png already in the folder (refused otherwise)")
        elif name == "evaluate":
            form = p.add_mutually_exclusive_group()
            form.add_argument("--json", action="store_true", help="print one JSON object instead of the table: class, "
                              "images (per-image metrics), mean, pooled, strokes_mean, used, left_out; undefined "
                              "values are null")
            form.add_argument("--csv", action="store_true", help="print the table's image rows as CSV with a header "
                              "(image, used, label and the metric columns; no MEAN or POOLED rows; undefined values "
                              "are nan)")
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
    p.add_argument("--use", metavar="MODEL", default=None, help="make this stored model current")
    p.add_argument("--predict", action="store_true", help="with --use: re-predict every image with it now")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("info", help="versions, compute device, precision, and the settings, data and log paths")
    p.add_argument("--precision", default="auto", choices=["auto", "float32", "bfloat16"],
                   help="report what this --precision of train/demo would use (default %(default)s)")
    p.set_defaults(func=cmd_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # before _run (its arguments, logging): as an interrupt inside it
        print("medseg: interrupted", file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "predict" and not any(e.startswith("-") for e in extra):
        args.images += [Path(e) for e in extra]  # IMAGEs given after --class (argparse stops at the option)
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if (problem := usage_problem(args)) is not None:
        parser.error(problem)
    setup_logging("medseg", logging.INFO if args.verbose else logging.WARNING, CommandLineFormatter())
    log.info("medseg %s: %s", __version__, " ".join(sys.argv[1:] if argv is None else argv))
    with terminate_on_sigterm():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    """The command's exit status; each error, Ctrl+C or SIGTERM as one line on stderr."""
    try:
        return args.func(args)
    except MedsegError as err:
        print(f"medseg: error: {err}", file=sys.stderr)
        return 1
    except OSError as err:  # disk full, read-only folder, no permission … where no clearer message was made
        print(f"medseg: error: {os_error_line(args.command, err)}", file=sys.stderr)
        return 1
    except Terminated as stop:
        end_stop_line(stop, last=True)
        print("medseg: terminated", file=sys.stderr)
        return 143  # 128 + SIGTERM, as a shell reports a process the signal ended
    except KeyboardInterrupt as stop:
        end_stop_line(stop, last=True)
        print("medseg: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # last: main needs every function above
    raise SystemExit(main())
