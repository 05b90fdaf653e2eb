"""Condition-specific ROI-to-ROI connectivity, numerically equivalent to CONN.

The paper computed its connectivity in the CONN toolbox (release 18.a, SPM8).
This module re-implements the pieces of CONN's first-level analysis that the
paper relies on, following ``book/spec_conn.md`` to the letter and the
MATLAB sources read for this purpose:

* ``spm_hrf.m`` (SPM8/SPM12, Friston) and ``spm_Gpdf.m`` (Holmes) — the
  canonical haemodynamic response;
* ``conn_process.m`` step "COND_Subject" and ``conn_convertcondition2covariate.m``
  (Nieto-Castanon) — the "Effect of <condition>" regressors and the
  condition weights (``hrf``/``hanning``);
* ``conn_hanning.m`` and ``conn_wdemean.m`` — Hanning windows and weighted
  demeaning used by the weighted-GLM correlation.

MATLAB semantics are matched where they change numbers: ``round`` rounds halves
away from zero, the colon operator ``0:a`` with a non-integer ``a`` stops at
``floor(a)``, and all arithmetic is done in the same order (so that onsets such
as 16.8 s, which are not exact in binary, land in the same microtime bin).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import gammaln

__all__ = [
    "spm_hrf",
    "condition_effects",
    "condition_weights",
    "weighted_correlation",
    "fisher_z",
    "roi_to_roi",
    "gppi",
    "gppi_vif",
    "gppi_symmetric",
    "check_gppi_estimable",
    "condition_dof",
    "check_dof",
    "matlab_round",
    "WEIGHTINGS",
    "MIN_DOF",
    "MAX_VIF",
]

#: Number of microtime bins per scan in CONN (dt = TR / 10).
MICROTIME_BINS = 10
#: Seconds of zero padding CONN puts before scan 1 (``offs = ceil(100/rt)``).
PADDING_SECONDS = 100
#: SPM8 default HRF parameters p = [6 16 1 1 6 0 32] and microtime resolution T = 16.
SPM_HRF_PARAMS = (6.0, 16.0, 1.0, 1.0, 6.0, 0.0, 32.0)
SPM_MICROTIME_T = 16
#: Supported condition weightings (book/spec_conn.md §2).
WEIGHTINGS = ("hrf", "hanning", "none")
#: Default minimum of a condition's effective residual degrees of freedom (:func:`check_dof`).
#: On pure noise a correlation with ν degrees of freedom exceeds |r| = 0.58 one time in twenty at
#: ν = 10 and |r| = 0.95 at ν = 2; below ~10 the Fisher-z approximation (variance 1/(ν − 1)) that the
#: second level relies on no longer holds.  The tiny test twin (60 scans, 30 regressors) gives 13–16
#: per condition, so 10 stops only designs with fewer scans than that (or more confounds).
MIN_DOF = 10
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
_EPS = np.finfo(float).eps


# --------------------------------------------------------------------------- helpers
def matlab_round(x):
    """Round halves away from zero, as MATLAB's ``round`` (numpy rounds halves to even).

    Computed as ``trunc(x) + sign(x)·[|x − trunc(x)| ≥ 0.5]``, which is exact in
    floating point (``floor(|x| + 0.5)`` is not: it maps 0.49999999999999994 to 1).

    Parameters
    ----------
    x : array-like of float
        Values to round.

    Returns
    -------
    numpy.ndarray
        The rounded values, as floats.
    """
    x = np.asarray(x, dtype=float)
    t = np.trunc(x)
    return t + np.sign(x) * (np.abs(x - t) >= 0.5)


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


# --------------------------------------------------------------------------- validation
def _validate_scans(n_scans, tr) -> tuple[int, float]:
    if isinstance(n_scans, bool) or not float(n_scans).is_integer() or n_scans < 2:
        raise ValueError(f"n_scans must be an integer ≥ 2, got {n_scans!r}")
    if not np.isfinite(tr) or tr <= 0:
        raise ValueError(f"tr must be a positive number of seconds, got {tr!r}")
    return int(n_scans), float(tr)


def _validate_events(events: pd.DataFrame, n_scans: int, tr: float) -> pd.DataFrame:
    """Check a BIDS events table: columns, numbers, no NaN, onsets inside the run.

    Messages start with ``events.attrs["source"]`` (the file, set by the readers) or "events".
    """
    if not isinstance(events, pd.DataFrame):
        raise TypeError(f"events must be a pandas DataFrame, got {type(events).__name__}")
    name = _source(events)
    missing = [c for c in ("onset", "duration", "trial_type") if c not in events.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; BIDS events need onset, duration, trial_type")
    if events.empty:
        raise ValueError("events: the table has no rows")
    out = events[["onset", "duration", "trial_type"]].copy()
    for col in ("onset", "duration"):
        values = pd.to_numeric(out[col], errors="coerce")
        bad = values.isna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"{name}: column {col}, row {row}: value {events[col].iloc[row]!r} is not a number "
                "(NaN/n/a not allowed)"
            )
        out[col] = values.astype(float)
    if out["trial_type"].isna().any():
        row = int(np.flatnonzero(out["trial_type"].isna().to_numpy())[0])
        raise ValueError(f"{name}: column trial_type, row {row}: missing condition label")
    if (out["duration"] < 0).any():
        row = int(np.flatnonzero((out["duration"] < 0).to_numpy())[0])
        raise ValueError(f"{name}: column duration, row {row}: value {out['duration'].iloc[row]} is negative")
    run_end = n_scans * tr
    beyond = out["onset"] >= run_end
    if beyond.any():
        row = int(np.flatnonzero(beyond.to_numpy())[0])
        raise ValueError(
            f"{name}: column onset, row {row}: onset {out['onset'].iloc[row]} s is beyond the scan "
            f"({n_scans} scans × TR {tr} s = {run_end} s)"
        )
    too_early = out["onset"] < -PADDING_SECONDS
    if too_early.any():
        row = int(np.flatnonzero(too_early.to_numpy())[0])
        raise ValueError(
            f"{name}: column onset, row {row}: onset {out['onset'].iloc[row]} s is more "
            f"than {PADDING_SECONDS} s before scan 1"
        )
    out["trial_type"] = out["trial_type"].astype(str)
    return out


def _source(events: pd.DataFrame) -> str:
    """Name of the events' file for messages (``attrs["source"]``), else "events"."""
    return str(events.attrs.get("source") or "events")


