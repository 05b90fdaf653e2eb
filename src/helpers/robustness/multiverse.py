"""The key correlation across connectivity pipelines: the specification curve, the measures' descriptions
and what the outlier branches did."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..stats import DEFAULT_MEASURE, correlate
from ..style import agrees, format_r


def describe_measure(measure: str) -> str:
    """Readable description of a connectivity ``measure``, from the measure registry
    (:func:`helpers.firstlevel.describe_measure`; ``nilearn_<strategy>`` names its strategy); an
    unregistered name is returned as it is.

    Parameters
    ----------
    measure : str
        A measure name (e.g. ``"weighted_hrf"``).

    Returns
    -------
    str
    """
    from ..firstlevel.measures import describe_measure as registered

    return registered(measure)


def specification_curve(
    scores: pd.DataFrame,
    connectivity: pd.DataFrame,
    scale: str = "total",
    contrast: str = "negative-neutral",
    pair=("vmpfc", "amygdala_r"),
    alternative: str = "directional",
    measures: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The key correlation under every connectivity ``measure`` present (Simonsohn et al. 2020).

    Parameters
    ----------
    scores : DataFrame
        ``scores.tsv`` as read by pandas.
    connectivity : DataFrame
        ``connectivity.tsv`` as read by pandas.
    scale : str, default "total"
        ``scores.tsv`` column or the paper's label (:func:`helpers.stats.resolve_scale`).
    contrast : str, default "negative-neutral"
        A ``condition`` of ``connectivity.tsv``.
    pair : (source, target), default ("vmpfc", "amygdala_r")
        The ordered ROI pair.
    alternative : {"directional", "less", "greater", "two-sided"}, default "directional"
        The test; ``"directional"``: the paper's hypothesised direction for the scale
        (:func:`helpers.stats.resolve_alternative`).
    measures : sequence of str, default None
        The measures, in order; None: every measure of ``connectivity``.

    Returns
    -------
    DataFrame
        One :func:`helpers.stats.correlate` row per measure, sorted by r, with
        ``is_default`` marking the paper's pipeline and ``rank`` the position.
    """
    if measures is None:
        measures = list(dict.fromkeys(connectivity["measure"].dropna()))
    rows = []
    for measure in measures:
        row = correlate(scores, connectivity, scale, contrast, pair, alternative, measure=measure)
        row["excluded"] = "; ".join(row["excluded"])
        rows.append(row)
    out = pd.DataFrame(rows).sort_values("r", kind="stable").reset_index(drop=True)
    out["is_default"] = out["measure"] == DEFAULT_MEASURE
    out["rank"] = np.arange(1, len(out) + 1)
    return out


def curve_sentence(curve: pd.DataFrame, alpha: float = 0.05, decimals: int = 2) -> str:
    """The specification curve in one sentence: how far r ranges and how many pipelines reach ``alpha``.

    "Across the 12 pipelines of the specification curve the headline correlation ranges from −.61
    to −.21, and 5 of them reach p < .05." With one pipeline there is no curve, and the sentence says
    so and names the connectivity chapter's ``multiverse`` parameter that adds the others.

    Parameters
    ----------
    curve : DataFrame
        :func:`specification_curve` (``r``, ``p``), one row per pipeline.
    alpha : float, default 0.05
        Significance level.
    decimals : int, default 2
        Decimals of r (:func:`helpers.style.format_r`).

    Returns
    -------
    str
        With its full stop.
    """
    if len(curve) == 1:
        return (
            "Only the paper's connectivity pipeline was computed (the connectivity chapter's multiverse "
            "parameter adds the others), so there is no specification curve."
        )
    k = int((curve["p"] < alpha).sum())
    return (
        f"Across the {len(curve)} pipelines of the specification curve the headline correlation ranges from "
        f"{format_r(curve['r'].min(), decimals)} to {format_r(curve['r'].max(), decimals)}, and {k} of "
        f"them {agrees(k, 'reaches', 'reach')} p < {format_r(alpha, 2)}."
    )


