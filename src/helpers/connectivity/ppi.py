"""Generalised psychophysiological interactions (gPPI) between ROIs (book/spec_conn.md §6).

The gPPI betas (or their correlation form), the variance inflation factor of each
interaction term with the check that refuses non-estimable ones, and the
undirected (symmetric) mean of both directions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .correlation import _check_pair, fisher_z

#: Default largest variance inflation factor (VIF) of a gPPI interaction term (:func:`gppi_vif`).  A term
#: with VIF = v has its sampling variance multiplied by v by the other columns of the design; a term
#: that is a linear combination of them (VIF = ∞) has no estimate at all, only its differences with the
#: other conditions' terms have.  1000 (a standard error inflated ~32-fold) stops exact and near-exact
#: collinearity; the conditions of the paper's design, which fill the run, give VIFs of 20–155 (median
#: 80; the 19-participant twin) for their interaction terms (book/spec_conn.md §6).
MAX_VIF = 1000.0
#: Residual sum of squares, relative to the total, below which a column counts as an exact linear
#: combination of the others (VIF = ∞).
_COLLINEAR = 1e-10


def _gppi_design(s: np.ndarray, psych: np.ndarray) -> np.ndarray:
    """gPPI design of one source (book/spec_conn.md §6): [s, P_1…P_K, s·P_1…s·P_K], every column demeaned."""
    design = np.hstack([s, psych, s * psych])
    return design - design.mean(axis=0)


def _column_vif(design: np.ndarray, col: int) -> float:
    """VIF of one column of a centred design: 1/(1 − R²), R² of its regression on the other columns.

    Computed as TSS/RSS of that regression (no intercept: the columns are centred); ∞ when the
    column is a linear combination of the others (RSS < 10⁻¹⁰·TSS) or constant.
    """
    x = design[:, col]
    others = np.delete(design, col, axis=1)
    tss = float(x @ x)
    resid = x - others @ np.linalg.lstsq(others, x, rcond=None)[0]
    rss = float(resid @ resid)
    return np.inf if tss == 0 or rss <= _COLLINEAR * tss else tss / rss


def gppi_vif(timeseries: pd.DataFrame, weights: pd.DataFrame) -> pd.DataFrame:
    """Variance inflation factor of every condition's gPPI interaction term, per source ROI.

    For source s the design is X = [s, P_1…P_K, s·P_1…s·P_K], demeaned (:func:`gppi`); the VIF of
    the term s·P_k is 1/(1 − R²_k), with R²_k from the least-squares regression of that column on
    the other columns of X (equivalently [(XᵀX)⁻¹]_kk · ‖x_k‖²).  It is ∞ when s·P_k is a linear
    combination of s, the P's and the other interactions: when the conditions' weights sum to a
    constant in every scan, Σ_k s·P_k = const·s, and no single condition's interaction has an
    estimate — only differences between conditions do.  Conditions that fill the run without
    summing exactly to a constant give large, finite VIFs.

    Parameters
    ----------
    timeseries : DataFrame
        Denoised ROI series, scans × ROIs (at least two ROIs, unique names).
    weights : DataFrame
        Condition weights, scans × conditions (:func:`condition_weights`).

    Returns
    -------
    DataFrame
        ``source, condition, vif``, one row per source ROI and condition.
    """
    _check_pair(timeseries, weights)
    data = timeseries.to_numpy(dtype=float)
    psych = weights.to_numpy(dtype=float)
    k = psych.shape[1]
    rows = []
    for i, source in enumerate(str(c) for c in timeseries.columns):
        design = _gppi_design(data[:, [i]], psych)
        rows += [(source, str(c), _column_vif(design, 1 + k + j)) for j, c in enumerate(weights.columns)]
    return pd.DataFrame(rows, columns=["source", "condition", "vif"])


def check_gppi_estimable(vif: pd.DataFrame, max_vif: float = MAX_VIF, where: str = "") -> None:
    """Raise ValueError naming ``where`` (participant), the condition, the source and the VIF if a
    gPPI interaction term's VIF (:func:`gppi_vif`) exceeds ``max_vif``.

    Such a term's beta is not a number to report (an exact linear combination has none; a near one
    is dominated by the split the least-squares solution happens to choose): the message says so,
    and that differences between conditions remain estimable.

    Parameters
    ----------
    vif : DataFrame
        ``source, condition, vif`` rows (:func:`gppi_vif`).
    max_vif : float, default :data:`MAX_VIF`
        Largest VIF accepted (1000; ∞ accepts every design).
    where : str, default ""
        Start of the error message (the participant).

    Raises
    ------
    ValueError
        ``max_vif`` is not positive, or a term's VIF exceeds it.
    """
    if not max_vif > 0:
        raise ValueError(f"max_vif must be a positive number (∞ to accept any design), got {max_vif!r}")
    bad = vif[vif["vif"] > max_vif]
    if bad.empty:
        return
    row = bad.iloc[0]
    how = (
        "a linear combination of the other columns"
        if np.isinf(row["vif"])
        else f"nearly collinear with the other columns (VIF = {row['vif']:.3g})"
    )
    conditions = sorted(set(bad["condition"]))
    raise ValueError(
        f"{where + ': ' if where else ''}gPPI interaction term of condition {row['condition']!r} "
        f"(source {row['source']!r}) is not estimable: it is {how}, above max_vif = {max_vif:g} "
        f"(conditions affected: {conditions}). Conditions whose weights sum to about the same value in every "
        "scan (they fill the run) make s·ΣP ≈ const·s, and then only differences between conditions are "
        "identified: report contrasts, or set max_vif to ∞ to get the minimum-norm split, meaningful "
        "only as differences"
    )


def gppi(
    timeseries: pd.DataFrame,
    weights: pd.DataFrame,
    measure: str = "regression",
    max_vif: float = MAX_VIF,
    where: str = "",
) -> pd.DataFrame:
    """Generalised psychophysiological interaction (gPPI) between ROIs (book/spec_conn.md §6).

    For source s and target y, with psychological terms P_k = the weights of
    every condition, fit y ~ [s, P_1…P_K, s·P_1…s·P_K] with every column and y
    demeaned and no intercept (ordinary least squares).

    * ``"regression"``: the interaction beta b_k of each condition;
    * ``"correlation"``: atanh(b_k / (sqrt([(XᵀX)⁻¹]_kk) · ‖y‖)).

    Parameters
    ----------
    timeseries : DataFrame
        Denoised ROI series, scans × ROIs (at least two ROIs, unique names).
    weights : DataFrame
        Condition weights, scans × conditions (:func:`condition_weights`).
    measure : {"regression", "correlation"}, default "regression"
        The value returned, as above.
    max_vif : float, default :data:`MAX_VIF` (1000)
        Largest variance inflation factor of an interaction term (:func:`gppi_vif`); above it the
        function raises (:func:`check_gppi_estimable`) instead of returning a number.  ``np.inf``
        accepts every design and returns the pseudo-inverse's minimum-norm solution.
    where : str, default ""
        Start of error messages (the participant).

    Returns
    -------
    DataFrame
        ``condition, source, target, value`` for every condition and ordered pair.

    Raises
    ------
    TypeError
        ``timeseries`` or ``weights`` is not a DataFrame.
    ValueError
        Unknown ``measure``, fewer than two ROIs, mismatched inputs, or a non-estimable
        interaction term (:func:`check_gppi_estimable`).
    """
    if measure not in ("regression", "correlation"):
        raise ValueError(f"measure must be 'regression' or 'correlation', got {measure!r}")
    _check_pair(timeseries, weights)
    data = timeseries.to_numpy(dtype=float)
    psych = weights.to_numpy(dtype=float)
    conditions = [str(c) for c in weights.columns]
    k = psych.shape[1]
    rois = [str(c) for c in timeseries.columns]
    flat = np.ptp(data, axis=0) == 0
    if flat.any():
        raise ValueError(f"ROI {rois[int(np.flatnonzero(flat)[0])]!r} is constant (gPPI undefined)")
    if np.isfinite(max_vif):
        check_gppi_estimable(gppi_vif(timeseries, weights), max_vif, where)
    rows = []
    for i, source in enumerate(rois):
        design = _gppi_design(data[:, [i]], psych)
        xtx_inv = np.linalg.pinv(design.T @ design)
        for j, target in enumerate(rois):
            if i == j:
                continue
            y = data[:, j] - data[:, j].mean()
            beta = xtx_inv @ (design.T @ y)
            for c, condition in enumerate(conditions):
                col = 1 + k + c
                b = beta[col]
                if measure == "correlation":
                    b = float(fisher_z(b / (np.sqrt(xtx_inv[col, col]) * np.linalg.norm(y))))
                rows.append((condition, source, target, float(b)))
    rows.sort(key=lambda t: conditions.index(t[0]))
    return pd.DataFrame(rows, columns=["condition", "source", "target", "value"])


def gppi_symmetric(directed: pd.DataFrame, value: str = "value") -> pd.DataFrame:
    """Undirected gPPI: the mean of the two directions, (b_{A→B} + b_{B→A}) / 2, for every ROI pair.

    gPPI is asymmetric — the term s·P_k of source A predicting target B is not the one of B
    predicting A — and CONN's author advises averaging both directions when the direction is not of
    interest (A. Nieto-Castanon, NITRC CONN forum, 24 Feb 2026,
    https://www.nitrc.org/forum/message.php?msg_id=41059).  Both ordered pairs get the same value,
    like a correlation's, so the table keeps the layout of every other measure.

    Parameters
    ----------
    directed : DataFrame
        :func:`gppi`'s output (``condition, source, target`` and ``value``), or any table with
        both directions of every pair (extra key columns such as ``participant_id`` are kept).
    value : str, default "value"
        Column holding the directed values.

    Returns
    -------
    DataFrame
        Same columns and row order as ``directed``, ``value`` replaced by the mean of the two directions.

    Raises
    ------
    ValueError
        A pair without its reverse direction.
    """
    keys = [c for c in directed.columns if c not in (value, "source", "target", "r", "z")]
    forward = directed.set_index(keys + ["source", "target"])[value]
    reverse = directed.rename(columns={"source": "target", "target": "source"}).set_index(
        keys + ["source", "target"]
    )[value]
    reverse = reverse.reindex(forward.index)
    gap = reverse.isna() & forward.notna()
    if gap.any():
        raise ValueError(
            f"gppi_symmetric: pair {forward.index[gap][0]} has no value in the reverse direction"
        )
    out = directed.copy()
    out[value] = ((forward + reverse) / 2).to_numpy()
    return out
