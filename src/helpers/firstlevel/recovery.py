"""Twin recovery: the digital twin's planted coupling against the coupling the first level recovers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .measures import add_contrasts

__all__ = ["twin_truth", "planted_vs_recovered", "recovery_summary"]


def twin_truth(bids_dir) -> pd.DataFrame | None:
    """The twin's planted coupling (``derivatives/twin-truth/coupling.tsv``), or None for real data.

    Parameters
    ----------
    bids_dir : path-like
        The dataset.
    """
    path = Path(bids_dir) / "derivatives" / "twin-truth" / "coupling.tsv"
    return pd.read_csv(path, sep="\t") if path.is_file() else None


def planted_vs_recovered(
    recovered: pd.DataFrame, truth: pd.DataFrame, measure: str = "weighted_hrf"
) -> pd.DataFrame:
    """Join recovered and planted z per participant, condition and ROI pair.

    ``truth`` is the twin's planted coupling (``participant_id, condition, source, target, z``);
    contrasts are added to it as differences of z, as for the recovered values.

    Parameters
    ----------
    recovered : DataFrame
        connectivity.tsv rows.
    truth : DataFrame
        :func:`twin_truth`.
    measure : str, default "weighted_hrf"
        The recovered measure compared.

    Returns
    -------
    DataFrame
        ``participant_id, condition, source, target, z_recovered, z_planted``.
    """
    truth = add_contrasts(truth[["participant_id", "condition", "source", "target", "z"]].assign(r=np.nan))
    rec = recovered[recovered["measure"] == measure]
    keys = ["participant_id", "condition", "source", "target"]
    return rec[keys + ["z"]].merge(truth[keys + ["z"]], on=keys, suffixes=("_recovered", "_planted"))


def recovery_summary(joined: pd.DataFrame) -> pd.DataFrame:
    """Correlation between planted and recovered z per condition and target (and pooled over targets).

    Parameters
    ----------
    joined : DataFrame
        :func:`planted_vs_recovered`.

    Returns
    -------
    DataFrame
        ``condition, target, n, r`` (target ``"both"``: pooled).
    """
    rows = []
    for cond, part in joined.groupby("condition", sort=False):
        for target, sub in [*part.groupby("target"), ("both", part)]:
            rows.append((cond, target, len(sub), np.corrcoef(sub["z_planted"], sub["z_recovered"])[0, 1]))
    return pd.DataFrame(rows, columns=["condition", "target", "n", "r"])
