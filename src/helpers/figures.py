"""Figures 1–3 of the paper and the robustness figures (each returns a matplotlib Figure).

Figures 1–3 are scatter plots with a least-squares line and its 95 % confidence
band (:func:`seaborn.regplot`), our r and p above each panel (never over the data); points take
the colour of their condition or contrast (:data:`helpers.style.PALETTE`). Every function draws
in the book's style (:func:`helpers.style.styled`).  Save them with
:func:`helpers.io.save_figure` (PNG + SVG).  Nothing here calls ``plt.show`` or
chooses a backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from textwrap import fill

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from . import paper
from .robustness.influence import MIN_PARTICIPANTS
from .stats import (
    DEFAULT_MEASURE,
    correlate_values,
    paired_values,
    r_from_p,
    resolve_alternative,
    resolve_scale,
)
from .style import ACCENT, FIGURE_WIDTH, OKABE_ITO, condition_colour, format_p, format_r, styled

__all__ = [
    "SC_LABEL",
    "connectivity_label",
    "scatter_panel",
    "figure1",
    "figure2",
    "figure3",
    "influence_figure",
    "specification_curve_figure",
    "specification_curve_key",
    "sampling_distribution_figure",
    "message_figure",
]

#: x-axis label of Figures 1 and 2 (the paper's wording).
SC_LABEL = "Self-compassion (mean)"
_CONDITION_TEXT = {
    "negative-neutral": "Neg − Neu",
    "positive-neutral": "Pos − Neu",
    "negative": "Negative",
    "neutral": "Neutral",
    "positive": "Positive",
}
_ROI_TEXT = {"vmpfc": "VMPFC", "amygdala_r": "right amygdala", "amygdala_l": "left amygdala"}
_TAILS = {"less": "one-tailed", "greater": "one-tailed", "two-sided": "two-tailed"}


def message_figure(text: str) -> Figure:
    """A figure holding only ``text``: keeps a glued figure defined on data that lack what it shows.

    Parameters
    ----------
    text : str
        The message, centred, without axes.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=(6, 1.2))
    ax.text(0.5, 0.5, text, ha="center", va="center")
    ax.set_axis_off()
    return fig


def connectivity_label(condition: str = "negative-neutral", pair=("vmpfc", "amygdala_r")) -> str:
    """Axis label of a connectivity value, in two lines.

    E.g. "VMPFC–right amygdala connectivity" over "(Neg − Neu, Fisher z)".

    Parameters
    ----------
    condition : str, default "negative-neutral"
        Condition or contrast (unknown names are shown as given).
    pair : (str, str), default ("vmpfc", "amygdala_r")
        Source and target ROI (unknown names are shown as given).

    Returns
    -------
    str
    """
    a, b = (_ROI_TEXT.get(roi, roi) for roi in pair)
    return f"{a}–{b} connectivity\n({_CONDITION_TEXT.get(condition, condition)}, Fisher z)"


