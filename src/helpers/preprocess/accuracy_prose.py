"""The accuracy scores in words and small tables, for the preprocessing chapter.

:data:`TARGETS` are the issue's accuracy targets; :func:`prose_numbers` prints the summary numbers as
the book does (APA style); :func:`region_summary` and :func:`region_sentence` break the registration
scores down by region, so that a region that misses its targets is named, not averaged away.
"""

from __future__ import annotations

import math

import pandas as pd

from ..atlas import DEFAULT_ROIS
from ..style import format_number, format_r
from ..style.labels import CELL_LABELS

__all__ = [
    "TARGETS",
    "format_dice",
    "prose_numbers",
    "region_summary",
    "region_sentence",
    "smoothing_sentence",
]

#: Accuracy targets: realignment RMS error (mm, at most), ROI time-series r and ROI Dice (at least;
#: issue 7), and the ROI's mean registration error (mm, at most: half an output voxel of 3 mm).
TARGETS = {"realign_rms_mm": 0.1, "r": 0.9, "dice": 0.9, "error_mm": 1.5}


def format_dice(dice: float) -> str:
    """A Dice overlap (or any score with a lower target) truncated, not rounded, to three decimals.

    Rounding would print a miss of the .90 target such as .8996 as ".900"; truncated, a printed value
    meets a three-decimal target exactly when the value does.

    Parameters
    ----------
    dice : float
        The value (non-finite: ``"—"``).

    Returns
    -------
    str
        APA style (:func:`helpers.style.format_r`), e.g. ``.899`` for .8996.
    """
    if not math.isfinite(dice):
        return format_r(dice)
    return format_r(math.floor(dice * 1000) / 1000)


def prose_numbers(numbers: dict[str, float]) -> dict[str, str]:
    """The numbers of :func:`summarise` or :func:`dice_yardstick` as the book prints them (APA style).

    Counts as integers; Dice truncated (:func:`format_dice`) and r rounded, without a leading zero;
    realignment errors in mm to 3 decimals, other mm to 2 (:func:`helpers.style.format_number`).

    Parameters
    ----------
    numbers : dict of str to float
        Key -> value (``n_*`` counts, ``*dice*`` and ``min_r*`` bounded by 1, the rest in mm).

    Returns
    -------
    dict of str to str
    """
    out = {}
    for key, value in numbers.items():
        if key.startswith("n_"):
            out[key] = format_number(value)
        elif "dice" in key:
            out[key] = format_dice(value)
        elif key.startswith("min_r"):
            out[key] = format_r(value)
        else:
            out[key] = format_number(value, 3 if "realign" in key else 2)
    return out


def region_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Registration accuracy by region: Dice and error (mm) over participants, and the misses.

    Parameters
    ----------
    scores : DataFrame
        :func:`helpers.preprocess.accuracy.score_dataset` (columns ``dice_<roi>``, ``error_mm_<roi>``).

    Returns
    -------
    DataFrame
        Index ``region`` (ROI name, in :data:`~helpers.atlas.DEFAULT_ROIS` order); columns
        ``participants``, ``dice_min``, ``dice_mean``, ``dice_missed`` (below ``TARGETS["dice"]``),
        ``error_mean_mm``, ``error_max_mm``, ``error_missed`` (above ``TARGETS["error_mm"]``).
    """
    rows = {}
    for roi in (r for r in DEFAULT_ROIS if f"dice_{r}" in scores):
        dice, error = scores[f"dice_{roi}"], scores[f"error_mm_{roi}"]
        rows[roi] = {
            "participants": int(dice.notna().sum()),
            "dice_min": float(dice.min()),
            "dice_mean": float(dice.mean()),
            "dice_missed": int((dice < TARGETS["dice"]).sum()),
            "error_mean_mm": float(error.mean()),
            "error_max_mm": float(error.max()),
            "error_missed": int((error > TARGETS["error_mm"]).sum()),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("region")


def _name(roi: str) -> str:
    name = CELL_LABELS.get(roi, roi)
    return name if name.isupper() else name.lower()


def region_sentence(summary: pd.DataFrame) -> str:
    """Which region the registration serves worst, in one or two sentences (Markdown).

    "The VMPFC, the seed of every connection the paper tests, has the largest registration errors
    (mean 1.49 mm, up to 2.31 mm), and 19 of its 19 Dice values are below .90. The other regions'
    errors stay at or below 1.13 mm."  Empty without scores.

    Parameters
    ----------
    summary : DataFrame
        :func:`region_summary`.

    Returns
    -------
    str
    """
    if summary.empty or summary["participants"].sum() == 0:
        return ""
    worst = summary["error_mean_mm"].idxmax()
    row = summary.loc[worst]
    seed = ", the seed of every connection the paper tests," if worst == "vmpfc" else ""
    text = (
        f"The {_name(worst)}{seed} has the largest registration errors (mean "
        f"{format_number(row['error_mean_mm'], 2)} mm, up to {format_number(row['error_max_mm'], 2)} mm), "
        f"and {int(row['dice_missed'])} of its {int(row['participants'])} Dice values are below "
        f"{format_r(TARGETS['dice'], 2)}."
    )
    others = summary.drop(index=worst)
    if len(others):
        highest = format_number(others["error_max_mm"].max(), 2)
        text += f" The other regions' errors stay at or below {highest} mm."
    return text


def smoothing_sentence(numbers: dict[str, float]) -> str:
    """Whether the smoothed ROI time series agree more closely with the ideal ones, in one sentence.

    Compares the lowest r of the smoothed and the unsmoothed series (``min_r_smoothed``, ``min_r``
    of :func:`helpers.preprocess.accuracy.summarise`): "The smoothed time series agree more closely
    with the ideal ones (lowest r .994 against .978 unsmoothed): smoothing averages out small
    misregistrations."

    Parameters
    ----------
    numbers : dict of str to float
        With ``min_r`` and ``min_r_smoothed``.

    Returns
    -------
    str
    """
    smoothed, plain = numbers["min_r_smoothed"], numbers["min_r"]
    closer = smoothed > plain
    return (
        f"The smoothed time series {'agree' if closer else 'do not agree'} more closely with the ideal ones "
        f"(lowest r {format_r(smoothed)} against {format_r(plain)} unsmoothed)"
        + (": smoothing averages out small misregistrations." if closer else ".")
    )
