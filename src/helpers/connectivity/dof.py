"""Effective residual degrees of freedom of each condition, and the check that uses them."""

from __future__ import annotations

import pandas as pd

#: Default minimum of a condition's effective residual degrees of freedom (:func:`check_dof`).
#: On pure noise a correlation with ν degrees of freedom exceeds |r| = 0.58 one time in twenty at
#: ν = 10 and |r| = 0.95 at ν = 2; below ~10 the Fisher-z approximation (variance 1/(ν − 1)) that the
#: second level relies on no longer holds.  The tiny test twin (60 scans, 30 regressors) gives 13–16
#: per condition, so 10 stops only designs with fewer scans than that (or more confounds).
MIN_DOF = 10


def condition_dof(weights, residual_dof) -> pd.Series:
    """Effective residual degrees of freedom of each condition over one or several runs.

    Formula: dof_c = Σ_r (n_{c,r} / N_r) · d_r, where N_r is run r's number of scans,
    n_{c,r} the number of its scans where condition c has weight > 0, and
    d_r = N_r − rank(X_r) the residual degrees of freedom of its denoising regression
    (:func:`helpers.denoise.residual_dof`; X_r = constant, confounds, linear trend).  Each run's
    residual dof are shared among its scans, and a condition keeps the share of the scans it
    weights.  A single run with every scan weighted gives N − rank(X); a condition absent from a
    run gets nothing from it.  The filter's loss is not subtracted (its low bins overlap the
    constant and trend already counted), so the count is an upper bound.

    CONN's own first-level DOF (``conn_process.m``: N_t·(kept fraction of the band) − 1, N_t every
    stacked scan) counts neither the denoising regressors nor the weights: for a 32-scan run with
    30 regressors it reports ~30 where 2 remain.  We use it nowhere; this count only decides whether
    a correlation is computed at all (:func:`check_dof`).

    Parameters
    ----------
    weights : DataFrame or list of DataFrame
        Condition weights (scans × conditions), one table per run, same columns.
    residual_dof : float or list of float
        d_r of each run, in the same order.

    Returns
    -------
    Series
        dof_c indexed by condition.
    """
    if isinstance(weights, pd.DataFrame):
        weights, residual_dof = [weights], [residual_dof]
    if len(weights) != len(residual_dof):
        raise ValueError(
            f"condition_dof: {len(weights)} weight tables but {len(residual_dof)} residual dof values"
        )
    total = None
    for w, d in zip(weights, residual_dof):
        share = (w > 0).sum(axis=0).astype(float) * (float(d) / len(w))
        total = share if total is None else total + share
    return total


def check_dof(dof: pd.Series, min_dof: float = MIN_DOF, where: str = "") -> None:
    """Raise ValueError naming ``where`` (participant), the condition and its dof if dof < ``min_dof``.

    A condition with too few residual degrees of freedom gives a large correlation on pure noise
    (|r| ≈ .9 at 2 dof); it is never turned into a number silently.

    Parameters
    ----------
    dof : pandas.Series
        Effective residual degrees of freedom, indexed by condition.
    min_dof : float, default :data:`MIN_DOF`
        Fewest degrees of freedom accepted (10).
    where : str, default ""
        Start of the error message (the participant).

    Raises
    ------
    ValueError
        A condition has fewer than ``min_dof`` degrees of freedom.
    """
    low = dof[dof < min_dof]
    if not low.empty:
        condition, value = str(low.index[0]), float(low.iloc[0])
        raise ValueError(
            f"{where + ': ' if where else ''}condition {condition!r} has {value:.1f} effective residual "
            f"degrees of freedom (scans with weight > 0 × residual dof per scan of the denoising, summed "
            f"over runs), fewer than min_dof = {min_dof:g}; its correlation would be noise "
            "(more scans or fewer confounds, or lower min_dof)"
        )