def scatter_panel(
    ax,
    scores: pd.DataFrame,
    connectivity: pd.DataFrame,
    scale: str,
    condition: str,
    pair=("vmpfc", "amygdala_r"),
    *,
    xlabel: str | None = None,
    alternative: str = "directional",
    measure: str = DEFAULT_MEASURE,
    seed: int = 2018,
    title: str | None = None,
) -> dict:
    """Draw one scatter + regression line + 95 % CI band on ``ax``; return the correlation.

    The band is seaborn's bootstrap band for the regression line (1000 resamples, seeded); the panel's
    title (above the axes, off the data) gives ``title`` and Pearson r, p (for ``alternative``) and n.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    scores, connectivity : DataFrame
        ``scores.tsv`` and ``connectivity.tsv`` (:func:`helpers.stats.read_inputs`).
    scale : str
        Score column or the paper's label (:func:`helpers.stats.resolve_scale`), on the x axis.
    condition : str
        Condition or contrast on the y axis (it also chooses the points' colour).
    pair : (str, str) or str, default ("vmpfc", "amygdala_r")
        ROI pair (:func:`helpers.stats.resolve_pair`).
    xlabel : str, default None
        x-axis label; default None: the scale's label.
    alternative : {"directional", "less", "greater", "two-sided"}, default "directional"
        Tail of the test (:func:`helpers.stats.resolve_alternative`).
    measure : str, default "weighted_hrf"
        Connectivity measure (:data:`helpers.stats.DEFAULT_MEASURE`).
    seed : int, default 2018
        Seed of the bootstrap band.
    title : str, default None
        First line of the panel's title; default None: only the statistics.

    Returns
    -------
    dict
        :func:`helpers.stats.correlate_values` of the plotted values.

    Raises
    ------
    ValueError
        As :func:`helpers.stats.paired_values` (unknown scale, missing columns or values).
    """
    data = paired_values(scores, connectivity, scale, condition, pair, measure=measure)
    col = resolve_scale(scale, [c for c in scores.columns if c != "participant_id"])
    res = correlate_values(data["x"], data["y"], resolve_alternative(alternative, col))
    colour = condition_colour(condition) if condition in _CONDITION_TEXT else "0.2"
    sns.regplot(
        data=data,
        x="x",
        y="y",
        ax=ax,
        ci=95,
        seed=seed,
        n_boot=1000,
        truncate=False,
        scatter_kws={"s": 32, "color": colour, "edgecolor": "white", "linewidths": 0.5, "zorder": 3},
        line_kws={"color": "0.15", "linewidth": 1.5},
    )
    ax.axhline(0, color="0.75", linewidth=0.8, zorder=0)
    ax.set_xlabel(xlabel or paper.SCALE_LABELS.get(col, col))
    ax.set_ylabel(connectivity_label(condition, pair))
    stats = (
        f"r = {format_r(res['r'])}, p = {format_p(res['p'])} ({_TAILS[res['alternative']]}), n = {res['n']}"
    )
    ax.set_title(f"{title}\n{stats}" if title else stats, loc="left", fontsize=10)
    return res


