"""Figures of the denoising QC (helpers.denoise_qc): before/after, QC-FC, QC-FC against distance, dof."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..style import OKABE_ITO, format_r, role_colours, styled
from .qcfc import MIN_QCFC_PARTICIPANTS
from .scores import REGRESSOR_KINDS

__all__ = ["WIDTH", "plot_before_after", "plot_qc_fc", "plot_qc_fc_distance", "plot_dof"]

#: Width (inches) of the denoising QC's figures: narrower than the text column so that 10-pt text
#: stays legible when a phone shrinks the figure to its screen.
WIDTH = 4.6
BEFORE, AFTER = OKABE_ITO["orange"], OKABE_ITO["blue"]


def _edge_label(source: str, target: str) -> str:
    return f"{source}–{target}"


@styled
def plot_before_after(edges: pd.DataFrame):
    """Figure: distribution of ROI-to-ROI r over all scans before and after denoising (CONN's QA plot).

    Left: histogram of every participant's ROI-pair r, raw and denoised (with a KDE when there are
    ≥ 10 values).  Right: each participant's median r, raw → denoised.

    Parameters
    ----------
    edges : DataFrame
        :func:`helpers.denoise_qc.participant_denoise_qc` rows of every participant
        (``participant_id, source, target, r_raw, r_denoised``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from scipy.stats import gaussian_kde

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(WIDTH, 3.4), gridspec_kw={"width_ratios": [1.6, 1]})
    bins = np.linspace(-1, 1, 21)
    grid = np.linspace(-1, 1, 201)
    for column, colour, name in (("r_raw", BEFORE, "before"), ("r_denoised", AFTER, "after")):
        r = edges[column].to_numpy(float)
        ax.hist(
            r,
            bins=bins,
            density=True,
            color=colour,
            alpha=0.35,
            label=f"{name}: median |r| {format_r(np.median(np.abs(r)), 2)}",
        )
        if r.size >= 10 and np.ptp(r) > 0:
            ax.plot(grid, gaussian_kde(r)(grid), color=colour, lw=2)
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set(xlabel="ROI-to-ROI r (all scans)", ylabel="density", xlim=(-1, 1))
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), fontsize=10)
    med = edges.groupby("participant_id")[["r_raw", "r_denoised"]].median()
    for _, row in med.iterrows():
        ax2.plot([0, 1], [row["r_raw"], row["r_denoised"]], color="0.6", lw=0.8, marker="o", ms=3)
    ax2.scatter(np.zeros(len(med)), med["r_raw"], color=BEFORE, zorder=3, s=18)
    ax2.scatter(np.ones(len(med)), med["r_denoised"], color=AFTER, zorder=3, s=18)
    ax2.axhline(0, color="0.5", lw=0.8)
    ax2.set_xticks([0, 1], ["before", "after"])
    ax2.set(xlim=(-0.4, 1.4), ylabel="median r per participant")
    fig.tight_layout()
    return fig


