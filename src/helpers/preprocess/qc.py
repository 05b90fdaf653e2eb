"""Quality-control figures of preprocessing: motion traces, carpet plot, registration overlays.

Plotting functions return a matplotlib ``Figure`` (never shown here).  The QC *gates* (scores,
thresholds such as mean framewise displacement > 0.5 mm, and the exclusions they record in
``exclusions.tsv``, book/spec_data_contract.md) are in :mod:`helpers.preprocess.gates`.
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

from ..roi_figure import roi_colours
from ..style import ACCENT, OKABE_ITO
from .qc_scores import first_run_derivatives

#: Colour of the edges drawn on the structural (coregistration, normalisation overlays).
EDGE_COLOUR = ACCENT
#: Colour of the template's brain outline in the registration grid (not a region's colour).
OUTLINE_COLOUR = OKABE_ITO["yellow"]

__all__ = [
    "EDGE_COLOUR",
    "OUTLINE_COLOUR",
    "plot_motion",
    "plot_carpet",
    "plot_coregistration",
    "plot_normalisation",
    "plot_roi_outlines",
    "plot_registration_grid",
    "qc_figures",
]


def plot_motion(confounds: pd.DataFrame, title: str = "", fd_threshold: float | None = 0.5) -> Figure:
    """Translations (mm), rotations (degrees) and framewise displacement (mm) against volume.

    Parameters
    ----------
    confounds : DataFrame
        ``trans_*`` (mm), ``rot_*`` (rad), ``framewise_displacement`` (mm).
    title : str, default ""
        Figure title.
    fd_threshold : float or None, default 0.5
        FD line drawn (mm); None: no line.

    Returns
    -------
    Figure
    """
    fig, axes = plt.subplots(3, 1, figsize=(8, 6), sharex=True, layout="constrained")
    axis_colour = dict(zip("xyz", (OKABE_ITO["blue"], OKABE_ITO["vermillion"], OKABE_ITO["bluish_green"])))
    for axis in "xyz":
        axes[0].plot(confounds[f"trans_{axis}"].to_numpy(), color=axis_colour[axis], label=f"trans_{axis}")
        axes[1].plot(
            np.degrees(confounds[f"rot_{axis}"].to_numpy()), color=axis_colour[axis], label=f"rot_{axis}"
        )
    axes[2].plot(confounds["framewise_displacement"].to_numpy(), color="k", lw=1)
    if fd_threshold is not None:
        axes[2].axhline(fd_threshold, color=ACCENT, ls="--", lw=1, label=f"{fd_threshold} mm")
    for ax, label in zip(axes, ("translation (mm)", "rotation (°)", "FD (mm)")):
        ax.set_ylabel(label)
        ax.legend(loc="upper left", fontsize=7, ncol=3, frameon=False)
    axes[2].set_xlabel("volume")
    fig.suptitle(title)
    return fig


def plot_carpet(
    bold: nib.Nifti1Image,
    probsegs: dict[str, nib.Nifti1Image],
    mask: nib.Nifti1Image,
    confounds: pd.DataFrame | None = None,
    title: str = "",
    max_voxels: int = 3000,
) -> Figure:
    """Carpet plot (Power 2017): linearly detrended, z-scored voxel time series, rows grouped by tissue.

    Each in-mask voxel is assigned its most probable tissue; up to ``max_voxels`` rows (evenly spaced
    within each tissue) are shown, with FD above if ``confounds`` is given.

    Parameters
    ----------
    bold : Nifti1Image
        4-D series.
    probsegs : dict
        Tissue name -> probability image on the same grid (row groups, in this order).
    mask : Nifti1Image
        Brain mask.
    confounds : DataFrame or None, default None
        With ``framewise_displacement`` (mm) for the top panel.
    title : str, default ""
        Figure title.
    max_voxels : int, default 3000
        About the number of rows shown (every k-th voxel, k = n_voxels // max_voxels).

    Returns
    -------
    Figure
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
        axes[1].axhline(b, color=OKABE_ITO["orange"], lw=1)
    centres = np.r_[0, bounds[:-1]] + np.diff(np.r_[0, bounds]) / 2
    axes[1].set_yticks(centres, labels)
    axes[1].set_xlabel("volume")
    fig.suptitle(title)
    return fig


def _overlay(
    base: nib.Nifti1Image, edges: nib.Nifti1Image | None, contours: dict | None, title: str, cut_coords=None
) -> Figure:
    from nilearn import plotting

    fig = plt.figure(figsize=(9, 3))
    display = plotting.plot_anat(
        base,
        display_mode="ortho",
        cut_coords=cut_coords,
        figure=fig,
        title=title,
        draw_cross=False,
        annotate=False,
        dim=0,
    )
    if edges is not None:
        display.add_edges(edges, color=EDGE_COLOUR)
    colours = roi_colours(contours or {})
    for name, img in (contours or {}).items():
        color = colours[name]
        display.add_contours(
            nib.Nifti1Image(np.asarray(img.dataobj, np.float32), img.affine),
            levels=[0.5],
            colors=[color],
            linewidths=1.5,
        )
    return fig


def plot_coregistration(
    boldref: nib.Nifti1Image, structural: nib.Nifti1Image, coreg: np.ndarray, title: str = ""
) -> Figure:
    """Edges of the coregistered mean functional (:data:`EDGE_COLOUR`) on the structural.

    The mean functional is sampled at ``C·x`` for every structural voxel ``x`` (``C`` from
    :func:`helpers.preprocess.coregister.coregister`).

    Parameters
    ----------
    boldref : Nifti1Image
        Mean functional.
    structural : Nifti1Image
        The participant's structural.
    coreg : ndarray, shape (4, 4)
        C: structural → functional world points.
    title : str, default ""
        Figure title.

    Returns
    -------
    Figure
    """
    shape = structural.shape[:3]
    pts = apply_affine(
        np.linalg.inv(boldref.affine) @ coreg @ structural.affine, np.indices(shape).reshape(3, -1).T
    )
    moved = ndimage.map_coordinates(boldref.get_fdata(dtype=np.float32), pts.T, order=1).reshape(shape)
    return _overlay(structural, nib.Nifti1Image(moved, structural.affine), None, title)


def plot_normalisation(anat_mni: nib.Nifti1Image, template: nib.Nifti1Image, title: str = "") -> Figure:
    """Edges of the MNI template (:data:`EDGE_COLOUR`) on the participant's structural normalised to MNI.

    Parameters
    ----------
    anat_mni : Nifti1Image
        Normalised structural.
    template : Nifti1Image
        Template of the same contrast.
    title : str, default ""
        Figure title.

    Returns
    -------
    Figure
    """
    return _overlay(anat_mni, template, None, title)


def plot_roi_outlines(
    background: nib.Nifti1Image, masks: dict[str, nib.Nifti1Image], title: str = "", cut_coords=(2, 8, -16)
) -> Figure:
    """ROI outlines (atlas masks on the output grid) on a background, e.g. the mean preprocessed BOLD.

    Parameters
    ----------
    background : Nifti1Image
        3-D background image.
    masks : dict
        ROI name -> mask image (up to four colours).
    title : str, default ""
        Figure title.
    cut_coords : sequence of 3 float, default (2, 8, -16)
        MNI coordinates (mm) of the orthogonal slices.

    Returns
    -------
    Figure
    """
    return _overlay(background, None, masks, title, cut_coords=cut_coords)


def qc_figures(
    preproc_dir: str | Path,
    bids_dir: str | Path,
    participant: str,
    task: str = "feedback",
    resolution: int = 3,
    fd_threshold: float = 0.5,
) -> dict[str, Figure]:
    """All QC figures of one participant: ``motion``, ``carpet``, ``coregistration``, ``normalisation``,
    ``rois``.

    With several runs, the first run's derivatives are shown.

    Parameters
    ----------
    preproc_dir : path
        Our derivatives.
    bids_dir : path
        Raw BIDS dataset.
    participant : str
        ``sub-XX``.
    task : str, default "feedback"
        BIDS task label.
    resolution : int, default 3
        Voxel size (mm) of the derivatives' MNI grid.
    fd_threshold : float, default 0.5
        FD line of the motion figure (mm).

    Returns
    -------
    dict of str to Figure
    """
    from helpers.atlas import roi_masks

    from .inputs import load_structural
    from .normalise import template_for_contrast

    inputs, paths = first_run_derivatives(bids_dir, preproc_dir, participant, task, resolution)
    conf = pd.read_csv(paths["confounds"], sep="\t", na_values="n/a")
    proxy = nib.load(paths["preproc"])
    data = np.asarray(proxy.dataobj, np.float32)  # read once: the carpet and the mean image
    bold = nib.Nifti1Image(data, proxy.affine, proxy.header)
    probsegs = {k: nib.load(paths[f"probseg_{k}"]) for k in ("GM", "WM", "CSF")}
    mean_bold = nib.Nifti1Image(data.mean(axis=3), proxy.affine)
    return {
        "motion": plot_motion(conf, f"{participant}: realignment parameters and FD", fd_threshold),
        "carpet": plot_carpet(bold, probsegs, nib.load(paths["mask"]), conf, f"{participant}: carpet plot"),
        "coregistration": plot_coregistration(
            nib.load(paths["boldref"]),
            load_structural(inputs),
            np.loadtxt(paths["coreg_xfm"]),
            f"{participant}: mean EPI edges on {inputs.contrast}",
        ),
        "normalisation": plot_normalisation(
            nib.load(paths["anat_mni"]),
            template_for_contrast(inputs.contrast, 2),
            f"{participant}: template edges on normalised {inputs.contrast}",
        ),
        "rois": plot_roi_outlines(
            mean_bold, roi_masks(mean_bold), f"{participant}: ROIs on the mean preprocessed EPI"
        ),
    }


def plot_registration_grid(
    preproc_dir: str | Path,
    bids_dir: str | Path,
    participants: list[str],
    task: str = "feedback",
    resolution: int = 3,
    flagged=(),
    z_mm: float = -16.0,
    columns: int = 5,
) -> Figure:
    """Every participant's normalised structural at one axial level, with the template's brain outline
    (:data:`OUTLINE_COLOUR`) and each ROI's outline in its colour (:func:`helpers.roi_figure.roi_colours`).

    One panel per participant, ``columns`` per row, each ~2.3 inches wide so that the outlines stay
    legible in print; titles of ``flagged`` participants are in the accent colour (registration QC gates).

    Parameters
    ----------
    preproc_dir : path
        Our derivatives.
    bids_dir : path
        Raw BIDS dataset.
    participants : list of str
        One panel each.
    task : str, default "feedback"
        BIDS task label.
    resolution : int, default 3
        Voxel size (mm) of the derivatives' MNI grid.
    flagged : collection of str, default ()
        Participants flagged by the registration QC gates.
    z_mm : float, default -16.0
        MNI z (mm) of the slice (through the amygdalae and the VMPFC).
    columns : int, default 5
        Panels per row.

    Returns
    -------
    Figure
    """
    from helpers.atlas import load_template, roi_masks

    columns = max(1, min(columns, len(participants)))
    rows = int(np.ceil(len(participants) / columns))
    fig, axes = plt.subplots(
        rows, columns, figsize=(2.3 * columns, 2.6 * rows), squeeze=False, layout="constrained"
    )
    brain = None
    for ax, sub in zip(axes.ravel(), participants):
        anat = nib.load(first_run_derivatives(bids_dir, preproc_dir, sub, task, resolution)[1]["anat_mni"])
        if brain is None:
            from nilearn import image as nimg

            mask = nimg.resample_to_img(
                load_template(int(resolution), "mask"),
                anat,
                interpolation="nearest",
                force_resample=True,
                copy_header=True,
            )
            brain = np.asarray(mask.dataobj) > 0
            rois = {name: np.asarray(roi.dataobj) > 0 for name, roi in roi_masks(anat).items()}
            colours = roi_colours(rois)
            k = int(round(apply_affine(np.linalg.inv(anat.affine), [0, 0, z_mm])[2]))
        data = anat.get_fdata(dtype=np.float32)[:, :, k]
        ax.imshow(data.T, origin="lower", cmap="gray", vmin=0, vmax=np.percentile(data[brain[:, :, k]], 99))
        ax.contour(brain[:, :, k].T.astype(float), levels=[0.5], colors=OUTLINE_COLOUR, linewidths=0.8)
        for name, roi in rois.items():
            if roi[:, :, k].any():  # the VMPFC lies above the amygdalae' slice
                ax.contour(roi[:, :, k].T.astype(float), levels=[0.5], colors=colours[name], linewidths=0.8)
        (i0, j0), (i1, j1) = np.argwhere(brain[:, :, k]).min(0) - 3, np.argwhere(brain[:, :, k]).max(0) + 3
        ax.set(xlim=(i0, i1), ylim=(j0, j1))  # crop to the brain: larger panels, legible outlines
        ax.set_title(
            sub + (" (flagged)" if sub in flagged else ""),
            fontsize=9,
            color=ACCENT if sub in flagged else "black",
        )
    for ax in axes.ravel():
        ax.axis("off")
    return fig
