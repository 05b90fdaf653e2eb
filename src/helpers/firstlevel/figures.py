"""Figures of the connectivity chapter: condition weights, the denoising design, per-condition z,
planted vs recovered coupling (matplotlib imported inside each function)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..connectivity import condition_weights
from ..style import PALETTE, role_colours

__all__ = [
    "plot_condition_weights",
    "plot_design",
    "plot_connectivity",
    "plot_planted_vs_recovered",
    "plot_no_truth",
]


def plot_condition_weights(
    events: pd.DataFrame, n_scans: int, tr: float, conditions=None, weighting: str = "hrf"
):
    """Figure: each condition's events (boxes) and its weights over the run (book/spec_conn.md §2).

    Shows how 10–12 s events overlap once convolved with the HRF: every condition has
    weight in scans where the next word is already on screen.  Every scan with weight in more than
    one condition is a grey bar below zero (its share in the legend); the legend sits below the axes,
    clear of the event boxes.

    Parameters
    ----------
    events : DataFrame
        One run's events (``onset, duration, trial_type``).
    n_scans : int
        Volumes of the run.
    tr : float
        Repetition time (s).
    conditions : sequence of str, default None
        Default None: every trial type of ``events``.
    weighting : {"hrf", "hanning", "none"}, default "hrf"
        CONN's condition weighting (:func:`helpers.connectivity.condition_weights`).
    """
    import matplotlib.pyplot as plt

    weights = condition_weights(events, n_scans, tr, weighting, conditions=conditions)
    t = np.arange(n_scans) * tr
    fig, ax = plt.subplots(figsize=(10, 3.8), layout="constrained")
    colours = role_colours(weights.columns)  # the book's condition colours (helpers.style)
    for i, name in enumerate(weights.columns):
        colour = colours[name]
        for _, ev in events[events["trial_type"] == name].iterrows():
            ax.axvspan(
                ev["onset"],
                ev["onset"] + ev["duration"],
                ymin=0.93 - 0.04 * i,
                ymax=0.96 - 0.04 * i,
                color=colour,
                lw=0,
            )
        ax.plot(t, weights[name], color=colour, label=f"{name} ({weighting} weights)")
    shared = (weights > 0).sum(axis=1).to_numpy() > 1
    # one bar per shared scan (a filled band drops isolated scans)
    ax.bar(
        t[shared],
        -0.08,
        width=tr,
        bottom=0,
        color="0.4",
        linewidth=0,
        label=f"scans weighted by > 1 condition ({shared.mean():.0%})",
    )
    ax.set(xlabel="time (s)", ylabel="weight", ylim=(-0.1, 1.45), xlim=(0, n_scans * tr))
    fig.legend(loc="outside lower center", ncol=len(weights.columns) + 1, fontsize="small", frameon=False)
    return fig


def plot_design(design: pd.DataFrame, tr: float):
    """Figure: the denoising design matrix of one participant (columns scaled to unit range).

    Parameters
    ----------
    design : DataFrame
        Scans × regressors (:func:`helpers.firstlevel.denoising_design`).
    tr : float
        Repetition time (s), for the time axis.
    """
    import matplotlib.pyplot as plt

    x = design - design.mean()
    span = x.abs().max().replace(0, 1)
    fig, ax = plt.subplots(figsize=(10, 4.5))
    ax.imshow(
        (x / span).to_numpy(),
        aspect="auto",
        cmap="RdBu_r",
        vmin=-1,
        vmax=1,
        interpolation="nearest",
        extent=(-0.5, design.shape[1] - 0.5, len(design) * tr, 0),
    )
    ax.set_xticks(range(design.shape[1]), design.columns, rotation=90, fontsize=7)
    ax.set_ylabel("time (s)")
    ax.set_title(f"{design.shape[1]} regressors + constant + linear trend")
    fig.tight_layout()
    return fig


def plot_connectivity(table: pd.DataFrame, measure: str = "weighted_hrf", source: str = "vmpfc"):
    """Figure: every participant's Fisher z per condition for each ``source``–target pair.

    Parameters
    ----------
    table : DataFrame
        connectivity.tsv rows.
    measure : str, default "weighted_hrf"
        The measure shown.
    source : str, default "vmpfc"
        The seed ROI; one panel per target.
    """
    import matplotlib.pyplot as plt

    data = table[(table["measure"] == measure) & (table["source"] == source)]
    targets = sorted(data["target"].unique())
    conditions = list(dict.fromkeys(data["condition"]))
    fig, axes = plt.subplots(1, len(targets), figsize=(4.8 * len(targets), 3.8), sharey=True, squeeze=False)
    rng = np.random.default_rng(0)
    for ax, target in zip(axes[0], targets):
        sub = data[data["target"] == target]
        for i, cond in enumerate(conditions):
            z = sub.loc[sub["condition"] == cond, "z"].to_numpy()
            ax.scatter(
                i + rng.uniform(-0.12, 0.12, z.size), z, s=14, alpha=0.7, color=PALETTE.get(cond, "0.4")
            )
            ax.errorbar(i + 0.25, z.mean(), yerr=z.std(ddof=1) / np.sqrt(z.size), fmt="ko", ms=4)
        ax.axhline(0, color="0.6", lw=0.8)
        ax.set_xticks(range(len(conditions)), conditions, rotation=30)
        ax.set_title(f"{source} – {target}")
    axes[0][0].set_ylabel(f"Fisher z ({measure})")
    fig.tight_layout()
    return fig


def plot_planted_vs_recovered(joined: pd.DataFrame, conditions=("negative", "neutral", "positive")):
    """Figure: planted vs recovered z (one panel per condition, one colour per target), r in titles.

    Parameters
    ----------
    joined : DataFrame
        :func:`helpers.firstlevel.planted_vs_recovered`.
    conditions : sequence of str, default ("negative", "neutral", "positive")
        One panel each.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(conditions), figsize=(4.2 * len(conditions), 3.9), squeeze=False)
    for ax, cond in zip(axes[0], conditions):
        sub = joined[joined["condition"] == cond]
        for target, part in sub.groupby("target"):
            ax.scatter(
                part["z_planted"], part["z_recovered"], s=16, label=target, color=PALETTE.get(target, "0.4")
            )
        r = np.corrcoef(sub["z_planted"], sub["z_recovered"])[0, 1]
        ax.set(title=f"{cond}: r = {r:.2f}", xlabel="planted z (neural)", ylabel="recovered z (BOLD)")
    axes[0][0].legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig


def plot_no_truth():
    """Placeholder figure for data without planted ground truth (keeps the chapter's figures defined)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 1.2))
    ax.text(
        0.5, 0.5, "no planted ground truth: these data are not the digital twin", ha="center", va="center"
    )
    ax.set_axis_off()
    return fig
