"""One correlation, estimated differently: a bootstrap interval, robust estimators, and the false
discovery rate over a family of correlations (pingouin underneath)."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pingouin as pg

#: pingouin.corr methods compared in the robustness chapter (Pernet et al. 2013; Wilcox 1994).
ROBUST_METHODS = ("pearson", "spearman", "shepherd", "skipped", "percbend", "bicor")


def bootstrap_ci(
    x, y, *, n_boot: int = 5000, seed: int = 2018, confidence: float = 0.95, method: str = "bca"
) -> tuple[float, float]:
    """Bootstrap CI of Pearson's r, resampling participants (pairs) with replacement.

    Uses :func:`pingouin.compute_bootci` (bias-corrected and accelerated by
    default; Efron & Tibshirani 1993, ch. 14) with ``numpy`` seeding for determinism.

    Parameters
    ----------
    x, y : array-like of float
        Paired values, one per participant.
    n_boot : int, default 5000
        Bootstrap resamples.
    seed : int, default 2018
        Random seed.
    confidence : float, default 0.95
        Coverage of the interval.
    method : str, default "bca"
        pingouin's interval method (``"bca"``, ``"per"``, ``"basic"``, ``"norm"``).

    Returns
    -------
    tuple of float
        (low, high).
    """
    low, high = pg.compute_bootci(
        np.asarray(x, float),
        np.asarray(y, float),
        func="pearson",
        method=method,
        paired=True,
        confidence=confidence,
        n_boot=n_boot,
        seed=seed,
        decimals=6,
    )
    return float(low), float(high)


@contextlib.contextmanager
def _global_numpy_seed(seed: int):
    """Seed numpy's legacy global RNG (pingouin's Shepherd bootstrap uses it), then restore it."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def robust_correlations(
    x, y, alternative: str = "two-sided", methods: Sequence[str] = ROBUST_METHODS, *, seed: int = 2018
) -> pd.DataFrame:
    """The same correlation by several estimators (:func:`pingouin.corr` ``method=``).

    Shepherd's pi and the skipped correlation remove bivariate outliers
    (bootstrapped Mahalanobis distance / minimum covariance determinant) before
    Spearman's rho; the percentage-bend and biweight midcorrelations down-weight
    extreme marginals (Pernet, Wilcox & Rousselet 2013).  Shepherd's bootstrap is
    seeded with ``seed``.  pingouin's caveat that its MCD (scikit-learn) differs
    slightly from the Matlab toolbox's (LIBRA) is acknowledged here, not re-warned.

    Parameters
    ----------
    x, y : array-like of float
        Paired values, one per participant.
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        The test.
    methods : sequence of str, default :data:`ROBUST_METHODS`
        pingouin ``method`` names, one row each.
    seed : int, default 2018
        Seed of Shepherd's bootstrap.

    Returns
    -------
    DataFrame
        One row per method: ``method, n, r, p, alternative, outliers, note``.  A method that cannot be
        computed on the sample (a singular covariance on very few participants; Shepherd's pi left
        with too few points) gives r = p = NaN and says so in ``note``, instead of stopping the chapter.
    """
    rows = []
    for method in methods:
        with warnings.catch_warnings(), _global_numpy_seed(seed):
            warnings.filterwarnings(
                "ignore", message="The skipped correlation relies on the Minimum Covariance"
            )
            try:
                res = pg.corr(
                    np.asarray(x, float), np.asarray(y, float), alternative=alternative, method=method
                )
            except np.linalg.LinAlgError as err:  # e.g. the MCD of a skipped correlation on 4 points
                rows.append(
                    {
                        "method": method,
                        "n": int(np.isfinite(np.asarray(x, float)).sum()),
                        "r": np.nan,
                        "p": np.nan,
                        "alternative": alternative,
                        "outliers": 0,
                        "note": f"not computable on this sample ({err})",
                    }
                )
                continue
        p_col = "p_val" if "p_val" in res.columns else "p-val"
        r, p = float(res["r"].iloc[0]), float(res[p_col].iloc[0])
        rows.append(
            {
                "method": method,
                "n": int(res["n"].iloc[0]),
                "r": r,
                "p": p,
                "alternative": alternative,
                "outliers": int(res["outliers"].iloc[0]) if "outliers" in res.columns else 0,
                "note": "" if np.isfinite(r) and np.isfinite(p) else "not computable on this sample",
            }
        )
    return pd.DataFrame(rows)


def benjamini_hochberg(pvals, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Benjamini–Hochberg (1995) FDR: (reject, adjusted p) via :func:`pingouin.multicomp`.

    Adjusted p_(i) = min_{j ≥ i} (m / j) p_(j) over the sorted p values.

    Parameters
    ----------
    pvals : array-like of float
        The p values of the family.
    alpha : float, default 0.05
        False discovery rate.

    Returns
    -------
    tuple of numpy.ndarray
        (reject: bool per p, adjusted p).
    """
    reject, adjusted = pg.multicomp(np.asarray(pvals, float), alpha=alpha, method="fdr_bh")
    return np.asarray(reject, bool), np.asarray(adjusted, float)
