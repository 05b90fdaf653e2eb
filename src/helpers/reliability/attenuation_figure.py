"""The attenuation figure: planted, expected, re-simulated, the paper's and our r on one axis."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def plot_attenuation(
    summary: dict, r_paper: float | None = None, n: int | None = None, draw_r: np.ndarray | None = None
):
    """One figure of the attenuation: planted, expected, re-simulated, the paper's and our r.

    The planted r, the distribution of observed r expected at the measured reliability (its mean and
    central 95 %), the r of each re-simulated twin (``draw_r``, ticks), the paper's r and ours.

    Parameters
    ----------
    summary : dict
        From :func:`attenuation_summary`.
    r_paper : float, default None
        The paper's r; default None: not drawn.
    n : int, default None
        Participants, shown in the legend; default None: not shown.
    draw_r : numpy.ndarray, default None
        r of each re-simulated twin (:func:`draw_correlations`); default None: not drawn.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=(7.5, 3.6), constrained_layout=True)
    ax.hist(
        summary["sims"],
        bins=60,
        range=(-1, 1),
        color="#bbbbbb",
        edgecolor="white",
        density=True,
        label="r expected from the estimates" + (f" (n = {n})" if n else ""),
    )
    ax.axvspan(summary["q_low"], summary["q_high"], color="#bbbbbb", alpha=0.25, label="its central 95 %")
    ax.axvline(
        summary["expected"],
        color="#555555",
        lw=2,
        label=f"expected r = {summary['expected']:.2f}".replace("-", "−"),
    )
    ax.axvline(
        summary["r_planted"],
        color="#0072B2",
        lw=2,
        ls="--",
        label=f"planted r = {summary['r_planted']:.2f}".replace("-", "−"),
    )
    if draw_r is not None and len(draw_r):
        ax.plot(
            draw_r,
            np.zeros_like(draw_r),
            "|",
            color="#009E73",
            ms=18,
            mew=1.5,
            clip_on=False,
            label=f"r of {len(draw_r)} re-simulated twins",
        )
    if r_paper is not None:
        ax.axvline(r_paper, color="#E69F00", lw=2, ls=":", label=f"paper r = {r_paper:.2f}".replace("-", "−"))
    if summary["r_ours"] is not None:
        ax.axvline(
            summary["r_ours"],
            color="#D55E00",
            lw=2,
            label=f"ours r = {summary['r_ours']:.2f}".replace("-", "−"),
        )
    ax.set_xlim(-1, 1)
    ax.set_xlabel("r (self-compassion mean × Neg − Neu VMPFC–right amygdala)")
    ax.set_ylabel("density")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)
    return fig
