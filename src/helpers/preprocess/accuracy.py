"""Accuracy of our preprocessing against the digital twin's ground truth (``derivatives/twin-truth``).

Three scores (issue 7, "Must show"):

* realignment: RMS over brain points of ``|E_t p − T_t p|`` (mm) between our and the planted
  motion matrices (:func:`helpers.preprocess.realign.displacement_rms`), averaged over volumes;
* ROI time series: Pearson r between the mean time series of each ROI in our derivatives and in the
  twin's ideal derivatives;
* spatial: Dice between each atlas ROI (1 mm) and the same ROI mapped through our MNI → functional
  map followed by the true functional → MNI map (perfect registration gives Dice 1).

The twin's brains come from another template than the one we register to
(:mod:`helpers.simulate.anatomy`): FSL's MNI152 and nilearn's ICBM 2009a differ by 1–2 mm around
the amygdalae and the VMPFC, so even a perfect registration to the template lands there, not at the
source's own coordinates.  Two Dice scores therefore: ``dice_<roi>`` measures the registration's own
error, against the true map followed by the source → template correspondence ``R``
(:func:`template_correspondence`, one careful normalisation of the noise-free, skull-free source
brain to the template, computed once); ``dice_abs_<roi>`` against the source's coordinates (the
error a study makes when it takes a template's coordinates for another's, the template mismatch).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from nibabel.affines import apply_affine
from scipy import ndimage

from ..atlas import DEFAULT_ROIS
from ..style import ACCENT, OKABE_ITO, PALETTE
from .pipeline import derivative_paths
from .realign import MOTION_COLUMNS, displacement_rms, rigid_matrix

__all__ = [
    "TARGETS",
    "motion_error",
    "roi_series",
    "roi_correlations",
    "template_correspondence",
    "roi_dice",
    "score_participant",
    "has_truth",
    "plot_motion_vs_truth",
    "plot_accuracy",
    "summarise",
    "chapter_accuracy",
    "score_dataset",
]

#: Issue 7's accuracy targets: realignment RMS error (mm, at most), ROI time-series r and ROI Dice (at least).
TARGETS = {"realign_rms_mm": 0.1, "r": 0.9, "dice": 0.9}


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
    data = np.asarray(bold.dataobj, dtype=np.float32)
    return pd.DataFrame({name: data[np.asarray(m.dataobj, bool)].mean(axis=0) for name, m in masks.items()})


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


@functools.lru_cache(maxsize=2)
def template_correspondence(source: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Displacement ``r(y) = R(y) − y`` (x, y, z, 3 array, mm) and its grid affine.

    ``R(y)`` is the point of the twin's source brain that corresponds to template point ``y``; None
    when the source is the template.  ``R`` is one normalisation
    (:func:`helpers.preprocess.normalise.normalise`, 2 mm template, SyN iterations doubled) of the
    source brain's noise-free T2-contrast image (tissue maps of
    :func:`helpers.simulate.anatomy.source_tissue`, no skull, no warp) to the T2 template.  Checked:
    the same procedure on the template itself returns ``r`` ≤ 0.2 mm at the ROIs.  Cached in-process.

    Parameters
    ----------
    source : str or None
        The twin's ``anatomy_source`` (None or ``"template"``: no correspondence).

    Returns
    -------
    (ndarray, ndarray) or None
        The displacement field (float32, mm) on the 2 mm MNI grid and that grid's affine.
    """
    if source in (None, "template"):
        return None
    from helpers.simulate import anatomy, space

    from .normalise import T2_CONTRAST, normalise, template_for_contrast

    shape, affine = space.mni_grid(2)
    tissue = space.tissue_on_grid(anatomy.source_tissue(source), shape, affine)
    image = nib.Nifti1Image(
        sum(T2_CONTRAST[k] * tissue[k] for k in ("gm", "wm", "csf")).astype(np.float32), affine
    )
    norm = normalise(
        image,
        template_for_contrast("T2w", 2),
        affine_template=template_for_contrast("T2w", 3),
        cc_sigma_diff=6.0,
        syn_level_iters=(100, 50, 50),
    )
    y = apply_affine(affine, np.indices(shape).reshape(3, -1).T)
    return (norm.to_structural(y) - y).reshape(*shape, 3).astype(np.float32), affine


