"""Internal consistency of the SCS: Cronbach's α with its confidence interval, McDonald's ω, and
the comparison with the α values Parrish et al. (2018) report.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..paper import ALPHAS as PAPER_ALPHA  # Cronbach's α reported by Parrish et al. (2018)
from .items import item_matrix
from .key import SCALE_LABELS, SCS_KEY, SUBSCALES
from .scoring import _reverse


def omega_total(items: pd.DataFrame | np.ndarray, seed: int = 0) -> float:
    """McDonald's ω (total) from a one-factor model fitted by maximum likelihood.

    ω = (Σ λ_i)² / ((Σ λ_i)² + Σ ψ_i)   (McDonald 1999, eq. 6.20b), with loadings λ and unique
    variances ψ of a single-factor model of the item covariance (``sklearn.decomposition.FactorAnalysis``
    on complete cases).

    Parameters
    ----------
    items : DataFrame or numpy.ndarray
        Participants × items; rows with a missing value are dropped.
    seed : int, default 0
        ``random_state`` of the factor analysis.

    Returns
    -------
    float
        ω, or NaN when the model is not identified or the data cannot support it: fewer than 3 items,
        no more participants than items, or an item without variance.
    """
    from sklearn.decomposition import FactorAnalysis

    x = np.asarray(items, dtype=float)
    x = x[~np.isnan(x).any(axis=1)]
    n, p = x.shape
    if p < 3 or n <= p or np.any(x.var(axis=0) == 0):
        return float("nan")
    fa = FactorAnalysis(n_components=1, random_state=seed).fit(x)
    lam = fa.components_[0]
    common = lam.sum() ** 2
    return float(common / (common + fa.noise_variance_.sum()))


def reliability(
    responses,
    item_columns=None,
    *,
    pattern: str | None = None,
    ci: float = 0.95,
    source: str | None = None,
    id_column: str = "participant_id",
) -> pd.DataFrame:
    """Internal consistency of the SCS total and of each subscale.

    For each scale (``total`` on all 26 items with the negative items reversed; each subscale on its
    raw items) on complete cases: Cronbach's α = k/(k−1) · (1 − Σ s²_i / s²_sum) with its
    F-distribution confidence interval (Feldt; ``pingouin.cronbach_alpha``), and McDonald's ω total
    (:func:`omega_total`; NaN where not estimable, e.g. 26 items with ≤ 26 participants).

    Parameters
    ----------
    responses : DataFrame or path
        One row per participant, one column per item (other columns are ignored).  A path is read
        with :func:`read_scs`.
    item_columns : list, dict or None, default None
        Item columns (see :func:`resolve_item_columns`); None detects them with ``pattern``.
    pattern : str or None, default None
        Regular expression with one group capturing the item number; None means :data:`DEFAULT_PATTERN`.
    ci : float, default 0.95
        Coverage of the confidence interval of α.
    source : str or None, default None
        A file name for error messages (default: ``responses.attrs["source"]``).
    id_column : str, default "participant_id"
        Column naming the participants in messages (else the index).

    Returns
    -------
    DataFrame
        Columns scale, n_items, n_participants, alpha, alpha_ci_low, alpha_ci_high, omega_total;
        one row per scale, ``total`` first (α NaN with fewer than 2 complete cases).

    Raises
    ------
    ValueError
        Invalid responses or item columns (:func:`item_matrix`).
    """
    import pingouin as pg

    items = item_matrix(responses, 26, item_columns, pattern, source, id_column)
    scales = {"total": _reverse(items, SCS_KEY)} | {s: items[list(SCS_KEY[s])] for s in SUBSCALES}
    rows = []
    for name, block in scales.items():
        block = block.dropna(axis=0, how="any")
        row = {
            "scale": name,
            "n_items": block.shape[1],
            "n_participants": len(block),
            "alpha": np.nan,
            "alpha_ci_low": np.nan,
            "alpha_ci_high": np.nan,
            "omega_total": omega_total(block),
        }
        if len(block) >= 2 and (block.var(axis=0) > 0).any():
            a, (lo, hi) = pg.cronbach_alpha(block, ci=ci)
            row.update(alpha=float(a), alpha_ci_low=float(lo), alpha_ci_high=float(hi))
        rows.append(row)
    return pd.DataFrame(rows)


def alpha_comparison(rel: pd.DataFrame, paper: Mapping[str, float] = PAPER_ALPHA) -> pd.DataFrame:
    """Our α next to the paper's.

    Parameters
    ----------
    rel : DataFrame
        The result of :func:`reliability`.
    paper : mapping of str to float, default :data:`PAPER_ALPHA`
        The paper's α per scale (scales without a value get NaN).

    Returns
    -------
    DataFrame
        Columns scale, alpha, alpha_ci_low, alpha_ci_high, paper_alpha, difference (ours − paper) and
        paper_in_ci (whether the paper's value lies in our CI).
    """
    out = rel[["scale", "alpha", "alpha_ci_low", "alpha_ci_high"]].copy()
    out["paper_alpha"] = out["scale"].map(paper)
    out["difference"] = out["alpha"] - out["paper_alpha"]
    out["paper_in_ci"] = (out["paper_alpha"] >= out["alpha_ci_low"]) & (
        out["paper_alpha"] <= out["alpha_ci_high"]
    )
    return out


def reliability_table(rel: pd.DataFrame, paper: Mapping[str, float] = PAPER_ALPHA) -> pd.DataFrame:
    """Display version of :func:`reliability` next to the paper's α (one row per scale, readable labels).

    Parameters
    ----------
    rel : DataFrame
        The result of :func:`reliability`.
    paper : mapping of str to float, default :data:`PAPER_ALPHA`
        The paper's α per scale.

    Returns
    -------
    DataFrame
        Indexed by the scale's label; columns: items, participants, Cronbach's α, 95 % CI of α (text,
        ``"n/a"`` when not estimable), McDonald's ω, α in the paper, difference (ours − paper).
    """
    cmp = alpha_comparison(rel, paper)
    ci = [
        f"[{lo:.2f}, {hi:.2f}]" if np.isfinite(lo) else "n/a"
        for lo, hi in zip(cmp["alpha_ci_low"], cmp["alpha_ci_high"])
    ]
    out = pd.DataFrame(
        {
            "items": rel["n_items"].to_numpy(),
            "participants": rel["n_participants"].to_numpy(),
            "Cronbach's α": cmp["alpha"].to_numpy(),
            "95 % CI of α": ci,
            "McDonald's ω": rel["omega_total"].to_numpy(),
            "α in the paper": cmp["paper_alpha"].to_numpy(),
            "difference": cmp["difference"].to_numpy(),
        },
        index=pd.Index([SCALE_LABELS.get(s, s) for s in rel["scale"]], name="scale"),
    )
    return out
