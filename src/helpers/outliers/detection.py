"""Outlier scans as CONN's ART detects them: global-signal change and composite motion.

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
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

from .rules import OutlierRule

log = logging.getLogger(__name__)

#: ART's bounding box (mm): rows = lower and upper corner (``conn_convertl12l1covariate('FD_conn')``).
ART_BOX = ((-70.0, -110.0, -45.0), (70.0, 70.0, 75.0))
_MOTION = ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")


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
