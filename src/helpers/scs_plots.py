"""Figures for the questionnaire chapter (Self-Compassion Scale scores).

Every function returns a matplotlib ``Figure`` drawn in the book's style (:mod:`helpers.style`);
showing and saving are the caller's business.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .scs import NEGATIVE_SUBSCALES, SCALE_LABELS, SUBSCALES
from .style import FIGURE_WIDTH, OKABE_ITO, styled

#: Subscales worded for self-compassion and against it (unreversed: higher = harsher).
_POSITIVE_COLOUR, _NEGATIVE_COLOUR = OKABE_ITO["blue"], OKABE_ITO["vermillion"]

__all__ = ["plot_score_distributions", "plot_total_rules"]


@styled
def plot_score_distributions(scores: pd.DataFrame, bins: np.ndarray | None = None) -> Figure:
    """Histogram plus individual points for the total and each subscale (1–5 scale).

    Parameters
    ----------
    scores : DataFrame
        Output of :func:`helpers.scs.score_scs` (columns ``total`` and the six subscales).
    bins : array, default None
        Histogram bin edges; default 1 to 5 in steps of 0.25.

    Returns
    -------
    Figure
        Eight panels (total, six subscales, one empty): the mean is marked by a dashed line;
        negative subscales (orange-red) are labelled as unreversed (higher = harsher). Each
        participant is also a dot in a strip under the bars; the count axis starts at 0.
    """
    bins = np.arange(0.875, 5.2, 0.25) if bins is None else bins
    fig = Figure(figsize=(9, 5.4), layout="constrained")
    axes = fig.subplots(2, 4, sharex=True).ravel()
    rng = np.random.default_rng(0)  # vertical jitter of the points only
    for ax, col in zip(axes, ["total", *SUBSCALES]):
        values = scores[col].dropna().to_numpy(float)
        counts, _, _ = ax.hist(
            values,
            bins=bins,
            color=_NEGATIVE_COLOUR if col in NEGATIVE_SUBSCALES else _POSITIVE_COLOUR,
            alpha=0.6,
            edgecolor="white",
        )
        top = max(counts.max(), 1) if len(counts) else 1
        ax.scatter(values, -0.1 * top - 0.06 * top * rng.random(len(values)), s=10, color="k", alpha=0.7)
        if len(values):
            ax.axvline(values.mean(), color="k", ls="--", lw=1)
        note = "\n(higher = harsher)" if col in NEGATIVE_SUBSCALES else ""
        ax.set_title(f"{SCALE_LABELS[col]}{note}", fontsize=10)
        ax.set_xlim(0.8, 5.2)
        ax.set_xticks(range(1, 6))
        # counts are whole participants from 0 up: no tick (or spine) in the strip of dots below 0
        ticks = MaxNLocator(integer=True, nbins=4).tick_values(0, top)
        ax.set_yticks(ticks[(ticks >= 0) & (ticks <= top)])
        ax.set_ylim(-0.2 * top, top * 1.05)
        ax.spines["left"].set_bounds(0, top)
    axes[-1].axis("off")
    axes[0].set_ylabel("Participants")
    axes[4].set_ylabel("Participants")
    fig.supxlabel("Mean item score (1 = almost never, 5 = almost always)", fontsize=11)
    return fig


@styled
def plot_total_rules(comparison: pd.DataFrame) -> Figure:
    """Compare the two totals: scatter with the identity line, and difference against mean.

    Parameters
    ----------
    comparison : DataFrame
        Output of :func:`helpers.scs.compare_total_rules` (columns ``subscale_mean``, ``item_mean``,
        ``difference``).

    Returns
    -------
    Figure
        Left: ``subscale_mean`` against ``item_mean``; right: a Bland–Altman plot
        (difference against the mean of the two totals, with the mean difference dashed).
    """
    c = comparison.dropna()
    fig = Figure(figsize=(FIGURE_WIDTH + 0.5, 3.6), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    ax1.scatter(c["item_mean"], c["subscale_mean"], s=20, color=_POSITIVE_COLOUR)
    lims = [
        min(c[["item_mean", "subscale_mean"]].min().min(), 1.5) - 0.1,
        max(c[["item_mean", "subscale_mean"]].max().max(), 4.5) + 0.1,
    ]
    ax1.plot(lims, lims, color="grey", lw=1, label="identity")
    ax1.set(xlim=lims, ylim=lims, xlabel="Total: mean of 26 items", ylabel="Total: mean of 6 subscales")
    mean = (c["item_mean"] + c["subscale_mean"]) / 2
    ax2.scatter(mean, c["difference"], s=20, color=_POSITIVE_COLOUR)
    ax2.axhline(0, color="grey", lw=1)
    if len(c):
        ax2.axhline(c["difference"].mean(), color="k", ls="--", lw=1, label="mean difference")
    ax2.set(xlabel="Mean of the two totals", ylabel="Subscale mean − item mean")
    fig.legend(loc="outside lower center", ncol=2)  # below the panels, never over the points
    return fig
