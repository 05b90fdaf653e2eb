"""Carpet plot before and after denoising for one participant (helpers.denoise_qc)."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd

from ..denoise import HIGHPASS, regress_and_filter
from ..style import OKABE_ITO, styled
from .plots import WIDTH
from .scores import _run_design

__all__ = ["carpet_data", "plot_carpet"]


def _brain_voxels(files, derivatives_dir, task: str, img) -> np.ndarray:
    """ijk of the brain: the derivative's brain mask beside the BOLD, else nilearn's EPI mask of the data."""
    from nilearn import image as nimg
    from nilearn.masking import compute_epi_mask

    from ..layout import derivative_runs

    mask = None
    if derivatives_dir is not None:
        runs = [
            r for r in derivative_runs(derivatives_dir, files.participant_id, task) if r.bold == files.bold
        ]
        mask = runs[0].mask if runs else None
    mask_img = nib.load(mask) if mask is not None else compute_epi_mask(img)
    mask_img = nimg.resample_to_img(
        mask_img, nimg.index_img(img, 0), interpolation="nearest", force_resample=True, copy_header=True
    )
    return np.argwhere(np.asanyarray(mask_img.dataobj) > 0)


def _tissue_of(ijk: np.ndarray, files, img) -> np.ndarray:
    """0 = grey matter/other, 1 = WM, 2 = CSF: the tissue with probability > 0.5 (WM before CSF)."""
    from nilearn import image as nimg

    label = np.zeros(len(ijk), int)
    for value, path in ((2, files.csf), (1, files.wm)):
        prob = nimg.resample_to_img(
            nib.load(path),
            nimg.index_img(img, 0),
            interpolation="nearest",
            force_resample=True,
            copy_header=True,
        )
        label[np.asanyarray(prob.dataobj)[tuple(ijk.T)] > 0.5] = value
    return label


def carpet_data(
    files,
    conditions=("negative", "neutral", "positive"),
    band=HIGHPASS,
    max_voxels: int = 3000,
    seed: int = 0,
    derivatives_dir=None,
    task: str = "feedback",
) -> dict:
    """Voxel × time matrices of one participant's (first) run before and after denoising, z-scored.

    Before: the minimally preprocessed BOLD of a random subsample of brain voxels (at most
    ``max_voxels``, seeded); after: the same voxels through the first level's design and
    :func:`helpers.denoise.regress_and_filter`.  Each voxel's series is z-scored over time
    (mean 0, SD 1).  Rows are ordered grey matter, white matter, CSF (Power 2017).

    Parameters
    ----------
    files : helpers.firstlevel.ParticipantFiles
    conditions : sequence of str, default ("negative", "neutral", "positive")
    band : (float, float), default (0.008, ∞)
    max_voxels : int, default 3000
        Voxels drawn (without replacement) from the brain mask; all when fewer.
    seed : int, default 0
    derivatives_dir : path, default None
        Where the run's ``desc-brain_mask`` is looked up; default None (or no mask): nilearn's
        :func:`~nilearn.masking.compute_epi_mask` of the data.
    task : str, default "feedback"

    Returns
    -------
    dict
        ``before``, ``after`` (voxels × scans), ``tissue`` (0 GM/other, 1 WM, 2 CSF per row),
        ``fd`` (framewise displacement per scan, NaN where fMRIPrep writes n/a), ``tr``, ``participant_id``.
    """
    run = files.all_runs[0]
    _, _, design, _ = _run_design(run, conditions, None)
    img = nib.load(run.bold)
    ijk = _brain_voxels(run, derivatives_dir, task, img)
    rng = np.random.default_rng(seed)
    if len(ijk) > max_voxels:
        ijk = ijk[np.sort(rng.choice(len(ijk), max_voxels, replace=False))]
    data = np.asanyarray(img.dataobj)
    series = data[tuple(ijk.T)].astype(float).T  # scans × voxels
    keep = series.std(axis=0) > 0  # voxels without signal cannot be z-scored
    series, ijk = series[:, keep], ijk[keep]
    tissue = _tissue_of(ijk, run, img)
    order = np.argsort(tissue, kind="stable")
    after = np.asarray(regress_and_filter(series, design.to_numpy(float), run.tr, band))

    def z(a):
        sd = a.std(axis=0)
        return ((a - a.mean(axis=0)) / np.where(sd > 0, sd, 1)).T[order]

    conf = pd.read_csv(run.confounds, sep="\t", na_values=["n/a"], keep_default_na=False)
    fd = pd.to_numeric(
        conf.get("framewise_displacement", pd.Series(np.nan, index=conf.index)), errors="coerce"
    )
    return {
        "before": z(series),
        "after": z(after),
        "tissue": tissue[order],
        "fd": fd.to_numpy(float),
        "tr": run.tr,
        "participant_id": files.participant_id,
    }


@styled
def plot_carpet(carpet: dict):
    """Figure: carpet plot before and after denoising with the framewise displacement above.

    Rows: voxels (grey matter, white matter, CSF, marked at the left), columns: scans; z-scored
    intensity from −2 (black) to 2 (white).

    Parameters
    ----------
    carpet : dict
        :func:`carpet_data`'s result (``before``, ``after``, ``tissue``, ``fd``, ``tr``, ``participant_id``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    n = carpet["before"].shape[1]
    t = np.arange(n) * carpet["tr"]
    fig, axes = plt.subplots(
        3,
        2,
        figsize=(WIDTH, 5.4),
        sharex="col",
        gridspec_kw={"height_ratios": [0.7, 4, 4], "width_ratios": [0.04, 1], "hspace": 0.12, "wspace": 0.02},
    )
    axes[0, 0].set_axis_off()
    axes[0, 1].plot(t, carpet["fd"], color=OKABE_ITO["vermillion"], lw=1.2)
    axes[0, 1].set_ylabel("FD\n(mm)", fontsize=10)
    axes[0, 1].tick_params(labelsize=10)
    tissue_cmap = ListedColormap([OKABE_ITO["reddish_purple"], OKABE_ITO["sky_blue"], OKABE_ITO["yellow"]])
    for row, key, name in ((1, "before", "before"), (2, "after", "after denoising")):
        axes[row, 0].imshow(
            carpet["tissue"][:, None],
            aspect="auto",
            cmap=tissue_cmap,
            vmin=0,
            vmax=2,
            interpolation="nearest",
        )
        axes[row, 0].set_xticks([])
        axes[row, 0].set_yticks([])
        axes[row, 0].set_ylabel(name, fontsize=10)
        axes[row, 1].imshow(
            carpet[key],
            aspect="auto",
            cmap="gray",
            vmin=-2,
            vmax=2,
            interpolation="nearest",
            extent=(-carpet["tr"] / 2, t[-1] + carpet["tr"] / 2, len(carpet[key]), 0),
        )
        axes[row, 1].set_yticks([])
    axes[2, 1].set_xlabel("time (s)")
    axes[2, 1].xaxis.set_major_locator(plt.MaxNLocator(6))
    handles = [plt.Rectangle((0, 0), 1, 1, color=tissue_cmap(i)) for i in range(3)]
    fig.legend(
        handles,
        ["grey matter / other", "white matter", "CSF"],
        loc="lower center",
        ncol=3,
        fontsize=10,
        bbox_to_anchor=(0.5, -0.01),
    )
    fig.subplots_adjust(left=0.09, right=0.98, top=0.97, bottom=0.14)
    return fig
