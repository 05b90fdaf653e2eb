"""Rigid-body realignment of a 4-D BOLD series (SPM-style Gauss–Newton least squares).

Conventions (used everywhere in :mod:`helpers.preprocess`)
-----------------------------------------------------------
* A motion matrix ``M_t`` (4 × 4, world millimetres, RAS+ scanner space of the BOLD image) maps a
  point of the head *as it was in the first volume* to where that point is in volume ``t``:
  ``p_t = M_t @ p_0``.  Resampling volume ``t`` at ``M_t @ p`` therefore undoes the motion.
* Parameters ``(trans_x, trans_y, trans_z, rot_x, rot_y, rot_z)`` follow SPM's ``spm_matrix``
  (as in SPM's ``rp_*.txt``, which the paper's CONN analysis used):
  ``M = T(trans) · C · Rx(rot_x) · Ry(rot_y) · Rz(rot_z) · C⁻¹``, radians, with SPM's matrices
  ``Rx(a) = [[1, 0, 0], [0, cos a, sin a], [0, −sin a, cos a]]``,
  ``Ry(b) = [[cos b, 0, sin b], [0, 1, 0], [−sin b, 0, cos b]]``,
  ``Rz(c) = [[cos c, sin c, 0], [−sin c, cos c, 0], [0, 0, 1]]``;
  ``C`` moves the rotation centre (default: the scanner origin, as SPM), translations in mm.
* Framewise displacement (Power et al. 2012): ``FD_t = Σ|Δtrans| + 50 mm · Σ|Δrot|``, first row
  ``n/a`` as in fMRIPrep.

Algorithm (Friston et al. 1995; SPM ``spm_realign``): both the reference and each volume are smoothed
(Gaussian, ``fwhm`` mm); on a sample of reference voxels the residual ``ref(p) − vol(M·T(δ)·p)`` is
linearised with the *reference* gradient (a fixed Jacobian), so each Gauss–Newton step is one
interpolation of the sample points plus a 7 × 7 solve (6 rigid parameters + an intensity scale),
on the sample points SPM keeps at its default quality 0.9 (:func:`_prune`: ~80 % of them on the twin;
each pass selects on its own reference, where SPM's second pass reuses the first pass's points);
``M ← M·T(δ)`` until the update moves points by less than ``tol`` mm.  Each volume starts from the
previous volume's estimate.  Two-pass: register to the first volume, then to the mean of the
realigned series; the result is expressed relative to the first volume.  Each pass filters each
volume for its spline interpolation: keeping the 166 volumes' coefficients for the second pass (196 MB)
gave the same bits but no measurable saving (alternating in one process, CPU time of sub-01 and
sub-02, four runs each: 14.4 and 15.2 s against 13.6 and 15.0 s), so they are not kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage

__all__ = [
    "MOTION_COLUMNS",
    "rigid_matrix",
    "rigid_params",
    "framewise_displacement",
    "motion_table",
    "smooth_volume",
    "RealignResult",
    "realign",
    "resample_rigid",
    "displacement_rms",
]

log = logging.getLogger(__name__)

#: fMRIPrep confound column names, in the order of our parameter vectors.
MOTION_COLUMNS = ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")

FWHM_TO_SIGMA = 1.0 / np.sqrt(8.0 * np.log(2.0))


def _rotation(rx: float, ry: float, rz: float) -> np.ndarray:
    """SPM's ``Rx(rx)·Ry(ry)·Rz(rz)`` (see module docstring)."""
    cx, sx, cy, sy, cz, sz = np.cos(rx), np.sin(rx), np.cos(ry), np.sin(ry), np.cos(rz), np.sin(rz)
    rot_x = np.array([[1, 0, 0], [0, cx, sx], [0, -sx, cx]])
    rot_y = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rot_z = np.array([[cz, sz, 0], [-sz, cz, 0], [0, 0, 1]])
    return rot_x @ rot_y @ rot_z


