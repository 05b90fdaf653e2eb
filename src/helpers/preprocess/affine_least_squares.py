"""Affine registration by Gauss–Newton least squares against a template (SPM-style ``spm_affreg``).

The structural ``S`` is matched to a linear combination of template images ``P_k`` (e.g. the template
itself and its grey- and white-matter maps), times a linear bias field:

``S(M·T(δ)·p) ≈ Σ_k c_k P_k(p) + (Σ_k c_k P_k(p)) · (b · (p − c) / 100 mm)``

over the template's voxels ``p`` (every ``step``-th along each axis), both images smoothed by a
Gaussian of ``sigma`` mm.  ``M`` maps template world points to structural world points; ``T(δ)`` is
a small rigid (6) or affine (12) change of the template point around the grid's centre ``c``.  The
residual is linearised with the *template's* gradient (a fixed Jacobian, as SPM's realignment and
affine registration do), so each step is one trilinear interpolation of the structural at the
sample points and one small least-squares solve for ``δ``, the contrast ``c_k`` and the bias ``b``;
``M ← M·T(δ)`` until the update moves the sample points by less than ``tol`` mm (RMS), or
``max_iter`` steps.  The contrast weights make one template fit T1- and T2-weighted structurals
alike; the bias terms absorb a smooth intensity ramp.  Every sample point is used at every step: the
result is a smooth function of the input (no random sampling).

Source: Friston et al. (1995), *Spatial registration and normalization of images*, Hum Brain Mapp
3:165–189; Ashburner & Friston, SPM's ``spm_affreg.m`` (least-squares affine with template
gradients and intensity scaling).
"""

from __future__ import annotations

import numpy as np
from nibabel.affines import voxel_sizes
from scipy import ndimage
from scipy.spatial.transform import Rotation

__all__ = ["LEAST_SQUARES_LEVELS", "affine_least_squares"]

#: Pyramid of (degrees of freedom, Gaussian sigma in mm, sample step in template voxels).
LEAST_SQUARES_LEVELS = ((6, 9.0, 2), (12, 9.0, 2), (12, 3.0, 1), (12, 1.5, 1))

_BIAS_SCALE_MM = 100.0  # coordinates in units of 100 mm keep the design well conditioned


def _smooth(data: np.ndarray, affine: np.ndarray, sigma_mm: float) -> np.ndarray:
    data = np.asarray(data, dtype=np.float32)
    if sigma_mm <= 0:
        return data
    return ndimage.gaussian_filter(data, sigma_mm / voxel_sizes(affine), mode="constant")


def _geometry(grad: np.ndarray, v: np.ndarray, dof: int) -> np.ndarray:
    """Columns ``∂P(T(δ)p)/∂δ`` at δ = 0 from the world gradient ``grad`` (3, N), ``v = p − c`` (3, N)."""
    if dof == 6:  # translations, then rotations about x, y, z: ∂p/∂ω_k = e_k × v
        cols = list(grad) + [
            np.einsum("in,in->n", grad, np.cross(np.eye(3)[k][:, None], v, axis=0)) for k in range(3)
        ]
    else:  # T(δ)p = p + A·v/100 + t: 3 × 4 entries, row by row
        hom = np.vstack([v / _BIAS_SCALE_MM, np.ones_like(v[0])])
        cols = [grad[i] * hom[j] for i in range(3) for j in range(4)]
    return np.column_stack(cols)


def _update(delta: np.ndarray, dof: int, centre: np.ndarray) -> np.ndarray:
    """The 4 × 4 ``T(δ)`` of a solved step."""
    out = np.eye(4)
    if dof == 6:
        rot = Rotation.from_rotvec(delta[3:]).as_matrix()
        out[:3, :3] = rot
        out[:3, 3] = delta[:3] + centre - rot @ centre
    else:
        a = delta.reshape(3, 4)
        lin = a[:, :3] / _BIAS_SCALE_MM
        out[:3, :3] += lin
        out[:3, 3] = a[:, 3] - lin @ centre
    return out


