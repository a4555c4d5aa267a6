"""The sentences the train panel shows: progress of a run, the model decision, the current model (no widgets here).

Epochs are 1-based everywhere in these texts: "epoch 3" is the third epoch, the one being trained right now.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from medseg_gui.core.fingerprint import recorded_seen
from medseg_gui.core.label_status import ENOUGH_IMAGES, few_images_note
from medseg_gui.core.masks import share_text
from medseg_gui.core.model_names import began_text, kept_start, local_time, model_name, start_name
from medseg_gui.core.score_text import fmt_pair, fmt_score, model_figure
from medseg_gui.ml.config import BEST_EACH, as_it_predicts, tie_margin
from medseg_gui.ml.progress import DICE_SHOWN, TrainProgress
from medseg_gui.outcomes import PREDICT_ALL_TEXT
from medseg_gui.workers.training import TRAIN_CANCELLED

CANCELLED_TEXT = TRAIN_CANCELLED
CANCELLED_NO_MODEL_TEXT = "Training cancelled — no model was stored."
PREPARING_TEXT = "Preparing data and building the network…"
EVALUATING_TEXT = "Evaluating the current model on the validation images…"
EVALUATING_START_TEXT = "Evaluating the model this run starts from on the validation images…"

NOW = ", both on this run's validation images"  # keep-unless-better's basis unless ml.compare.BASIS_THEN
THEN = ", both on the validation images this run shares with the previous model"  # ml.compare.BASIS_THEN
SATURATED = {"AUC": 0.99, "Dice": 0.97}  # both scores this close to perfect: the labels cannot tell models apart
TOO_EASY = ("; both score near perfect on the validation labels, so these cannot tell models apart: label more of the "
            "validation images (those marked 'val'), above all where the model is wrong, and Retrain")


def _too_easy(metric: str, *scores: Any) -> str:
    """TOO_EASY when every score is at least SATURATED[metric] (a trial's stroke-only validation image: AUC 0.9994 for
    the start, 0.997 for three Retrains, each rejected with no word why)."""
    floor = SATURATED.get(metric)
    return TOO_EASY if floor is not None and all(isinstance(v, numbers.Real) and v >= floor for v in scores) else ""


def fmt_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


def decision_text(decision: Any, brief: bool = False) -> str:
    """'New model kept: val Dice 0.712 on its 6 validation images; the previous model scored 0.655 on the same images',
    or 'Previous model kept (new AUC 0.900 < 0.930, …)' (or '… a tie' within ml.config.TIE_MARGIN): the metric
    keep-unless-better compared (store.StoreDecision.metric; AUC for decisions that do not say); a kept model's text
    leads with the figure of its Current model line (`kept_text`). `brief`: shorter, without the reasons a kept
    blend's rule gives (the Train panel shows the whole text in its tooltip: a trial found seven bold lines pushing
    the Layers panel off the screen)."""
    metric = getattr(decision, "metric", "AUC")
    new = getattr(decision, "new_score", getattr(decision, "new_auc", None))
    old = getattr(decision, "old_score", getattr(decision, "old_auc", None))
    start = (getattr(decision, "current", None) or {}).get("start_kept")
    if decision.kept_new and isinstance(start, dict) and start.get("diverged"):
        return "Start kept: training on your labels became numerically unstable; the model is the weights it began from"
    if decision.kept_new and isinstance(start, dict):  # ml/train.py: the trained weights validated worse
        began, trained = fmt_pair(start.get("start"), start.get("trained"))
        dice = start.get("metric") == "Dice"
        own = decision.current.get("val_dice")
        each = (f", {BEST_EACH}" + (as_it_predicts(fmt_score(own)) if _finite(own) else "")) if dice else ""
        return (f"Start kept: the weights this run began from validated better than a model from your labels (val "
                f"{start.get('metric')} {began} vs {trained}{each}"
                f"{_too_easy(start.get('metric'), start.get('start'), start.get('trained'))})")
    if decision.kept_new:
        return kept_text(decision, metric, new, old, brief)
    shown_new, shown_old = fmt_pair(new, old)
    on = THEN if getattr(decision, "basis", "") else NOW  # the Current model line keeps its own run's score (a trial
    #                                                       read 0.946 beside it)
    if isinstance(new, numbers.Real) and isinstance(old, numbers.Real) and new >= old:  # within ml.config.TIE_MARGIN
        return (f"Previous model kept (new {metric} {shown_new} vs {shown_old}{on}: not better by more than "
                f"{tie_margin(metric):g}, a tie{_too_easy(metric, new, old)})")
    return f"Previous model kept (new {metric} {shown_new} < {shown_old}{on}{_too_easy(metric, new, old)})"


def kept_text(decision: Any, metric: str, new: Any, old: Any, brief: bool = False) -> str:
    """What a kept model's decision says: first its score on all of its validation images (the figure of its Current
    model line and of the Models dialog's Val column), then what keep-unless-better compared, saying on which images.
    The two differ when the models were compared on only the validation images they share (ml.compare.BASIS_THEN): a
    trial read 'Current model: val Dice 0.383' right above 'New model kept: val Dice 0.114 (previous 0.104 …)', and
    'kept 0.381 (previous 0.373)' as a gain after the panel had shown the previous model at 0.406 on its own images."""
    current = getattr(decision, "current", None) or {}
    shared = bool(getattr(decision, "basis", ""))
    own = current.get("val_dice" if metric == "Dice" else "val_auc")
    if not _finite(own):
        own = None if shared else new  # compared on all of its validation images: the same figure
    images = current.get("val_images")
    on = (f" on its {images} validation image{'' if images == 1 else 's'}"
          if isinstance(images, int) and not isinstance(images, bool) and images > 0 else "")
    share, alone = current.get("weight_mix"), _alone_text(current.get("weight_mix_trained"), own, images, brief)
    mixed = (f"; a blend of {share:.0%} your training and {1 - share:.0%} {started_from(current)}{alone}"
             if isinstance(share, (int, float)) else "")
    if old is None or (isinstance(old, float) and math.isnan(old)):
        return f"New model kept: val {metric} {fmt_score(own)}{on} (first model{mixed})"
    if not shared:
        shown_own, shown_old = fmt_pair(own, old)
        return (f"New model kept: val {metric} {shown_own}{on}; the previous model scored {shown_old} on the same "
                f"images{mixed}")
    shown_new, shown_old = fmt_pair(new, old)
    head = f"New model kept: val {metric} {fmt_score(own)}{on}; " if own is not None else "New model kept; "
    compared = ("on those it shares with the previous model: " if brief else
                "compared with the previous model on the validation images they share, labelled as when the previous "
                f"model was trained: {metric} ")
    return f"{head}{compared}{shown_new} against {shown_old}{mixed}"


def _finite(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def outcome_text(outcome: Any, brief: bool = True) -> str:
    """What a Retrain's pipeline.TrainOutcome says: its decision (`decision_text`) and what its run noted (a time
    box too short to train: ml.run_end.short_box; labelled images its shipped start was trained on, which its
    validation does not hold out: ml.init.start_seen_text; TrainOutcome.notes, as `medseg train` warns them: images
    left out, labels outside their region, a region a weak model predicted), as sentences. The panel shows it as soon
    as the decision is made, while the images are predicted (a trial's panel said only "Predicting 117/344" for 1:44
    after its model was rejected). `brief`: at most LEFT_OUT_SHOWN images left out named."""
    notes = list(getattr(outcome, "notes", ()))
    left = len(getattr(outcome, "skipped", ()))
    if brief and left > LEFT_OUT_SHOWN:
        notes[LEFT_OUT_SHOWN:left] = [f"{left - LEFT_OUT_SHOWN} more labelled images left out of training (Train → "
                                      "Last result in full names them)"]
    parts = [_sentence(p) for p in (decision_text(outcome.decision, brief), getattr(outcome.result, "note", ""),
                                    getattr(outcome.result, "seen", ""), *notes) if p]
    return " ".join(p if i == len(parts) - 1 or p.endswith((".", "!", "?")) else p + "."  # sentences (trial)
                    for i, p in enumerate(parts))


LEFT_OUT_SHOWN = 3  # images left out of training a brief result names (the full one names them all)


def _sentence(text: str) -> str:
    """`text` as a sentence joined after a full stop: its first letter capitalised ('lesion labels lie …', a trial),
    unless its first word has other characters than letters: an image's name ('img_01 left out …') keeps its case."""
    first = text.split(" ", 1)[0]
    return text[0].upper() + text[1:] if first.isalpha() else text


