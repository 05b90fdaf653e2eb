"""CONN's denoising regression (constant, confounds, linear trend), then the filter ("RegBP").

Follows ``book/spec_conn.md`` §4–§5 and ``conn_designmatrix.m`` (constant term, linear trend).
"""

from __future__ import annotations

import numpy as np

from .arrays import _EPS, _as_2d, _like
from .temporal import HIGHPASS, _validate_band, conn_filter, linear_trend


def regress_out(y: np.ndarray, design: np.ndarray) -> np.ndarray:
    """Residuals y − X·pinv(X)·y, with MATLAB's pinv tolerance max(size(X))·‖X‖·eps.

    Parameters
    ----------
    y : ndarray, shape (scans, k)
        Data.
    design : ndarray, shape (scans, p)
        Design matrix X (include the constant if wanted).

    Returns
    -------
    ndarray, shape (scans, k)
        Residuals.
    """
    rcond = max(design.shape) * _EPS
    return y - design @ (np.linalg.pinv(design, rcond=rcond) @ y)


def _denoising_matrix(n: int, confounds, detrend: bool) -> np.ndarray:
    """X = [1, confounds, linear trend] of :func:`regress_and_filter` (the trend unless ``detrend=False``)."""
    parts = [np.ones((n, 1))]
    if confounds is not None:
        conf, _ = _as_2d("confounds", confounds)
        if conf.shape[0] != n:
            raise ValueError(f"confounds: {conf.shape[0]} scans but y has {n} (mismatched lengths)")
        parts.append(conf)
    if detrend:
        parts.append(linear_trend(n)[:, None])
    return np.hstack(parts)


def residual_dof(n_scans: int, confounds=None, detrend: bool = True) -> int:
    """Residual degrees of freedom of :func:`regress_and_filter`: N − rank([1, confounds, trend]).

    The rank uses MATLAB's tolerance (as :func:`regress_out`'s ``pinv``), so all-zero columns
    (a condition absent from a run, book/spec_conn.md §7) and collinear columns are not counted.  The
    filter's own loss (the bins below f1) is not subtracted: the count is an upper bound.

    Parameters
    ----------
    n_scans : int
        Number of scans N.
    confounds : array or DataFrame (scans × k) or None, default None
        Nuisance regressors without a constant.
    detrend : bool, default True
        Whether the linear trend is part of the design.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If ``confounds`` has another number of scans or holds NaN/inf.
    """
    design = _denoising_matrix(n_scans, confounds, detrend)
    return int(
        n_scans - np.linalg.matrix_rank(design)
    )  # numpy's default tolerance is MATLAB's: max(size)·‖X‖·eps


def regress_and_filter(y, confounds, tr: float, band=HIGHPASS, detrend: bool = True):
    """CONN's denoising in "RegBP" order: regression, then filter (book/spec_conn.md §4–§5).

    Residuals of y on X = [1, confounds, linear trend] (``y − X·pinv(X)·y``; the
    trend is ``linspace(-1,1,N)`` and is left out when ``detrend=False``), then
    :func:`conn_filter` of the residuals alone.

    Parameters
    ----------
    y : array, Series or DataFrame (scans × ROIs)
        Signals to denoise.
    confounds : array or DataFrame (scans × k) or None
        Nuisance regressors **without** a constant.
    tr : float
        Repetition time (s).
    band : (float, float), default :data:`HIGHPASS` ``(0.008, inf)``
        Pass band (Hz); the default is the paper's high-pass.
    detrend : bool, default True
        Include the linear trend in the regression.

    Returns
    -------
    array, Series or DataFrame
        Denoised data of the same type and shape as ``y``.

    Raises
    ------
    ValueError
        If the band or ``tr`` is invalid, lengths differ, values are not finite, or the design has
        as many regressors as scans (no degrees of freedom left).
    """
    _validate_band(band, tr)
    data, one_d = _as_2d("y", y)
    n = data.shape[0]
    design = _denoising_matrix(n, confounds, detrend)
    if design.shape[1] >= n:
        raise ValueError(
            f"regress_and_filter: {design.shape[1]} regressors for {n} scans leave no degrees of freedom"
        )
    resid = regress_out(data, design)
    return _like(y, np.asarray(conn_filter(resid, tr, band)), one_d)
