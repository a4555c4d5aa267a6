"""How the program names a trained model to the user: by when it was trained, in local time ("the model trained
2026-12-07 17:02"), the same in the Train panel, the Models dialog and the rollback messages (an outside trial read
17:02 in the panel, 16:02 under "Trained (UTC)" and "Model 20261207-160221-e797f1" for one model). Its id only where
one is needed: tooltips, the log, `medseg models`."""

from __future__ import annotations

import datetime as dt
from typing import Any

START_MODEL = "start_model"
"""Model metadata: {"id", "trained_at"} of the stored model its run continued from (ml.train); absent otherwise."""


def local_time(iso: object) -> str:
    """'2026-11-25 19:40' in local time from an ISO timestamp (stored in UTC); the raw text when it does not parse."""
    try:
        stamp = dt.datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    return (stamp.astimezone() if stamp.tzinfo else stamp).strftime("%Y-%m-%d %H:%M")


def model_name(trained_at: object, model_id: object = "") -> str:
    """'the model trained 2026-12-07 17:02'; 'model <id>' when when it was trained is not known."""
    if trained_at:
        return f"the model trained {local_time(trained_at)}"
    return f"model {model_id}" if model_id else "the model"


def start_name(info: dict[str, Any]) -> str:
    """What a run began from, by a model's metadata ("init": ml.fine_tune.load_start's words, START_MODEL, "regime"):
    'the model trained 2026-12-07 15:57', 'the shipped lesion start', '' for scratch, 'an earlier model' when an
    older model did not record which."""
    init = str(info.get("init") or "")
    if init.startswith("scratch"):
        return ""
    if init.startswith("the pretrained"):
        kind = str(info.get("regime") or "").removesuffix("s")
        return f"the shipped {kind} start" if kind else "the shipped start"
    model = info.get(START_MODEL)
    if isinstance(model, dict) and (model.get("trained_at") or model.get("id")):
        return model_name(model.get("trained_at"), model.get("id"))
    return "an earlier model" if init else ""


def began_text(info: dict[str, Any], done: bool = False) -> str:
    """'This run continues from the model trained 2026-12-07 15:57.' ('… starts from the shipped lesion start.',
    '… starts from scratch.') for a run whose model's metadata is `info`; `done`: of a finished run ('continued')."""
    name = start_name(info)
    verb = "continue" if name and not name.startswith("the shipped") else "start"
    return f"This run {verb}{('d' if verb.endswith('e') else 'ed') if done else 's'} from {name or 'scratch'}."


def model_story(info: dict[str, Any]) -> str:
    """What the current model's metadata tells of the run that made it, for Train → Last result in full before this
    session ran anything (a returning nurse found it greyed, yesterday's explanation gone): 'It was trained on 10
    images and validated on 2. This run continued from the model trained 2026-12-07 15:57.' A kept start says it
    is that start, unchanged."""
    if kept := kept_start(info):
        return f"It is {kept}, unchanged: its weights learnt nothing from your labels."
    counts = _run_counts(info)
    trained = (f"It was trained on {counts[0]} image{'' if counts[0] == 1 else 's'} and validated on {counts[1]}. "
               if counts else "")
    return f"{trained}{began_text(info, done=True).replace('This run', 'Its run', 1)}"


def run_images(info: dict[str, Any]) -> str:
    """'3 images + 1 val': what a model's run trained and validated on (metadata train_images, val_images); '' when
    not recorded."""
    counts = _run_counts(info)
    return f"{counts[0]} image{'' if counts[0] == 1 else 's'} + {counts[1]} val" if counts else ""


def _run_counts(info: dict[str, Any]) -> tuple[int, int] | None:
    """(train_images, val_images) of a model's metadata; None when either is not recorded as a count."""
    counts = [info.get(k) for k in ("train_images", "val_images")]
    return tuple(counts) if all(isinstance(n, int) and not isinstance(n, bool) for n in counts) else None


def kept_start(info: dict[str, Any]) -> str:
    """For a model that is the start its run began from, unchanged (metadata "start_kept"): 'the shipped vessel
    start, kept 2026-12-07 18:31 (it validated better than the weights its run trained on your 3 images + 1 val)';
    '' for any other model. Its weights learnt nothing from those images (an outside trial read 'trained 18:31' as a
    model of them)."""
    kept = info.get("start_kept")
    if not isinstance(kept, dict):
        return ""
    when = f", kept {local_time(info['trained_at'])}" if info.get("trained_at") else ""
    images = run_images(info)
    on = f" on your {images}" if images else ""
    why = (f"training{on} became numerically unstable" if kept.get("diverged") else
           f"it validated better than the weights its run trained{on}")
    return f"{start_name(info) or 'the start its run began from'}{when} ({why})"
