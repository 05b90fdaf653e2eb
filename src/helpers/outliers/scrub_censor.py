"""Keeping outlier scans out of the connectivity: scrubbing (CONN's way) or censoring.

**Applying** (``method``):

* ``scrub`` — CONN's way: one regressor per outlier scan (1 at that scan, 0 elsewhere), a
  first-level covariate like the realignment parameters (no derivative), so it enters the CompCor
  confounds and the denoising design.  The fit then reproduces the scan exactly (its residual is 0
  before the filter, whatever its value), the scan keeps its place and its condition weight, and the
  residual degrees of freedom lose one per outlier.
* ``censor`` — nilearn's / XCP-D's way: the scans are dropped.  Order (:func:`censor_denoise`):
  (1) regression on the kept scans only (CONN's design rows of those scans, trend at their true
  times); (2) censored scans between kept ones filled by a cubic spline through the kept residuals
  at their acquisition times, censored scans at either end of the run cut off (nilearn:
  ``CubicSpline(..., extrapolate=False)`` then dropped); (3) CONN's filter on that series; (4) the
  censored scans dropped again: zero weight in the correlation (:func:`censor_weights`).  nilearn's
  ``signal.clean(..., sample_mask=...)`` with its Butterworth filter interpolates the *raw*
  signals and confounds, detrends, filters both, censors, then regresses (Lindquist et al. 2018,
  second recommendation); we keep CONN's order (regression, then filter: "RegBP") so that a run
  without outliers is denoised exactly as by default.  Without a temporal filter the two orders
  coincide, and so do the numbers (tests/test_outliers.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.interpolate import CubicSpline

from ..denoise import HIGHPASS, conn_filter, linear_trend, regress_out


def spike_regressors(outlier, prefix: str = "outlier_scan") -> pd.DataFrame:
    """CONN's scrubbing covariate: one column per outlier scan, 1 there and 0 elsewhere.

    Columns ``<prefix>_<scan>`` (0-based scan index, 4 digits); none when no scan is flagged.

    Parameters
    ----------
    outlier : array-like of bool
        True at each outlier scan.
    prefix : str, default "outlier_scan"
        Start of the column names.

    Returns
    -------
    DataFrame
        Scans × flagged scans.
    """
    flags = np.asarray(outlier, dtype=bool)
    scans = np.flatnonzero(flags)
    spikes = np.zeros((flags.size, scans.size))
    spikes[scans, np.arange(scans.size)] = 1.0
    return pd.DataFrame(spikes, columns=[f"{prefix}_{s:04d}" for s in scans])


def censor_denoise(y, confounds, keep, tr: float, band=HIGHPASS) -> np.ndarray:
    """Denoising with censored scans, in CONN's order (module docstring, "censor").

    1. r = y_K − X_K·pinv(X_K)·y_K on the kept scans K, X = [1, confounds, linspace(−1, 1, N)].
    2. Censored scans between the first and last kept one: cubic spline (not-a-knot) through r at the
       kept scans' times; censored scans before the first or after the last kept one are cut off.
    3. :func:`helpers.denoise.conn_filter` (``band``) of that stretch.
    4. Censored scans set to 0 (they must get zero weight, :func:`censor_weights`).

    Parameters
    ----------
    y : array (scans × ROIs)
    confounds : array (scans × k) or None
        Nuisance regressors without constant or trend.
    keep : bool array (scans)
        False at censored scans.
    tr : float
    band : (f1, f2), default the paper's high-pass (0.008, inf); ``(0, inf)``: no filter.

    Returns
    -------
    array (scans × ROIs)

    Raises
    ------
    ValueError
        The design has as many columns as kept scans (no residual degrees of freedom).
    """
    data = np.asarray(y, dtype=float)
    data = data[:, None] if data.ndim == 1 else data
    keep = np.asarray(keep, dtype=bool)
    n = data.shape[0]
    if keep.size != n:
        raise ValueError(f"censor_denoise: keep has {keep.size} scans but y has {n} (mismatched lengths)")
    parts = [np.ones((n, 1))] + (
        [np.asarray(confounds, dtype=float).reshape(n, -1)] if confounds is not None else []
    )
    design = np.hstack(parts + [linear_trend(n)[:, None]])[keep]
    if design.shape[1] >= keep.sum():
        raise ValueError(
            f"censor_denoise: {design.shape[1]} regressors for {int(keep.sum())} kept scans "
            "leave no degrees of freedom"
        )
    kept = np.flatnonzero(keep)
    resid = regress_out(data[keep], design)
    first, last = kept[0], kept[-1]
    inside = np.arange(first, last + 1)
    filled = (
        CubicSpline(kept * tr, resid, axis=0, extrapolate=False)(inside * tr)
        if kept.size > 1
        else resid.copy()
    )
    filled[keep[inside]] = resid  # the kept scans exactly, not the spline's rounding of them
    out = np.zeros_like(data)
    out[inside] = conn_filter(filled, tr, band)
    out[~keep] = 0.0
    return out


def censor_weights(weights: pd.DataFrame, keep) -> pd.DataFrame:
    """Condition weights with censored scans at 0 (dropped from the weighted correlation).

    Parameters
    ----------
    weights : DataFrame
        Scans × conditions.
    keep : array-like of bool
        True at each kept scan, one per row of ``weights``.

    Returns
    -------
    DataFrame
        ``weights`` multiplied by ``keep``.

    Raises
    ------
    ValueError
        ``keep`` and ``weights`` have different numbers of scans.
    """
    keep = np.asarray(keep, dtype=bool)
    if keep.size != len(weights):
        raise ValueError(f"censor_weights: keep has {keep.size} scans but the weights {len(weights)}")
    return weights.mul(keep.astype(float), axis=0)
