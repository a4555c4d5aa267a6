"""Scores in sentences, the same in the window, `medseg` and the reasons stored with each model: three decimals (the
window's SCORE_DIGITS) unless fewer would mislead: a score below 1 shown as 1.000, or two compared scores shown alike
('rejected: AUC 0.989 against … 0.989', an outside trial, where training had printed 0.9874 vs 0.9870)."""

from __future__ import annotations

import math
import numbers

MAX_DIGITS = 5  # two compared scores closer than this are shown alike (they are then equal for any purpose)


def fmt_score(value: object, digits: int = 3) -> str:
    """A score with `digits` decimals, more (up to 6) where those would round a score below 1 up to 1.000 (a trial read
    'val AUC 1.000' for 0.9997); '–' when there is none or it is undefined (nan)."""
    if not isinstance(value, numbers.Real) or math.isnan(value):
        return "–"
    if 1.0 - 0.5 * 10 ** -digits <= value < 1.0:
        return next((f"{value:.{d}f}" for d in range(digits + 1, 7) if f"{value:.{d}f}" != f"{1.0:.{d}f}"),
                    "0.999999")
    return f"{value:.{digits}f}"


def fmt_pair(a: object, b: object, digits: int = 3) -> tuple[str, str]:
    """Two scores compared in one sentence, with as many decimals (`digits` to MAX_DIGITS) as tell them apart:
    'new 0.9984 < 0.9997', not 'new 0.998 < 1.000'; each as `fmt_score` when they are equal or not both numbers."""
    if all(isinstance(v, numbers.Real) and math.isfinite(v) for v in (a, b)) and a != b:
        for d in range(digits, MAX_DIGITS + 1):
            if f"{a:.{d}f}" != f"{b:.{d}f}" and max(a, b) < 1.0 - 0.5 * 10 ** -d:
                return f"{a:.{d}f}", f"{b:.{d}f}"
    return fmt_score(a, digits), fmt_score(b, digits)


def model_figure(info: dict) -> str:
    """A model's headline figure from its metadata (current.json): 'val AUC 0.977'; 'val Dice 0.710 (AUC 0.919)' for
    a lesion model, whose Dice is what keep-unless-better compared."""
    dice = info.get("val_dice")
    if info.get("regime") == "lesions" and isinstance(dice, numbers.Real) and math.isfinite(dice):
        return f"val Dice {fmt_score(dice)} (AUC {fmt_score(info.get('val_auc'))})"
    return f"val AUC {fmt_score(info.get('val_auc'))}"