@styled
def plot_qc_fc(table: pd.DataFrame, conditions=None, max_rows: int = 30):
    """Figure: QC-FC r of every edge and condition with the permutation null's 95 % range.

    Up to ``max_rows`` rows: one line per edge, a dot per condition (filled when p < .05), the grey
    bar the null's 2.5–97.5 %.  More rows (an atlas): histogram of QC-FC r with the null range.

    Parameters
    ----------
    table : DataFrame
        ``qc_fc.tsv`` rows (``source, target, condition, qc_fc_r, p_perm, null_low, null_high``).
    conditions : sequence of str, default None
        Conditions shown, in this order; None: those of ``table``.
    max_rows : int, default 30
        Most edges drawn one per line; more give the histogram.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    conditions = list(dict.fromkeys(table["condition"])) if conditions is None else list(conditions)
    colours = role_colours(conditions)
    if table["qc_fc_r"].isna().all():
        fig, ax = plt.subplots(figsize=(4.2, 0.9))
        ax.text(
            0.5,
            0.5,
            f"QC-FC not computed: fewer than\n{MIN_QCFC_PARTICIPANTS} participants",
            ha="center",
            va="center",
        )
        ax.set_axis_off()
        return fig
    if len(table) > max_rows:
        fig, ax = plt.subplots(figsize=(WIDTH, 3.4))
        for cond in conditions:
            ax.hist(
                table.loc[table["condition"] == cond, "qc_fc_r"],
                bins=np.linspace(-1, 1, 41),
                histtype="step",
                lw=1.8,
                color=colours[cond],
                label=cond,
            )
        ax.axvspan(
            table["null_low"].median(),
            table["null_high"].median(),
            color="0.88",
            zorder=0,
            label="middle 95 % of the null",
        )
        ax.set(xlabel="QC-FC r (connectivity vs mean FD)", ylabel="edges", xlim=(-1, 1))
        ax.legend(fontsize=10, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2)
        fig.tight_layout()
        return fig
    pairs = list(dict.fromkeys(zip(table["source"], table["target"])))
    fig, ax = plt.subplots(figsize=(WIDTH, 1.0 + 0.75 * len(pairs)))
    offsets = np.linspace(-0.22, 0.22, len(conditions)) if len(conditions) > 1 else [0.0]
    for i, (s, t) in enumerate(pairs):
        for off, cond in zip(offsets, conditions):
            row = table[(table["source"] == s) & (table["target"] == t) & (table["condition"] == cond)]
            if row.empty:
                continue
            row = row.iloc[0]
            y = i + off
            ax.plot(
                [row["null_low"], row["null_high"]],
                [y, y],
                color="0.8",
                lw=5,
                solid_capstyle="butt",
                zorder=1,
            )
            sig = row["p_perm"] < 0.05
            ax.scatter(
                row["qc_fc_r"],
                y,
                s=40,
                zorder=3,
                color=colours[cond] if sig else "white",
                edgecolors=colours[cond],
                linewidths=1.6,
            )
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_yticks(range(len(pairs)), [_edge_label(s, t) for s, t in pairs])
    ax.invert_yaxis()
    ax.set(xlabel="QC-FC r (connectivity vs mean FD)", xlim=(-1, 1))
    handles = [plt.Line2D([], [], ls="", marker="o", ms=7, color=colours[c]) for c in conditions]
    ax.legend(
        handles,
        conditions,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.28 if len(pairs) < 4 else -0.12),
        ncol=len(conditions),
        fontsize=10,
        handletextpad=0.2,
        columnspacing=0.8,
    )
    fig.tight_layout()
    return fig


@styled
def plot_qc_fc_distance(table: pd.DataFrame, rho: float, conditions=None):
    """Figure: QC-FC r against the distance between ROI centroids (mm), Spearman ρ in the title.

    With fewer than 4 distinct distances (fewer than 4 ROIs) the figure says so instead.

    Parameters
    ----------
    table : DataFrame
        ``qc_fc.tsv`` rows with ``distance_mm`` (:func:`helpers.denoise_qc.roi_distances`).
    rho : float
        :func:`helpers.denoise_qc.distance_dependence` of ``table`` (NaN: too few distances).
    conditions : sequence of str, default None
        Conditions shown; None: those of ``table``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    n_rois = len(set(table["source"]) | set(table["target"]))
    if table["distance_mm"].nunique() < 4:
        fig, ax = plt.subplots(figsize=(4.2, 0.9))
        ax.text(
            0.5,
            0.5,
            f"QC-FC against distance needs at least 4 ROIs;\nthis analysis has {n_rois}",
            ha="center",
            va="center",
        )
        ax.set_axis_off()
        return fig
    conditions = list(dict.fromkeys(table["condition"])) if conditions is None else list(conditions)
    colours = role_colours(conditions)
    fig, ax = plt.subplots(figsize=(WIDTH, 3.6))
    if len(table) > 300:  # many edges (an atlas): density of all values, and the mean per distance bin
        ax.hexbin(table["distance_mm"], table["qc_fc_r"], gridsize=30, cmap="Greys", mincnt=1, linewidths=0)
        bins = np.quantile(table["distance_mm"], np.linspace(0, 1, 11))
        for cond in conditions:
            sub = table[table["condition"] == cond]
            where = np.clip(np.digitize(sub["distance_mm"], bins[1:-1]), 0, len(bins) - 2)
            means = sub.groupby(where)[["distance_mm", "qc_fc_r"]].mean()
            ax.plot(
                means["distance_mm"],
                means["qc_fc_r"],
                color=colours[cond],
                lw=2,
                marker="o",
                ms=4,
                label=cond,
            )
    else:
        for cond in conditions:
            sub = table[table["condition"] == cond]
            ax.scatter(sub["distance_mm"], sub["qc_fc_r"], s=14, alpha=0.8, color=colours[cond], label=cond)
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set(xlabel="distance between ROI centroids (mm)", ylabel="QC-FC r", ylim=(-1, 1))
    ax.set_title(f"Spearman ρ = {format_r(rho, 2)} ({n_rois} ROIs)", pad=4)
    ax.legend(
        fontsize=10,
        loc="lower left",
        bbox_to_anchor=(0, 1.08),
        ncol=3,
        columnspacing=0.8,
        title="mean per distance decile" if len(table) > 300 else None,
        title_fontsize=10,
    )
    fig.tight_layout()
    return fig