def _conditions(events: pd.DataFrame, conditions, name: str = "events") -> list[str]:
    present = sorted(events["trial_type"].unique())
    if conditions is None:
        return present
    conditions = [str(c) for c in conditions]
    absent = [c for c in conditions if c not in present]
    if absent:
        raise ValueError(
            f"{name}: condition(s) {absent} have no events (trial_type values present: {present})"
        )
    return conditions


# --------------------------------------------------------------------------- regressors
def _boxcar(onsets: np.ndarray, durations: np.ndarray, n_scans: int, tr: float) -> np.ndarray:
    """Microtime boxcar of one condition, exactly as CONN builds it (book/spec_conn.md §1).

    Mirrors ``conn_process.m``: ``rt = RT/10; offs = ceil(100/rt)``;
    ``tdurat = max(rt, min(offs·rt + RT·nscans − onset, durat))``;
    ``in = offs + round(1 + onset/rt + (0 : tdurat/rt − 1)); x(in(in>0)) = 1``.
    (The extra ``offs·rt`` in CONN's clipping only affects bins after the run,
    which never reach the output, so this equals book/spec_conn.md's "remaining session
    time" rule.)  Overlapping events of a condition do not add up: bins are *set*
    to 1.  Returned 0-based, length ``offs + 10·n_scans`` at least.
    """
    rt = tr / MICROTIME_BINS
    offs = math.ceil(PADDING_SECONDS / rt)
    length = max(offs + math.ceil(n_scans * tr / rt), offs + MICROTIME_BINS * n_scans)
    x = np.zeros(length)
    for onset, durat in zip(onsets, durations):
        tdurat = max(rt, min(offs * rt + tr * n_scans - onset, durat))
        k = np.arange(0, math.floor(tdurat / rt - 1) + 1, dtype=float)
        idx = offs + matlab_round((1 + onset / rt) + k).astype(np.int64)  # MATLAB 1-based
        idx = idx[(idx > 0) & (idx <= length)]
        x[idx - 1] = 1.0
    return x


