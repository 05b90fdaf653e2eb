"""Figures describing a BIDS dataset of the task (the twin or a user's): design, ratings, sample, raw data.

Each function returns a matplotlib Figure drawn in the book's style (:mod:`helpers.style`: the
condition palette, fonts legible at column width, legends off the data); nothing is shown or forced.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import nibabel as nib
import numpy as np
import pandas as pd

from ..style import FIGURE_WIDTH, OKABE_ITO, PALETTE, role_colours, styled

__all__ = ["COLOURS", "plot_events", "plot_ratings", "plot_demographics", "plot_volume", "plot_motion"]

#: Condition colours (the book's palette, :data:`helpers.style.PALETTE`).
COLOURS = {name: PALETTE[name] for name in ("negative", "neutral", "positive")}


@styled
def plot_events(
    events: pd.DataFrame, run_length: float | None = None, title: str = "", conditions=tuple(COLOURS)
):
    """Event sequence: one bar per word (colour = condition, height = rating), over the run's time axis.

    Parameters
    ----------
    events : DataFrame
        ``onset``, ``duration`` (s), ``trial_type`` and optionally ``rating`` (printed on each bar).
    run_length : float or None, default None
        End of the time axis (s); None: the end of the last event.
    title : str, default ""
        Title (empty: a default title).
    conditions : sequence of str, default ("negative", "neutral", "positive")
        Conditions in legend order (the keys of :data:`COLOURS`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    colours = role_colours(conditions)
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH + 1, 2.4))
    for row in events.itertuples(index=False):
        ax.barh(
            0,
            row.duration,
            left=row.onset,
            height=0.8,
            color=colours.get(row.trial_type, "k"),
            edgecolor="white",
            linewidth=0.5,
        )
        if "rating" in events and pd.notna(row.rating):
            ax.text(
                row.onset + row.duration / 2,
                0,
                f"{row.rating:g}",
                ha="center",
                va="center",
                color="white",
                fontsize=8,
            )
    ax.set_yticks([])
    ax.set_xlabel("Time (s)")
    ax.set_xlim(0, run_length or float((events["onset"] + events["duration"]).max()))
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colours.values()]
    ax.legend(handles, list(colours), ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.45), frameon=False)
    ax.set_title(
        title or "Feedback words over the run (numbers: the participant's rating)", loc="left", fontsize=10
    )
    fig.tight_layout()
    return fig


