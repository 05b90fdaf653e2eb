"""Condition regressors and weights from a BIDS events table, as CONN builds them.

Follows ``book/spec_conn.md`` §1–§2 and the MATLAB sources read for them:
``conn_process.m`` step "COND_Subject" and ``conn_convertcondition2covariate.m``
(Nieto-Castanon) — the "Effect of <condition>" regressors and the condition
weights (``hrf``/``hanning``); ``conn_hanning.m`` — Hanning windows.

MATLAB semantics are matched where they change numbers: ``round`` rounds halves
away from zero, the colon operator ``0:a`` with a non-integer ``a`` stops at
``floor(a)``, and all arithmetic is done in the same order (so that onsets such
as 16.8 s, which are not exact in binary, land in the same microtime bin).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .hrf import spm_hrf

#: Number of microtime bins per scan in CONN (dt = TR / 10).
MICROTIME_BINS = 10
#: Seconds of zero padding CONN puts before scan 1 (``offs = ceil(100/rt)``).
PADDING_SECONDS = 100
#: Supported condition weightings (book/spec_conn.md §2).
WEIGHTINGS = ("hrf", "hanning", "none")


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
