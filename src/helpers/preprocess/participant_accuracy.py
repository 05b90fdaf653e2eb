"""Accuracy of one twin participant's preprocessing against its ground truth (``derivatives/twin-truth``).

The scores :mod:`.accuracy` gathers for the dataset: the realignment error (:func:`motion_error`), the
correlation of each ROI's time series with the twin's ideal derivatives (:func:`series_scores`) and
the spatial scores of the registration (:func:`spatial_scores`, from :mod:`.spatial_accuracy`).
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from nibabel.affines import apply_affine

from .pipeline import derivative_paths
from .realign import MOTION_COLUMNS, displacement_rms, rigid_matrix
from .spatial_accuracy import roi_scores, template_correspondence
from .voxels import masked_series

__all__ = [
    "motion_error",
    "roi_series",
    "roi_correlations",
    "score_participant",
    "series_scores",
    "spatial_scores",
    "has_truth",
    "anatomy_source",
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
    are not recomputed (:func:`.accuracy.score_dataset` computes them once for all participants).

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


def anatomy_source(bids_dir: str | Path, participant: str) -> str:
    """The template the twin drew ``participant``'s brain from, as its truth records it.

    Parameters
    ----------
    bids_dir : path
        The twin's BIDS folder (with ``derivatives/twin-truth``).
    participant : str
        ``sub-XX``.

    Returns
    -------
    str
        The truth's ``anatomy_source``; ``"template"`` (the registration's own) when it has none.
    """
    return json.loads(_truth(bids_dir, participant, "transform.json").read_text()).get(
        "anatomy_source", "template"
    )
