"""Correlating an SCS score with a connectivity value across participants (pingouin underneath).

One score × one ROI pair (:func:`correlate`), two plain vectors (:func:`correlate_values`) or every
scale × contrast × pair (:func:`correlation_table`); the default test is the paper's directional one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pingouin as pg

from .. import paper
from .inputs import paired_values
from .names import DEFAULT_MEASURE, resolve_alternative, resolve_pair, resolve_scale
from .r_and_p import fisher_ci, p_from_r


def _pingouin_value(res: pd.DataFrame, *names: str):
    for name in names:
        if name in res.columns:
            return res[name].iloc[0]
    raise KeyError(f"pingouin result lacks {names}; columns {list(res.columns)}")


def correlate(
    scores: pd.DataFrame,
    connectivity: pd.DataFrame,
    scale: str,
    contrast: str,
    pair: str | Sequence[str] = ("vmpfc", "amygdala_r"),
    alternative: str = "directional",
    *,
    measure: str = DEFAULT_MEASURE,
    value: str = "z",
    method: str = "pearson",
) -> dict:
    """Correlate an SCS score with one ROI-pair connectivity value across participants.

    Parameters
    ----------
    scores, connectivity : DataFrame
        ``scores.tsv`` and ``connectivity.tsv`` (formats in ``book/your_data.md``).
    scale : str
        ``"total"`` (the self-compassion mean) or a subscale column, or the paper's label.
    contrast : str
        ``"negative-neutral"``, ``"positive-neutral"`` or a single condition.
    pair : (source, target) or "source-target", default ("vmpfc", "amygdala_r")
        The ROI pair (:func:`resolve_pair`).
    alternative : {"directional", "less", "greater", "two-sided"}, default "directional"
        **"directional": the paper's one-tailed test in its hypothesised
        direction for the scale** (``"less"`` for the mean and positive subscales,
        ``"greater"`` for the negative ones; :data:`helpers.paper.HYPOTHESISED_DIRECTION`).
        ``"two-sided"`` gives the conventional test.  The resolved value is returned.
    measure : str, default "weighted_hrf"
        Connectivity measure (:data:`DEFAULT_MEASURE`, the paper's).
    value : str, default "z"
        ``connectivity.tsv`` column (Fisher z, as the paper).
    method : str, default "pearson"
        Passed to :func:`pingouin.corr` (``"pearson"``, ``"spearman"``, ``"shepherd"``,
        ``"skipped"``, ``"percbend"``, ``"bicor"``).

    Returns
    -------
    dict
        ``scale, contrast, source, target, measure, method, n, r, p, alternative,
        p_two_sided, ci95_low, ci95_high`` (two-sided Fisher-z 95 % CI), ``bf10``
        (Pearson only, matching ``alternative``) and ``excluded`` (participant → reason).

    Raises
    ------
    ValueError
        Unknown scale or ``alternative``, missing columns, duplicated participants, or fewer than 3
        participants with both values (:func:`paired_values`).
    """
    data = paired_values(scores, connectivity, scale, contrast, pair, measure=measure, value=value)
    col = resolve_scale(scale, [c for c in scores.columns if c != "participant_id"])
    source, target = resolve_pair(pair)
    if len(data) < 3:
        raise ValueError(
            f"{col} × {source}→{target} ({measure}, {contrast}): only {len(data)} participant(s) "
            "with both a score and a connectivity value; need at least 3"
        )
    res = correlate_values(data["x"], data["y"], resolve_alternative(alternative, col), method=method)
    return {
        "scale": col,
        "contrast": contrast,
        "source": source,
        "target": target,
        "measure": measure,
        **res,
        "excluded": dict(data.attrs["excluded"]),
    }


def correlate_values(x, y, alternative: str = "two-sided", *, method: str = "pearson") -> dict:
    """Correlation of two equal-length vectors (no name resolution, no matching).

    Parameters
    ----------
    x, y : array_like
        The paired values (as floats; :func:`pingouin.corr` drops pairs with a missing value).
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        Tail of the test (already resolved: not ``"directional"``).
    method : str, default "pearson"
        Passed to :func:`pingouin.corr` (``"pearson"``, ``"spearman"``, ``"shepherd"``,
        ``"skipped"``, ``"percbend"``, ``"bicor"``).

    Returns
    -------
    dict
        ``method, n, r, p`` (for ``alternative``), ``alternative``, ``p_two_sided``,
        ``ci95_low, ci95_high`` (two-sided Fisher-z 95 % CI, :func:`fisher_ci`) and
        ``bf10`` (JZS Bayes factor, :func:`pingouin.bayesfactor_pearson`, Pearson only,
        for the same alternative; Wetzels & Wagenmakers 2012; NaN for other methods).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    res = pg.corr(x, y, alternative=alternative, method=method)
    r, n = float(res["r"].iloc[0]), int(res["n"].iloc[0])
    low, high = fisher_ci(r, n)
    return {
        "method": method,
        "n": n,
        "r": r,
        "p": float(_pingouin_value(res, "p_val", "p-val")),
        "alternative": alternative,
        "p_two_sided": p_from_r(r, n, "two-sided"),
        "ci95_low": low,
        "ci95_high": high,
        "bf10": float(pg.bayesfactor_pearson(r, n, alternative=alternative))
        if method == "pearson"
        else float("nan"),
    }


def correlation_table(
    scores: pd.DataFrame,
    connectivity: pd.DataFrame,
    scales: Sequence[str] | None = None,
    contrasts: Sequence[str] = ("negative-neutral",),
    pairs: Sequence[str | Sequence[str]] = (("vmpfc", "amygdala_r"),),
    alternative: str = "directional",
    *,
    measure: str = DEFAULT_MEASURE,
    value: str = "z",
    method: str = "pearson",
) -> pd.DataFrame:
    """:func:`correlate` for every scale × contrast × pair.

    Parameters
    ----------
    scores, connectivity : DataFrame
        ``scores.tsv`` and ``connectivity.tsv`` (formats in ``book/your_data.md``).
    scales : sequence of str, default None
        Scale columns or the paper's labels; default None: Table 1's seven scales, in order.
    contrasts : sequence of str, default ("negative-neutral",)
        Contrasts or single conditions (:func:`correlate`).
    pairs : sequence of str or (str, str), default (("vmpfc", "amygdala_r"),)
        ROI pairs (:func:`resolve_pair`).
    alternative : {"directional", "less", "greater", "two-sided"}, default "directional"
        As for :func:`correlate` (``"directional"``: the paper's one-tailed test for each scale).
    measure : str, default "weighted_hrf"
        Connectivity measure (:data:`DEFAULT_MEASURE`, the paper's).
    value : str, default "z"
        ``connectivity.tsv`` column (Fisher z, as the paper).
    method : str, default "pearson"
        Passed to :func:`pingouin.corr`.

    Returns
    -------
    DataFrame
        One row per combination (contrast, then pair, then scale) with the columns of
        :func:`correlate`; ``excluded`` is rendered as a ``"; "``-joined list of participant ids.

    Raises
    ------
    ValueError
        As :func:`correlate` (unknown scale, missing columns, fewer than 3 participants).
    """
    scales = [s for s, _ in paper.SCALES] if scales is None else list(scales)
    rows = []
    for contrast in contrasts:
        for pair in pairs:
            for scale in scales:
                row = correlate(
                    scores,
                    connectivity,
                    scale,
                    contrast,
                    pair,
                    alternative,
                    measure=measure,
                    value=value,
                    method=method,
                )
                row["excluded"] = "; ".join(row["excluded"])
                rows.append(row)
    return pd.DataFrame(rows)
