"""Figures of the training study (chapter 06): ratings by session, group maps, ROI effects.

Kept apart from the computations (:mod:`helpers.training.behaviour`, :mod:`helpers.training.glm`) so that
the training stage's code fingerprint, which follows what :mod:`helpers.training.pipeline` imports, does
not change when the book's figure style does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..style import condition_colour, styled

__all__ = ["plot_interaction", "plot_maps", "plot_roi_effects"]


@styled
def plot_interaction(means: pd.DataFrame, measures, labels: dict | None = None):
    """Figure: mean rating (± SE) by session, one panel per measure, lines per group x video type.

    Parameters
    ----------
    means : DataFrame
        Cell means (:func:`cell_means`).
    measures : sequence of str
        One panel each.
    labels : dict or None, default None
        Measure -> panel title (default: the name with spaces).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    labels = labels or {}
    fig, axes = plt.subplots(1, len(measures), figsize=(3.4 * len(measures), 3.4), sharey=True, squeeze=False)
    colours = {g: condition_colour(g) for g in ("compassion", "memory")}  # the book's palette
    styles = {"distress": "-", "everyday": ":"}
    for ax, measure in zip(axes[0], measures):
        stats_ = (
            means.groupby(["group", "video", "session"], sort=False)[measure]
            .agg(["mean", "sem"])
            .reset_index()
        )
        for k, ((group, video), g) in enumerate(stats_.groupby(["group", "video"], sort=False)):
            x = np.arange(len(g)) + (k - 1.5) * 0.04
            ax.errorbar(
                x,
                g["mean"],
                yerr=g["sem"],
                marker="o",
                capsize=3,
                color=colours.get(group),
                ls=styles.get(video, "-"),
                label=f"{group}, {video}",
            )
        ax.set_xticks(range(len(g)), list(g["session"]))
        ax.set_title(labels.get(measure, measure.replace("_", " ")))
    axes[0][0].set_ylabel("mean rating (0–10)")
    axes[0][-1].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def plot_maps(z_img, threshold: float, title: str, cut_coords=(-14, -6, 2, 10)):
    """Figure: glass brain (top) and axial slices (bottom) of a thresholded z map.

    Voxels below ``threshold`` (|z|) are hidden; with ``threshold = inf`` nothing survives and
    the unthresholded map is shown faintly above |z| = 3 for orientation (stated in the title).

    Parameters
    ----------
    z_img : Nifti1Image
        z map.
    threshold : float
        |z| threshold (:func:`threshold_map`); ``inf`` when nothing survives.
    title : str
        Title prefix.
    cut_coords : sequence of float, default (-14, -6, 2, 10)
        MNI z coordinates (mm) of the axial slices.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from nilearn import datasets, plotting

    shown = threshold if np.isfinite(threshold) else 3.0
    suffix = (
        f"|z| > {threshold:.2f} (corrected)" if np.isfinite(threshold) else "nothing survives; |z| > 3 shown"
    )
    fig = plt.figure(figsize=(10, 6.4))
    top, bottom = fig.add_axes([0, 0.5, 1, 0.45]), fig.add_axes([0, 0.02, 1, 0.45])
    plotting.plot_glass_brain(
        z_img,
        threshold=shown,
        plot_abs=False,
        colorbar=True,
        display_mode="lyrz",
        axes=top,
        figure=fig,
        title=f"{title}: {suffix}",
        vmax=8,
    )
    plotting.plot_stat_map(
        z_img,
        bg_img=datasets.load_mni152_template(resolution=2),
        threshold=shown,
        display_mode="z",
        cut_coords=list(cut_coords),
        axes=bottom,
        figure=fig,
        colorbar=True,
        vmax=8,
        black_bg=False,
        draw_cross=False,
    )
    return fig


@styled
def plot_roi_effects(values: pd.DataFrame):
    """Figure: mean distress − everyday effect (± SE) per ROI, group and session.

    Parameters
    ----------
    values : DataFrame
        Long table from :func:`roi_values`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    rois = list(dict.fromkeys(values["roi"]))
    fig, axes = plt.subplots(1, len(rois), figsize=(2.6 * len(rois), 3.2), sharey=True, squeeze=False)
    colours = {g: condition_colour(g) for g in ("compassion", "memory")}  # the book's palette
    for ax, roi in zip(axes[0], rois):
        sub = values[values["roi"] == roi]
        stats = sub.groupby(["group", "session"], sort=False)["effect"].agg(["mean", "sem"]).reset_index()
        for k, (group, g) in enumerate(stats.groupby("group", sort=False)):
            x = np.arange(len(g)) + (k - 0.5) * 0.08
            ax.errorbar(
                x, g["mean"], yerr=g["sem"], marker="o", capsize=3, color=colours.get(group), label=group
            )
        ax.set_xticks(range(len(g)), list(g["session"]))
        ax.axhline(0, color="0.7", lw=0.8)
        ax.set_title(roi)
    axes[0][0].set_ylabel("distress − everyday (% signal)")
    axes[0][-1].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