def _correction(correspondence, points: np.ndarray) -> np.ndarray:
    """``r`` (N, 3) of :func:`template_correspondence` at template points (N, 3); zeros without one."""
    if correspondence is None:
        return np.zeros_like(points)
    field, affine = correspondence
    vox = apply_affine(np.linalg.inv(affine), points).T
    return np.stack(
        [ndimage.map_coordinates(field[..., k], vox, order=1, mode="nearest") for k in range(3)], axis=1
    )


def roi_dice(
    points_field: nib.Nifti1Image,
    coreg: np.ndarray,
    native_to_mni,
    masks_1mm: dict,
    margin_mm: float = 12.0,
    correspondence=None,
) -> dict[str, float]:
    """Dice of each 1 mm atlas ROI with the ROI mapped through ours (MNI → functional) then truth (→ MNI).

    To first order in ``∇r`` (≪ 1), the template point of a source point p near ``R(y)`` is
    ``p − r(y)``.  Dice = 2|A ∩ B| / (|A| + |B|), over a box around the ROI.

    Parameters
    ----------
    points_field : Nifti1Image
        4-D (x, y, z, 3) image of structural world coordinates ``N(y)`` on the MNI grid
        (our ``from-T2w_to-MNI…_mode-points_xfm``), interpolated trilinearly to the 1 mm points.
    coreg : ndarray, shape (4, 4)
        Structural → functional matrix.
    native_to_mni : callable
        The true map of functional (volume 1) scanner points to MNI points, on (N, 3) arrays.
    masks_1mm : dict
        ROI name -> mask image on a 1 mm MNI grid.
    margin_mm : float, default 12.0
        Margin (mm) of the box around each ROI where points are mapped.
    correspondence : tuple or None, default None
        The output of :func:`template_correspondence` (None: source coordinates are template
        coordinates).

    Returns
    -------
    dict of str to float
    """
    field = points_field.get_fdata(dtype=np.float32)
    inv = np.linalg.inv(points_field.affine)
    out = {}
    for name, mask in masks_1mm.items():
        data = np.asarray(mask.dataobj, bool)
        idx = np.argwhere(data)
        pad = int(np.ceil(margin_mm / abs(mask.affine[0, 0])))
        lo = np.maximum(idx.min(0) - pad, 0)
        hi = np.minimum(idx.max(0) + pad + 1, data.shape)
        box = np.indices(hi - lo).reshape(3, -1).T + lo
        y = apply_affine(mask.affine, box)
        vox = apply_affine(inv, y).T
        struct = np.stack([ndimage.map_coordinates(field[..., k], vox, order=1) for k in range(3)], axis=1)
        p = native_to_mni(apply_affine(coreg, struct)) - _correction(correspondence, y)
        src = np.rint(apply_affine(np.linalg.inv(mask.affine), p)).astype(int)
        ok = np.all((src >= 0) & (src < data.shape), axis=1)
        mapped = np.zeros(len(box), bool)
        mapped[ok] = data[tuple(src[ok].T)]
        truth = data[tuple(box.T)]
        out[name] = float(2 * (mapped & truth).sum() / (mapped.sum() + truth.sum()))
    return out


