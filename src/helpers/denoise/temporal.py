"""CONN's temporal operations: the band-pass filter, first-order derivatives, the linear trend.

Follows ``book/spec_conn.md`` §4–§5, ``conn_filter.m`` (mirror-extended brick-wall FFT filter)
and ``conn_designmatrix.m`` (derivatives ``convn([x(1);x;x(end)],[1;0;-1],'valid')``, linear
trend ``linspace(-1,1,N)``).
"""

from __future__ import annotations

import math

import numpy as np

from .arrays import _as_2d, _like

#: The paper's band: high-pass f > 0.008 Hz, no low-pass (book/spec_conn.md §5).
HIGHPASS = (0.008, math.inf)


def _validate_band(band, tr: float) -> tuple[float, float]:
    if not np.isfinite(tr) or tr <= 0:
        raise ValueError(f"tr must be a positive number of seconds, got {tr!r}")
    try:
        f1, f2 = (float(b) for b in band)
    except (TypeError, ValueError):
        raise ValueError(f"band must be a pair (f1, f2) in Hz, got {band!r}") from None
    if not (f1 >= 0 and f2 > f1) or math.isnan(f2):
        raise ValueError(f"band must satisfy 0 ≤ f1 < f2 (f2 may be inf), got {band!r}")
    return f1, f2


def conn_filter(x, tr: float, band=HIGHPASS):
    """CONN's ideal band-pass filter on a mirror-extended series (book/spec_conn.md §5).

    y = [x; reversed x] (length M = 2N); FFT along scans; zero every bin k with
    min(k, M−k) < f1·TR·M or min(k, M−k) ≥ f2·TR·M; real part of the inverse
    FFT; keep the first N samples (``conn_filter.m``, option ``'full'``).

    Parameters
    ----------
    x : array_like, Series or DataFrame
        Scans × columns (or 1-D).
    tr : float
        Repetition time (s).
    band : (float, float), default :data:`HIGHPASS` ``(0.008, inf)``
        Pass band (Hz); ``f2`` may be ``inf`` (high-pass only, the paper's choice).

    Returns
    -------
    array, Series or DataFrame
        Filtered data of the same type and shape as ``x``.

    Raises
    ------
    ValueError
        If ``tr`` is not a positive number, ``band`` is not a pair with 0 ≤ f1 < f2, or ``x`` is not
        1-D/2-D or holds NaN/inf (the message names the scan and column).
    """
    f1, f2 = _validate_band(band, tr)
    a, one_d = _as_2d("x", x)
    n = a.shape[0]
    m = 2 * n
    spectrum = np.fft.fft(np.concatenate([a, a[::-1]], axis=0), axis=0)
    k = np.arange(m)
    k = np.minimum(k, m - k)
    spectrum[(k < f1 * (tr * m)) | (k >= f2 * (tr * m))] = 0
    y = np.real(np.fft.ifft(spectrum, axis=0))[:n]
    return _like(x, y, one_d)


def temporal_derivative(x):
    """CONN's first-order derivative: d(t) = x(t+1) − x(t−1), end samples replicated.

    ``conn_designmatrix.m``: ``convn([x(1,:); x; x(end,:)], [1;0;-1], 'valid')``,
    so d(1) = x(2) − x(1) and d(N) = x(N) − x(N−1) (book/spec_conn.md §4).

    Parameters
    ----------
    x : array_like, Series or DataFrame
        Scans × columns (or 1-D).

    Returns
    -------
    array, Series or DataFrame
        Same type as ``x`` with the same column names.

    Raises
    ------
    ValueError
        If ``x`` has fewer than 2 scans, is not 1-D/2-D, or holds NaN/inf.
    """
    a, one_d = _as_2d("x", x)
    if a.shape[0] < 2:
        raise ValueError(f"temporal_derivative: need at least 2 scans, got {a.shape[0]}")
    padded = np.concatenate([a[:1], a, a[-1:]], axis=0)
    return _like(x, padded[2:] - padded[:-2], one_d)


def linear_trend(n_scans: int) -> np.ndarray:
    """CONN's linear trend regressor ``linspace(-1, 1, N)`` (``conn_designmatrix.m``).

    Parameters
    ----------
    n_scans : int
        Number of scans N.

    Returns
    -------
    ndarray, shape (n_scans,)
    """
    return np.linspace(-1.0, 1.0, n_scans)