def run_texts(run: Any) -> tuple[str, str, str]:
    """What a finished run (not continuous) says: (its decision in full, the brief one the panel shows, that one's
    tooltip: the reasons, and the full text when the brief one leaves some out)."""
    text, brief = outcome_text(run.outcome, brief=False), outcome_text(run.outcome)
    metadata = getattr(run.outcome.result, "metadata", None)
    if metadata and metadata.get("init"):  # in full: which model Retrain continued from (outside trial)
        text = f"{text}{'' if text.endswith(('.', '!', '?')) else '.'} {began_text(metadata, done=True)}"
    if not run.predictions_complete:
        cancelled = " — prediction was cancelled; some images keep their old prediction."
        text, brief = text + cancelled, brief + cancelled
    reason = run.outcome.decision.reason
    return text, brief, reason if text == brief else "\n\n".join(filter(None, (text, reason)))


def _alone_text(alone: Any, blend: Any, images: Any, brief: bool = False) -> str:
    """What a kept blend's text says of the run's trained weights alone (validation Dice `alone`, the blend's
    `blend`, on `images` validation images). Higher alone: why the blend stays anyway (a trial read 'blend 0.497,
    training alone 0.573' as the app keeping the worse model for no reason). The rule is ml.fine_tune.keeps_mix.
    `brief`: only a higher score alone, and where the reason is."""
    if not isinstance(alone, (int, float)):
        return ""
    higher = isinstance(blend, (int, float)) and alone > blend
    if brief:
        return (f"; your training alone validated higher, Dice {fmt_score(alone)}: point here (or Train → Last "
                "result in full) for why") if higher else ""
    if not higher:
        return (f". Your training alone validated at Dice {fmt_score(alone)} on these images; in our benchmarks "
                "such blends did better on new photos")
    on = f"{images} validation image{'' if images == 1 else 's'}" if isinstance(images, int) else "these images"
    return (f". Your training alone validated higher, Dice {fmt_score(alone)} on {on}; the blend is kept unless it "
            "scores under half of that or loses image by image on three or more, because in our benchmarks such "
            "blends did better on new photos than the training alone")


