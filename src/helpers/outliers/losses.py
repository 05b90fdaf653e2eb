"""What outlier scans cost: the scans each condition loses, and the participants excluded for it.

The scans lost per participant and condition are counted by :func:`lost_scans`; a participant who
loses more than ``max_outlier_fraction`` of a condition's scans is excluded through
``exclusions.tsv`` (stage :data:`STAGE`, :func:`outlier_exclusions`, :func:`record_outlier_exclusions`).
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd

from .rules import OutlierRule

log = logging.getLogger(__name__)

#: Stage of ``exclusions.tsv`` rows written for participants who lose too many scans.
STAGE = "outliers"
#: Columns of :func:`lost_scans` and of ``outlier_scans.tsv`` (beside connectivity.tsv).
LOST_COLUMNS = [
    "participant_id",
    "measure",
    "outliers",
    "gs_z",
    "fd_mm",
    "fd",
    "condition",
    "n_scans",
    "n_lost",
    "fraction_lost",
]
#: ``measure`` of :func:`lost_scans` rows of the ``outliers`` parameter (it applies to every measure).
ALL_MEASURES = "all"


def lost_scans(
    participant: str, outliers, weights, rule: OutlierRule, measure: str = ALL_MEASURES
) -> pd.DataFrame:
    """Scans each condition loses to outlier scans, over a participant's runs.

    Parameters
    ----------
    participant : str
    outliers : bool array or list of them (one per run)
        :func:`detect_outliers` ``outlier`` column.
    weights : DataFrame or list of them (one per run, scans × conditions)
        Condition weights of the same runs.
    rule : OutlierRule
    measure : str, default :data:`ALL_MEASURES`
        The measure the rule applies to: :data:`ALL_MEASURES` for the ``outliers`` parameter (every
        measure of the analysis), a measure's name for a multiverse branch.

    Returns
    -------
    DataFrame
        :data:`LOST_COLUMNS`: ``n_scans`` = scans with weight > 0; ``n_lost`` = those flagged (censoring
        removes them; scrubbing fits them exactly, so they no longer inform the correlation either);
        ``fraction_lost`` = n_lost / n_scans.
    """
    if isinstance(weights, pd.DataFrame):
        weights, outliers = [weights], [outliers]
    if len(weights) != len(outliers):
        raise ValueError(
            f"lost_scans: {participant}: {len(weights)} weight tables but {len(outliers)} outlier vectors"
        )
    n_scans = sum((w > 0).sum(axis=0) for w in weights)
    n_lost = sum((w[np.asarray(o, dtype=bool)] > 0).sum(axis=0) for w, o in zip(weights, outliers))
    table = pd.DataFrame(
        {
            "participant_id": participant,
            "measure": measure,
            "outliers": rule.label,
            "gs_z": rule.gs_z,
            "fd_mm": rule.fd_mm,
            "fd": rule.fd,
            "condition": [str(c) for c in n_scans.index],
            "n_scans": n_scans.to_numpy(int),
            "n_lost": n_lost.to_numpy(int),
        }
    )
    table["fraction_lost"] = table["n_lost"] / table["n_scans"].where(table["n_scans"] > 0)
    return table[LOST_COLUMNS]


def outlier_exclusions(lost: pd.DataFrame, max_outlier_fraction: float = 0.5) -> pd.DataFrame:
    """Exclusion rows for participants who lose too many scans to outliers.

    A participant is excluded when, in any condition, ``fraction_lost`` > ``max_outlier_fraction`` (one
    row naming the worst condition): from the whole analysis (stage :data:`STAGE`) for the
    ``outliers`` parameter, from one measure only (stage ``outliers/<measure>``,
    :func:`helpers.exclusions.apply`) for a multiverse branch.  The default 0.5 is ours: CONN reports
    the valid-scan counts (``QC_ValidScans``) but excludes nobody by itself.

    Parameters
    ----------
    lost : DataFrame
        :func:`lost_scans` rows (any number of participants and measures).
    max_outlier_fraction : float, default 0.5
        In [0, 1].
    """
    from ..execution import EXCLUSION_COLUMNS

    if not 0 <= max_outlier_fraction <= 1:
        raise ValueError(f"max_outlier_fraction = {max_outlier_fraction!r} (rule: a fraction in [0, 1])")
    bad = lost[lost["fraction_lost"] > max_outlier_fraction]
    worst = bad.sort_values("fraction_lost", ascending=False, kind="stable")
    worst = worst.drop_duplicates(["participant_id", "measure"]).sort_values(["measure", "participant_id"])
    stages = [STAGE if m == ALL_MEASURES else f"{STAGE}/{m}" for m in worst["measure"]]
    reasons = [
        f"outlier scans ({row.outliers}): {row.n_lost} of {row.n_scans} scans of condition {row.condition} "
        f"({row.fraction_lost:.0%}) > {max_outlier_fraction:g}"
        for row in worst.itertuples()
    ]
    return pd.DataFrame(
        {"participant_id": worst["participant_id"].to_numpy(), "stage": stages, "reason": reasons},
        columns=EXCLUSION_COLUMNS,
    )


def record_outlier_exclusions(
    output_dir: str | os.PathLike, lost: pd.DataFrame | None, max_outlier_fraction: float = 0.5
) -> pd.DataFrame:
    """Write ``outlier_scans.tsv`` and the rule's rows of ``exclusions.tsv`` (replacing earlier ones).

    The single exclusion mechanism (:func:`helpers.execution.record_exclusions`, read by
    :func:`helpers.exclusions.apply`).  With no outlier choice (``lost`` None) no table is written, a
    stale one is removed and earlier rows of the stage leave ``exclusions.tsv``.

    Parameters
    ----------
    output_dir : path-like
        The stage's output folder (:func:`helpers.layout.outputs`).
    lost : DataFrame or None
        :func:`lost_scans` rows (:data:`LOST_COLUMNS`); None: no outlier choice.
    max_outlier_fraction : float, default 0.5
        Largest share of a condition's scans a participant may lose (:func:`outlier_exclusions`).

    Returns
    -------
    DataFrame
        The exclusion rows.
    """
    from ..execution import record_exclusions
    from ..io import write_tsv
    from ..layout import outputs

    out = outputs(output_dir)
    if lost is None:
        out.outlier_scans.unlink(missing_ok=True)
        lost = pd.DataFrame(columns=LOST_COLUMNS)
    else:
        write_tsv(lost[LOST_COLUMNS], out.outlier_scans)
    rows = outlier_exclusions(lost, max_outlier_fraction)
    record_exclusions(rows, out.exclusions, STAGE)
    for row in rows.itertuples():
        log.warning("excluding %s (%s): %s", row.participant_id, row.stage, row.reason)
    return rows
