"""How much one participant moves a correlation: leave-one-out (jackknife) r and its summary."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ..stats import DEFAULT_MEASURE, correlate_values, paired_values, resolve_alternative, resolve_scale


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
        ``participant_id, x, y, r_without, p_without, delta_r`` (r_without − r_all);
        ``.attrs`` holds ``r_all``, ``p_all`` and the resolved ``alternative``.
    """
    data = paired_values(scores, connectivity, scale, contrast, pair, measure=measure)
    alt = resolve_alternative(
        alternative, resolve_scale(scale, [c for c in scores.columns if c != "participant_id"])
    )
    full = correlate_values(data["x"], data["y"], alt)
    rows = []
    for i in range(len(data)):
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
    out = pd.DataFrame(rows)
    out.attrs.update(r_all=full["r"], p_all=full["p"], alternative=alt)
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
        samples with p < ``alpha``, out of n).
    """
    rows = []
    for key, loo in loos.items():
        top = loo.loc[loo["delta_r"].abs().idxmax()]
        rows.append(
            {
                "key": key,
                "n": len(loo),
                "r_all": loo.attrs["r_all"],
                "p_all": loo.attrs["p_all"],
                "r_min": loo["r_without"].min(),
                "r_max": loo["r_without"].max(),
                "most_influential": top["participant_id"],
                "max_abs_delta": abs(top["delta_r"]),
                "n_significant": int((loo["p_without"] < alpha).sum()),
            }
        )
    return pd.DataFrame(rows)