def round_text(report: Any) -> str:
    """'Round 3 (5 labelled images): New model kept: val AUC 0.962 on its 2 validation images; the previous model
    scored 0.955 on the same images; its val Dice 0.710' for a train_process.RoundReport of continuous training; '(6
    labelled images, 1 of them saved during the round)' when labels joined it between epochs."""
    joined = set(getattr(report.outcome.result, "joined", ()))
    n = len(set(report.outcome.stems) | joined)
    images = f"{n} labelled image{'' if n == 1 else 's'}" + (
        f", {len(joined)} of them saved during the round" if joined else "")
    text = f"Round {report.number} ({images}): {decision_text(report.outcome.decision, brief=True)}"
    dice = report.outcome.result.metadata.get("val_dice")
    compared_dice = getattr(report.outcome.decision, "metric", "AUC") == "Dice"
    if report.kept and not compared_dice and isinstance(dice, float) and math.isfinite(dice):
        text += f"; its val Dice {fmt_score(dice)}"
    return text


def continuous_text(run: Any, last: str = "") -> str:
    """What the panel says when continuous training (a TrainRun with `rounds`) has been stopped; `last`: the last
    finished round's line (round_text), said after it."""
    kept = "no new model was kept" if not run.kept else f"{run.kept} new model{'' if run.kept == 1 else 's'} kept"
    return (f"Continuous training stopped after {run.rounds} round{'' if run.rounds == 1 else 's'}: {kept} (the "
            "round under way was dropped). Only the image on screen was predicted after each kept round; "
            f"{PREDICT_ALL_TEXT} predicts all images.") + (f" Last: {last}" if last else "")




def rollback_text(run: Any) -> str:
    """What a finished model_jobs.RollbackRun did: Models… → Use this model put a model back and predicted with it,
    or (`switched` False) Predict all images predicted with the current model; either may have been cancelled."""
    kept = run.total - run.predicted  # images whose saved map the model had already made: not predicted again
    if not run.switched:
        if not run.predictions_complete:
            return ("Predicting the images was cancelled: the images not reached keep the prediction they had, or "
                    "none.")
        if not kept:
            return "Every image was predicted with the current model."
        return ("Every image already had the current model's prediction: nothing to predict." if not run.predicted
                else f"{_images(run.predicted)} predicted with the current model; the other {kept} already had its "
                "prediction.")
    name = model_name(getattr(run, "trained_at", ""), run.model_id)
    name = name[0].upper() + name[1:]
    if not run.predictions_complete:
        return f"{name} is current again; its prediction was cancelled, so some images show an older model's."
    return f"{name} is current again; " + (
        "every image was predicted with it." if not kept else
        f"{_images(run.predicted)} predicted with it, the other {kept} already had its prediction.")


def _images(n: int) -> str:
    return f"{n} image{'' if n == 1 else 's'}"