def affine_least_squares(
    components,
    template_affine: np.ndarray,
    moving: np.ndarray,
    moving_affine: np.ndarray,
    start: np.ndarray,
    *,
    levels=LEAST_SQUARES_LEVELS,
    max_iter: int = 30,
    tol: float = 0.01,
) -> tuple[np.ndarray, list]:
    """Template world → structural world affine by least squares (module docstring).

    Parameters
    ----------
    components : sequence of ndarray
        Template images ``P_k`` on one grid (e.g. the template, its GM and WM maps).
    template_affine : ndarray, shape (4, 4)
        Voxel → world affine of ``components``.
    moving : ndarray
        The structural (3-D), brain-masked.
    moving_affine : ndarray, shape (4, 4)
        Its voxel → world affine.
    start : ndarray, shape (4, 4)
        Starting template world → structural world map (e.g. centres of mass).
    levels : sequence of (int, float, int), default :data:`LEAST_SQUARES_LEVELS`
        (degrees of freedom 6 or 12, Gaussian sigma in mm, sample step in template voxels), coarse to fine.
    max_iter : int, default 30
        Largest number of Gauss–Newton steps per level.
    tol : float, default 0.01
        Stop a level when a step moves the sample points by less than ``tol`` mm (RMS).

    Returns
    -------
    matrix : ndarray, shape (4, 4)
        Template world → structural world.
    steps : list of int
        Gauss–Newton steps taken at each level.

    Raises
    ------
    ValueError
        If the components' shapes differ, a level's degrees of freedom are not 6 or 12, or no sample
        point falls inside the structural.
    """
    components = [np.asarray(c, dtype=np.float32) for c in components]
    if len({c.shape for c in components}) != 1:
        raise ValueError(
            f"affine_least_squares: template components differ in shape: {[c.shape for c in components]}"
        )
    shape = components[0].shape
    current = np.asarray(start, dtype=float).copy()
    to_moving_voxels = np.linalg.inv(moving_affine)
    last = np.array(moving.shape[:3])[:, None] - 1
    centre = template_affine[:3, :3] @ ((np.array(shape) - 1) / 2.0) + template_affine[:3, 3]
    inv_t = np.linalg.inv(template_affine[:3, :3]).T  # voxel gradient → world gradient
    steps = []
    for dof, sigma, step in levels:
        if dof not in (6, 12):
            raise ValueError(f"affine_least_squares: a level's degrees of freedom must be 6 or 12, got {dof}")
        smoothed = [_smooth(c, template_affine, sigma) for c in components]
        vol = _smooth(moving, moving_affine, sigma)
        vox = np.stack(np.meshgrid(*[np.arange(0, n, step) for n in shape], indexing="ij")).reshape(3, -1)
        values = np.column_stack([c[tuple(vox)] for c in smoothed]).astype(float)
        keep = np.abs(values).sum(axis=1) > 0  # template signal (smoothed): elsewhere no gradient either
        vox, values = vox[:, keep], values[keep]
        grads = [inv_t @ np.stack([g[tuple(vox)] for g in np.gradient(c)]) for c in smoothed]
        world = template_affine[:3, :3] @ vox + template_affine[:3, 3:4]
        hom = np.vstack([world, np.ones_like(world[0])])
        v = world - centre[:, None]
        weights, taken, moved = None, 0, np.inf
        while moved >= tol and taken < max_iter:
            taken += 1
            pts = (to_moving_voxels @ current @ hom)[:3]
            inside = np.all((pts >= 0) & (pts <= last), axis=0)
            if not inside.any():
                raise ValueError("affine_least_squares: no template sample point falls inside the structural")
            sampled = ndimage.map_coordinates(vol, pts, order=1, mode="nearest")
            if weights is None:  # contrast of the starting position: weights of the template gradient
                weights = np.linalg.lstsq(values[inside], sampled[inside], rcond=None)[0]
            model = values @ weights
            intensity = np.column_stack([values, model[:, None] * v.T / _BIAS_SCALE_MM])
            geometry = _geometry(sum(w * g for w, g in zip(weights, grads)), v, dof)
            x = np.column_stack([geometry, -intensity])[inside]
            solution = np.linalg.solve(x.T @ x, -x.T @ sampled[inside])
            delta, weights = solution[: geometry.shape[1]], solution[geometry.shape[1] : -3]
            change = _update(delta, dof, centre)
            current = current @ change
            moved = np.sqrt((((change - np.eye(4))[:3] @ hom[:, inside]) ** 2).sum(axis=0).mean())
        steps.append(taken)
    return current, steps
