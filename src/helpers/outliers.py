"""Outlier scans: CONN's ART detection, and two ways to keep them out of the connectivity.

**Detection** (ART, as CONN's default preprocessing runs it: ``art.m`` with the settings of
``conn_setup_preproc.m``; read from alfnie/conn, commit 39b4f25, 2026, identical on these lines to
the repository's first commit of 2020, CONN 19/20 — release 18.a itself is not in that history).
Two scan-to-scan series per run, each zero at the run's first scan:

* **global-signal change** z: d_t = g_t − g_{t−1}, z_t = (d_t − median(d)) / (0.7413 · IQR(d)), where
  g is the global signal (mean over the brain per scan), d_1 = 0 takes part in the median and the
  IQR (MATLAB ``prctile``, i.e. numpy ``method="hazen"``) and a zero IQR is replaced by 1
  (``art.m``: ``gsigma(gsigma==0)=1``).  A scan is suspect when |z_t| > ``gs_z``.
* **composite motion** (CONN's "FD_conn"): the largest displacement, between scans t−1 and t, of six
  control points at the centres of the faces of the bounding box [−70, −110, −45; 70, 70, 75] mm,
  each moved by the rigid transform ``spm_matrix([trans, rot])`` (SPM: T·R1(pitch)·R2(roll)·R3(yaw)).
  A scan is suspect when this exceeds ``fd_mm``.  ``fd="power"`` uses fMRIPrep's own
  ``framewise_displacement`` column instead (Power et al. 2012, 50 mm sphere; its first-row ``n/a``
  is 0).  Rotation parameters from another realignment tool (fMRIPrep's come from FSL's MCFLIRT) may
  use another Euler-angle order than SPM's; the composite then differs from CONN's by terms of second
  order in the angles.

A change at scan t flags **both** scans t−1 and t (``art.m``, ``UpdateGlobal``/``UpdateMovement``
with "use diff"; ``conn_convertl12l1covariate('scrubbing')``, ``ext = 1``).  Thresholds are
compared with ``>``; ART rounds the z threshold to 0.1.

**Presets** (``conn_setup_preproc.m``: ``art_global_thresholds=[9 5 3]``,
``art_motion_thresholds=[2 .9 .5]``; the dialog labels them by percentiles "in normative sample";
``conn_convertl12l1covariate.m`` names the pairs): :data:`PRESETS`.  CONN's default is
``intermediate`` (``art_useconservative=1`` picks the second pair).  The percentiles are CONN's
labels; the normative sample behind them is not described in the sources read.  (When CONN imports
fMRIPrep derivatives it builds its scrubbing covariate from fMRIPrep's ``std_dvars`` > 1.5 or
``framewise_displacement`` > 0.5 instead, ``conn.m``; not reproduced here.)

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

The scans lost per participant and condition are counted by :func:`lost_scans`; a participant who
loses more than ``max_outlier_fraction`` of a condition's scans is excluded through
``exclusions.tsv`` (stage :data:`STAGE`, :func:`outlier_exclusions`, :func:`record_outlier_exclusions`).
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.interpolate import CubicSpline

from .denoise import HIGHPASS, conn_filter, linear_trend, regress_out

__all__ = [
    "PRESETS",
    "METHODS",
    "STAGE",
    "LOST_COLUMNS",
    "ALL_MEASURES",
    "OutlierRule",
    "parse_outliers",
    "composite_motion",
    "global_signal_z",
    "art_global_signal",
    "read_outlier_inputs",
    "detect_outliers",
    "spike_regressors",
    "censor_denoise",
    "censor_weights",
    "lost_scans",
    "outlier_exclusions",
    "record_outlier_exclusions",
]

log = logging.getLogger(__name__)

#: CONN's ART presets: global-signal z and composite-motion mm thresholds (``conn_setup_preproc.m``).
PRESETS = {
    "liberal": {"gs_z": 9.0, "fd_mm": 2.0},  # "99th percentiles in normative sample"
    "intermediate": {"gs_z": 5.0, "fd_mm": 0.9},  # "97th percentiles" (CONN's default)
    "conservative": {"gs_z": 3.0, "fd_mm": 0.5},
}  # "95th percentiles"
METHODS = ("scrub", "censor")
FD_KINDS = ("conn", "power")
#: Stage of ``exclusions.tsv`` rows written for participants who lose too many scans.
STAGE = "outliers"
#: ART's bounding box (mm): rows = lower and upper corner (``conn_convertl12l1covariate('FD_conn')``).
ART_BOX = ((-70.0, -110.0, -45.0), (70.0, 70.0, 75.0))
#: Columns of :func:`lost_scans` and of ``outlier_scans.tsv`` (beside connectivity.tsv).
LOST_COLUMNS = [
    "participant_id",
    "measure",
    "outliers",
    "gs_z",
    "fd_mm",
    "fd",
    "condition",
    "n_scans",
    "n_lost",
    "fraction_lost",
]
#: ``measure`` of :func:`lost_scans` rows of the ``outliers`` parameter (it applies to every measure).
ALL_MEASURES = "all"
_MOTION = ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")


@dataclass(frozen=True)
class OutlierRule:
    """One outlier choice: thresholds, the motion measure and how flagged scans are applied.

    Attributes
    ----------
    gs_z : float
        Global-signal change threshold (robust z; ``inf`` switches it off).
    fd_mm : float
        Scan-to-scan motion threshold in mm (``inf`` switches it off).
    method : {"scrub", "censor"}, default "scrub"
        CONN's spike regressors or nilearn-style censoring (module docstring).
    fd : {"conn", "power"}, default "conn"
        Motion measure: CONN's composite from the realignment parameters, or fMRIPrep's
        ``framewise_displacement`` column.
    name : str
        Label for tables and the multiverse (the preset's name, or ``"custom"``).
    """

    gs_z: float
    fd_mm: float
    method: str = "scrub"
    fd: str = "conn"
    name: str = "custom"

    @property
    def label(self) -> str:
        """``<name>-<method>``, e.g. ``intermediate-scrub``."""
        return f"{self.name}-{self.method}"


def _positive(key: str, value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or value <= 0:
        raise ValueError(f"{where}: key {key!r} = {value!r} (rule: a number > 0; inf switches the test off)")
    return float(value)


def parse_outliers(spec, where: str = "parameter 'outliers'") -> OutlierRule | None:
    """The outlier choice from the ``outliers`` parameter.

    Parameters
    ----------
    spec : None, str or dict, default "none"
        ``"none"`` / None: no outlier scans (the paper's pipeline).  A preset name
        (:data:`PRESETS`: ``"liberal"``, ``"intermediate"``, ``"conservative"``), applied by
        scrubbing.  A dict: either ``{preset: <name>}`` or explicit ``{gs_z: <float>,
        fd_mm: <float>}``, each optionally with ``method: scrub|censor`` (default scrub) and
        ``fd: conn|power`` (default conn).
    where : str, default "parameter 'outliers'"
        Start of error messages.

    Returns
    -------
    OutlierRule or None
        The rule; None for no outlier scans.

    Raises
    ------
    ValueError
        Unknown preset, method, motion measure or key; a threshold that is not a positive number.
    """
    if spec is None or (isinstance(spec, str) and spec == "none"):
        return None
    if isinstance(spec, str):
        spec = {"preset": spec}
    if not isinstance(spec, dict):
        raise ValueError(
            f"{where} = {spec!r} (rule: 'none', a preset {sorted(PRESETS)} or a mapping "
            "{gs_z, fd_mm, method, fd})"
        )
    unknown = sorted(set(spec) - {"preset", "gs_z", "fd_mm", "method", "fd"})
    if unknown:
        raise ValueError(
            f"{where}: unknown key(s) {unknown} (rule: preset, or gs_z and fd_mm; optional method and fd)"
        )
    method, fd = spec.get("method", "scrub"), spec.get("fd", "conn")
    if method not in METHODS:
        raise ValueError(f"{where}: method {method!r} (rule: one of {METHODS})")
    if fd not in FD_KINDS:
        raise ValueError(f"{where}: fd {fd!r} (rule: one of {FD_KINDS})")
    if "preset" in spec:
        if spec["preset"] not in PRESETS or {"gs_z", "fd_mm"} & set(spec):
            raise ValueError(
                f"{where}: preset {spec['preset']!r} (rule: one of {sorted(PRESETS)}, without gs_z or fd_mm)"
            )
        return OutlierRule(**PRESETS[spec["preset"]], method=method, fd=fd, name=spec["preset"])
    missing = [k for k in ("gs_z", "fd_mm") if k not in spec]
    if missing:
        raise ValueError(f"{where}: missing key(s) {missing} (rule: explicit thresholds give gs_z and fd_mm)")
    return OutlierRule(
        _positive("gs_z", spec["gs_z"], where), _positive("fd_mm", spec["fd_mm"], where), method, fd
    )


# --------------------------------------------------------------------------- the two series
def _spm_matrix(p: np.ndarray) -> np.ndarray:
    """SPM's rigid ``spm_matrix([tx ty tz pitch roll yaw])``: T·R1·R2·R3 (radians)."""
    c, s = np.cos(p[3:]), np.sin(p[3:])
    r1 = np.array([[1, 0, 0], [0, c[0], s[0]], [0, -s[0], c[0]]])
    r2 = np.array([[c[1], 0, s[1]], [0, 1, 0], [-s[1], 0, c[1]]])
    r3 = np.array([[c[2], s[2], 0], [-s[2], c[2], 0], [0, 0, 1]])
    m = np.eye(4)
    m[:3, :3] = r1 @ r2 @ r3
    m[:3, 3] = p[:3]
    return m


def composite_motion(motion, box=ART_BOX) -> np.ndarray:
    """CONN's composite scan-to-scan motion ("FD_conn"), mm per scan; 0 at the first scan.

    e_t = max_k ‖M_t·c_k − M_{t−1}·c_k‖, c_k the centres of the six faces of ``box``
    (``(lower corner, upper corner)`` in mm), M_t = ``spm_matrix`` of scan t's realignment parameters
    (``conn_convertl12l1covariate.m``, ``'FD_conn'``, ``'rel'``; ``art.m`` column 51).

    Parameters
    ----------
    motion : DataFrame or array (scans × 6)
        ``trans_x, trans_y, trans_z`` (mm), ``rot_x, rot_y, rot_z`` (rad).
    box : ((float, float, float), (float, float, float)), default :data:`ART_BOX`
    """
    p = np.asarray(motion, dtype=float)
    if p.ndim != 2 or p.shape[1] != 6:
        raise ValueError(f"composite_motion: expected scans × 6 realignment parameters, got shape {p.shape}")
    low, high = (np.asarray(b, dtype=float) for b in box)
    points = np.vstack([np.diag(high), np.diag(low)])  # +x, +y, +z, then −x, −y, −z face centres
    homogeneous = np.column_stack([points, np.ones(6)])
    moved = np.stack([(_spm_matrix(row) @ homogeneous.T)[:3].T for row in p])  # scans × 6 × 3
    out = np.zeros(len(p))
    out[1:] = np.linalg.norm(np.diff(moved, axis=0), axis=2).max(axis=1)
    return out


def global_signal_z(global_signal) -> np.ndarray:
    """ART's robust z of the scan-to-scan global-signal change; 0 at the first scan.

    d = (0, g_2 − g_1, …, g_N − g_{N−1}); z = (d − median(d)) / max(eps, 0.7413·IQR(d)), IQR by
    MATLAB's ``prctile`` (numpy ``method="hazen"``), an IQR of 0 replaced by 1; z_1 = 0 (``art.m``,
    "Compute derived signals for outlier identification").

    Parameters
    ----------
    global_signal : array-like of float
        The global signal, one value per scan.

    Returns
    -------
    numpy.ndarray
        z, one value per scan.

    Raises
    ------
    ValueError
        A NaN or infinite value (the scan named).
    """
    g = np.asarray(global_signal, dtype=float).ravel()
    if not np.isfinite(g).all():
        raise ValueError(
            f"global signal: NaN or infinite value at scan {int(np.flatnonzero(~np.isfinite(g))[0])}"
        )
    d = np.r_[0.0, np.diff(g)]
    q25, q75 = np.percentile(d, [25, 75], method="hazen")
    sigma = 0.7413 * (q75 - q25)
    sigma = 1.0 if sigma == 0 else sigma
    z = (d - np.median(d)) / max(np.finfo(float).eps, sigma)
    z[0] = 0.0
    return z


def art_global_signal(data4d) -> np.ndarray:
    """ART's global signal of a 4-D array (x × y × z × scans): the mean over the "global-conjunction" mask.

    A voxel is in scan t's mask when its value exceeds the scan's mean over all voxels / 8; the mask is
    the intersection over scans; g_t = mean of scan t over the mask; NaN counts as 0 (``art.m``,
    ``art_maskglobal_scan`` and "computes global signal").  For derivatives whose confounds lack
    ``global_signal``.

    Parameters
    ----------
    data4d : array-like, shape (x, y, z, scans)
        The BOLD data.

    Returns
    -------
    numpy.ndarray
        g, one value per scan.

    Raises
    ------
    ValueError
        Not 4-D, or the mask keeps fewer than a tenth of the voxels (ART then falls back to SPM's
        ``spm_global``, which is not reproduced here).
    """
    data = np.nan_to_num(np.asarray(data4d, dtype=float))
    if data.ndim != 4:
        raise ValueError(f"art_global_signal: expected a 4-D array, got shape {data.shape}")
    flat = data.reshape(-1, data.shape[3])
    mask = (flat > flat.mean(axis=0) / 8).all(axis=1)
    if mask.sum() < flat.shape[0] / 10:
        raise ValueError(
            f"art_global_signal: the global-conjunction mask keeps {int(mask.sum())} of "
            f"{flat.shape[0]} voxels (rule: at least a tenth, as ART)"
        )
    return flat[mask].mean(axis=0)


def read_outlier_inputs(path, n_scans: int, participant: str | None = None, bold=None) -> pd.DataFrame:
    """Global signal, realignment parameters and FD of an fMRIPrep confounds TSV.

    The global signal is fMRIPrep's ``global_signal`` column (the mean inside fMRIPrep's brain mask,
    where ART averages over its own "global-conjunction" mask: the robust z is scale-free, not
    mask-free).  Confounds without that column (our own preprocessing writes none) take ART's global
    signal of the ``bold`` image (:func:`art_global_signal`) when it is given.

    Parameters
    ----------
    path : path-like
        Confounds TSV.
    n_scans : int
        Volumes of the BOLD image.
    participant : str, default None
        For messages.
    bold : path-like, default None
        The run's BOLD image, read only when the confounds lack ``global_signal``.

    Returns
    -------
    DataFrame
        ``global_signal, trans_x … rot_z, framewise_displacement`` (the first row's ``n/a`` FD is 0).

    Raises
    ------
    ValueError
        A column is missing, a value is missing or not numeric (other than the first FD), or the
        row count differs from ``n_scans``; the message names the file, participant, column and row.
    """
    where = f"{path}: participant {participant}" if participant else str(path)
    table = pd.read_csv(path, sep="\t", na_values=["n/a"], keep_default_na=False)
    if "global_signal" not in table.columns and bold is not None and len(table) == n_scans:
        import nibabel as nib

        log.info("%s: no global_signal column; ART's global signal of %s is used", where, bold)
        table["global_signal"] = art_global_signal(np.asanyarray(nib.load(bold).dataobj))
    columns = ["global_signal", *_MOTION, "framewise_displacement"]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(
            f"{where}: missing column(s) {missing} (rule: outlier detection needs fMRIPrep's "
            "global_signal, the six realignment parameters and framewise_displacement)"
        )
    if len(table) != n_scans:
        raise ValueError(
            f"{where}: {len(table)} rows but the BOLD image has {n_scans} volumes "
            "(rule: one confounds row per volume)"
        )
    values = table[columns].apply(pd.to_numeric, errors="coerce").reset_index(drop=True)
    values.loc[0, "framewise_displacement"] = (
        0.0 if pd.isna(values.loc[0, "framewise_displacement"]) else values.loc[0, "framewise_displacement"]
    )
    bad = values.isna()
    if bad.any().any():
        col = values.columns[bad.any()][0]
        raise ValueError(
            f"{where}, column {col}, row {int(np.flatnonzero(bad[col].to_numpy())[0])}: missing "
            "or non-numeric value (rule: a number in every row; only the first FD may be n/a)"
        )
    return values


def detect_outliers(inputs: pd.DataFrame, rule: OutlierRule) -> pd.DataFrame:
    """ART outlier scans of one run.

    Parameters
    ----------
    inputs : DataFrame
        :func:`read_outlier_inputs` (``global_signal``, the six realignment parameters and, for
        ``rule.fd == "power"``, ``framewise_displacement``).
    rule : OutlierRule

    Returns
    -------
    DataFrame
        One row per scan: ``gs_z`` (:func:`global_signal_z`), ``motion_mm`` (composite or FD),
        ``outlier`` (bool) and ``reason`` (``"global signal"``, ``"motion"``, both joined by
        ``"; "``, or ``""``).  A change above threshold at scan t flags scans t−1 and t.
    """
    z = global_signal_z(inputs["global_signal"])
    motion = (
        composite_motion(inputs[list(_MOTION)])
        if rule.fd == "conn"
        else inputs["framewise_displacement"].to_numpy(float)
    )
    gs_z = 0.1 * round(rule.gs_z * 10) if math.isfinite(rule.gs_z) else rule.gs_z  # ART rounds it

    def flag(above: np.ndarray) -> np.ndarray:  # the scan of the change and the one before it
        return above | np.r_[above[1:], False]

    by_gs, by_motion = flag(np.abs(z) > gs_z), flag(motion > rule.fd_mm)
    reason = np.where(
        by_gs & by_motion,
        "global signal; motion",
        np.where(by_gs, "global signal", np.where(by_motion, "motion", "")),
    )
    return pd.DataFrame({"gs_z": z, "motion_mm": motion, "outlier": by_gs | by_motion, "reason": reason})


# --------------------------------------------------------------------------- applying them
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


# --------------------------------------------------------------------------- what it costs
def lost_scans(
    participant: str, outliers, weights, rule: OutlierRule, measure: str = ALL_MEASURES
) -> pd.DataFrame:
    """Scans each condition loses to outlier scans, over a participant's runs.

    Parameters
    ----------
    participant : str
    outliers : bool array or list of them (one per run)
        :func:`detect_outliers` ``outlier`` column.
    weights : DataFrame or list of them (one per run, scans × conditions)
        Condition weights of the same runs.
    rule : OutlierRule
    measure : str, default :data:`ALL_MEASURES`
        The measure the rule applies to: :data:`ALL_MEASURES` for the ``outliers`` parameter (every
        measure of the analysis), a measure's name for a multiverse branch.

    Returns
    -------
    DataFrame
        :data:`LOST_COLUMNS`: ``n_scans`` = scans with weight > 0; ``n_lost`` = those flagged (censoring
        removes them; scrubbing fits them exactly, so they no longer inform the correlation either);
        ``fraction_lost`` = n_lost / n_scans.
    """
    if isinstance(weights, pd.DataFrame):
        weights, outliers = [weights], [outliers]
    if len(weights) != len(outliers):
        raise ValueError(
            f"lost_scans: {participant}: {len(weights)} weight tables but {len(outliers)} outlier vectors"
        )
    n_scans = sum((w > 0).sum(axis=0) for w in weights)
    n_lost = sum((w[np.asarray(o, dtype=bool)] > 0).sum(axis=0) for w, o in zip(weights, outliers))
    table = pd.DataFrame(
        {
            "participant_id": participant,
            "measure": measure,
            "outliers": rule.label,
            "gs_z": rule.gs_z,
            "fd_mm": rule.fd_mm,
            "fd": rule.fd,
            "condition": [str(c) for c in n_scans.index],
            "n_scans": n_scans.to_numpy(int),
            "n_lost": n_lost.to_numpy(int),
        }
    )
    table["fraction_lost"] = table["n_lost"] / table["n_scans"].where(table["n_scans"] > 0)
    return table[LOST_COLUMNS]


def outlier_exclusions(lost: pd.DataFrame, max_outlier_fraction: float = 0.5) -> pd.DataFrame:
    """Exclusion rows for participants who lose too many scans to outliers.

    A participant is excluded when, in any condition, ``fraction_lost`` > ``max_outlier_fraction`` (one
    row naming the worst condition): from the whole analysis (stage :data:`STAGE`) for the
    ``outliers`` parameter, from one measure only (stage ``outliers/<measure>``,
    :func:`helpers.exclusions.apply`) for a multiverse branch.  The default 0.5 is ours: CONN reports
    the valid-scan counts (``QC_ValidScans``) but excludes nobody by itself.

    Parameters
    ----------
    lost : DataFrame
        :func:`lost_scans` rows (any number of participants and measures).
    max_outlier_fraction : float, default 0.5
        In [0, 1].
    """
    from .execution import EXCLUSION_COLUMNS

    if not 0 <= max_outlier_fraction <= 1:
        raise ValueError(f"max_outlier_fraction = {max_outlier_fraction!r} (rule: a fraction in [0, 1])")
    bad = lost[lost["fraction_lost"] > max_outlier_fraction]
    worst = bad.sort_values("fraction_lost", ascending=False, kind="stable")
    worst = worst.drop_duplicates(["participant_id", "measure"]).sort_values(["measure", "participant_id"])
    stages = [STAGE if m == ALL_MEASURES else f"{STAGE}/{m}" for m in worst["measure"]]
    reasons = [
        f"outlier scans ({row.outliers}): {row.n_lost} of {row.n_scans} scans of condition {row.condition} "
        f"({row.fraction_lost:.0%}) > {max_outlier_fraction:g}"
        for row in worst.itertuples()
    ]
    return pd.DataFrame(
        {"participant_id": worst["participant_id"].to_numpy(), "stage": stages, "reason": reasons},
        columns=EXCLUSION_COLUMNS,
    )


def record_outlier_exclusions(
    output_dir: str | os.PathLike, lost: pd.DataFrame | None, max_outlier_fraction: float = 0.5
) -> pd.DataFrame:
    """Write ``outlier_scans.tsv`` and the rule's rows of ``exclusions.tsv`` (replacing earlier ones).

    The single exclusion mechanism (:func:`helpers.execution.record_exclusions`, read by
    :func:`helpers.exclusions.apply`).  With no outlier choice (``lost`` None) no table is written, a
    stale one is removed and earlier rows of the stage leave ``exclusions.tsv``.

    Parameters
    ----------
    output_dir : path-like
        The stage's output folder (:func:`helpers.layout.outputs`).
    lost : DataFrame or None
        :func:`lost_scans` rows (:data:`LOST_COLUMNS`); None: no outlier choice.
    max_outlier_fraction : float, default 0.5
        Largest share of a condition's scans a participant may lose (:func:`outlier_exclusions`).

    Returns
    -------
    DataFrame
        The exclusion rows.
    """
    from .execution import record_exclusions
    from .io import write_tsv
    from .layout import outputs

    out = outputs(output_dir)
    if lost is None:
        out.outlier_scans.unlink(missing_ok=True)
        lost = pd.DataFrame(columns=LOST_COLUMNS)
    else:
        write_tsv(lost[LOST_COLUMNS], out.outlier_scans)
    rows = outlier_exclusions(lost, max_outlier_fraction)
    record_exclusions(rows, out.exclusions, STAGE)
    for row in rows.itertuples():
        log.warning("excluding %s (%s): %s", row.participant_id, row.stage, row.reason)
    return rows