def model_text(info: dict | None, labelled: int = 0, training: bool = False, off: str = "") -> str:
    """'Current model: val AUC 0.977, trained 2026-11-25 19:40, preset default' from models/<class>/current.json
    ('val Dice 0.71 (AUC 0.919), …' for a lesion model); without a model, what to do next (`labelled` images), that
    the first one is being trained (`training`); and why Retrain is off (`off`: no project, read-only; the line said
    "press Retrain" beside a greyed Retrain, and nothing beside a model's figures in a read-only window)."""
    if not info:
        if training:
            return "Current model: none yet — the first one is training."
        if off:
            return f"Current model: none yet — Retrain is off: {off}."
        if labelled:
            return (f"Current model: none yet — press Retrain to train one on your {labelled} labelled "
                    f"image{'' if labelled == 1 else 's'}.")
        return "Current model: none yet — draw labels, then press Retrain."
    parts = [model_figure(info)]
    if kept := kept_start(info):  # not "trained 18:31": its weights learnt nothing from the labels (trial)
        parts.append(kept)
    elif info.get("trained_at"):
        parts.append(f"trained {local_time(info['trained_at'])}")
    if info.get("preset"):
        parts.append(f"preset {info['preset']}")
    return "Current model: " + ", ".join(parts) + _made_of(info) + (f". Retrain is off: {off}." if off else "")


def _made_of(info: dict) -> str:
    """What a kept model is made of when it is not simply its run's training (new-user trial: after a restart the
    panel no longer said why a model that validated lower than its training was kept): '; a blend of 25 % its
    training and 75 % the model it started from' (a kept start says so in place of when it was trained: kept_start)."""
    mix = info.get("weight_mix")
    if isinstance(mix, (int, float)) and not isinstance(mix, bool) and 0.0 < mix < 1.0:
        return (f"; a blend of {100 * mix:.0f} % its training and {100 * (1 - mix):.0f} % {started_from(info)} "
                "(such blends did better on new photos in our benchmarks)")
    return ""


def started_from(info: dict) -> str:
    """What a model's run began from, named as everywhere (core.model_names.start_name: 'the model trained
    2026-12-07 15:57', 'the shipped lesion start'; a trial read "75 % the model it started from" and could not tell
    which), else 'the model it started from'."""
    return start_name(info) or "the model it started from"


def threshold_suggestion(info: dict | None) -> tuple[float, str] | None:
    """(threshold, 'suggested 0.35 (validation Dice 0.62)') from a model's metadata: the threshold with the best mean
    validation Dice (ml.train); None when the model has none (older models, or no validation Dice)."""
    try:
        threshold, dice = float(info["threshold"]), float(info["val_dice"])  # type: ignore[index]
    except (TypeError, KeyError, ValueError):
        return None
    if not (math.isfinite(threshold) and math.isfinite(dice)) or not 0.0 < threshold < 1.0:
        return None
    threshold = round(threshold, 2)
    return threshold, f"suggested {threshold:.2f} (validation Dice {fmt_score(dice)})"


ENOUGH_ANNOTATED = 0.02  # rule of thumb: sparse labels covering less than 2 % of their images teach little
VALIDATES_WELL = {"vessels": ("val_auc", "AUC", 0.95), "lesions": ("val_dice", "Dice", 0.70)}
"""Rule of thumb, by regime: (metadata key, name, least score) on held-out validation images above which a model
works well for its kind; the label-count advice is then left out (label_notice)."""


def validated_well(info: dict | None) -> str:
    """'val AUC 0.990 on 1 held-out image' when the model of `info` (its metadata) scores at least VALIDATES_WELL for
    its regime on validation images it did not learn from; '' when not, or when that is not known (no held-out image:
    one labelled image, or an older model)."""
    held_out = (info or {}).get("val_stems")
    if not isinstance(held_out, list) or not held_out or recorded_seen(info)[0] & set(held_out):
        return ""  # none, or some its shipped start was trained on: not held out from the model's weights
    rule = VALIDATES_WELL.get(str(info.get("regime")))  # type: ignore[union-attr]
    if rule is None:  # an older model that does not say its kind: a high AUC may hide a poor lesion Dice
        return ""
    key, name, least = rule
    score = info.get(key)  # type: ignore[union-attr]
    if not isinstance(score, (int, float)) or not math.isfinite(score) or score < least:
        return ""
    n = len(held_out)
    return f"val {name} {score:.3f} on {n} held-out image{'' if n == 1 else 's'}"


