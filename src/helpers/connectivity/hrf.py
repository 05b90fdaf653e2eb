"""SPM's canonical haemodynamic response, as CONN samples it (book/spec_conn.md §1).

Follows ``spm_hrf.m`` (SPM8/SPM12, Friston) and ``spm_Gpdf.m`` (Holmes).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammaln

#: SPM8 default HRF parameters p = [6 16 1 1 6 0 32] and microtime resolution T = 16.
SPM_HRF_PARAMS = (6.0, 16.0, 1.0, 1.0, 6.0, 0.0, 32.0)
SPM_MICROTIME_T = 16


def _spm_gpdf(x: np.ndarray, h: float, l: float) -> np.ndarray:
    """Gamma density as SPM's ``spm_Gpdf(x, h, l)``: l^h x^(h−1) e^(−l x) / Γ(h).

    ``l`` is a rate (SPM calls it "scale").  Evaluated in logs as SPM does; at
    x = 0 the density is 0 for h > 1 and ``l`` for h = 1 (SPM's degenerate cases).
    """
    f = np.zeros_like(x, dtype=float)
    if h == 1:
        f[x == 0] = l
    pos = x > 0
    f[pos] = np.exp((h - 1) * np.log(x[pos]) + h * math.log(l) - l * x[pos] - gammaln(h))
    return f


def spm_hrf(dt: float) -> np.ndarray:
    """SPM8's canonical HRF ``spm_hrf(dt)`` sampled every ``dt`` seconds, summing to 1.

    Formula (SPM8 ``spm_hrf.m``; identical samples in SPM12): with
    p = [6 16 1 1 6 0 32], T = 16 and δ = dt/T,
    u = (0 : floor(p7/δ)) − p6/δ,
    h(u) = G(u; p1/p3, δ/p3) − G(u; p2/p4, δ/p4)/p5   (G = ``spm_Gpdf``),
    keep u = (0 : floor(p7/dt))·T, normalise to sum 1.  CONN calls it with the
    microtime step dt = TR/10 (book/spec_conn.md §1), so at TR = 3 s it has 107 samples
    at 0, 0.3, …, 31.8 s; its peak is near 5 s.

    Parameters
    ----------
    dt : float
        Sampling step in seconds (0 < dt ≤ 32).

    Returns
    -------
    numpy.ndarray
        1-D array of length ``floor(32/dt) + 1``.
    """
    if not np.isscalar(dt) or not np.isfinite(dt) or not 0 < dt <= SPM_HRF_PARAMS[6]:
        raise ValueError(f"spm_hrf: dt must be a finite number in (0, 32] seconds, got {dt!r}")
    p1, p2, p3, p4, p5, p6, p7 = SPM_HRF_PARAMS
    fine_dt = dt / SPM_MICROTIME_T
    u = np.arange(0, math.floor(p7 / fine_dt) + 1, dtype=float) - p6 / fine_dt
    hrf = _spm_gpdf(u, p1 / p3, fine_dt / p3) - _spm_gpdf(u, p2 / p4, fine_dt / p4) / p5
    hrf = hrf[np.arange(0, math.floor(p7 / dt) + 1) * SPM_MICROTIME_T]
    return hrf / hrf.sum()
