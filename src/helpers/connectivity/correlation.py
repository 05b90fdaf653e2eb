"""CONN's weighted (condition-specific) correlation, Fisher z and the ROI-to-ROI table.

Follows ``book/spec_conn.md`` §3 and ``conn_wdemean.m`` (weighted demeaning used by
the weighted-GLM correlation).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_EPS = np.finfo(float).eps


def _as_matrix(name: str, x, n_rows: int | None = None) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"{name}: expected a 1-D or 2-D array (scans × columns), got shape {a.shape}")
    if n_rows is not None and a.shape[0] != n_rows:
        raise ValueError(f"{name}: has {a.shape[0]} scans but {n_rows} were expected (mismatched lengths)")
    if not np.isfinite(a).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    return a


def _weighted_corr_matrix(data: np.ndarray, w: np.ndarray, labels, condition: str) -> np.ndarray:
    """CONN's weighted correlation between all columns of ``data`` (book/spec_conn.md §3).

    w ← max(0, w); x̃ = x − Σ(w·x)/Σw (``conn_wdemean``);
    r = Σ w²·x̃·ỹ / sqrt(Σ w²·x̃² · Σ w²·ỹ²).
    """
    w = np.maximum(0.0, w)
    total = w.sum()
    if not total > 0:
        raise ValueError(f"weights of condition {condition!r} are zero in every scan")
    w = w / w.max()  # r does not depend on the weights' scale; tiny weights would underflow in w²
    total = w.sum()
    centred = data - (w @ data) / max(_EPS, total)
    a = w[:, None] * centred
    cov = a.T @ a
    var = np.diag(cov).copy()
    scale = (np.abs(data).max(axis=0) + 1.0) * w.max()
    flat = var <= (1e-10 * scale) ** 2 * w.size
    if flat.any():
        name = labels[int(np.flatnonzero(flat)[0])]
        raise ValueError(
            f"ROI {name!r} is constant where condition {condition!r} has weight (correlation undefined)"
        )
    r = cov / np.sqrt(np.outer(var, var))
    return np.clip(r, -1.0, 1.0)


def weighted_correlation(x, y, w) -> float:
    """CONN's weighted (condition-specific) correlation of two series (book/spec_conn.md §3).

    r = Σ w²·x̃·ỹ / sqrt(Σ w²·x̃² · Σ w²·ỹ²) with x̃ = x − Σ(w·x)/Σw and
    w ← max(0, w): the centring uses w, the products use w².  With w ≡ 1 this is
    Pearson's r.

    Parameters
    ----------
    x, y : array-like of float
        The two series, one value per scan.
    w : array-like of float
        Per-scan weights (negative values count as 0).

    Returns
    -------
    float
        The weighted correlation r.

    Raises
    ------
    ValueError
        Mismatched lengths, NaN values, all-zero weights, or a constant series.
    """
    xa = _as_matrix("x", x)
    if xa.shape[1] != 1:
        raise ValueError(f"x: expected one series, got shape {np.shape(x)}")
    n = xa.shape[0]
    ya = _as_matrix("y", y, n)
    wa = _as_matrix("w", w, n)
    if ya.shape[1] != 1 or wa.shape[1] != 1:
        raise ValueError("y and w must be single series like x")
    r = _weighted_corr_matrix(np.hstack([xa, ya]), wa[:, 0], ["x", "y"], "w")
    return float(r[0, 1])


def fisher_z(r):
    """Fisher's z as CONN: atanh(clip(r, −1+eps, 1−eps)), no √(N−3) scaling (book/spec_conn.md §3).

    Parameters
    ----------
    r : array-like of float
        Correlations.

    Returns
    -------
    numpy.ndarray or float
        z = atanh(r), finite at r = ±1.
    """
    return np.arctanh(np.clip(r, -1 + _EPS, 1 - _EPS))


def _check_pair(timeseries: pd.DataFrame, weights: pd.DataFrame) -> None:
    if not isinstance(timeseries, pd.DataFrame) or not isinstance(weights, pd.DataFrame):
        raise TypeError("timeseries and weights must be pandas DataFrames (scans × ROIs, scans × conditions)")
    if timeseries.shape[1] < 2:
        raise ValueError(f"timeseries: need at least 2 ROI columns, got {list(timeseries.columns)}")
    if timeseries.columns.duplicated().any():
        raise ValueError(
            f"timeseries: duplicated ROI names {list(timeseries.columns[timeseries.columns.duplicated()])}"
        )
    _as_matrix("timeseries", timeseries)
    _as_matrix("weights", weights, len(timeseries))


def roi_to_roi(timeseries: pd.DataFrame, weights: pd.DataFrame) -> pd.DataFrame:
    """Weighted ROI-to-ROI correlation for every condition and ordered ROI pair.

    Parameters
    ----------
    timeseries : DataFrame
        Denoised ROI series, scans × ROIs (column names = ROI names).
    weights : DataFrame
        Condition weights, scans × conditions (:func:`condition_weights`).

    Returns
    -------
    DataFrame
        Columns ``condition, source, target, r, z`` — r by
        :func:`weighted_correlation` (book/spec_conn.md §3), z = :func:`fisher_z` (r); one
        row per condition and ordered pair of distinct ROIs.
    """
    _check_pair(timeseries, weights)
    data = timeseries.to_numpy(dtype=float)
    rois = [str(c) for c in timeseries.columns]
    rows = []
    for condition in weights.columns:
        r = _weighted_corr_matrix(data, weights[condition].to_numpy(dtype=float), rois, str(condition))
        for i, source in enumerate(rois):
            for j, target in enumerate(rois):
                if i != j:
                    rows.append((str(condition), source, target, r[i, j]))
    out = pd.DataFrame(rows, columns=["condition", "source", "target", "r"])
    out["z"] = fisher_z(out["r"].to_numpy())
    return out
