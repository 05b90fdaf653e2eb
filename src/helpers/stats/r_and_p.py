"""r ↔ p of a Pearson correlation (t distribution, df = n − 2) and its Fisher-z confidence interval."""

from __future__ import annotations

import numpy as np
from scipy import stats as sps


def p_from_r(r, n, alternative: str = "two-sided"):
    """p value of a Pearson r from the t distribution with df = n − 2.

    t = r √(df / (1 − r²));  ``"less"``: P(T ≤ t), ``"greater"``: P(T ≥ t),
    ``"two-sided"``: min(1, 2 P(T ≥ |t|))  (e.g. Cohen et al. 2003, §2.8).
    Works element-wise on arrays.

    Parameters
    ----------
    r : float or array_like
        Correlation coefficient(s).
    n : int or array_like
        Sample size(s), at least 3.
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        Tail of the test.

    Returns
    -------
    float or numpy.ndarray
        The p value(s); a float for scalar input.

    Raises
    ------
    ValueError
        ``n`` < 3, or an unknown ``alternative``.

    Examples
    --------
    >>> round(float(p_from_r(-0.402, 19, "less")), 3)
    0.044
    """
    r = np.asarray(r, dtype=float)
    df = np.asarray(n, dtype=float) - 2
    if np.any(df < 1):
        raise ValueError(f"p_from_r needs n ≥ 3, got n = {n}")
    with np.errstate(divide="ignore", invalid="ignore"):
        t = r * np.sqrt(df / (1 - r**2))
    if alternative == "less":
        p = sps.t.cdf(t, df)
    elif alternative == "greater":
        p = sps.t.sf(t, df)
    elif alternative == "two-sided":
        p = np.minimum(2 * sps.t.sf(np.abs(t), df), 1.0)
    else:
        raise ValueError(f"alternative must be 'less', 'greater' or 'two-sided', got {alternative!r}")
    return p if p.ndim else float(p)


def r_from_p(p, n, alternative: str = "two-sided"):
    """The |r| whose p value (df = n − 2) equals ``p``: inverse of :func:`p_from_r`.

    t = t_{df}⁻¹(1 − p) one-tailed or t_{df}⁻¹(1 − p/2) two-tailed; |r| = t / √(df + t²).
    For one-tailed tests this is the r in the tested direction.

    Parameters
    ----------
    p : float or array_like
        p value(s).
    n : int or array_like
        Sample size(s).
    alternative : {"two-sided", "one-sided", "less", "greater"}, default "two-sided"
        ``"less"``, ``"greater"`` and ``"one-sided"`` all mean one tail.

    Returns
    -------
    float or numpy.ndarray
        The magnitude of r; a float for scalar input.

    Raises
    ------
    ValueError
        Unknown ``alternative``.
    """
    p = np.asarray(p, dtype=float)
    df = np.asarray(n, dtype=float) - 2
    if alternative == "two-sided":
        t = sps.t.isf(p / 2, df)
    elif alternative in ("less", "greater", "one-sided"):
        t = sps.t.isf(p, df)
    else:
        raise ValueError(f"alternative must be 'one-sided' or 'two-sided', got {alternative!r}")
    r = t / np.sqrt(df + t**2)
    return r if r.ndim else float(r)


def fisher_ci(r, n, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided confidence interval of a Pearson r via Fisher's z.

    z = atanh(r), SE = 1/√(n − 3), CI = tanh(z ± z_{(1+c)/2} · SE)  (Fisher 1921);
    r is clipped to ±(1 − 1e-15) first, so r = ±1 gives a finite z.

    Parameters
    ----------
    r : float
        Correlation coefficient.
    n : int
        Sample size; below 4 the interval is ``(nan, nan)``.
    confidence : float, default 0.95
        Coverage c of the interval.

    Returns
    -------
    tuple of float
        ``(low, high)``.
    """
    if n < 4:
        return float("nan"), float("nan")
    z = np.arctanh(np.clip(r, -1 + 1e-15, 1 - 1e-15))
    half = sps.norm.ppf((1 + confidence) / 2) / np.sqrt(n - 3)
    return float(np.tanh(z - half)), float(np.tanh(z + half))
