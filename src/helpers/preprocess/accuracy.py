"""Accuracy of our preprocessing against the digital twin's ground truth (``derivatives/twin-truth``).

Three scores (issue 7, "Must show"):

* realignment: RMS over brain points of ``|E_t p − T_t p|`` (mm) between our and the planted
  motion matrices (:func:`helpers.preprocess.realign.displacement_rms`), averaged over volumes;
* ROI time series: Pearson r between the mean time series of each ROI in our derivatives and in the
  twin's ideal derivatives;
* spatial: Dice between each atlas ROI (1 mm) and the same ROI mapped through our MNI → functional
  map followed by the true functional → MNI map (perfect registration gives Dice 1).
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from nibabel.affines import apply_affine
from scipy import ndimage

from ..atlas import DEFAULT_ROIS
from .pipeline import derivative_paths
from .realign import MOTION_COLUMNS, displacement_rms, rigid_matrix

__all__ = ["TARGETS", "motion_error", "roi_series", "roi_correlations", "roi_dice", "score_participant", "has_truth",
           "plot_motion_vs_truth", "plot_accuracy", "summarise", "chapter_accuracy", "score_dataset"]

#: Issue 7's accuracy targets: realignment RMS error (mm, at most), ROI time-series r and ROI Dice (at least).
TARGETS = {"realign_rms_mm": 0.1, "r": 0.9, "dice": 0.9}


def motion_error(ours: pd.DataFrame, truth: pd.DataFrame, boldref: nib.Nifti1Image) -> float:
    """RMS displacement error (mm) of our motion estimates over head voxels (boldref > mean/8), all volumes."""
    est = np.stack([rigid_matrix(p) for p in ours[list(MOTION_COLUMNS)].to_numpy()])
    true = np.stack([rigid_matrix(p) for p in truth[list(MOTION_COLUMNS)].to_numpy()])
    ref = boldref.get_fdata()
    pts = apply_affine(boldref.affine, np.argwhere(ref > ref.mean() / 8.0)).T
    err = displacement_rms(est, true, pts)
    return float(np.sqrt((err ** 2).mean()))


def roi_series(bold: nib.Nifti1Image, masks: dict[str, nib.Nifti1Image]) -> pd.DataFrame:
    """Mean time series (volumes × ROIs) of ``bold`` within each boolean mask (same grid)."""
    data = np.asarray(bold.dataobj, dtype=np.float32)
    return pd.DataFrame({name: data[np.asarray(m.dataobj, bool)].mean(axis=0) for name, m in masks.items()})


def roi_correlations(ours: nib.Nifti1Image, ideal: nib.Nifti1Image, masks: dict) -> dict[str, float]:
    """Pearson r per ROI between mean time series from our and the ideal derivatives."""
    a, b = roi_series(ours, masks), roi_series(ideal, masks)
    return {name: float(np.corrcoef(a[name], b[name])[0, 1]) for name in masks}


def roi_dice(points_field: nib.Nifti1Image, coreg: np.ndarray, native_to_mni, masks_1mm: dict,
             margin_mm: float = 12.0) -> dict[str, float]:
    """Dice of each 1 mm atlas ROI with the ROI mapped through ours (MNI → functional) then truth (→ MNI).

    ``points_field``: 4-D (x, y, z, 3) image of structural world coordinates ``N(y)`` on the MNI grid
    (our ``from-T2w_to-MNI…_mode-points_xfm``), interpolated trilinearly to the 1 mm points;
    ``coreg``: structural → functional matrix; ``native_to_mni``: the true map of functional
    (volume 1) scanner points to MNI points (callable on (N, 3) arrays).
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
        p = native_to_mni(apply_affine(coreg, struct))
        src = np.rint(apply_affine(np.linalg.inv(mask.affine), p)).astype(int)
        ok = np.all((src >= 0) & (src < data.shape), axis=1)
        mapped = np.zeros(len(box), bool)
        mapped[ok] = data[tuple(src[ok].T)]
        truth = data[tuple(box.T)]
        out[name] = float(2 * (mapped & truth).sum() / (mapped.sum() + truth.sum()))
    return out


def score_participant(bids_dir: str | Path, preproc_dir: str | Path, participant: str, task: str = "feedback",
                      resolution: int = 3) -> dict:
    """All three accuracy scores for one twin participant (needs ``derivatives/twin-truth``)."""
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
    rec = {"participant_id": participant,
           "realign_rms_mm": motion_error(confounds, truth_motion, nib.load(ours["boldref"]))}
    preproc = nib.load(ours["preproc"])
    masks = roi_masks(preproc)
    for desc in ("preproc", "smoothed"):
        for name, r in roi_correlations(nib.load(ours[desc]), nib.load(ideal[desc]), masks).items():
            rec[f"r_{desc}_{name}"] = r
    coreg = np.loadtxt(ours["coreg_xfm"])
    dice = roi_dice(nib.load(ours["norm_xfm"]), coreg,
                    lambda q: space.native_to_mni(q, pose, transform["warp"]), roi_masks(load_template(1)))
    rec.update({f"dice_{k}": v for k, v in dice.items()})
    return rec


def has_truth(bids_dir: str | Path) -> bool:
    """True if ``bids_dir`` is a digital twin with ground truth and ideal derivatives."""
    root = Path(bids_dir) / "derivatives"
    return (root / "twin-truth").is_dir() and (root / "twin-fmriprep").is_dir()