@styled
def figure1(scores: pd.DataFrame, connectivity: pd.DataFrame, **kwargs) -> Figure:
    """Figure 1: self-compassion mean vs Neg − Neu VMPFC–right amygdala connectivity.

    Parameters
    ----------
    scores, connectivity : DataFrame
        ``scores.tsv`` and ``connectivity.tsv`` (:func:`helpers.stats.read_inputs`).
    **kwargs
        Passed to :func:`scatter_panel` (``pair``, ``alternative``, ``measure``, ``seed``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=(0.75 * FIGURE_WIDTH, 4.0), layout="constrained")
    scatter_panel(ax, scores, connectivity, "total", "negative-neutral", xlabel=SC_LABEL, **kwargs)
    return fig


@styled
def figure2(scores: pd.DataFrame, connectivity: pd.DataFrame, **kwargs) -> Figure:
    """Figure 2: self-compassion mean vs VMPFC–right amygdala connectivity, Negative and Neutral panels.

    Parameters
    ----------
    scores, connectivity : DataFrame
        ``scores.tsv`` and ``connectivity.tsv`` (:func:`helpers.stats.read_inputs`).
    **kwargs
        Passed to :func:`scatter_panel` (``pair``, ``alternative``, ``measure``, ``seed``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = plt.subplots(1, 2, figsize=(FIGURE_WIDTH + 1, 4.0), layout="constrained")
    for ax, condition in zip(axes, ("negative", "neutral")):
        scatter_panel(
            ax,
            scores,
            connectivity,
            "total",
            condition,
            xlabel=SC_LABEL,
            title=f"{_CONDITION_TEXT[condition]} feedback",
            **kwargs,
        )
    return fig


@styled
def figure3(scores: pd.DataFrame, connectivity: pd.DataFrame, **kwargs) -> Figure:
    """Figure 3: Common humanity and Self-judgment vs Neg − Neu VMPFC–right amygdala connectivity.

    Parameters
    ----------
    scores, connectivity : DataFrame
        ``scores.tsv`` and ``connectivity.tsv`` (:func:`helpers.stats.read_inputs`).
    **kwargs
        Passed to :func:`scatter_panel` (``pair``, ``alternative``, ``measure``, ``seed``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = plt.subplots(1, 2, figsize=(FIGURE_WIDTH + 1, 4.0), layout="constrained")
    for ax, scale in zip(axes, ("common_humanity", "self_judgment")):
        scatter_panel(
            ax, scores, connectivity, scale, "negative-neutral", title=paper.SCALE_LABELS[scale], **kwargs
        )
    return fig


@styled
def influence_figure(loo: pd.DataFrame, title: str = "") -> Figure:
    """Leave-one-out r per participant (from :func:`helpers.robustness.leave_one_out`).

    Horizontal line: r with everyone; dashed: the critical r at n − 1 for p = .05
    (:func:`helpers.stats.r_from_p`; one-tailed unless the test was two-sided), on the side of the
    full-sample r. The legend sits below the axes. A result without rows (too few participants)
    gives a panel that says why.

    Parameters
    ----------
    loo : DataFrame
        ``participant_id, r_without``, with ``attrs["n"]``, ``attrs["r_all"]`` and
        ``attrs["alternative"]``.
    title : str, default ""
        Axes title (none when empty).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if loo.empty:
        fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 1.4), layout="constrained")
        n, least = loo.attrs["n"], MIN_PARTICIPANTS
        text = f"Not computed: leave-one-out needs at least {least} participants; the data have {n}."
        ax.text(0.5, 0.5, fill(text, 70), ha="center", va="center")
        ax.set_axis_off()
        return fig
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH + 0.5, 3.8), layout="constrained")
    order = loo.sort_values("r_without")
    ax.scatter(range(len(order)), order["r_without"], color="0.2", s=26, zorder=3)
    ax.axhline(
        loo.attrs["r_all"], color=ACCENT, label=f"all participants (r = {format_r(loo.attrs['r_all'])})"
    )
    crit = r_from_p(
        0.05, len(loo) - 1, "one-sided" if loo.attrs["alternative"] != "two-sided" else "two-sided"
    )
    sign = -1 if loo.attrs["r_all"] < 0 else 1
    ax.axhline(sign * crit, color="0.5", linestyle="--", label=f"critical r, p = .05 (n = {len(loo) - 1})")
    ax.set_xticks(range(len(order)), order["participant_id"], rotation=90, fontsize=9)
    ax.set_xlabel("Participant left out")
    ax.set_ylabel("Pearson r without\nthat participant")
    fig.legend(loc="outside lower center", ncol=2)
    if title:
        ax.set_title(title)
    return fig


def specification_curve_key(curve: pd.DataFrame) -> str:
    """What a filled point of :func:`specification_curve_figure` means, for its caption.

    The bars are two-sided 95 % intervals, and the filling follows the row's own test. With a
    one-tailed test (the paper's), p < .05 corresponds to a two-sided 90 % interval, so a filled
    point's 95 % bar can still cross zero; the key says so whenever some row is one-tailed.

    Parameters
    ----------
    curve : DataFrame
        :func:`helpers.robustness.specification_curve`'s output (column ``alternative``).

    Returns
    -------
    str
        E.g. ``"Filled: p < .05 with the chosen test, one-tailed (a filled point's two-sided 95 %
        interval can include 0)"``.
    """
    tails = sorted({_TAILS.get(a, a) for a in curve["alternative"]})
    key = f"Filled: p < .05 with the chosen test, {' or '.join(tails)}"
    if "one-tailed" in tails:
        key += " (a filled point's two-sided 95 % interval can include 0)"
    return key


