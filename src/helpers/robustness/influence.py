"""How much one participant moves a correlation: leave-one-out (jackknife) r and its summary."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ..stats import DEFAULT_MEASURE, correlate_values, paired_values, resolve_alternative, resolve_scale
from ..style import format_r

MIN_PARTICIPANTS = 4
"""Participants leave-one-out needs: each sample keeps n − 1, and a correlation needs at least 3."""

COLUMNS = ["participant_id", "x", "y", "r_without", "p_without", "delta_r"]


def leave_one_out(
    scores: pd.DataFrame,
    connectivity: pd.DataFrame,
    scale: str,
    contrast: str,
    pair=("vmpfc", "amygdala_r"),
    alternative: str = "directional",
    *,
    measure: str = DEFAULT_MEASURE,
) -> pd.DataFrame:
    """r and p with each participant left out in turn (jackknife influence).

    Parameters
    ----------
    scores : DataFrame
        ``scores.tsv`` as read by pandas.
    connectivity : DataFrame
        ``connectivity.tsv`` as read by pandas.
    scale : str
        ``scores.tsv`` column or the paper's label (:func:`helpers.stats.resolve_scale`).
    contrast : str
        A ``condition`` of ``connectivity.tsv`` (e.g. ``"negative-neutral"``).
    pair : (source, target), default ("vmpfc", "amygdala_r")
        The ordered ROI pair.
    alternative : {"directional", "less", "greater", "two-sided"}, default "directional"
        The test; ``"directional"``: the paper's hypothesised direction for the scale
        (:func:`helpers.stats.resolve_alternative`).
    measure : str, default :data:`helpers.stats.DEFAULT_MEASURE`
        ``measure`` of ``connectivity.tsv`` (``"weighted_hrf"``, the paper's).

    Returns
    -------
    DataFrame
        ``participant_id, x, y, r_without, p_without, delta_r`` (r_without − r_all), one row per
        participant; no rows with fewer than :data:`MIN_PARTICIPANTS` participants (a sample without
        one would be too small to correlate). ``.attrs`` holds ``n`` (participants with both values),
        ``r_all``, ``p_all`` and the resolved ``alternative``.

    Raises
    ------
    ValueError
        Fewer than 3 participants with both values: not even the full-sample r exists.
    """
    data = paired_values(scores, connectivity, scale, contrast, pair, measure=measure)
    alt = resolve_alternative(
        alternative, resolve_scale(scale, [c for c in scores.columns if c != "participant_id"])
    )
    if len(data) < 3:
        raise ValueError(
            f"leave_one_out: {scale} × {contrast}: {len(data)} participant(s) with both a score and a "
            "connectivity value; a correlation needs at least 3"
        )
    full = correlate_values(data["x"], data["y"], alt)
    rows = []
    for i in range(len(data) if len(data) >= MIN_PARTICIPANTS else 0):
        rest = data.drop(index=data.index[i])
        res = correlate_values(rest["x"], rest["y"], alt)
        rows.append(
            {
                "participant_id": data["participant_id"].iloc[i],
                "x": data["x"].iloc[i],
                "y": data["y"].iloc[i],
                "r_without": res["r"],
                "p_without": res["p"],
                "delta_r": res["r"] - full["r"],
            }
        )
    out = pd.DataFrame(rows, columns=COLUMNS)
    out.attrs.update(n=len(data), r_all=full["r"], p_all=full["p"], alternative=alt)
    return out


def influence_summary(loos: Mapping[str, pd.DataFrame], alpha: float = 0.05) -> pd.DataFrame:
    """One row per :func:`leave_one_out` result: r with everyone, the range without one, the most influential.

    Parameters
    ----------
    loos : mapping of str to DataFrame
        Key → :func:`leave_one_out` result.
    alpha : float, default 0.05
        Significance level for ``n_significant``.

    Returns
    -------
    DataFrame
        ``key, n, r_all, p_all, r_min, r_max, most_influential`` (the participant whose
        removal moves r most), ``max_abs_delta`` and ``n_significant`` (leave-one-out
        samples with p < ``alpha``, out of n); the last five are missing (NaN, empty, ``<NA>``)
        when the result has no rows (fewer than :data:`MIN_PARTICIPANTS` participants).
    """
    rows = []
    for key, loo in loos.items():
        row = {"key": key, "n": loo.attrs["n"], "r_all": loo.attrs["r_all"], "p_all": loo.attrs["p_all"]}
        if len(loo):
            top = loo.loc[loo["delta_r"].abs().idxmax()]
            row |= {
                "r_min": loo["r_without"].min(),
                "r_max": loo["r_without"].max(),
                "most_influential": top["participant_id"],
                "max_abs_delta": abs(top["delta_r"]),
                "n_significant": int((loo["p_without"] < alpha).sum()),
            }
        rows.append(row)
    columns = ["key", "n", "r_all", "p_all", "r_min", "r_max", "most_influential", "max_abs_delta"]
    out = pd.DataFrame(rows).reindex(columns=[*columns, "n_significant"])
    return out.astype({"n_significant": "Int64", "most_influential": "string"})


def loo_significance(row: Mapping | pd.Series, alpha: float = 0.05) -> str:
    """How many leave-one-out samples are significant, in words that fit the full sample's own test.

    "1 of the 19 leave-one-out samples remains significant" when the full sample has p < ``alpha``
    (removing one participant keeps it), "… becomes significant" when it has not (removing one makes
    it so).

    Parameters
    ----------
    row : mapping or Series
        One :func:`influence_summary` row (``n``, ``p_all``, ``n_significant``).
    alpha : float, default 0.05
        The level ``n_significant`` was counted at.

    Returns
    -------
    str
        The clause, without a final full stop.
    """
    k, n = int(row["n_significant"]), int(row["n"])
    if row["p_all"] < alpha:
        verb = "remains" if k == 1 else "remain"
    else:
        verb = "becomes" if k == 1 else "become"
    return f"{k} of the {n} leave-one-out samples {verb} significant"


def _too_few_sentence(n: int) -> str:
    """Why there is no leave-one-out with ``n`` (< :data:`MIN_PARTICIPANTS`) participants, as a sentence."""
    return (
        f"With {n} participants no one can be left out: each sample would keep {n - 1}, and a "
        f"correlation needs at least 3, so leave-one-out needs at least {MIN_PARTICIPANTS}."
    )


def loo_range_sentence(row: Mapping | pd.Series) -> str:
    """The leave-one-out range of r in one sentence (APA, two decimals), or why there is none.

    "Leaving out one participant at a time moves r between −.61 and −.38." With fewer than
    :data:`MIN_PARTICIPANTS` participants, :func:`_too_few_sentence`.

    Parameters
    ----------
    row : mapping or Series
        One :func:`influence_summary` row (``n``, ``r_min``, ``r_max``).

    Returns
    -------
    str
        The sentence, with its full stop.
    """
    if int(row["n"]) < MIN_PARTICIPANTS:
        return _too_few_sentence(int(row["n"]))
    return (
        f"Leaving out one participant at a time moves r between {format_r(row['r_min'], 2)} and "
        f"{format_r(row['r_max'], 2)}."
    )


def loo_paragraph(row: Mapping | pd.Series, alpha: float = 0.05) -> str:
    """The robustness chapter's leave-one-out result: range of r, largest shift, samples significant.

    "Without any single participant, r stays between −.612 and −.383; the most influential
    participant moves it by .104. 17 of the 19 leave-one-out samples remain significant with the
    chosen test." With fewer than :data:`MIN_PARTICIPANTS` participants, :func:`_too_few_sentence`.

    Parameters
    ----------
    row : mapping or Series
        One :func:`influence_summary` row.
    alpha : float, default 0.05
        The level ``n_significant`` was counted at (:func:`loo_significance`).

    Returns
    -------
    str
    """
    if int(row["n"]) < MIN_PARTICIPANTS:
        return _too_few_sentence(int(row["n"]))
    return (
        f"Without any single participant, r stays between {format_r(row['r_min'])} and "
        f"{format_r(row['r_max'])}; the most influential participant moves it by "
        f"{format_r(row['max_abs_delta'])}. {loo_significance(row, alpha)} with the chosen test."
    )