def score_participant(
    bids_dir: str | Path,
    preproc_dir: str | Path,
    participant: str,
    task: str = "feedback",
    resolution: int = 3,
) -> dict:
    """All three accuracy scores for one twin participant (needs ``derivatives/twin-truth``).

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

    Returns
    -------
    dict
        ``participant_id``, ``realign_rms_mm``, ``r_preproc_<roi>``, ``r_smoothed_<roi>``,
        ``dice_<roi>`` (against the template correspondence), ``dice_abs_<roi>`` (against the source's
        coordinates).
    """
    from helpers.atlas import load_template, roi_masks
    from helpers.simulate import space

    root = Path(bids_dir)
    ours = derivative_paths(preproc_dir, participant, task, resolution)
    ideal = derivative_paths(root / "derivatives" / "twin-fmriprep", participant, task, resolution)
    truth_dir = root / "derivatives" / "twin-truth" / participant
    truth_motion = pd.read_csv(truth_dir / f"{participant}_motion.tsv", sep="\t")
    transform = json.loads((truth_dir / f"{participant}_transform.json").read_text())
    pose = np.asarray(transform["pose_mni_to_scanner"])
    confounds = pd.read_csv(ours["confounds"], sep="\t", na_values="n/a")
    rec = {
        "participant_id": participant,
        "realign_rms_mm": motion_error(confounds, truth_motion, nib.load(ours["boldref"])),
    }
    preproc = nib.load(ours["preproc"])
    masks = roi_masks(preproc)
    for desc in ("preproc", "smoothed"):
        for name, r in roi_correlations(nib.load(ours[desc]), nib.load(ideal[desc]), masks).items():
            rec[f"r_{desc}_{name}"] = r
    coreg = np.loadtxt(ours["coreg_xfm"])
    field, masks_1mm = nib.load(ours["norm_xfm"]), roi_masks(load_template(1))
    truth = lambda q: space.native_to_mni(q, pose, transform["warp"])  # noqa: E731
    correspondence = template_correspondence(transform.get("anatomy_source", "template"))
    rec.update(
        {
            f"dice_{k}": v
            for k, v in roi_dice(field, coreg, truth, masks_1mm, correspondence=correspondence).items()
        }
    )
    rec.update({f"dice_abs_{k}": v for k, v in roi_dice(field, coreg, truth, masks_1mm).items()})
    return rec


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


def score_dataset(
    bids_dir: str | Path,
    preproc_dir: str | Path,
    participants: list[str],
    task: str = "feedback",
    resolution: int = 3,
) -> pd.DataFrame:
    """:func:`score_participant` for every participant, one row each (index ``participant_id``).

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

    Returns
    -------
    DataFrame
    """
    rows = [score_participant(bids_dir, preproc_dir, sub, task, resolution) for sub in participants]
    return pd.DataFrame(rows).set_index("participant_id")