def score_dataset(bids_dir: str | Path, preproc_dir: str | Path, participants: list[str], task: str = "feedback",
                  resolution: int = 3) -> pd.DataFrame:
    """:func:`score_participant` for every participant, one row each (index ``participant_id``)."""
    rows = [score_participant(bids_dir, preproc_dir, sub, task, resolution) for sub in participants]
    return pd.DataFrame(rows).set_index("participant_id")


def plot_motion_vs_truth(bids_dir: str | Path, preproc_dir: str | Path, participant: str, task: str = "feedback",
                         resolution: int = 3):
    """Figure: estimated (lines) and planted (dots) translations and rotations of one twin participant."""
    import matplotlib.pyplot as plt

    ours = pd.read_csv(derivative_paths(preproc_dir, participant, task, resolution)["confounds"], sep="\t",
                       na_values="n/a")
    truth = pd.read_csv(Path(bids_dir) / "derivatives" / "twin-truth" / participant / f"{participant}_motion.tsv",
                        sep="\t", na_values="n/a")
    fig, axes = plt.subplots(2, 1, figsize=(8, 5), sharex=True, layout="constrained")
    for ax, cols, scale, unit in ((axes[0], MOTION_COLUMNS[:3], 1.0, "mm"),
                                  (axes[1], MOTION_COLUMNS[3:], 180 / np.pi, "°")):
        for col, color in zip(cols, ("tab:blue", "tab:orange", "tab:green")):
            ax.plot(truth[col] * scale, ".", color=color, ms=3, alpha=0.5)
            ax.plot(ours[col] * scale, "-", color=color, lw=1, label=col)
        ax.set_ylabel(unit)
        ax.legend(fontsize=7, ncol=3, frameon=False, loc="upper left")
    axes[1].set_xlabel("volume")
    fig.suptitle(f"{participant}: estimated (lines) vs planted (dots) head motion")
    return fig


def plot_accuracy(scores: pd.DataFrame):
    """Figure: the three accuracy scores per participant (one marker per ROI) against :data:`TARGETS` (dashed)."""
    import matplotlib.pyplot as plt

    x = np.arange(len(scores))
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2), layout="constrained")
    axes[0].plot(x, scores["realign_rms_mm"], "o", color="tab:grey", ms=4)
    axes[0].axhline(TARGETS["realign_rms_mm"], ls="--", color="tab:red", lw=1)
    axes[0].set(ylabel="mm", title="realignment RMS error (≤ target)",
                ylim=(0, 1.3 * max(TARGETS["realign_rms_mm"], scores["realign_rms_mm"].max())))
    for ax, prefix, target, title in ((axes[1], "r_preproc_", TARGETS["r"], "ROI time series r (≥ target)"),
                                      (axes[2], "dice_", TARGETS["dice"], "ROI Dice (≥ target)")):
        values = scores.filter(regex=f"^{prefix}")
        for (col, column), marker in zip(values.items(), "os^"):
            ax.plot(x, column, marker, ms=4, alpha=0.8, label=col.removeprefix(prefix))
        ax.axhline(target, ls="--", color="tab:red", lw=1)
        ax.set(title=title, ylim=(min(0.85, values.min().min() - 0.02), 1.005))  # never hide a miss
        ax.legend(fontsize=7, frameon=False, loc="lower left")
    for ax in axes:
        ax.set_xticks(x, [p.removeprefix("sub-") for p in scores.index], fontsize=6, rotation=90)
        ax.set_xlabel("participant")
    return fig


def summarise(scores: pd.DataFrame) -> dict[str, float]:
    """Worst and mean scores, and how many (participant × ROI) scores miss :data:`TARGETS`."""
    r, dice = scores.filter(like="r_preproc"), scores.filter(like="dice")
    return {"max_realign_rms": float(scores["realign_rms_mm"].max()), "min_r": float(r.min().min()),
            "min_dice": float(dice.min().min()), "mean_dice": float(dice.mean().mean()),
            "n_realign_missed": int((scores["realign_rms_mm"] > TARGETS["realign_rms_mm"]).sum()),
            "n_r_missed": int((r < TARGETS["r"]).sum().sum()), "n_dice_missed": int((dice < TARGETS["dice"]).sum().sum()),
            "n_scores": int(dice.size)}


#: The scores table of a dataset without ground truth: the columns, no rows.
_EMPTY_SCORES = pd.DataFrame(columns=["realign_rms_mm"] + [f"{score}_{roi}" for score in ("r_preproc", "r_smoothed", "dice")
                                                           for roi in DEFAULT_ROIS],
                             index=pd.Index([], name="participant_id"), dtype=float)


def chapter_accuracy(bids_dir: str | Path, preproc_dir: str | Path, participants: list[str], task: str = "feedback",
                     resolution: int = 3) -> tuple[pd.DataFrame, dict[str, float], dict]:
    """Scores table, :func:`summarise` numbers and figures ``{"accuracy", "motion_truth"}`` (first participant).

    On a dataset without ground truth (not a twin) the table has no rows, the numbers are NaN and the
    figures say so — the chapter runs unchanged on a user's own data.
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
    return scores, summarise(scores), {"accuracy": plot_accuracy(scores),
                                       "motion_truth": plot_motion_vs_truth(bids_dir, preproc_dir, participants[0],
                                                                            task, resolution)}

