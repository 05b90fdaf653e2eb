"""Numbers and evidence in words, APA style: r and p without leading zeros, Bayes factors by their
conventional labels."""

from __future__ import annotations

import numpy as np

from ..style import format_p, format_r

#: Lee & Wagenmakers (2013, Table 7.1, after Jeffreys 1961): lower bounds of BF10 and their label.
_BF_LABELS = (
    (100.0, "extreme"),
    (30.0, "very strong"),
    (10.0, "strong"),
    (3.0, "moderate"),
    (1.0, "anecdotal"),
)


def apa(x: float, digits: int = 2) -> str:
    """APA style for a number bounded by 1 (r, p): no leading zero, a true minus sign: −.19, .05, 1.00.

    Parameters
    ----------
    x : float
        The value (None or non-finite gives ``"—"``).
    digits : int, default 2
        Decimal places (:func:`helpers.style.format_r`).

    Returns
    -------
    str
    """
    return format_r(x, digits)


def apa_p(p: float) -> str:
    """``p = .034``, ``p < .001`` (APA: three decimals, never "p = .000"; :func:`helpers.style.format_p`).

    Parameters
    ----------
    p : float
        The p value.

    Returns
    -------
    str
        ``"p = <value>"``, or ``"p < .001"`` below the printed precision.
    """
    text = format_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def bf_evidence(bf10: float) -> str:
    """Words for a Bayes factor BF10 after Lee & Wagenmakers (2013): which hypothesis and how strongly.

    BF10 > 1 favours a correlation (H1), BF10 < 1 no correlation (H0), symmetrically in 1/BF10:
    1–3 anecdotal, 3–10 moderate, 10–30 strong, 30–100 very strong, > 100 extreme; exactly 1 is no
    evidence either way.  E.g. 0.58 → "anecdotal evidence for no correlation".

    Parameters
    ----------
    bf10 : float
        Bayes factor of H1 (a correlation) over H0.

    Returns
    -------
    str
        E.g. ``"moderate evidence for a correlation"``.

    Raises
    ------
    ValueError
        ``bf10`` is not a finite positive number.
    """
    if not np.isfinite(bf10) or bf10 <= 0:
        raise ValueError(f"a Bayes factor must be a positive number, got {bf10}")
    if bf10 == 1:
        return "no evidence either way"
    strength = max(bf10, 1 / bf10)
    label = next(name for bound, name in _BF_LABELS if strength > bound)
    return f"{label} evidence for {'a correlation' if bf10 > 1 else 'no correlation'}"


def apa_strings(found: dict) -> dict[str, str]:
    """APA-formatted copies (key + ``_apa``) of the correlations and p values in :func:`key_findings`.

    r to two decimals without the leading zero (−.19), p as ``p = .218`` or ``p < .001``.

    Parameters
    ----------
    found : dict
        The result of :func:`key_findings`; only float values whose key names an r (``*_r``, ``*_r_min``,
        ``*_r_max``, ``*_r_two``, the ``rel_*`` correlations) or a p (``*_p``, ``*_p_two``) are copied.

    Returns
    -------
    dict of str to str
    """
    out = {}
    for key, value in found.items():
        if not isinstance(value, float):
            continue
        if key.endswith(("_r", "_r_min", "_r_max", "_r_two")) or key in (
            "rel_planted",
            "rel_expected",
            "rel_q_low",
            "rel_q_high",
            "rel_latent_paper",
        ):
            out[f"{key}_apa"] = apa(value)
        elif key.endswith(("_p", "_p_two")):
            out[f"{key}_apa"] = apa_p(value)
    return out