def outlier_sentence(output_dir) -> str:
    """Sentences on the scans the outlier branches flagged and on who each branch left out.

    From ``outlier_scans.tsv``: the share of each participant's weighted scans flagged by ART
    (:mod:`helpers.outliers`), pooled over conditions, its mean over participants and its maximum
    (with who).  From ``exclusions.tsv``: for each branch measure, the participants left out of it
    (stages ``connectivity/<branch>``, e.g. too few residual degrees of freedom, and
    ``outliers/<branch>``, too many scans lost).  Without the table the sentence says what the
    connectivity chapter was asked for (its ``multiverse`` and ``outliers`` parameters, read from its
    provenance record) and that no pipeline of the curve removes outlier scans.

    Parameters
    ----------
    output_dir : path-like
        The connectivity chapter's output folder (:func:`helpers.layout.outputs`).

    Returns
    -------
    str
    """
    from ..exclusions import read_exclusions
    from ..layout import outputs

    out = outputs(output_dir)
    if not out.outlier_scans.is_file():
        return _no_outlier_scans(out)
    lost = pd.read_csv(out.outlier_scans, sep="\t")
    lost["rule"] = lost["outliers"].str.rsplit("-", n=1).str[0]  # scrubbing and censoring share the flags
    flagged = lost.drop_duplicates(["participant_id", "rule", "condition"])
    parts = []
    for label, rows in flagged.groupby("rule", sort=True):
        share = rows.groupby("participant_id")[["n_lost", "n_scans"]].sum()
        share = share["n_lost"] / share["n_scans"]
        parts.append(
            f"with CONN's {label} thresholds (global-signal z {rows['gs_z'].iloc[0]:g}, motion "
            f"{rows['fd_mm'].iloc[0]:g} mm) ART flags on average {share.mean():.1%} of a participant's "
            f"weighted scans, at most {share.max():.1%} ({share.idxmax()})"
        )
    text = "Outlier scans: " + "; ".join(parts) + "."
    rows = read_exclusions(out.exclusions)
    left = []
    for branch in [m for m in dict.fromkeys(lost["measure"]) if m != "all"]:
        who = sorted(
            set(
                rows.loc[
                    rows["stage"].isin([f"connectivity/{branch}", f"outliers/{branch}"]), "participant_id"
                ]
            )
        )
        left.append(f"{branch} {len(who)}" + (f" ({', '.join(who)})" if who else ""))
    if left:
        text += (
            " Participants left out of a branch (too few residual degrees of freedom once the scans are "
            "gone, or too many scans lost; exclusions.tsv): " + ", ".join(left) + "."
        )
    return text


def _no_outlier_scans(out) -> str:
    """Why there is no ``outlier_scans.tsv``: the connectivity chapter's request, from its provenance."""
    import json

    record = out.provenance / "03_connectivity.json"
    params = json.loads(record.read_text()).get("parameters") or {} if record.is_file() else {}
    if "multiverse" not in params:
        return (
            "No outlier_scans.tsv was written and the connectivity chapter's parameters are not recorded "
            "(provenance/03_connectivity.json), so no pipeline of the curve removes outlier scans."
        )
    multiverse = bool(params["multiverse"])
    outliers = params.get("outliers", "none")
    asked = f"`multiverse = {multiverse}`" + (
        f" and `outliers = {json.dumps(outliers)}`"
        if "outliers" in params
        else " and no `outliers` parameter"
    )
    if not multiverse and outliers in (None, "none"):
        return (
            f"The connectivity chapter ran with {asked}: it computed no outlier-scan branch, so the curve "
            "has none."
        )
    return (
        f"The connectivity chapter ran with {asked}, which asks for outlier-scan branches, yet wrote no "
        "outlier_scans.tsv (its outputs predate the branches, or the run stopped before them): no pipeline "
        "of the curve removes outlier scans; run the connectivity chapter again to add them."
    )
