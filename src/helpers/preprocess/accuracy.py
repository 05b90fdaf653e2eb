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
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from nibabel.affines import apply_affine

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
from .pipeline import derivative_paths
from .realign import MOTION_COLUMNS, displacement_rms, rigid_matrix
from .spatial_accuracy import correspondence_at, roi_scores, shift_dice, template_correspondence
from .voxels import masked_series

__all__ = [
    "TARGETS",
    "motion_error",
    "roi_series",
    "roi_correlations",
    "score_participant",
    "series_scores",
    "spatial_scores",
    "has_truth",
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


def motion_error(ours: pd.DataFrame, truth: pd.DataFrame, boldref: nib.Nifti1Image) -> float:
    """RMS displacement error (mm) of our motion estimates over head voxels (boldref > mean/8), all volumes.

    Per volume t, the RMS over head points p of ``|E_t p − T_t p|``
    (:func:`helpers.preprocess.realign.displacement_rms`); then the root mean square over volumes.

    Parameters
    ----------
    ours : DataFrame
        Our confounds (columns :data:`~helpers.preprocess.realign.MOTION_COLUMNS`, mm and rad).
    truth : DataFrame
        The planted motion (``twin-truth/sub-XX_motion.tsv``), same columns and rows.
    boldref : Nifti1Image
        Our reference volume; its head voxels are the points p.

    Returns
    -------
    float
        mm.
    """
    est = np.stack([rigid_matrix(p) for p in ours[list(MOTION_COLUMNS)].to_numpy()])
    true = np.stack([rigid_matrix(p) for p in truth[list(MOTION_COLUMNS)].to_numpy()])
    ref = boldref.get_fdata()
    pts = apply_affine(boldref.affine, np.argwhere(ref > ref.mean() / 8.0)).T
    err = displacement_rms(est, true, pts)
    return float(np.sqrt((err**2).mean()))


def roi_series(bold: nib.Nifti1Image, masks: dict[str, nib.Nifti1Image]) -> pd.DataFrame:
    """Mean time series (volumes × ROIs) of ``bold`` within each boolean mask (same grid).

    Parameters
    ----------
    bold : Nifti1Image
        4-D image.
    masks : dict
        ROI name -> boolean mask image on the grid of ``bold``.

    Returns
    -------
    DataFrame
    """
    rois = {name: np.asarray(m.dataobj, bool) for name, m in masks.items()}
    union = np.logical_or.reduce(list(rois.values()))
    data = masked_series(bold, union)  # only the ROIs' voxels are read as floats
    return pd.DataFrame({name: data[roi[union]].mean(axis=0) for name, roi in rois.items()})


def roi_correlations(ours: nib.Nifti1Image, ideal: nib.Nifti1Image, masks: dict) -> dict[str, float]:
    """Pearson r per ROI between mean time series from our and the ideal derivatives.

    Parameters
    ----------
    ours : Nifti1Image
        Our 4-D derivative.
    ideal : Nifti1Image
        The twin's ideal derivative on the same grid.
    masks : dict
        ROI name -> boolean mask image on that grid.

    Returns
    -------
    dict of str to float
    """
    a, b = roi_series(ours, masks), roi_series(ideal, masks)
    return {name: float(np.corrcoef(a[name], b[name])[0, 1]) for name in masks}


def score_participant(
    bids_dir: str | Path,
    preproc_dir: str | Path,
    participant: str,
    task: str = "feedback",
    resolution: int = 3,
    masks: dict | None = None,
    masks_1mm: dict | None = None,
    correspondences: dict | None = None,
) -> dict:
    """All three accuracy scores for one twin participant (needs ``derivatives/twin-truth``).

    ``masks``, ``masks_1mm`` and ``correspondences`` are what every participant shares; given, they
    are not recomputed (:func:`score_dataset` computes them once for all participants).

    Parameters
    ----------
    bids_dir : path
        The twin's BIDS folder (with ``derivatives/twin-truth`` and ``derivatives/twin-fmriprep``).
    preproc_dir : path
        Our preprocessing derivatives (:func:`helpers.preprocess.pipeline.run_preprocessing`).
    participant : str
        ``sub-XX``.
    task : str, default "feedback"
        BIDS task label.
    resolution : int, default 3
        MNI voxel size (mm) of the derivatives compared.
    masks : dict or None, default None
        ROI name -> mask image on the derivatives' grid (:func:`helpers.atlas.roi_masks`); None, or
        masks on another grid than this participant's: computed here.
    masks_1mm : dict or None, default None
        ROI name -> mask image on the 1 mm template grid; None: computed here.
    correspondences : dict or None, default None
        ``anatomy_source`` -> :func:`~.spatial_accuracy.template_correspondence`; a source missing
        (or None): computed here.

    Returns
    -------
    dict
        ``participant_id``, ``realign_rms_mm``, ``r_preproc_<roi>``, ``r_smoothed_<roi>``,
        ``dice_<roi>`` and ``error_mm_<roi>`` (against the template correspondence),
        ``dice_abs_<roi>`` (against the source's coordinates).
    """
    return {
        **series_scores(participant, bids_dir, preproc_dir, task, resolution, masks),
        **spatial_scores(participant, bids_dir, preproc_dir, task, resolution, masks_1mm, correspondences),
    }


def _truth(bids_dir: str | Path, participant: str, name: str) -> Path:
    return Path(bids_dir) / "derivatives" / "twin-truth" / participant / f"{participant}_{name}"


def series_scores(
    participant: str,
    bids_dir: str | Path,
    preproc_dir: str | Path,
    task: str = "feedback",
    resolution: int = 3,
    masks: dict | None = None,
) -> dict:
    """The time-series half of :func:`score_participant`: ``participant_id``, ``realign_rms_mm``,
    ``r_preproc_<roi>``, ``r_smoothed_<roi>``.

    Parameters
    ----------
    participant : str
        ``sub-XX`` (first: the call :func:`helpers.execution.map_participants` makes).
    bids_dir : path
        The twin's BIDS folder (with ``derivatives/twin-truth`` and ``derivatives/twin-fmriprep``).
    preproc_dir : path
        Our preprocessing derivatives.
    task : str, default "feedback"
        BIDS task label.
    resolution : int, default 3
        MNI voxel size (mm) of the derivatives compared.
    masks : dict or None, default None
        As :func:`score_participant`.

    Returns
    -------
    dict
    """
    from helpers.atlas import roi_masks

    ours = derivative_paths(preproc_dir, participant, task, resolution)
    ideal = derivative_paths(Path(bids_dir) / "derivatives" / "twin-fmriprep", participant, task, resolution)
    truth_motion = pd.read_csv(_truth(bids_dir, participant, "motion.tsv"), sep="\t")
    confounds = pd.read_csv(ours["confounds"], sep="\t", na_values="n/a")
    rec = {
        "participant_id": participant,
        "realign_rms_mm": motion_error(confounds, truth_motion, nib.load(ours["boldref"])),
    }
    preproc = nib.load(ours["preproc"])
    if masks is None or not _same_grid(next(iter(masks.values())), preproc):
        masks = roi_masks(preproc)
    for desc in ("preproc", "smoothed"):
        for name, r in roi_correlations(nib.load(ours[desc]), nib.load(ideal[desc]), masks).items():
            rec[f"r_{desc}_{name}"] = r
    return rec


def spatial_scores(
    participant: str,
    bids_dir: str | Path,
    preproc_dir: str | Path,
    task: str = "feedback",
    resolution: int = 3,
    masks_1mm: dict | None = None,
    correspondences: dict | None = None,
) -> dict:
    """The registration half of :func:`score_participant`: ``dice_<roi>``, ``dice_abs_<roi>``,
    ``error_mm_<roi>``.

    Parameters
    ----------
    participant : str
        ``sub-XX`` (first: the call :func:`helpers.execution.map_participants` makes).
    bids_dir : path
        The twin's BIDS folder (with ``derivatives/twin-truth`` and ``derivatives/twin-fmriprep``).
    preproc_dir : path
        Our preprocessing derivatives.
    task : str, default "feedback"
        BIDS task label.
    resolution : int, default 3
        MNI voxel size (mm) of the derivatives compared.
    masks_1mm, correspondences : dict or None, default None
        As :func:`score_participant`.

    Returns
    -------
    dict
    """
    from helpers.atlas import load_template, roi_masks
    from helpers.simulate import space

    ours = derivative_paths(preproc_dir, participant, task, resolution)
    transform = json.loads(_truth(bids_dir, participant, "transform.json").read_text())
    pose = np.asarray(transform["pose_mni_to_scanner"])
    coreg = np.loadtxt(ours["coreg_xfm"])
    field = nib.load(ours["norm_xfm"])
    if masks_1mm is None:
        masks_1mm = roi_masks(load_template(1))
    truth = lambda q: space.native_to_mni(q, pose, transform["warp"])  # noqa: E731
    source = transform.get("anatomy_source", "template")
    correspondences = correspondences or {}
    correspondence = correspondences[source] if source in correspondences else template_correspondence(source)
    scores = roi_scores(field, coreg, truth, masks_1mm, correspondence=correspondence)
    kinds = ("dice", "dice_abs", "error_mm")
    return {f"{kind}_{roi}": row[kind] for kind in kinds for roi, row in scores.items()}


def has_truth(bids_dir: str | Path) -> bool:
    """True if ``bids_dir`` is a digital twin with ground truth and ideal derivatives.

    Parameters
    ----------
    bids_dir : path
        BIDS folder.

    Returns
    -------
    bool
    """
    root = Path(bids_dir) / "derivatives"
    return (root / "twin-truth").is_dir() and (root / "twin-fmriprep").is_dir()


def _same_grid(a: nib.Nifti1Image, b: nib.Nifti1Image) -> bool:
    return a.shape[:3] == b.shape[:3] and np.array_equal(a.affine, b.affine)


def _anatomy_source(bids_dir: str | Path, participant: str) -> str:
    return json.loads(_truth(bids_dir, participant, "transform.json").read_text()).get(
        "anatomy_source", "template"
    )


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
    sources = sorted({_anatomy_source(bids_dir, sub) for sub in participants})
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
    correspondence = template_correspondence(_anatomy_source(bids_dir, participant))
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