@styled
def specification_curve_figure(curve: pd.DataFrame, title: str = "") -> Figure:
    """Specification curve: r (with 95 % CI) of the key correlation under each pipeline.

    The paper's pipeline is highlighted, p < .05 (for the row's alternative) filled; the bars are
    two-sided 95 % intervals whatever the test (:func:`specification_curve_key` words the key).

    Parameters
    ----------
    curve : DataFrame
        :func:`helpers.robustness.specification_curve`'s output (``measure, r, p, ci95_low,
        ci95_high, is_default``).
    title : str, default ""
        Axes title; empty: a legend of the markers.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(
        figsize=(min(FIGURE_WIDTH + 1, max(5.0, 1.0 + 0.8 * len(curve))), 4.0), layout="constrained"
    )
    x = np.arange(len(curve))
    for i, row in enumerate(curve.itertuples()):
        color = ACCENT if row.is_default else "0.25"
        ax.errorbar(
            i,
            row.r,
            yerr=[[row.r - row.ci95_low], [row.ci95_high - row.r]],
            fmt="none",
            ecolor=color,
            elinewidth=1.2,
            capsize=3,
        )
        ax.scatter(
            i,
            row.r,
            s=45,
            zorder=3,
            edgecolor=color,
            facecolor=color if row.p < 0.05 else "white",
            linewidth=1.5,
        )
    ax.axhline(0, color="0.7", linewidth=0.8)
    ax.set_xticks(x, curve["measure"], rotation=30, ha="right")
    ax.set_xlabel("Connectivity pipeline (measure)")
    ax.set_ylabel("Pearson r (two-sided 95 % CI)")
    tails = " or ".join(sorted({_TAILS.get(a, a) for a in curve["alternative"]}))
    ax.set_title(
        title or f"Filled: p < .05 ({tails}); orange-red: the paper's pipeline", loc="left", fontsize=10
    )
    return fig


@styled
def sampling_distribution_figure(mc: dict, observed: Sequence[tuple[str, float]] = ()) -> Figure:
    """Histogram of simulated r (from :func:`helpers.robustness.monte_carlo_r`) with critical r marked.

    The population ρ and each observed r end in a marker of their own at a height of their own, so
    that values closer than a line's width (e.g. ρ = −.402, the paper's −.402 and the critical −.389)
    remain distinguishable; the critical r (dashed) is in the legend.

    Parameters
    ----------
    mc : dict
        ``r`` (simulated values), ``rho``, ``n``, ``alpha``, ``alternative``, ``power``.
    observed : sequence of (str, float), default ()
        Labelled r values to mark (e.g. the paper's and ours).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 4.2), layout="constrained")
    counts, _, _ = ax.hist(mc["r"], bins=60, color="0.78", edgecolor="white")
    tail = "two-sided" if mc["alternative"] == "two-sided" else "one-sided"
    crit = r_from_p(mc["alpha"], mc["n"], tail)
    signs = (-1, 1) if tail == "two-sided" else ((-1,) if mc["alternative"] == "less" else (1,))
    for k, sign in enumerate(signs):
        ax.axvline(
            sign * crit,
            color="0.35",
            linestyle="--",
            linewidth=1.2,
            zorder=4,
            label=f"critical r, p = {mc['alpha']:g} {'two' if tail == 'two-sided' else 'one'}-tailed "
            f"({format_r(crit if tail == 'two-sided' else sign * crit)})"
            if k == 0
            else None,
        )
    others = [
        OKABE_ITO[k] for k in ("vermillion", "blue", "bluish_green", "reddish_purple", "orange", "sky_blue")
    ]
    # values that nearly coincide stay apart: each line ends in its own marker at its own height
    marks = [("population ρ", mc["rho"], "black", "-", "v")] + [
        (label, value, others[i % len(others)], ":", "os^Dp"[i % 5])
        for i, (label, value) in enumerate(observed)
    ]
    for i, (label, value, colour, style, marker) in enumerate(marks):
        top = 0.97 - 0.09 * i
        ax.plot(
            [value, value],
            [0, top],
            transform=ax.get_xaxis_transform(),
            color=colour,
            linestyle=style,
            linewidth=2,
            marker=marker,
            markevery=[1],
            markersize=8,
            label=f"{label} ({format_r(value)})",
        )
    ax.set_ylim(0, counts.max() / (0.97 - 0.09 * len(marks) + 0.02))  # the markers above the bars
    ax.set_xlabel(f"Sample r (n = {mc['n']})")
    ax.set_ylabel("Simulated replications")
    ax.set_title(
        f"{mc['power']:.0%} of replications reach p < {mc['alpha']:g}",
        loc="left",
        fontsize=10,
    )
    fig.legend(loc="outside lower center", ncol=2)
    return fig