def rigid_matrix(params, centre=(0.0, 0.0, 0.0)) -> np.ndarray:
    """4 × 4 rigid matrix ``T(t) · C · Rx·Ry·Rz · C⁻¹`` from ``(tx, ty, tz, rx, ry, rz)`` (mm, rad).

    SPM's ``spm_matrix`` convention (module docstring).

    Parameters
    ----------
    params : sequence of 6 float
        Translations (mm) and rotations (rad).
    centre : sequence of 3 float, default (0.0, 0.0, 0.0)
        Rotation centre C (world mm); the default is the scanner origin, as SPM.

    Returns
    -------
    ndarray, shape (4, 4)
    """
    p = np.asarray(params, dtype=float)
    c = np.asarray(centre, dtype=float)
    rot = _rotation(*p[3:6])
    out = np.eye(4)
    out[:3, :3] = rot
    out[:3, 3] = p[:3] + c - rot @ c
    return out


def rigid_params(matrix: np.ndarray, centre=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Inverse of :func:`rigid_matrix`: ``(tx, ty, tz, rx, ry, rz)`` of a rigid 4 × 4 matrix.

    With SPM's ``R = Rx(a)·Ry(b)·Rz(c)``: ``b = asin R[0,2]``, ``c = atan2(R[0,1], R[0,0])``,
    ``a = atan2(R[1,2], R[2,2])`` (valid for |b| < 90°).

    Parameters
    ----------
    matrix : ndarray, shape (4, 4)
        Rigid transform (world mm).
    centre : sequence of 3 float, default (0.0, 0.0, 0.0)
        Rotation centre C (world mm); the default is the scanner origin, as SPM.

    Returns
    -------
    ndarray, shape (6,)
        mm and rad.
    """
    m = np.asarray(matrix, dtype=float)
    rot = m[:3, :3]
    ry = np.arcsin(np.clip(rot[0, 2], -1.0, 1.0))
    rz = np.arctan2(rot[0, 1], rot[0, 0])
    rx = np.arctan2(rot[1, 2], rot[2, 2])
    c = np.asarray(centre, dtype=float)
    trans = m[:3, 3] - c + rot @ c
    return np.concatenate([trans, [rx, ry, rz]])


def framewise_displacement(params: np.ndarray, radius: float = 50.0) -> np.ndarray:
    """Power et al. (2012) FD: ``Σ|Δtrans| + radius·Σ|Δrot|`` (mm); first value NaN (fMRIPrep).

    Parameters
    ----------
    params : ndarray, shape (n_volumes, 6)
        Translations (mm) then rotations (rad).
    radius : float, default 50.0
        Head radius (mm) turning rotations into arc length.

    Returns
    -------
    ndarray, shape (n_volumes,)

    Raises
    ------
    ValueError
        If ``params`` is not (n_volumes, 6).
    """
    p = np.asarray(params, dtype=float)
    if p.ndim != 2 or p.shape[1] != 6:
        raise ValueError(f"motion parameters must have shape (n_volumes, 6), got {p.shape}")
    diff = np.abs(np.diff(p, axis=0))
    fd = diff[:, :3].sum(axis=1) + radius * diff[:, 3:].sum(axis=1)
    return np.concatenate([[np.nan], fd])


def motion_table(matrices: np.ndarray, centre=(0.0, 0.0, 0.0)) -> pd.DataFrame:
    """fMRIPrep-style motion confounds (``trans_*`` mm, ``rot_*`` rad, ``framewise_displacement``).

    Parameters
    ----------
    matrices : ndarray, shape (n_volumes, 4, 4)
        Motion matrices (module conventions).
    centre : sequence of 3 float, default (0.0, 0.0, 0.0)
        Rotation centre C (world mm); the default is the scanner origin, as SPM.

    Returns
    -------
    DataFrame
    """
    params = np.array([rigid_params(m, centre) for m in matrices])
    table = pd.DataFrame(params, columns=list(MOTION_COLUMNS))
    table["framewise_displacement"] = framewise_displacement(params)
    return table


def smooth_volume(vol: np.ndarray, zooms, fwhm: float) -> np.ndarray:
    """Gaussian smoothing with FWHM ``fwhm`` mm on a grid of voxel size ``zooms`` (σ = FWHM/√(8 ln 2)).

    Edges are extended by the nearest value; ``fwhm <= 0`` returns the volume unsmoothed (float32).

    Parameters
    ----------
    vol : ndarray, 3-D
        Volume.
    zooms : sequence of 3 float
        Voxel sizes (mm).
    fwhm : float
        Kernel full width at half maximum (mm).

    Returns
    -------
    ndarray of float32
    """
    if fwhm <= 0:
        return np.asarray(vol, dtype=np.float32)
    sigma = fwhm * FWHM_TO_SIGMA / np.asarray(zooms, dtype=float)
    return ndimage.gaussian_filter(np.asarray(vol, dtype=np.float32), sigma, mode="nearest")


@dataclass
class RealignResult:
    """Output of :func:`realign`.

    Attributes
    ----------
    matrices : ndarray (n_volumes, 4, 4)
        Motion matrices relative to the first volume (see module conventions).
    params : DataFrame
        :data:`MOTION_COLUMNS` + ``framewise_displacement``.
    mean : ndarray (3-D)
        Mean of the realigned (resampled, unsmoothed) series on the first volume's grid.
    iterations : ndarray (n_volumes,)
        Gauss–Newton iterations used in the last pass.
    """

    matrices: np.ndarray
    params: pd.DataFrame
    mean: np.ndarray
    iterations: np.ndarray


def _sample_points(ref: np.ndarray, zooms, sep: float) -> np.ndarray:
    """Voxel indices (3, N) on a lattice of at least ``sep`` mm, one voxel in from the edges, in the head.

    "Inside" follows SPM's rule of thumb: intensity above the volume mean / 8.
    """
    step = [max(1, int(np.ceil(sep / z - 1e-6))) for z in zooms]
    axes = [np.arange(1, n - 1, s) for n, s in zip(ref.shape, step)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij")).reshape(3, -1)
    keep = ref[tuple(grid)] > ref.mean() / 8.0
    return grid[:, keep].astype(float)


def _jacobian(ref: np.ndarray, affine: np.ndarray, vox: np.ndarray, centre: np.ndarray) -> tuple:
    """Design matrix ``[∂ref/∂θ (N × 6), ref (N × 1)]`` at sample voxels ``vox`` and their world points.

    ``∂ref(T(θ)p)/∂θ`` at θ = 0: translations give the world gradient ``g``; SPM's rotations give
    ``g · (s·e × (p − c))`` with ``s = −1`` for x and z, ``+1`` for y (their sign convention).
    World gradient: ``g = A⁻ᵀ ∇_vox`` (A: voxel → mm linear part).
    """
    grads = np.stack([ndimage.map_coordinates(g, vox, order=1) for g in np.gradient(ref)])
    g = np.linalg.inv(affine[:3, :3]).T @ grads  # (3, N) world gradient
    world = affine[:3, :3] @ vox + affine[:3, 3:4]
    v = world - centre[:, None]
    zeros = np.zeros_like(v[0])
    cross = [np.stack([zeros, v[2], -v[1]]), np.stack([v[2], zeros, -v[0]]), np.stack([v[1], -v[0], zeros])]
    cols = [g[0], g[1], g[2]] + [np.einsum("in,in->n", g, c) for c in cross]
    vals = ndimage.map_coordinates(ref, vox, order=1)
    design = np.column_stack(cols + [vals])
    return design, vals, np.vstack([world, np.ones_like(world[0])])


def _prune(design: np.ndarray, quality: float) -> np.ndarray:
    """Rows of ``design`` kept by SPM's "quality" rule (``spm_realign``): indices, in order.

    With ``α = XᵀX`` over the kept rows, removing row ``a`` leaves ``det(α − aaᵀ) = det α · (1 − h)``,
    ``h = aᵀα⁻¹a`` its leverage; while ``det α`` is above ``quality`` times its value with every row,
    the tenth of the rows with the lowest leverage is dropped (SPM rounds the tenth the same way).
    """
    keep = np.arange(len(design))
    floor = np.linalg.slogdet(design.T @ design)[1] + np.log(quality)
    while len(keep) >= 10:
        x = design[keep]
        alpha = x.T @ x
        if np.linalg.slogdet(alpha)[1] <= floor:
            break
        leverage = np.einsum("ij,ij->i", x @ np.linalg.inv(alpha), x)
        drop = np.argsort(leverage, kind="stable")[: round(len(keep) / 10)]
        keep = np.delete(keep, drop)
    return keep


def _register_series(smoothed, affine, ref, start, *, sep, quality, order, max_iter, tol, centre):
    """Gauss–Newton registration of each smoothed volume to ``ref``; returns matrices, iterations.

    ``start``: initial matrices (one per volume) or None to start each volume from the previous one.
    """
    zooms = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    vox = _sample_points(ref, zooms, sep)
    design, ref_vals, world = _jacobian(ref, affine, vox, centre)
    if quality < 1:
        keep = _prune(design, quality)
        design, ref_vals, world = design[keep], ref_vals[keep], world[:, keep]
    inv_affine = np.linalg.inv(affine)
    shape = np.array(ref.shape)[:, None] - 1
    radius = np.sqrt(((world[:3] - centre[:, None]) ** 2).sum(axis=0).mean())
    matrices = np.empty((len(smoothed), 4, 4))
    iters = np.zeros(len(smoothed), dtype=int)
    current = np.eye(4)
    for t, vol in enumerate(smoothed):
        if start is not None:
            current = start[t].copy()
        coef = ndimage.spline_filter(vol, order=order) if order > 1 else vol
        for it in range(1, max_iter + 1):
            iters[t] = it  # Gauss–Newton iterations used for this volume
            pts = (inv_affine @ current @ world)[:3]
            inside = np.all((pts >= 0) & (pts <= shape), axis=0)
            sampled = ndimage.map_coordinates(coef, pts, order=order, mode="nearest", prefilter=False)
            x = design[inside]
            delta = np.linalg.solve(x.T @ x, x.T @ (ref_vals[inside] - sampled[inside]))[:6]
            current = current @ rigid_matrix(delta, centre)
            if np.linalg.norm(delta[:3]) + radius * np.linalg.norm(delta[3:]) < tol:
                break
        matrices[t] = current
    return matrices, iters


def resample_rigid(data: np.ndarray, affine: np.ndarray, matrices: np.ndarray, order: int = 3) -> np.ndarray:
    """Resample each volume ``t`` of ``data`` at ``M_t @ p`` for every voxel ``p`` of its own grid.

    Parameters
    ----------
    data : ndarray, shape (X, Y, Z, T)
        The series.
    affine : ndarray, shape (4, 4)
        Voxel → world (mm) affine.
    matrices : ndarray, shape (T, 4, 4)
        Motion matrices (module conventions).
    order : int, default 3
        Spline order of ``scipy.ndimage.map_coordinates`` (1 trilinear, 3 cubic B-spline); edges
        extended by the nearest value.

    Returns
    -------
    ndarray of float32, shape (X, Y, Z, T)
    """
    inv_affine = np.linalg.inv(affine)
    out = np.empty(data.shape, dtype=np.float32)
    for t in range(data.shape[3]):
        vol = np.ascontiguousarray(data[..., t], dtype=np.float32)
        m = inv_affine @ matrices[t] @ affine  # voxel -> voxel: no coordinate arrays (faster)
        out[..., t] = ndimage.affine_transform(vol, m[:3, :3], offset=m[:3, 3], order=order, mode="nearest")
    return out


def realign(
    data: np.ndarray,
    affine: np.ndarray,
    *,
    fwhm: float = 5.0,
    sep: float = 4.0,
    quality: float = 0.9,
    two_pass: bool = True,
    order: int = 3,
    max_iter: int = 16,
    tol: float = 1e-3,
    centre=(0.0, 0.0, 0.0),
) -> RealignResult:
    """Estimate rigid head motion of a 4-D series (SPM-style; see module docstring).

    Parameters
    ----------
    data : ndarray (X, Y, Z, T)
        The BOLD series.
    affine : ndarray (4, 4)
        Voxel → world (mm) affine of the series.
    fwhm : float, default 5.0
        Smoothing (mm) of reference and volumes before estimation (SPM default 5 mm).
    sep : float, default 4.0
        Spacing (mm) of the reference sample points (SPM default 4 mm).
    quality : float, default 0.9
        SPM's quality/speed trade-off (SPM default 0.9): of the sample points, the tenth with the
        lowest leverage is dropped while the determinant of the design's normal matrix stays above
        ``quality`` times its value with them all (:func:`_prune`); 1 keeps every point.
    two_pass : bool, default True
        Register to the first volume, then to the mean of the realigned series (SPM "register to mean").
    order : int, default 3
        Interpolation order while estimating (1 trilinear, 3 cubic B-spline).
    max_iter : int, default 16
        Largest number of Gauss–Newton steps per volume.
    tol : float, default 0.001
        Stop when an update moves points by less than ``tol`` mm (translation norm + RMS radius ×
        rotation norm).
    centre : sequence of 3 float, default (0.0, 0.0, 0.0)
        Rotation centre (world mm) for the reported parameters.

    Returns
    -------
    RealignResult

    Raises
    ------
    ValueError
        If ``data`` is not 4-D.
    """
    data = np.asarray(data)
    if data.ndim != 4:
        raise ValueError(f"realign needs a 4-D series (X, Y, Z, T); got shape {data.shape}")
    zooms = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    smoothed = np.stack([smooth_volume(data[..., t], zooms, fwhm) for t in range(data.shape[3])])
    jac_centre = affine[:3, :3] @ ((np.array(data.shape[:3]) - 1) / 2.0) + affine[:3, 3]
    kw = dict(sep=sep, quality=quality, order=order, max_iter=max_iter, tol=tol, centre=jac_centre)
    matrices, iters = _register_series(smoothed, affine, smoothed[0], None, **kw)
    if two_pass:
        mean = resample_rigid(data, affine, matrices, order=1).mean(axis=3)
        matrices, iters = _register_series(smoothed, affine, smooth_volume(mean, zooms, fwhm), matrices, **kw)
        matrices = matrices @ np.linalg.inv(matrices[0])
        matrices[0] = np.eye(4)  # exact, not ~1e-17
    realigned_mean = resample_rigid(data, affine, matrices, order=1).mean(axis=3)
    log.info("realigned %d volumes (median %d iterations)", data.shape[3], int(np.median(iters)))
    return RealignResult(matrices, motion_table(matrices, centre), realigned_mean, iters)


def displacement_rms(estimated: np.ndarray, true: np.ndarray, points: np.ndarray) -> np.ndarray:
    """RMS (over ``points``) distance between ``E_t p`` and ``T_t p`` for each volume.

    A convention-free accuracy measure for motion estimates (Jenkinson 1999 uses the analytic
    version over a sphere).  Computed exactly without mapping every point: with ``D_t = E_t − T_t``
    (3 × 4 rows) and ``M = mean_p p̃ p̃ᵀ`` (4 × 4, ``p̃ = (p, 1)``), ``mean_p |D_t p̃|² = tr(D_t M D_tᵀ)``.

    Parameters
    ----------
    estimated : ndarray, shape (T, 4, 4)
        Estimated motion matrices E_t.
    true : ndarray, shape (T, 4, 4)
        True motion matrices T_t.
    points : ndarray, shape (3, N)
        World points p (mm).

    Returns
    -------
    ndarray, shape (T,)
        mm.
    """
    hom = np.vstack([points, np.ones_like(points[0])])
    moment = hom @ hom.T / hom.shape[1]
    diff = (np.asarray(estimated, float) - np.asarray(true, float))[:, :3]
    msd = np.einsum("tij,jk,tik->t", diff, moment, diff)
    return np.sqrt(np.clip(msd, 0.0, None))  # ≥ 0 in exact arithmetic; clip rounding below 0
