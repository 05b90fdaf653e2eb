"""Where the twin's anatomy sits: scanner and MNI coordinates, participant pose, warp and head motion.

Coordinate conventions (documented for the ground truth):

* MNI space: millimetres of nilearn's MNI152 template (ICBM 2009 nonlinear; labelled
  ``MNI152NLin2009cAsym`` in file names as fMRIPrep does; the 2009a/c versions differ < 1 mm).
* Scanner space: millimetres of the raw images' affines; the isocentre (0, 0, 0) is the centre
  of the functional field of view.
* Participant pose ``H`` (4x4) maps an MNI point u to the scanner: ``q = H u`` with
  ``H = T(t) R S T(−c0)`` (c0 = ``fov_centre_mni``).  A smooth warp d displaces the anatomy:
  the tissue that sits at scanner point q (head at rest) is the MNI tissue at
  ``p = u + d(u)``, ``u = H⁻¹ q``.
* Motion: at volume t the head is moved rigidly by ``M_t = T(trans) Rx Ry Rz`` (SPM's
  ``spm_matrix`` order, rotations in radians about the scanner axes through the isocentre),
  so native voxel q at volume t shows the MNI tissue at ``p(M_t⁻¹ q)``.
"""

from __future__ import annotations

import numpy as np
from nibabel.affines import apply_affine

__all__ = [
    "native_affine",
    "rigid_matrix",
    "participant_pose",
    "MAX_WARP_GRADIENT",
    "warp_params",
    "warp_displacement",
    "native_to_mni",
    "mni_to_native",
]


def native_affine(shape, zooms) -> np.ndarray:
    """RAS scanner affine with the grid centred on the isocentre.

    ``diag(zooms, 1)`` with translation ``−(shape − 1)/2 · zooms``, so the centre voxel is at (0, 0, 0).

    Parameters
    ----------
    shape : sequence of int
        Grid shape (three dimensions).
    zooms : sequence of float
        Voxel sizes (mm).

    Returns
    -------
    ndarray, shape (4, 4)
    """
    affine = np.diag([*map(float, zooms), 1.0])
    affine[:3, 3] = -(np.asarray(shape) - 1) / 2 * np.asarray(zooms, float)
    return affine


