"""Figures of preprocessing accuracy against the twin's truth: planted vs estimated motion; scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..style import OKABE_ITO, PALETTE
from ..style.labels import CELL_LABELS
from .pipeline import derivative_paths
from .realign import MOTION_COLUMNS

#: Colour of the dashed target lines: black, not a region's colour (the VMPFC's is the accent colour).
TARGET_COLOUR = "black"

__all__ = ["plot_motion_vs_truth", "plot_accuracy"]


def plot_motion_vs_truth(
    bids_dir: str | Path,
    preproc_dir: str | Path,
    participant: str,
    task: str = "feedback",
    resolution: int = 3,
):
    """Figure: estimated (lines) and planted (dots) translations and rotations of one twin participant.

    Parameters
    ----------
    bids_dir : path
        The twin's BIDS folder (with ``derivatives/twin-truth`` and ``derivatives/twin-fmriprep``).
    preproc_dir : path
        Our preprocessing derivatives (:func:`helpers.preprocess.pipeline.run_preprocessing`).
    participant : str
        ``sub-XX``.
    task : str, default "feedback"
        BIDS task label.
    resolution : int, default 3
        MNI voxel size (mm) of the derivatives compared.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    ours = pd.read_csv(
        derivative_paths(preproc_dir, participant, task, resolution)["confounds"], sep="\t", na_values="n/a"
    )
    truth = pd.read_csv(
        Path(bids_dir) / "derivatives" / "twin-truth" / participant / f"{participant}_motion.tsv",
        sep="\t",
        na_values="n/a",
    )
    fig, axes = plt.subplots(2, 1, figsize=(8, 5), sharex=True, layout="constrained")
    for ax, cols, scale, unit in (
        (axes[0], MOTION_COLUMNS[:3], 1.0, "mm"),
        (axes[1], MOTION_COLUMNS[3:], 180 / np.pi, "°"),
    ):
        for col, color in zip(cols, (OKABE_ITO["blue"], OKABE_ITO["orange"], OKABE_ITO["bluish_green"])):
            ax.plot(truth[col] * scale, ".", color=color, ms=3, alpha=0.5)
            ax.plot(ours[col] * scale, "-", color=color, lw=1, label=col)
        ax.set_ylabel(unit)
        ax.legend(fontsize=7, ncol=3, frameon=False, loc="upper left")
    axes[1].set_xlabel("volume")
    fig.suptitle(f"{participant}: estimated (lines) vs planted (dots) head motion")
    return fig


def plot_accuracy(scores: pd.DataFrame):
    """Figure: the accuracy scores per participant (one marker per ROI) against their targets.

    Targets (:data:`helpers.preprocess.accuracy.TARGETS`) are dashed lines.

    Parameters
    ----------
    scores : DataFrame
        :func:`helpers.preprocess.accuracy.score_dataset`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from .accuracy import TARGETS

    x = np.arange(len(scores))
    fig, grid = plt.subplots(2, 2, figsize=(9, 6.2), layout="constrained")  # 2 x 2: legible at the page width
    axes = grid.ravel()
    axes[0].plot(x, scores["realign_rms_mm"], "o", color=PALETTE["neutral"], ms=4)
    axes[0].axhline(TARGETS["realign_rms_mm"], ls="--", color=TARGET_COLOUR, lw=1)
    axes[0].set(
        ylabel="mm",
        title="realignment RMS error (≤ target)",
        ylim=(0, 1.3 * max(TARGETS["realign_rms_mm"], scores["realign_rms_mm"].max())),
    )
    for ax, prefix, target, title in (
        (axes[1], "r_preproc_", TARGETS["r"], "ROI time series r (≥ target)"),
        (axes[2], "dice_", TARGETS["dice"], "ROI Dice (≥ target)"),
    ):
        values = scores.filter(regex=f"^{prefix}(?!abs_)")  # dice_abs_*: in the table, not against the target
        for (col, column), marker in zip(values.items(), "os^"):
            roi = col.removeprefix(prefix)
            ax.plot(
                x, column, marker, ms=4, alpha=0.8, color=PALETTE.get(roi), label=CELL_LABELS.get(roi, roi)
            )
        ax.axhline(target, ls="--", color=TARGET_COLOUR, lw=1)
        ax.set(title=title, ylim=(min(0.85, values.min().min() - 0.02), 1.005))  # never hide a miss
    errors = scores.filter(like="error_mm_")
    for (col, column), marker in zip(errors.items(), "os^"):
        roi = col.removeprefix("error_mm_")
        axes[3].plot(
            x, column, marker, ms=4, alpha=0.8, color=PALETTE.get(roi), label=CELL_LABELS.get(roi, roi)
        )
    axes[3].axhline(TARGETS["error_mm"], ls="--", color=TARGET_COLOUR, lw=1)
    axes[3].set(
        ylabel="mm",
        title="ROI registration error (≤ target)",
        ylim=(0, 1.3 * max(TARGETS["error_mm"], errors.max().max())),
    )
    handles, labels = axes[2].get_legend_handles_labels()  # one legend for the three ROI panels, below them
    if labels:
        fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), frameon=False, fontsize=9)
    for ax in axes:
        ax.set_xticks(x, [p.removeprefix("sub-") for p in scores.index], fontsize=7, rotation=90)
        ax.set_xlabel("participant")
    return fig