def condition_effects(events: pd.DataFrame, n_scans: int, tr: float, conditions=None) -> pd.DataFrame:
    """CONN's "Effect of <condition>" regressors, one column per ``trial_type``.

    Formula (book/spec_conn.md §1): boxcar on a microtime grid dt = TR/10 padded with
    ceil(100/dt) bins (see :func:`_boxcar`), full convolution with
    :func:`spm_hrf` (dt), then for scan n the **mean** of the 10 microtime bins
    covering [(n−1)·TR, n·TR).

    Parameters
    ----------
    events : DataFrame
        BIDS events with ``onset``, ``duration`` (s) and ``trial_type``.
    n_scans : int
        Number of volumes in the run.
    tr : float
        Repetition time in seconds.
    conditions : list of str, default None
        Columns to return, in this order (None: every ``trial_type``, sorted).

    Returns
    -------
    DataFrame
        ``n_scans`` rows, one column per condition.

    Raises
    ------
    ValueError
        Missing columns, NaN/non-numeric onsets or durations, negative durations,
        onsets beyond the end of the scan, or a requested condition without events.
    """
    n_scans, tr = _validate_scans(n_scans, tr)
    ev = _validate_events(events, n_scans, tr)
    names = _conditions(ev, conditions, _source(events))
    rt = tr / MICROTIME_BINS
    offs = math.ceil(PADDING_SECONDS / rt)
    hrf = spm_hrf(rt)
    columns = {}
    for name in names:
        rows = ev[ev["trial_type"] == name]
        x = _boxcar(rows["onset"].to_numpy(), rows["duration"].to_numpy(), n_scans, tr)
        x = np.convolve(x, hrf)[offs : offs + MICROTIME_BINS * n_scans]
        columns[name] = x.reshape(n_scans, MICROTIME_BINS).mean(axis=1)
    out = pd.DataFrame(columns, index=pd.RangeIndex(n_scans, name="scan"))
    out.columns.name = "condition"
    return out


def _conn_hanning(n: int) -> np.ndarray:
    """CONN's ``conn_hanning(n)``: w_k = 0.5·(1 − cos(2πk/(n+1))), k = 1…n.

    Built like the MATLAB code (first half, then its mirror) so the window is
    exactly symmetric.
    """
    half = np.arange(1, n // 2 + 1) if n % 2 == 0 else np.arange(1, (n + 1) // 2 + 1)
    w = 0.5 * (1 - np.cos(2 * np.pi * half / (n + 1)))
    return np.concatenate([w, w[::-1]]) if n % 2 == 0 else np.concatenate([w, w[:-1][::-1]])


def _segments(support: np.ndarray) -> list[np.ndarray]:
    """Runs of consecutive indices where ``support`` is True."""
    idx = np.flatnonzero(support)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > 1) + 1
    return np.split(idx, breaks)


def condition_weights(
    events: pd.DataFrame, n_scans: int, tr: float, weighting: str = "hrf", conditions=None
) -> pd.DataFrame:
    """Per-scan weights of each condition for CONN's weighted GLM (book/spec_conn.md §2).

    The support of a condition is the set of scans where its Effect regressor
    (:func:`condition_effects`) is > 0; contiguous runs are segments.

    * ``"hrf"`` (default, the paper's): the Effect regressor on its support, 0 elsewhere;
    * ``"hanning"``: on each segment of length L, w_k = 0.5·(1 − cos(2πk/(L+1))), k = 1…L;
    * ``"none"``: 1 on the support, 0 elsewhere.

    Parameters
    ----------
    events : DataFrame
        BIDS events with ``onset``, ``duration`` (s) and ``trial_type``.
    n_scans : int
        Number of volumes in the run.
    tr : float
        Repetition time in seconds.
    weighting : {"hrf", "hanning", "none"}, default "hrf"
        The weighting above (:data:`WEIGHTINGS`).
    conditions : list of str, default None
        Columns to return, in this order (None: every ``trial_type``, sorted).

    Returns
    -------
    DataFrame
        ``n_scans`` rows, one column of weights per condition.

    Raises
    ------
    ValueError
        Unknown weighting, invalid events (see :func:`condition_effects`), or a
        condition whose weights are all zero.
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
    effects = condition_effects(events, n_scans, tr, conditions=conditions)
    out = pd.DataFrame(0.0, index=effects.index, columns=effects.columns)
    for name in effects.columns:
        x = effects[name].to_numpy()
        segments = _segments(x > 0)
        if not segments:
            raise ValueError(
                f"{_source(events)}: condition {name!r} has zero weight in every scan (its events "
                "do not reach the run's scans)"
            )
        w = np.zeros_like(x)
        for seg in segments:
            if weighting == "hrf":
                w[seg] = x[seg]
            elif weighting == "hanning":
                w[seg] = _conn_hanning(seg.size)
            else:
                w[seg] = 1.0
        out[name] = w
    return out


# --------------------------------------------------------------------------- correlation
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