def plot_motion_vs_truth(
    bids_dir: str | Path,
    preproc_dir: str | Path,
    participant: str,
    task: str = "feedback",
    resolution: int = 3,
):
    """Figure: estimated (lines) and planted (dots) translations and rotations of one twin participant.

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

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    ours = pd.read_csv(
        derivative_paths(preproc_dir, participant, task, resolution)["confounds"], sep="\t", na_values="n/a"
    )
    truth = pd.read_csv(
        Path(bids_dir) / "derivatives" / "twin-truth" / participant / f"{participant}_motion.tsv",
        sep="\t",
        na_values="n/a",
    )
    fig, axes = plt.subplots(2, 1, figsize=(8, 5), sharex=True, layout="constrained")
    for ax, cols, scale, unit in (
        (axes[0], MOTION_COLUMNS[:3], 1.0, "mm"),
        (axes[1], MOTION_COLUMNS[3:], 180 / np.pi, "°"),
    ):
        for col, color in zip(cols, (OKABE_ITO["blue"], OKABE_ITO["orange"], OKABE_ITO["bluish_green"])):
            ax.plot(truth[col] * scale, ".", color=color, ms=3, alpha=0.5)
            ax.plot(ours[col] * scale, "-", color=color, lw=1, label=col)
        ax.set_ylabel(unit)
        ax.legend(fontsize=7, ncol=3, frameon=False, loc="upper left")
    axes[1].set_xlabel("volume")
    fig.suptitle(f"{participant}: estimated (lines) vs planted (dots) head motion")
    return fig


def plot_accuracy(scores: pd.DataFrame):
    """Figure: the three accuracy scores per participant (one marker per ROI) against :data:`TARGETS`.

    Targets are dashed lines.

    Parameters
    ----------
    scores : DataFrame
        :func:`score_dataset`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    x = np.arange(len(scores))
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2), layout="constrained")
    axes[0].plot(x, scores["realign_rms_mm"], "o", color=PALETTE["neutral"], ms=4)
    axes[0].axhline(TARGETS["realign_rms_mm"], ls="--", color=ACCENT, lw=1)
    axes[0].set(
        ylabel="mm",
        title="realignment RMS error (≤ target)",
        ylim=(0, 1.3 * max(TARGETS["realign_rms_mm"], scores["realign_rms_mm"].max())),
    )
    for ax, prefix, target, title in (
        (axes[1], "r_preproc_", TARGETS["r"], "ROI time series r (≥ target)"),
        (axes[2], "dice_", TARGETS["dice"], "ROI Dice (≥ target)"),
    ):
        values = scores.filter(regex=f"^{prefix}(?!abs_)")  # dice_abs_*: in the table, not against the target
        for (col, column), marker in zip(values.items(), "os^"):
            ax.plot(x, column, marker, ms=4, alpha=0.8, label=col.removeprefix(prefix))
        ax.axhline(target, ls="--", color=ACCENT, lw=1)
        ax.set(title=title, ylim=(min(0.85, values.min().min() - 0.02), 1.005))  # never hide a miss
        ax.legend(fontsize=7, frameon=False, loc="lower left")
    for ax in axes:
        ax.set_xticks(x, [p.removeprefix("sub-") for p in scores.index], fontsize=6, rotation=90)
        ax.set_xlabel("participant")
    return fig


def summarise(scores: pd.DataFrame) -> dict[str, float]:
    """Worst and mean scores, and how many (participant × ROI) scores miss :data:`TARGETS`.

    Parameters
    ----------
    scores : DataFrame
        :func:`score_dataset`.

    Returns
    -------
    dict of str to float
        ``max_realign_rms``, ``min_r``, ``min_dice``, ``mean_dice``, ``min_dice_abs``,
        ``n_realign_missed``, ``n_r_missed``, ``n_dice_missed``, ``n_scores``.
    """
    r, dice = scores.filter(like="r_preproc"), scores.filter(regex=r"^dice_(?!abs_)")
    return {
        "max_realign_rms": float(scores["realign_rms_mm"].max()),
        "min_r": float(r.min().min()),
        "min_dice": float(dice.min().min()),
        "mean_dice": float(dice.mean().mean()),
        "min_dice_abs": float(scores.filter(regex=r"^dice_abs_").min().min()),
        "n_realign_missed": int((scores["realign_rms_mm"] > TARGETS["realign_rms_mm"]).sum()),
        "n_r_missed": int((r < TARGETS["r"]).sum().sum()),
        "n_dice_missed": int((dice < TARGETS["dice"]).sum().sum()),
        "n_scores": int(dice.size),
    }


#: The scores table of a dataset without ground truth: the columns, no rows.
_EMPTY_SCORES = pd.DataFrame(
    columns=["realign_rms_mm"]
    + [f"{score}_{roi}" for score in ("r_preproc", "r_smoothed", "dice", "dice_abs") for roi in DEFAULT_ROIS],
    index=pd.Index([], name="participant_id"),
    dtype=float,
)


def chapter_accuracy(
    bids_dir: str | Path,
    preproc_dir: str | Path,
    participants: list[str],
    task: str = "feedback",
    resolution: int = 3,
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
    scores = score_dataset(bids_dir, preproc_dir, participants, task, resolution)
    return (
        scores,
        summarise(scores),
        {
            "accuracy": plot_accuracy(scores),
            "motion_truth": plot_motion_vs_truth(bids_dir, preproc_dir, participants[0], task, resolution),
        },
    )