@styled
def plot_dof(per_participant: pd.DataFrame, conditions, min_dof: float = 20.0):
    """Figure: scans spent per participant — regressors by kind, then each condition's effective dof.

    Left: stacked bars of the denoising regressors by kind and the residual dof (they add up to the
    number of scans when the design has full rank).  Right: effective dof per condition with the
    ``min_dof`` line.

    Parameters
    ----------
    per_participant : DataFrame
        :func:`helpers.denoise_qc.design_dof` counts, one row per participant (``participant_id``).
    conditions : sequence of str
        Conditions whose ``dof_<condition>`` are drawn.
    min_dof : float, default 20.0
        Threshold line of the degrees-of-freedom verdict.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    kinds = [k for k in REGRESSOR_KINDS if per_participant[f"n_{k}"].sum() > 0]
    colours = dict(
        zip(
            REGRESSOR_KINDS,
            [
                OKABE_ITO[c]
                for c in ("black", "orange", "sky_blue", "bluish_green", "reddish_purple", "yellow")
            ],
        )
    )
    labels = {
        "constant_trend": "constant + trend",
        "motion": "motion",
        "compcor_wm": "CompCor WM",
        "compcor_csf": "CompCor CSF",
        "effects": "task effects",
        "outliers": "outlier scans",
    }
    ids = per_participant["participant_id"].str.removeprefix("sub-")
    y = np.arange(len(ids))
    height = 2.9 + 0.3 * len(ids)
    fig, (ax, ax2) = plt.subplots(
        1, 2, figsize=(WIDTH, height), sharey=True, gridspec_kw={"width_ratios": [1.5, 1]}
    )
    left = np.zeros(len(ids))
    for kind in kinds:
        v = per_participant[f"n_{kind}"].to_numpy(float)
        ax.barh(y, v, left=left, color=colours[kind], label=labels[kind])
        left += v
    ax.barh(y, per_participant["dof"], left=left, color="0.85", label="residual dof")
    ax.set_yticks(y, ids)
    ax.invert_yaxis()
    ax.set(xlabel="scans", ylabel="participant")
    colours_c = role_colours(conditions)
    off = np.linspace(-0.25, 0.25, len(conditions)) if len(conditions) > 1 else [0.0]
    for o, cond in zip(off, conditions):
        ax2.scatter(per_participant[f"dof_{cond}"], y + o, s=16, color=colours_c[cond], label=cond)
    ax2.axvline(min_dof, color="0.3", ls="--", lw=1, label="minimum")
    ax2.set(xlabel="effective dof")
    ax2.set_xlim(0, max(min_dof, float(per_participant[[f"dof_{c}" for c in conditions]].max().max())) * 1.1)
    handles = [h for a in (ax, ax2) for h in a.get_legend_handles_labels()[0]]
    names = [n for a in (ax, ax2) for n in a.get_legend_handles_labels()[1]]
    fig.tight_layout(rect=(0, 1.15 / height, 1, 1))  # 1.15 inch below the axes for the legend
    fig.legend(
        handles,
        names,
        loc="lower center",
        ncol=3,
        fontsize=10,
        handlelength=1,
        columnspacing=0.8,
        bbox_to_anchor=(0.5, 0),
    )
    return fig
