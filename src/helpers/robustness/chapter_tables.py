"""The robustness chapter's tables: Table 1 with what the paper did not report, and the robust
estimators for several correlations."""

from __future__ import annotations

from collections.abc import Sequence
from math import comb

import numpy as np
import pandas as pd

from .. import paper
from ..stats import DEFAULT_MEASURE, correlation_table, paired_values, resolve_alternative, resolve_scale
from ..style import agrees, counted, format_r, method_name
from .estimators import ROBUST_METHODS, benjamini_hochberg, bootstrap_ci, robust_correlations


def inference_table(
    scores: pd.DataFrame,
    connectivity: pd.DataFrame,
    scales: Sequence[str] | None = None,
    contrast: str = "negative-neutral",
    pair=("vmpfc", "amygdala_r"),
    alternative: str = "directional",
    *,
    measure: str = DEFAULT_MEASURE,
    n_boot: int = 5000,
    seed: int = 2018,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Table 1's correlations with everything the paper did not report.

    For each scale: r, p for ``alternative`` and two-tailed, the analytic
    (Fisher z) and bootstrap 95 % CIs, JZS Bayes factors BF₁₀ for the directional
    and the two-sided hypotheses (:func:`pingouin.bayesfactor_pearson`, Wetzels &
    Wagenmakers 2012), and Benjamini–Hochberg adjusted p values (q) across the
    six subscales (the total is a separate, primary test: q is NaN there).

    Parameters
    ----------
    scores : DataFrame
        ``scores.tsv`` as read by pandas.
    connectivity : DataFrame
        ``connectivity.tsv`` as read by pandas.
    scales : sequence of str, default None
        The scales, in order; None: the paper's (:data:`helpers.paper.SCALES`).
    contrast : str, default "negative-neutral"
        A ``condition`` of ``connectivity.tsv``.
    pair : (source, target), default ("vmpfc", "amygdala_r")
        The ordered ROI pair.
    alternative : {"directional", "less", "greater", "two-sided"}, default "directional"
        The test; ``"directional"``: the paper's hypothesised direction for the scale
        (:func:`helpers.stats.resolve_alternative`).
    measure : str, default :data:`helpers.stats.DEFAULT_MEASURE`
        ``measure`` of ``connectivity.tsv`` (``"weighted_hrf"``, the paper's).
    n_boot : int, default 5000
        Bootstrap resamples (:func:`bootstrap_ci`).
    seed : int, default 2018
        Random seed of the bootstrap.
    alpha : float, default 0.05
        False discovery rate (:func:`benjamini_hochberg`).

    Returns
    -------
    DataFrame
        ``scale, n, r, p, alternative, p_two_sided, ci95_low, ci95_high, boot_low, boot_high,
        bf10, bf10_two_sided, q, q_two_sided, significant_after_bh``.
    """
    scales = [s for s, _ in paper.SCALES] if scales is None else list(scales)
    table = correlation_table(
        scores, connectivity, scales, (contrast,), (pair,), alternative, measure=measure
    )
    two = correlation_table(scores, connectivity, scales, (contrast,), (pair,), "two-sided", measure=measure)
    table["bf10_two_sided"] = two["bf10"].to_numpy()
    boots = []
    for scale in scales:
        data = paired_values(scores, connectivity, scale, contrast, pair, measure=measure)
        boots.append(bootstrap_ci(data["x"], data["y"], n_boot=n_boot, seed=seed))
    table[["boot_low", "boot_high"]] = np.array(boots)
    family = (table["scale"] != "total").to_numpy()
    for p_col, q_col in (("p", "q"), ("p_two_sided", "q_two_sided")):
        table[q_col] = np.nan
        if family.any():
            table.loc[family, q_col] = benjamini_hochberg(table.loc[family, p_col], alpha)[1]
    table["significant_after_bh"] = table["q"] < alpha
    return table[
        [
            "scale",
            "n",
            "r",
            "p",
            "alternative",
            "p_two_sided",
            "ci95_low",
            "ci95_high",
            "boot_low",
            "boot_high",
            "bf10",
            "bf10_two_sided",
            "q",
            "q_two_sided",
            "significant_after_bh",
        ]
    ]


def robust_table(
    scores: pd.DataFrame,
    connectivity: pd.DataFrame,
    keys: Sequence[tuple[str, str]],
    pair=("vmpfc", "amygdala_r"),
    alternative: str = "directional",
    *,
    measure: str = DEFAULT_MEASURE,
    methods: Sequence[str] = ROBUST_METHODS,
    seed: int = 2018,
) -> pd.DataFrame:
    """:func:`robust_correlations` for several (scale, condition) keys, stacked (long format).

    Parameters
    ----------
    scores : DataFrame
        ``scores.tsv`` as read by pandas.
    connectivity : DataFrame
        ``connectivity.tsv`` as read by pandas.
    keys : sequence of (scale, condition)
        The correlations to compute.
    pair : (source, target), default ("vmpfc", "amygdala_r")
        The ordered ROI pair.
    alternative : {"directional", "less", "greater", "two-sided"}, default "directional"
        The test; ``"directional"``: the paper's hypothesised direction for the scale
        (:func:`helpers.stats.resolve_alternative`).
    measure : str, default :data:`helpers.stats.DEFAULT_MEASURE`
        ``measure`` of ``connectivity.tsv`` (``"weighted_hrf"``, the paper's).
    methods : sequence of str, default :data:`ROBUST_METHODS`
        pingouin ``method`` names.
    seed : int, default 2018
        Seed of Shepherd's bootstrap.

    Returns
    -------
    DataFrame
        The :func:`robust_correlations` rows of every key.
    """
    parts = []
    for scale, condition in keys:
        data = paired_values(scores, connectivity, scale, condition, pair, measure=measure)
        col = resolve_scale(scale, [c for c in scores.columns if c != "participant_id"])
        part = robust_correlations(
            data["x"], data["y"], resolve_alternative(alternative, col), methods, seed=seed
        )
        part.insert(0, "condition", condition)
        part.insert(0, "scale", col)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def robust_by_method(robust: pd.DataFrame, decimals: int = 3) -> pd.DataFrame:
    """:func:`robust_table` wide: one row per (scale, condition), r, p and outliers per method.

    ``outliers`` (points a method removed) stays an integer count; r and p are rounded.

    Parameters
    ----------
    robust : DataFrame
        From :func:`robust_table` (``scale, condition, method, r, p, outliers``).
    decimals : int, default 3
        Decimals of r and p.

    Returns
    -------
    DataFrame
        Columns (value, method) for value in r, p, outliers.
    """
    wide = robust.pivot_table(
        index=["scale", "condition"], columns="method", values=["r", "p", "outliers"], sort=False
    )
    parts = {value: wide[value].round(decimals) for value in ("r", "p")}
    parts["outliers"] = wide["outliers"].round().astype("Int64")
    return pd.concat(parts, axis=1)


def robust_sentence(rows: pd.DataFrame) -> str:
    """What the robust estimates of one correlation say, as one or two sentences.

    "For the main correlation the 6 estimators give r between −.41 and −.29; 2 of 6 reach p < .05."
    An estimator that returned no r (Shepherd's pi needs enough participants to bootstrap its outlier
    screen) is named and counted in neither number, so that "0 of 6" never counts a missing value as
    a miss.

    Parameters
    ----------
    rows : DataFrame
        The :func:`robust_table` rows of one (scale, condition): ``method``, ``r``, ``p``.

    Returns
    -------
    str
        With its full stop.
    """
    computed = rows[np.isfinite(rows["r"].to_numpy(float))]
    missing = [method_name(m) for m in rows["method"] if m not in set(computed["method"])]
    n, k = len(computed), int((computed["p"] < 0.05).sum())
    if n == 0:
        return "For the main correlation no estimator returned a value."
    if n == 1:
        only = computed.iloc[0]
        text = (
            f"For the main correlation only {method_name(only['method'])} returned a value, "
            f"r = {format_r(only['r'])}, which {'reaches' if k else 'does not reach'} p < .05."
        )
    else:
        which = " that returned a value" if missing else ""
        low, high = format_r(computed["r"].min()), format_r(computed["r"].max())
        text = (
            f"For the main correlation the {counted(n, 'estimator')}{which} give r between {low} and "
            f"{high}; {k} of {n} {agrees(k, 'reaches', 'reach')} p < .05."
        )
    if missing:
        text += f" {' and '.join(missing)} returned none with these data."
    return text


def interval_sentence(row: pd.Series, decimals: int = 2) -> str:
    """What a row of :func:`inference_table` says about precision, as one sentence.

    "Its 95 % interval runs from −.78 to −.02 (bootstrap: −.83 to .05): the width of this interval,
    more than the p value, shows how precisely 19 participants pin the correlation down."  Fisher's
    interval needs n ≥ 4 (its standard error is 1/√(n − 3)); below that the sentence says there is no
    interval, and how few distinct bootstrap resamples n pairs allow: C(2n − 1, n), the multisets of
    size n (10 for n = 3).

    Parameters
    ----------
    row : Series
        ``n``, ``ci95_low``, ``ci95_high``, ``boot_low``, ``boot_high`` (NaN when not computed).
    decimals : int, default 2
        Decimals of the bounds (:func:`helpers.style.format_r`).

    Returns
    -------
    str
        With its full stop.
    """
    n = int(row["n"])
    fisher = bool(np.isfinite([row["ci95_low"], row["ci95_high"]]).all())
    boot = bool(np.isfinite([row["boot_low"], row["boot_high"]]).all())
    bounds = {k: format_r(row[k], decimals) for k in ("ci95_low", "ci95_high", "boot_low", "boot_high")}
    if not fisher:
        resamples = comb(2 * n - 1, n)
        if boot:
            return (
                f"With {n} participants there is no Fisher interval (it needs at least 4), and the bootstrap "
                f"interval, {bounds['boot_low']} to {bounds['boot_high']}, rests on only {resamples} "
                f"distinct resamples of {n} pairs."
            )
        return (
            f"With {n} participants there is no 95 % interval: Fisher's needs at least 4, and {n} pairs "
            f"allow only {resamples} distinct bootstrap resamples, too few for a bootstrap interval."
        )
    boot_part = (
        f"bootstrap: {bounds['boot_low']} to {bounds['boot_high']}"
        if boot
        else f"the bootstrap gave none on {n} participants"
    )
    return (
        f"Its 95 % interval runs from {bounds['ci95_low']} to {bounds['ci95_high']} ({boot_part}): the "
        f"width of this interval, more than the p value, shows how precisely {n} participants pin the "
        "correlation down."
    )


def interval_phrase(row: pd.Series, decimals: int = 2) -> str:
    """The Fisher interval of a row of :func:`inference_table` as a noun phrase, for a summary.

    "a 95 % interval from −.72 to .07", or "no 95 % interval (3 participants; it needs at least 4)".

    Parameters
    ----------
    row : Series
        ``n``, ``ci95_low``, ``ci95_high``.
    decimals : int, default 2
        Decimals of the bounds.

    Returns
    -------
    str
    """
    if not np.isfinite([row["ci95_low"], row["ci95_high"]]).all():
        return f"no 95 % interval ({int(row['n'])} participants; it needs at least 4)"
    low, high = (format_r(row[k], decimals) for k in ("ci95_low", "ci95_high"))
    return f"a 95 % interval from {low} to {high}"
