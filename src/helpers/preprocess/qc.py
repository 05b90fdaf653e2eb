"""Quality control of preprocessing: motion traces, carpet plot, registration overlays, FD table, exclusions.

Plotting functions return a matplotlib ``Figure`` (never shown here).  The exclusion rule is a
parameter (default: mean framewise displacement > 0.5 mm, Power et al. 2012's FD); every excluded
participant gets a row ``participant_id, stage, reason`` (CONTRACTS.md ``exclusions.tsv``).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import nibabel as nib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from nibabel.affines import apply_affine
from scipy import ndimage, signal

from ..execution import EXCLUSION_COLUMNS
from .pipeline import derivative_paths

__all__ = ["plot_motion", "plot_carpet", "plot_coregistration", "plot_normalisation", "plot_roi_outlines",
           "fd_table", "fd_exclusions", "qc_figures"]

STAGE = "preprocessing-qc"


def plot_motion(confounds: pd.DataFrame, title: str = "", fd_threshold: float | None = 0.5) -> Figure:
    """Translations (mm), rotations (degrees) and framewise displacement (mm) against volume."""
    fig, axes = plt.subplots(3, 1, figsize=(8, 6), sharex=True, layout="constrained")
    for col in ("trans_x", "trans_y", "trans_z"):
        axes[0].plot(confounds[col].to_numpy(), label=col)
    for col in ("rot_x", "rot_y", "rot_z"):
        axes[1].plot(np.degrees(confounds[col].to_numpy()), label=col)
    axes[2].plot(confounds["framewise_displacement"].to_numpy(), color="k", lw=1)
    if fd_threshold is not None:
        axes[2].axhline(fd_threshold, color="tab:red", ls="--", lw=1, label=f"{fd_threshold} mm")
    for ax, label in zip(axes, ("translation (mm)", "rotation (°)", "FD (mm)")):
        ax.set_ylabel(label)
        ax.legend(loc="upper left", fontsize=7, ncol=3, frameon=False)
    axes[2].set_xlabel("volume")
    fig.suptitle(title)
    return fig


def plot_carpet(bold: nib.Nifti1Image, probsegs: dict[str, nib.Nifti1Image], mask: nib.Nifti1Image,
                confounds: pd.DataFrame | None = None, title: str = "", max_voxels: int = 3000) -> Figure:
    """Carpet plot (Power 2017): linearly detrended, z-scored voxel time series, rows grouped by tissue.

    Each in-mask voxel is assigned its most probable tissue; up to ``max_voxels`` rows (evenly spaced
    within each tissue) are shown, with FD above if ``confounds`` is given.
    """
    data = np.asarray(bold.dataobj, dtype=np.float32)
    inside = np.asarray(mask.dataobj) > 0
    labels = list(probsegs)
    prob = np.stack([np.asarray(probsegs[k].dataobj, dtype=np.float32)[inside] for k in labels])
    series = signal.detrend(data[inside], axis=1)
    series = series / np.maximum(series.std(1, keepdims=True), 1e-6)
    tissue = prob.argmax(0)
    order = np.concatenate([np.flatnonzero(tissue == k) for k in range(len(labels))])
    step = max(1, len(order) // max_voxels)
    rows = order[::step]
    fig, axes = plt.subplots(2, 1, figsize=(8, 6), height_ratios=(1, 4), sharex=True, layout="constrained")
    if confounds is not None:
        axes[0].plot(confounds["framewise_displacement"].to_numpy(), color="k", lw=1)
    axes[0].set_ylabel("FD (mm)")
    axes[1].imshow(series[rows], aspect="auto", cmap="gray", vmin=-2, vmax=2, interpolation="nearest")
    bounds = np.cumsum([np.sum(tissue[rows] == k) for k in range(len(labels))])
    for b in bounds[:-1]:
        axes[1].axhline(b, color="tab:orange", lw=1)
    centres = np.r_[0, bounds[:-1]] + np.diff(np.r_[0, bounds]) / 2
    axes[1].set_yticks(centres, labels)
    axes[1].set_xlabel("volume")
    fig.suptitle(title)
    return fig


def _overlay(base: nib.Nifti1Image, edges: nib.Nifti1Image | None, contours: dict | None, title: str,
             cut_coords=None) -> Figure:
    from nilearn import plotting

    fig = plt.figure(figsize=(9, 3))
    display = plotting.plot_anat(base, display_mode="ortho", cut_coords=cut_coords, figure=fig, title=title,
                                 draw_cross=False, annotate=False, dim=0)
    if edges is not None:
        display.add_edges(edges, color="r")
    for (name, img), color in zip((contours or {}).items(), ("tab:red", "tab:cyan", "tab:green", "y")):
        display.add_contours(nib.Nifti1Image(np.asarray(img.dataobj, np.float32), img.affine), levels=[0.5],
                             colors=[color], linewidths=1.5)
    return fig


def plot_coregistration(boldref: nib.Nifti1Image, structural: nib.Nifti1Image, coreg: np.ndarray,
                        title: str = "") -> Figure:
    """Edges of the coregistered mean functional (red) on the structural.

    The mean functional is sampled at ``C·x`` for every structural voxel ``x`` (``C`` from
    :func:`helpers.preprocess.coregister.coregister`).
    """
    shape = structural.shape[:3]
    pts = apply_affine(np.linalg.inv(boldref.affine) @ coreg @ structural.affine, np.indices(shape).reshape(3, -1).T)
    moved = ndimage.map_coordinates(boldref.get_fdata(dtype=np.float32), pts.T, order=1).reshape(shape)
    return _overlay(structural, nib.Nifti1Image(moved, structural.affine), None, title)


def plot_normalisation(anat_mni: nib.Nifti1Image, template: nib.Nifti1Image, title: str = "") -> Figure:
    """Edges of the MNI template (red) on the participant's structural normalised to MNI."""
    return _overlay(anat_mni, template, None, title)