def rigid_matrix(params) -> np.ndarray:
    """4x4 rigid transform from (tx, ty, tz [mm], rx, ry, rz [rad]): T · Rx · Ry · Rz (SPM order).

    Same matrices as SPM's ``spm_matrix`` for the first six parameters.

    Parameters
    ----------
    params : sequence of 6 float
        Translations (mm) and rotations (rad).

    Returns
    -------
    ndarray, shape (4, 4)
    """
    tx, ty, tz, rx, ry, rz = params
    t = np.eye(4)
    t[:3, 3] = (tx, ty, tz)
    cx, sx, cy, sy, cz, sz = np.cos(rx), np.sin(rx), np.cos(ry), np.sin(ry), np.cos(rz), np.sin(rz)
    rot_x = np.array([[1, 0, 0, 0], [0, cx, sx, 0], [0, -sx, cx, 0], [0, 0, 0, 1]])
    rot_y = np.array([[cy, 0, sy, 0], [0, 1, 0, 0], [-sy, 0, cy, 0], [0, 0, 0, 1]])
    rot_z = np.array([[cz, sz, 0, 0], [-sz, cz, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    return t @ rot_x @ rot_y @ rot_z


def participant_pose(cfg: dict, fov_centre, rng: np.random.Generator) -> np.ndarray:
    """H = T(t) · R · S · T(−c0) (module docstring): the participant's MNI → scanner pose.

    Rotation N(0, rotation_deg) per axis, translation N(0, translation_mm), scale
    exp(N(0, scaling)) per axis.

    Parameters
    ----------
    cfg : dict
        The config's ``anatomy`` section (``rotation_deg`` in degrees, ``translation_mm``,
        ``scaling``).
    fov_centre : sequence of 3 float
        c0: the MNI point (mm) placed at the isocentre before the random pose.
    rng : numpy.random.Generator
        The participant's generator.

    Returns
    -------
    ndarray, shape (4, 4)
    """
    rot = np.deg2rad(rng.normal(0, cfg["rotation_deg"], 3))
    trans = rng.normal(0, cfg["translation_mm"], 3)
    scale = np.diag([*np.exp(rng.normal(0, cfg["scaling"], 3)), 1.0])
    centre = np.eye(4)
    centre[:3, 3] = -np.asarray(fov_centre, float)
    return rigid_matrix([*trans, *rot]) @ scale @ centre


#: Largest row sum of the warp's Jacobian bound (see :func:`warp_params`): the warp never folds.
MAX_WARP_GRADIENT = 0.6


def warp_params(cfg: dict, rng: np.random.Generator) -> dict:
    """Sinusoidal warp modes of a participant's anatomy.

    Per axis a, ``d_a(u) = Σ_m amp·sin(2π k·u / λ + φ)`` with a random unit direction k, wavelength
    λ ~ U(warp_wavelength_mm), phase φ ~ U(0, 2π), amplitude ~ N(0, warp_mm), the amplitudes of an
    axis shrunk together where needed so that Σ_m |amp|·2π/λ ≤ :data:`MAX_WARP_GRADIENT` (the warp
    never folds).

    Parameters
    ----------
    cfg : dict
        The config's ``anatomy`` section (``warp_modes``, ``warp_wavelength_mm``, ``warp_mm``).
    rng : numpy.random.Generator
        The participant's generator.

    Returns
    -------
    dict
        ``direction`` (3 x modes x 3), ``wavelength``, ``phase``, ``amplitude`` (3 x modes), as lists
        (JSON-ready).
    """
    n = cfg["warp_modes"]
    k = rng.standard_normal((3, n, 3))
    k /= np.linalg.norm(k, axis=2, keepdims=True)
    lam = rng.uniform(*cfg["warp_wavelength_mm"], (3, n))
    phase = rng.uniform(0, 2 * np.pi, (3, n))
    amp = rng.normal(0, cfg["warp_mm"], (3, n))
    # |∂d_a/∂u| ≤ Σ_m |amp|·2π/λ per axis; keeping the Jacobian's row sums ≤ MAX_WARP_GRADIENT (< 1)
    # makes u ↦ u + d(u) invertible (no folding), however large warp_mm is.
    slope = (np.abs(amp) * 2 * np.pi / lam).sum(axis=1, keepdims=True)
    amp *= np.minimum(1.0, MAX_WARP_GRADIENT / slope)
    return {
        "direction": k.tolist(),
        "wavelength": lam.tolist(),
        "phase": phase.tolist(),
        "amplitude": amp.tolist(),
    }


def warp_displacement(u: np.ndarray, warp: dict) -> np.ndarray:
    """Displacement d(u) (N x 3, mm) of the warp at points u (N x 3, MNI mm).

    Parameters
    ----------
    u : ndarray, shape (N, 3)
        MNI points (mm).
    warp : dict
        Warp parameters (:func:`warp_params`).

    Returns
    -------
    ndarray, shape (N, 3)
    """
    k, lam = np.asarray(warp["direction"]), np.asarray(warp["wavelength"])
    phi, amp = np.asarray(warp["phase"]), np.asarray(warp["amplitude"])
    d = np.empty_like(u, dtype=float)
    for axis in range(3):
        arg = 2 * np.pi * (u @ k[axis].T) / lam[axis] + phi[axis]
        d[:, axis] = np.sin(arg) @ amp[axis]
    return d


def native_to_mni(points: np.ndarray, pose: np.ndarray, warp: dict, motion=None) -> np.ndarray:
    """MNI point shown at scanner points q (N x 3): ``p = u + d(u)``, ``u = H⁻¹ M⁻¹ q``.

    Parameters
    ----------
    points : ndarray, shape (N, 3)
        Scanner points q (mm).
    pose : ndarray, shape (4, 4)
        Participant pose H (MNI → scanner, :func:`participant_pose`).
    warp : dict
        Warp parameters (:func:`warp_params`).
    motion : sequence of 6 float or None, default None
        Rigid motion M (trans mm, rot rad, :func:`rigid_matrix`); None: head at rest (volume 0).

    Returns
    -------
    ndarray, shape (N, 3)
    """
    m = np.linalg.inv(pose) if motion is None else np.linalg.inv(rigid_matrix(motion) @ pose)
    u = apply_affine(m, points)
    return u + warp_displacement(u, warp)


def mni_to_native(
    points: np.ndarray, pose: np.ndarray, warp: dict, tol: float = 1e-6, max_iter: int = 100
) -> np.ndarray:
    """Inverse of :func:`native_to_mni` at rest.

    Solves ``u + d(u) = p`` by fixed-point iteration (``u ← p − d(u)``; converges since |∇d| < 1)
    until no point moves more than ``tol`` mm (or ``max_iter`` steps), then ``q = H u``.

    Parameters
    ----------
    points : ndarray, shape (N, 3)
        MNI points p (mm).
    pose : ndarray, shape (4, 4)
        Participant pose H (MNI → scanner, :func:`participant_pose`).
    warp : dict
        Warp parameters (:func:`warp_params`).
    tol : float, default 1e-06
        Convergence tolerance (mm).
    max_iter : int, default 100
        Largest number of iterations.

    Returns
    -------
    ndarray, shape (N, 3)
        Scanner points q (mm).
    """
    u = np.array(points, float)
    for _ in range(max_iter):
        new = points - warp_displacement(u, warp)
        done = np.abs(new - u).max() < tol
        u = new
        if done:
            break
    return apply_affine(pose, u)
