"""Accuracy of our preprocessing against the digital twin's ground truth (``derivatives/twin-truth``).

Three scores (issue 7, "Must show"):

* realignment: RMS over brain points of ``|E_t p − T_t p|`` (mm) between our and the planted
  motion matrices (:func:`helpers.preprocess.realign.displacement_rms`), averaged over volumes;
* ROI time series: Pearson r between the mean time series of each ROI in our derivatives and in the
  twin's ideal derivatives;
* spatial (:mod:`.spatial_accuracy`): each atlas ROI (1 mm) mapped through our MNI → functional map
  followed by the true functional → MNI map: Dice with the ROI (perfect registration gives 1) and
  the mean displacement error of its voxels in mm (perfect registration gives 0).

``dice_<roi>`` and ``error_mm_<roi>`` measure the registration's own error, against the true map
followed by the source → template correspondence (the twin's brain comes from another template than
the one we register to, :func:`.spatial_accuracy.template_correspondence`); ``dice_abs_<roi>``
against the source's coordinates (the error a study makes when it takes a template's coordinates for
another's, the template mismatch).

One participant's scores are computed in :mod:`.participant_accuracy`; this module gathers them for
the dataset, summarises them and gives the chapter its tables, figures and numbers.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from ..atlas import DEFAULT_ROIS
from ..execution import execution_doc, map_participants
from .accuracy_figures import plot_accuracy, plot_motion_vs_truth
from .accuracy_prose import (
    TARGETS,
    format_dice,
    prose_numbers,
    region_sentence,
    region_summary,
    smoothing_sentence,
)
from .participant_accuracy import (
    anatomy_source,
    has_truth,
    series_scores,
    spatial_scores,
)
from .pipeline import derivative_paths
from .spatial_accuracy import correspondence_at, shift_dice, template_correspondence

__all__ = [
    "TARGETS",
    "plot_motion_vs_truth",
    "plot_accuracy",
    "summarise",
    "dice_yardstick",
    "format_dice",
    "prose_numbers",
    "region_summary",
    "region_sentence",
    "smoothing_sentence",
    "chapter_accuracy",
    "score_dataset",
]


def _first_phase(job: tuple[str, str], **arguments):
    """One job of :func:`score_dataset`'s first round: a template correspondence or a participant's
    :func:`series_scores`."""
    kind, name = job
    if kind == "correspondence":
        return template_correspondence(name)
    return series_scores(name, **arguments)


@execution_doc("n_jobs", "backend", "scheduler", "progress")
def score_dataset(
    bids_dir: str | Path,
    preproc_dir: str | Path,
    participants: list[str],
    task: str = "feedback",
    resolution: int = 3,
    n_jobs: int = 1,
    backend: str = "serial",
    scheduler: str = "",
    progress: bool | None = False,
) -> pd.DataFrame:
    """:func:`score_participant` for every participant, one row each (index ``participant_id``).

    What the participants share is computed once: the ROI masks on the derivatives' grid and on the
    1 mm grid (here), and the template correspondence of each anatomy source (a nonlinear
    registration, ~50 s at 2 mm).  Two rounds of :func:`helpers.execution.map_participants`: first
    the correspondences and every participant's :func:`series_scores` (so that the correspondence
    is computed while the other workers score time series), then every participant's
    :func:`spatial_scores`, which need it.  The table does not depend on the backend.

    Parameters
    ----------
    bids_dir : path
        The twin's BIDS folder (with ``derivatives/twin-truth`` and ``derivatives/twin-fmriprep``).
    preproc_dir : path
        Our preprocessing derivatives (:func:`helpers.preprocess.pipeline.run_preprocessing`).
    participants : list of str
        Participants scored.
    task : str, default "feedback"
        BIDS task label.
    resolution : int, default 3
        MNI voxel size (mm) of the derivatives compared.
    {execution_parameters}

    Returns
    -------
    DataFrame
    """
    from helpers.atlas import load_template, roi_masks

    participants = list(participants)
    if not participants:
        return _EMPTY_SCORES.copy()
    grid = nib.load(derivative_paths(preproc_dir, participants[0], task, resolution)["preproc"])
    sources = sorted({anatomy_source(bids_dir, sub) for sub in participants})
    common = dict(bids_dir=bids_dir, preproc_dir=preproc_dir, task=task, resolution=resolution)
    execution = dict(backend=backend, n_jobs=n_jobs, scheduler=scheduler, progress=progress)
    first = map_participants(
        _first_phase,
        [("correspondence", source) for source in sources] + [("series", sub) for sub in participants],
        ids=[f"(template correspondence of {source})" for source in sources] + participants,
        desc="accuracy: time series",
        shared={**common, "masks": roi_masks(grid)},
        **execution,
    )
    spatial = map_participants(
        spatial_scores,
        participants,
        desc="accuracy: registration",
        shared={
            **common,
            "masks_1mm": roi_masks(load_template(1)),
            "correspondences": dict(zip(sources, first[: len(sources)])),
        },
        **execution,
    )
    rows = [{**series, **registration} for series, registration in zip(first[len(sources) :], spatial)]
    return pd.DataFrame(rows).set_index("participant_id")


def summarise(scores: pd.DataFrame) -> dict[str, float]:
    """Worst and mean scores, and how many (participant × ROI) scores miss :data:`TARGETS`.

    Parameters
    ----------
    scores : DataFrame
        :func:`score_dataset`.

    Returns
    -------
    dict of str to float
        ``max_realign_rms``, ``min_r``, ``min_r_smoothed``, ``min_dice``, ``mean_dice``, ``min_dice_abs``,
        ``max_error_mm``, ``mean_error_mm``, ``n_realign_missed``, ``n_r_missed``, ``n_dice_missed``,
        ``n_error_missed``, ``n_scores``.
    """
    r, dice = scores.filter(like="r_preproc"), scores.filter(regex=r"^dice_(?!abs_)")
    errors = scores.filter(like="error_mm_")
    return {
        "max_realign_rms": float(scores["realign_rms_mm"].max()),
        "min_r": float(r.min().min()),
        "min_r_smoothed": float(scores.filter(like="r_smoothed").min().min()),
        "min_dice": float(dice.min().min()),
        "mean_dice": float(dice.mean().mean()),
        "min_dice_abs": float(scores.filter(regex=r"^dice_abs_").min().min()),
        "max_error_mm": float(errors.max().max()),
        "mean_error_mm": float(errors.mean().mean()),
        "n_realign_missed": int((scores["realign_rms_mm"] > TARGETS["realign_rms_mm"]).sum()),
        "n_r_missed": int((r < TARGETS["r"]).sum().sum()),
        "n_dice_missed": int((dice < TARGETS["dice"]).sum().sum()),
        "n_error_missed": int((errors > TARGETS["error_mm"]).sum().sum()),
        "n_scores": int(dice.size),
    }


def dice_yardstick() -> dict[str, float]:
    """What a rigid shift costs the ROIs' Dice: the lowest over the ROIs, for 1 mm and the error target.

    :func:`helpers.preprocess.spatial_accuracy.shift_dice` of each 1 mm atlas ROI, shifted by 1 mm
    and by ``TARGETS["error_mm"]``.

    Returns
    -------
    dict of str to float
        ``dice_shift_1mm``, ``dice_shift_target``, ``error_target_mm``, ``dice_target``.
    """
    from helpers.atlas import load_template, roi_masks

    masks = roi_masks(load_template(1)).values()
    return {
        "dice_shift_1mm": min(shift_dice(m, 1.0) for m in masks),
        "dice_shift_target": min(shift_dice(m, TARGETS["error_mm"]) for m in masks),
        "error_target_mm": TARGETS["error_mm"],
        "dice_target": TARGETS["dice"],
    }


def template_gap(bids_dir: str | Path, participant: str) -> dict[str, float]:
    """How far apart the twin's source brain and the registration template are at the atlas ROIs.

    For each 1 mm atlas ROI, the mean length of the template correspondence ``|r(y)|`` (mm) over its
    voxels ``y`` (:func:`~.spatial_accuracy.template_correspondence` of ``participant``'s anatomy
    source): what taking one template's coordinates for the other's costs there.  The smallest and
    largest over the ROIs; 0 when the source is the template, NaN without ground truth.

    Parameters
    ----------
    bids_dir : path
        The twin's BIDS folder.
    participant : str
        ``sub-XX`` whose anatomy source is read (the twin's participants share one).

    Returns
    -------
    dict of str to float
        ``min_template_gap_mm``, ``max_template_gap_mm``.
    """
    from helpers.atlas import roi_points

    keys = ("min_template_gap_mm", "max_template_gap_mm")
    if not has_truth(bids_dir):
        return dict.fromkeys(keys, np.nan)
    correspondence = template_correspondence(anatomy_source(bids_dir, participant))
    gaps = [
        float(np.linalg.norm(correspondence_at(correspondence, y), axis=1).mean())
        for y in roi_points().values()
    ]
    return dict(zip(keys, (min(gaps), max(gaps))))


#: The scores table of a dataset without ground truth: the columns, no rows.
_EMPTY_SCORES = pd.DataFrame(
    columns=["realign_rms_mm"]
    + [
        f"{score}_{roi}"
        for score in ("r_preproc", "r_smoothed", "dice", "dice_abs", "error_mm")
        for roi in DEFAULT_ROIS
    ],
    index=pd.Index([], name="participant_id"),
    dtype=float,
)


@execution_doc("n_jobs", "backend", "scheduler")
def chapter_accuracy(
    bids_dir: str | Path,
    preproc_dir: str | Path,
    participants: list[str],
    task: str = "feedback",
    resolution: int = 3,
    n_jobs: int = 1,
    backend: str = "serial",
    scheduler: str = "",
) -> tuple[pd.DataFrame, dict[str, float], dict]:
    """Scores table, :func:`summarise` numbers and figures ``{"accuracy", "motion_truth"}``.

    The motion figure shows the first participant.

    On a dataset without ground truth (not a twin) the table has no rows, the numbers are NaN and the
    figures say so — the chapter runs unchanged on a user's own data.

    Parameters
    ----------
    bids_dir : path
        The twin's BIDS folder (with ``derivatives/twin-truth`` and ``derivatives/twin-fmriprep``).
    preproc_dir : path
        Our preprocessing derivatives (:func:`helpers.preprocess.pipeline.run_preprocessing`).
    participants : list of str
        Participants scored (the first one's motion is plotted).
    task : str, default "feedback"
        BIDS task label.
    resolution : int, default 3
        MNI voxel size (mm) of the derivatives compared.
    {execution_parameters}

    Returns
    -------
    scores : DataFrame
    numbers : dict
    figures : dict
    """
    import matplotlib.pyplot as plt

    if not has_truth(bids_dir):
        figs = {}
        for key in ("accuracy", "motion_truth"):
            figs[key], ax = plt.subplots(figsize=(6, 1))
            ax.text(0.5, 0.5, "no ground truth in this dataset", ha="center", va="center")
            ax.axis("off")
        return _EMPTY_SCORES.copy(), dict.fromkeys(summarise(_EMPTY_SCORES), np.nan), figs
    scores = score_dataset(
        bids_dir,
        preproc_dir,
        participants,
        task,
        resolution,
        n_jobs=n_jobs,
        backend=backend,
        scheduler=scheduler,
    )
    return (
        scores,
        summarise(scores),
        {
            "accuracy": plot_accuracy(scores),
            "motion_truth": plot_motion_vs_truth(bids_dir, preproc_dir, participants[0], task, resolution),
        },
    )
