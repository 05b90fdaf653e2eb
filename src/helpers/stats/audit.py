"""Are reported (r, p, n) triples consistent with a one- or a two-tailed test?  (A statcheck-style audit.)"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .inputs import _require
from .r_and_p import p_from_r, r_from_p


def _p_interval(r_abs, n, half_r, alternative):
    """Range of p over |r| ∈ [r_abs − half_r, r_abs + half_r] (p falls as |r| rises)."""
    lo = np.clip(r_abs - half_r, 0, 1)
    hi = np.clip(r_abs + half_r, 0, 1 - 1e-12)
    tail = "greater" if alternative == "one-sided" else "two-sided"
    return p_from_r(hi, n, tail), p_from_r(lo, n, tail)


def audit_reported_correlations(
    table: pd.DataFrame, r_decimals: int = 3, p_decimals: int = 3
) -> pd.DataFrame:
    """Check reported (r, p, n) triples for consistency with one- or two-tailed tests.

    For each row, the one-tailed (in the direction of r) and two-tailed p of the
    reported r are computed with df = n − 2 (:func:`p_from_r`).  A row is
    consistent with a test if some r' within rounding of the printed r
    (|r'| ∈ [|r| − ½·10^−r_decimals, |r| + ½·10^−r_decimals]) has a p that
    rounds to the printed p (p' ∈ [p − ½·10^−p_decimals, p + ½·10^−p_decimals]):
    an interval-overlap check, since p is monotone in |r|.  This is the logic of
    the GRIM/statcheck family of consistency checks (Nuijten et al. 2016).

    Parameters
    ----------
    table : DataFrame
        Columns ``label, r, p, n`` (extra columns are kept).
    r_decimals, p_decimals : int, default 3
        Printed decimals of r and p (the paper's: 3 and 3).

    Returns
    -------
    DataFrame
        ``table`` plus ``p_one_tailed``, ``p_two_tailed``, ``matches_one_tailed``,
        ``matches_two_tailed``, ``consistent`` (``"one-tailed"``, ``"two-tailed"``,
        ``"neither"``; ``"both"`` only when p is so small that the two round alike),
        and for ``"neither"`` rows ``r_for_p_one_tailed`` / ``r_for_p_two_tailed``:
        the |r| that would give the printed p (NaN elsewhere).

    Raises
    ------
    ValueError
        A column of ``label, r, p, n`` is missing, or a row lacks r or an exact p, or has n < 3.
    TypeError
        ``table`` is not a DataFrame.
    """
    _require(table, ["label", "r", "p", "n"], "reported correlations table")
    bad = table[table["p"].isna() | table["r"].isna() | (table["n"] < 3)]
    if not bad.empty:
        raise ValueError(
            f"reported correlations table: rows {bad['label'].tolist()} need a numeric r, "
            "an exact p and n ≥ 3"
        )
    out = table.copy()
    r_abs = out["r"].abs().to_numpy(float)
    n = out["n"].to_numpy(float)
    p = out["p"].to_numpy(float)
    half_r, half_p = 0.5 * 10.0**-r_decimals, 0.5 * 10.0**-p_decimals
    out["p_one_tailed"] = p_from_r(r_abs, n, "greater")
    out["p_two_tailed"] = p_from_r(r_abs, n, "two-sided")
    for tail, col in (("one-sided", "matches_one_tailed"), ("two-sided", "matches_two_tailed")):
        p_lo, p_hi = _p_interval(r_abs, n, half_r, tail)
        out[col] = (p_lo <= p + half_p) & (p_hi >= p - half_p)
    one, two = out["matches_one_tailed"], out["matches_two_tailed"]
    out["consistent"] = np.select([one & two, one, two], ["both", "one-tailed", "two-tailed"], "neither")
    neither = out["consistent"] == "neither"
    out["r_for_p_one_tailed"] = np.where(neither, r_from_p(p, n, "one-sided"), np.nan)
    out["r_for_p_two_tailed"] = np.where(neither, r_from_p(p, n, "two-sided"), np.nan)
    return out