def plot_roi_outlines(background: nib.Nifti1Image, masks: dict[str, nib.Nifti1Image], title: str = "",
                      cut_coords=(2, 8, -16)) -> Figure:
    """ROI outlines (atlas masks on the output grid) on a background, e.g. the mean preprocessed BOLD."""
    return _overlay(background, None, masks, title, cut_coords=cut_coords)


def fd_table(preproc_dir: str | Path, participants: list[str], task: str = "feedback",
             resolution: int = 3, fd_threshold: float = 0.5) -> pd.DataFrame:
    """Per participant: mean FD, max FD and the number of volumes with FD > ``fd_threshold`` (mm)."""
    rows = []
    for sub in participants:
        path = derivative_paths(preproc_dir, sub, task, resolution)["confounds"]
        if not path.is_file():
            raise ValueError(f"{path}: participant {sub}: confounds file missing (run preprocessing first)")
        fd = pd.read_csv(path, sep="\t", na_values="n/a")["framewise_displacement"].to_numpy()
        rows.append({"participant_id": sub, "mean_fd": float(np.nanmean(fd)), "max_fd": float(np.nanmax(fd)),
                     "n_fd_above": int(np.sum(fd[np.isfinite(fd)] > fd_threshold))})
    return pd.DataFrame(rows)


def fd_exclusions(table: pd.DataFrame, max_mean_fd: float = 0.5) -> pd.DataFrame:
    """Rows ``participant_id, stage, reason`` for participants whose mean FD exceeds ``max_mean_fd`` mm."""
    bad = table[table["mean_fd"] > max_mean_fd]
    return pd.DataFrame({"participant_id": bad["participant_id"], "stage": STAGE,
                         "reason": [f"mean framewise displacement {v:.3f} mm > {max_mean_fd} mm" for v in bad["mean_fd"]]},
                        columns=EXCLUSION_COLUMNS).reset_index(drop=True)


def qc_figures(preproc_dir: str | Path, bids_dir: str | Path, participant: str, task: str = "feedback",
               resolution: int = 3, fd_threshold: float = 0.5) -> dict[str, Figure]:
    """All QC figures of one participant: ``motion``, ``carpet``, ``coregistration``, ``normalisation``, ``rois``."""
    from helpers.atlas import roi_masks

    from .inputs import find_inputs, load_structural
    from .normalise import template_for_contrast

    inputs = find_inputs(bids_dir, participant, task)
    first = inputs.runs[0]  # several runs: the first run's derivatives (the structural is the participant's)
    paths = derivative_paths(preproc_dir, participant, task, resolution, inputs.contrast, session=first.session,
                             acq=first.acq, run=first.run)
    conf = pd.read_csv(paths["confounds"], sep="\t", na_values="n/a")
    bold = nib.load(paths["preproc"])
    probsegs = {k: nib.load(paths[f"probseg_{k}"]) for k in ("GM", "WM", "CSF")}
    mean_bold = nib.Nifti1Image(np.asarray(bold.dataobj, np.float32).mean(axis=3), bold.affine)
    return {
        "motion": plot_motion(conf, f"{participant}: realignment parameters and FD", fd_threshold),
        "carpet": plot_carpet(bold, probsegs, nib.load(paths["mask"]), conf, f"{participant}: carpet plot"),
        "coregistration": plot_coregistration(nib.load(paths["boldref"]), load_structural(inputs),
                                              np.loadtxt(paths["coreg_xfm"]),
                                              f"{participant}: mean EPI edges on {inputs.contrast}"),
        "normalisation": plot_normalisation(nib.load(paths["anat_mni"]), template_for_contrast(inputs.contrast, 2),
                                            f"{participant}: template edges on normalised {inputs.contrast}"),
        "rois": plot_roi_outlines(mean_bold, roi_masks(mean_bold),
                                  f"{participant}: ROIs on the mean preprocessed EPI"),
    }
