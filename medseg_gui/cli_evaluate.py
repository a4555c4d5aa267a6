"""`medseg evaluate`: the saved predictions of a class scored against its labels, as a table, JSON or CSV."""

from __future__ import annotations

import argparse
import json
import sys

from medseg_gui.cli_common import csv_text, format_table, reading, warn
from medseg_gui.cli_train import other_predictions, say_region
from medseg_gui.core.lesions import class_regime, shown_keys
from medseg_gui.core.metrics import NOT_SCORED
from medseg_gui.core.project import Project
from medseg_gui.core.project_format import metrics_to_json

_MEAN_NOTE = ("MEAN: mean over images with a complete label, undefined values (nan) skipped. POOLED: pixel metrics "
              "over all their ROI pixels together.\n")
_HD_NOTE = "hd95, assd: 95th percentile and mean of the boundary distances, in pixels."
EVALUATE_NOTE = (
    _MEAN_NOTE +
    "lesions: 8-connected truth components; found: matched one-to-one by a predicted component with IoU >= 0.5;\n"
    "recall = found / lesions; false_lesions: predicted components touching no truth pixel;\n" +
    _HD_NOTE + " Lesion counts and boundary distances have no POOLED value (MEAN averages them per image)."
)
VESSEL_NOTE = (_MEAN_NOTE + _HD_NOTE + " No POOLED value (MEAN averages them per image); the lesion counts are left "
               "out for a vessel class (--json has them).")
USED_NOTE = ("\nused: train = the current model learnt from the image (its scores flatter it); val = held out for "
             "validation;\ntest = the dataset's test split (never trained on); new = labelled since it was trained, or "
             "left out;\nseen = a photo the built-in start was trained on, which the current model is or began from "
             "(its scores flatter it);\naccepted = the label is the model's own prediction, accepted and not edited "
             "since (it scores the model against itself);\nother = the saved prediction was made by another model; "
             "val, test and new are the honest checks.")
STROKES_NOTE = "scored on the strokes only, not comparable with complete labels (strokes are mostly easy pixels)"


def cmd_evaluate(args: argparse.Namespace) -> int:
    with reading(args.project, "evaluate", args.cls) as project:  # no `medseg` command changes it meanwhile
        return _evaluate(project, args)


def _evaluate(project: Project, args: argparse.Namespace) -> int:
    """The table (or --json / --csv) of `medseg evaluate`; its exit status."""
    from medseg_gui import pipeline
    from medseg_gui.core.label_status import ACCEPTED_KEY, marked
    from medseg_gui.core.project import dataset_test_stems, model_split, split_marks
    from medseg_gui.start_photos import photos_start_saw

    report = pipeline.evaluate_class(project, args.cls, threshold=args.threshold)
    warn(report.notes)
    current = project.current_model_info(args.cls)
    saw = (photos_start_saw(project, current, report.per_image)  # a trial's kept start called its own photos new;
           if model_split(current)[0] is not None else set())  # read only where a split gets marks (review)
    marks = split_marks(current, list(report.per_image), dataset_test_stems(project), saw)
    other = other_predictions(project, args.cls) & set(report.per_image)
    accepted = marked(project, ACCEPTED_KEY, args.cls) & set(report.per_image)  # scored against themselves: no
    if marks and accepted:  #                                                     honest check (verification trial)
        marks.update(dict.fromkeys(accepted, "accepted"))
    if marks and other:  # scored maps of another model: the current one's split says nothing of them (trial)
        marks.update(dict.fromkeys(other, "other"))
    warn([f"{len(other)} of the scored predictions were made by another model than the current one (medseg "
          f"predict {args.project} --class {args.cls} re-makes them)"] if other else [])
    if args.json:
        print(json.dumps(metrics_to_json(_evaluate_json(report, marks)), indent=2))  # NaN (undefined) → null
        return 0
    rows = _evaluate_rows(report, marks)
    regime = class_regime(args.cls, current)
    columns = ["image", *(["used"] if marks else []), "label", *shown_keys(regime)]
    if args.csv:  # the images only: MEAN / POOLED rows would be read as images by a script
        sys.stdout.write(csv_text(rows[:len(report.per_image)], columns))
        return 0
    print(format_table(rows, columns))
    print((EVALUATE_NOTE if regime == "lesions" else VESSEL_NOTE) + (USED_NOTE if marks else ""))
    if report.strokes:
        print(_strokes_line(report))
    if report.skipped:
        print(f"{len(report.skipped)} labelled image(s) left out of MEAN and POOLED (could not be read, listed above).")
    scored = sum(NOT_SCORED not in m for m in report.per_image.values())  # a verification trial: "6 of 6" beside one
    say_region(project, args.cls, "scored", scored, len(report.unrestricted))  # not scored (its warning says why)
    return 0


def _evaluate_rows(report, marks: dict[str, str]) -> list[dict]:
    """`medseg evaluate` table rows of a pipeline.EvalReport: each image with its `label` (complete / strokes), then
    MEAN and POOLED over the complete labels and STROKES MEAN over the stroke (sparse) ones, where there are any."""
    rows = [{"image": s, **({"used": marks[s]} if marks else {}), "label": report.label_kind(s), **m}
            for s, m in report.per_image.items()]
    if len(report.strokes) < len(report.per_image):
        rows += [{"image": "MEAN", "label": "complete", **report.mean},
                 {"image": "POOLED", "label": "complete", **report.pooled}]
    if report.strokes:
        rows.append({"image": "STROKES MEAN", "label": "strokes", **report.strokes_mean})
    return rows


def _evaluate_json(report, marks: dict[str, str]) -> dict:
    """`medseg evaluate --json`: as `_evaluate_rows`; `mean` / `pooled` null with stroke labels only,
    `strokes_mean` null without any."""
    return {"class": report.cls,
            "images": {s: {"label": report.label_kind(s), **m} for s, m in report.per_image.items()},
            "mean": report.mean or None, "pooled": report.pooled or None, "strokes_mean": report.strokes_mean or None,
            **({"strokes_note": STROKES_NOTE} if report.strokes else {}),
            **({"used": marks} if marks else {}), "left_out": list(report.skipped)}


def _strokes_line(report) -> str:
    """What the table says of the stroke (sparse) labels of a pipeline.EvalReport that has some."""
    n = len(report.strokes)
    if n == len(report.per_image):
        return (f"All {n} labels are strokes (sparse labels): no MEAN or POOLED over complete labels. "
                f"STROKES MEAN is {STROKES_NOTE}.")
    return f"STROKES MEAN: mean over the {n} stroke (sparse) labels, {STROKES_NOTE}; they are not in MEAN or POOLED."