@styled
def plot_ratings(ratings: pd.DataFrame, order=tuple(COLOURS)):
    """Mean rating per participant by condition (box + points, one line per participant).

    Parameters
    ----------
    ratings : DataFrame
        One row per participant and condition: ``participant_id``, ``trial_type``, ``rating`` (1–4).
    order : sequence of str, default ("negative", "neutral", "positive")
        Conditions along the x axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(4.8, 3.8))
    wide = ratings.pivot(index="participant_id", columns="trial_type", values="rating")[list(order)]
    for _, row in wide.iterrows():
        ax.plot(range(len(order)), row.to_numpy(), color="0.8", lw=0.8, zorder=1)
    sns.boxplot(
        data=ratings,
        x="trial_type",
        y="rating",
        order=list(order),
        hue="trial_type",
        hue_order=list(order),
        palette=role_colours(order),
        ax=ax,
        width=0.5,
        fliersize=0,
        boxprops={"alpha": 0.6},
        legend=False,
    )
    sns.stripplot(data=ratings, x="trial_type", y="rating", order=list(order), color="k", size=3, ax=ax)
    ax.set_ylim(1, 4)
    ax.set_xlabel("Feedback")
    ax.set_ylabel("Mean rating\n(1 really bad – 4 really good)")
    fig.tight_layout()
    return fig


@styled
def plot_demographics(participants: pd.DataFrame):
    """Age histogram split by sex (a message figure when participants.tsv gives no ages).

    Parameters
    ----------
    participants : DataFrame
        ``participants.tsv`` (``age`` in years, optional ``sex``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=(4.8, 3.4))
    ages = (
        pd.to_numeric(participants["age"], errors="coerce")
        if "age" in participants
        else pd.Series([], dtype=float)
    )
    if ages.dropna().empty:
        ax.text(0.5, 0.5, "participants.tsv gives no ages", ha="center", va="center")
        ax.set_axis_off()
        return fig
    if "sex" not in participants:
        participants = participants.assign(sex="n/a")
    bins = np.arange(np.floor(ages.min()) - 0.5, np.ceil(ages.max()) + 1.5)
    groups = [ages[participants["sex"] == s] for s in sorted(participants["sex"].unique())]
    ax.hist(
        groups,
        bins=bins,
        stacked=True,
        label=sorted(participants["sex"].unique()),
        color=[OKABE_ITO["bluish_green"], OKABE_ITO["orange"], OKABE_ITO["sky_blue"]][: len(groups)],
    )
    ax.set_xlabel("Age (years)")
    ax.set_ylabel("Participants")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(title="Sex", frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


@styled
def plot_volume(bold_path, volume: int = 0, n_slices: int = 6):
    """Axial slices of one raw BOLD volume in voxel space (as acquired), with the grid size in the title.

    Parameters
    ----------
    bold_path : path
        4-D BOLD file.
    volume : int, default 0
        Volume shown (0-based).
    n_slices : int, default 6
        Number of slices, evenly spaced from 20 % to 85 % of the z extent.

    Returns
    -------
    matplotlib.figure.Figure
    """
    img = nib.load(bold_path)
    data = np.asanyarray(img.dataobj[..., volume]).astype(float)
    zs = np.linspace(data.shape[2] * 0.2, data.shape[2] * 0.85, n_slices).astype(int)
    fig, axes = plt.subplots(1, n_slices, figsize=(1.25 * n_slices, 1.9))
    vmax = np.percentile(data, 99.5)
    for ax, z in zip(axes, zs):
        ax.imshow(data[:, :, z].T, origin="lower", cmap="gray", vmin=0, vmax=vmax)
        ax.set_title(f"slice {z}", fontsize=9)
        ax.axis("off")
    zooms = img.header.get_zooms()
    fig.suptitle(
        f"raw BOLD, volume {volume}: {' × '.join(map(str, img.shape[:3]))} voxels of "
        f"{' × '.join(f'{z:g}' for z in zooms[:3])} mm",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


@styled
def plot_motion(motion: pd.DataFrame, tr: float):
    """Head motion: translations (mm), rotations (degrees) and framewise displacement (mm) over time.

    Parameters
    ----------
    motion : DataFrame
        ``trans_x/y/z`` (mm), ``rot_x/y/z`` (rad), ``framewise_displacement`` (mm), one row per volume.
    tr : float
        Repetition time (s).

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = np.arange(len(motion)) * tr
    fig, axes = plt.subplots(3, 1, figsize=(FIGURE_WIDTH + 0.5, 5), sharex=True)
    for ax, cols, scale, unit in (
        (axes[0], ["trans_x", "trans_y", "trans_z"], 1.0, "mm"),
        (axes[1], ["rot_x", "rot_y", "rot_z"], 180 / np.pi, "degrees"),
    ):
        for col, colour in zip(cols, (OKABE_ITO["blue"], OKABE_ITO["vermillion"], OKABE_ITO["bluish_green"])):
            ax.plot(t, motion[col] * scale, label=col.split("_")[1], lw=1, color=colour)
        ax.set_ylabel(
            f"{cols[0].split('_')[0]}. ({unit})".replace("trans.", "Transl.").replace("rot.", "Rot.")
        )
        ax.legend(fontsize=9, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))  # beside, not over
    axes[2].plot(t, motion["framewise_displacement"], color="k", lw=1)
    axes[2].set_ylabel("FD (mm)")
    axes[2].set_xlabel("time (s)")
    fig.tight_layout()
    return fig