def label_notice(cls: str, shares: dict[str, float], model_info: dict | None = None) -> str:
    """Advice when the labels of `cls` look too few for a useful model, with how many more would likely help; ''
    when there are enough, or when the current model (`model_info`, its metadata) already validates well for its
    kind on held-out images (`validated_well`): then the advice would contradict what the panel shows.
    `shares`: labelled stem → annotated share of its image (1.0 for a complete label). The limits are rules of
    thumb (README), not measurements for this data."""
    n = len(shares)
    if n == 0:
        return (f"No {cls} labels yet: label at least {ENOUGH_IMAGES} images (complete, or sparse strokes on both "
                "the class and the background) before trusting a model.")
    lines = []
    if n < ENOUGH_IMAGES and not validated_well(model_info):  # sparse coverage below is said regardless: scores on
        #                                                     strokes (clear pixels) flatter a model
        lines.append(few_images_note(n))
    if n == 1:
        lines.append("With one labelled image the model is validated on the image it learnt from, so its validation "
                     "scores flatter it.")
    annotated = sum(shares.values()) / n
    if annotated < ENOUGH_ANNOTATED:
        lines.append(f"Only {share_text(annotated, 1)} of the labelled images' pixels are annotated: add strokes on "
                     f"the {cls} and on the background around it, or label whole images.")
    return " ".join(lines)


def started(p: TrainProgress) -> bool:
    """True once the first optimiser step is done (before that the bar is busy, with no fraction to show)."""
    return p.step > 0


def progress_fraction(p: TrainProgress, budget_s: float | None) -> float:
    """The bar follows the time budget of a time-boxed run (steps are only a cap then), else the step count."""
    if budget_s:
        return min(1.0, max(0.0, p.elapsed_s / budget_s))
    return p.fraction


def progress_text(p: TrainProgress, budget_s: float | None, loss: float | None = None) -> str:
    """'1:12 of 3:00 · step 120 · epoch 3 · loss 0.410 · val AUC 0.950 (epoch 2)' ('val Dice 0.436 at best
    threshold, AUC 0.699 (epoch 3)' for a lesion run: ml.progress.DICE_SHOWN); `loss`: the loss to show (the panel's
    smoothed one, as its curve draws it) instead of the last step's.

    `p.epoch` counts finished epochs, so the epoch being trained is `p.epoch + 1` and `p.val_auc` is that of epoch
    `p.epoch`; at the end of an epoch ml.control sends "validating" (AUC not known yet), then "epoch N: …"."""
    if not started(p):
        if p.message.startswith("evaluating the start"):  # the first run has no current model: its start
            text = EVALUATING_START_TEXT
        else:
            text = EVALUATING_TEXT if p.message.startswith("evaluating") else PREPARING_TEXT
        return f"{text} {p.began}" if p.began else text  # which model Retrain continues from (outside trial)
    if budget_s:
        head = [f"{fmt_duration(p.elapsed_s)} of {fmt_duration(budget_s)}", f"step {p.step}"]
    else:
        head = [f"step {p.step}/{p.total_steps}", *([f"ETA {fmt_duration(p.eta_s)}"] if math.isfinite(p.eta_s) else [])]
    validating = p.message == "validating"
    if validating:
        head.append(f"validating epoch {p.epoch}…")
    elif p.message.startswith(f"epoch {p.epoch}:"):  # the summary sent when epoch p.epoch has ended
        head.append(f"epoch {p.epoch} done")
    else:
        head.append(f"epoch {p.epoch + 1}")
    shown = p.loss if loss is None else loss
    if math.isfinite(shown):
        head.append(f"loss {shown:.3f}")
    if p.val_auc is not None and not validating:
        # a lesion run: what picks its best weights (not the decision's figure: AS_PREDICTED)
        dice = "" if p.val_dice is None else f"val Dice {fmt_score(p.val_dice)} {DICE_SHOWN}, "
        head.append(f"{dice}{'AUC' if dice else 'val AUC'} {fmt_score(p.val_auc)} (epoch {p.epoch})")
    return " · ".join(head)


def validation_point(p: TrainProgress) -> tuple[int, float, str] | None:
    """(epoch, value, "Dice" or "AUC") when `p` reports a finished validation of epoch `p.epoch`: its val Dice for
    a lesion run (what the panel's text leads with: at its best threshold, ml.progress.DICE_SHOWN), else its val AUC;
    None otherwise."""
    if p.val_auc is None or p.message == "validating" or p.epoch < 1:
        return None
    return (p.epoch, p.val_dice, "Dice") if p.val_dice is not None else (p.epoch, p.val_auc, "AUC")
