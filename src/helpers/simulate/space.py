"""Spatial side of the twin: grids, tissue and component maps, native anatomy, resampling.

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
from scipy import ndimage

from ..preprocess.resample import mni_grid

__all__ = [
    "mni_grid",
    "native_affine",
    "rigid_matrix",
    "participant_pose",
    "warp_params",
    "warp_displacement",
    "native_to_mni",
    "mni_to_native",
    "resample_points",
    "resample_grid",
    "smooth_field",
    "Maps",
    "build_maps",
    "tissue_on_grid",
    "load_tissue_templates",
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


def resample_points(volume: np.ndarray, affine: np.ndarray, points: np.ndarray, order: int = 1) -> np.ndarray:
    """Values of ``volume`` (grid ``affine``) at world points (N x 3); 0 outside.

    Parameters
    ----------
    volume : ndarray, 3-D
        Data.
    affine : ndarray, shape (4, 4)
        Voxel-to-world (mm) matrix of ``volume``.
    points : ndarray, shape (N, 3)
        World points (mm).
    order : int, default 1
        Spline order of ``scipy.ndimage.map_coordinates`` (no prefilter; 1 = trilinear).

    Returns
    -------
    ndarray, shape (N,)
    """
    ijk = apply_affine(np.linalg.inv(affine), points)
    return ndimage.map_coordinates(volume, ijk.T, order=order, mode="constant", cval=0.0, prefilter=False)


def resample_grid(
    volume: np.ndarray, affine: np.ndarray, shape, target_affine: np.ndarray, order: int = 1
) -> np.ndarray:
    """``volume`` (grid ``affine``) resampled onto the grid (``shape``, ``target_affine``); 0 outside.

    One ``scipy.ndimage.affine_transform`` with matrix ``affine⁻¹ · target_affine`` (no coordinate arrays).

    Parameters
    ----------
    volume : ndarray, 3-D
        Data.
    affine : ndarray, shape (4, 4)
        Voxel-to-world (mm) matrix of ``volume``.
    shape : sequence of int
        Target grid shape.
    target_affine : ndarray, shape (4, 4)
        Target voxel-to-world matrix.
    order : int, default 1
        Spline order (no prefilter; 1 = trilinear).

    Returns
    -------
    ndarray
        Shape ``shape``.
    """
    m = np.linalg.inv(affine) @ target_affine
    return ndimage.affine_transform(
        volume,
        m[:3, :3],
        offset=m[:3, 3],
        output_shape=tuple(shape),
        order=order,
        mode="constant",
        cval=0.0,
        prefilter=False,
    )


def smooth_field(shape, zooms, fwhm_mm: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian random field: white noise smoothed by a Gaussian of ``fwhm_mm``, standardised.

    σ (voxels) = fwhm_mm / 2.3548 / zooms; the result has mean 0 and SD 1.

    Parameters
    ----------
    shape : sequence of int
        Grid shape.
    zooms : sequence of float
        Voxel sizes (mm).
    fwhm_mm : float
        Smoothing kernel's full width at half maximum (mm).
    rng : numpy.random.Generator
        Generator of the white noise.

    Returns
    -------
    ndarray
    """
    sigma = fwhm_mm / 2.3548 / np.asarray(zooms, float)
    f = ndimage.gaussian_filter(rng.standard_normal(shape), sigma)
    return (f - f.mean()) / f.std()


class Maps:
    """Baseline and component maps on one grid, stored over the voxels where the baseline is > 0.

    Attributes: ``shape``, ``affine``, ``inside`` (flat indices), ``s0`` (baseline, n_inside),
    ``weights`` (n_inside x K, baseline x map / 100: the signal change per unit of each component),
    ``tissue`` (dict gm/wm/csf -> full 3-D probability arrays).
    """

    def __init__(self, shape, affine, s0_full, maps_full, tissue):
        self.shape, self.affine, self.tissue = tuple(shape), affine, tissue
        self.s0_full, self.maps_full = s0_full, maps_full
        self.inside = np.flatnonzero(s0_full.ravel() > 0)
        self.s0 = s0_full.ravel()[self.inside].astype(np.float32)
        self.weights = np.stack([m.ravel()[self.inside] for m in maps_full], axis=1).astype(np.float32)
        self.weights *= self.s0[:, None] / 100.0

    def on_grid(self, shape, affine, tissue: dict) -> Maps:
        """The same maps resampled (trilinear) to another grid, e.g. the 3 mm derivatives grid.

        Parameters
        ----------
        shape : sequence of 3 int
            Target grid shape.
        affine : ndarray, shape (4, 4)
            Target voxel-to-world matrix (MNI mm).
        tissue : dict
            Tissue probabilities on the target grid (:func:`tissue_on_grid`), stored as they are.

        Returns
        -------
        Maps
        """
        s0 = resample_grid(self.s0_full, self.affine, shape, affine)
        maps = [resample_grid(m, self.affine, shape, affine) for m in self.maps_full]
        return Maps(shape, affine, s0, maps, tissue)

    def warped(self, warp: dict) -> Maps:
        """Maps of a participant's warped anatomy on the same grid: ``M_w(u) = M(u + d(u))`` (trilinear).

        Sampling M_w at u = H⁻¹ M_t⁻¹ q gives the tissue of :func:`native_to_mni`.  Evaluated only where
        the result can be non-zero: the support of S0 dilated by the largest displacement.

        Parameters
        ----------
        warp : dict
            Warp parameters (:func:`warp_params`).

        Returns
        -------
        Maps
        """
        res = float(np.abs(self.affine[0, 0]))
        support = self.s0_full > 0
        u_all = apply_affine(self.affine, np.argwhere(support))
        reach = int(np.ceil(np.abs(warp_displacement(u_all, warp)).max() / res)) + 2
        where = ndimage.binary_dilation(support, iterations=reach)
        idx = np.argwhere(where)
        u = apply_affine(self.affine, idx)
        ijk = apply_affine(np.linalg.inv(self.affine), u + warp_displacement(u, warp)).T

        def warp_one(vol):
            out = np.zeros(self.shape, np.float32)
            out[where] = ndimage.map_coordinates(
                vol, ijk, order=1, mode="constant", cval=0.0, prefilter=False
            )
            return out

        return Maps(
            self.shape,
            self.affine,
            warp_one(self.s0_full),
            [warp_one(m) for m in self.maps_full],
            self.tissue,
        )

    def volume(self, ts_row: np.ndarray, spin: float = 1.0) -> np.ndarray:
        """Noise-free 3-D volume for one time point: ``(S0 + Σ_k weights_k · ts_row_k) · spin``.

        Parameters
        ----------
        ts_row : ndarray, shape (K,)
            Component values at this time point (percent).
        spin : float, default 1.0
            Spin-history intensity factor of this volume.

        Returns
        -------
        ndarray of float32
            Shape ``self.shape``; 0 outside the baseline's support.
        """
        out = np.zeros(int(np.prod(self.shape)), np.float32)
        out[self.inside] = (self.s0 + self.weights @ ts_row.astype(np.float32)) * spin
        return out.reshape(self.shape)

    def series(self, ts: np.ndarray, spin: np.ndarray) -> np.ndarray:
        """Noise-free 4-D array, time first: (T,) + shape, for all time points at once.

        Parameters
        ----------
        ts : ndarray, shape (T, K)
            Component time series (percent).
        spin : ndarray, shape (T,)
            Spin-history intensity factor per time point.

        Returns
        -------
        ndarray of float32, shape (T, *self.shape)
        """
        vals = (self.s0[:, None] + self.weights @ ts.T.astype(np.float32)) * spin[None, :].astype(np.float32)
        out = np.zeros((len(ts), int(np.prod(self.shape))), np.float32)
        out[:, self.inside] = vals.T
        return out.reshape((len(ts), *self.shape))


def tissue_on_grid(templates: dict, shape, affine) -> dict:
    """Resample 1 mm tissue probabilities to a grid.

    Same voxel size and an integer voxel offset: exact crop/pad.  Otherwise Gaussian
    pre-smoothing (FWHM = target voxel size − 1 mm, on the 1 mm grid) then trilinear interpolation,
    clipped to [0, 1].

    Parameters
    ----------
    templates : dict
        Tissue name -> (data, affine) (:func:`load_tissue_templates`).
    shape : sequence of int
        Target grid shape.
    affine : ndarray, shape (4, 4)
        Target voxel-to-world matrix.

    Returns
    -------
    dict
        Tissue name -> float32 probability array of shape ``shape``.
    """
    res = abs(affine[0, 0])
    out = {}
    for name, (data, aff) in templates.items():
        offset = apply_affine(np.linalg.inv(aff), affine[:3, 3])
        if np.allclose(np.diag(aff)[:3], np.diag(affine)[:3]) and np.allclose(offset, np.round(offset)):
            out[name] = _crop(data, np.round(offset).astype(int), shape)
            continue
        src = ndimage.gaussian_filter(data, (res - 1) / 2.3548) if res > 1 else data
        out[name] = np.clip(resample_grid(src, aff, shape, affine), 0, 1).astype(np.float32)
    return out


def _crop(data: np.ndarray, start: np.ndarray, shape) -> np.ndarray:
    """data[start : start + shape] with zero padding where it leaves the array."""
    out = np.zeros(shape, np.float32)
    lo = np.maximum(start, 0)
    hi = np.minimum(start + np.asarray(shape), data.shape)
    dst_lo = lo - start
    dst_hi = dst_lo + (hi - lo)
    out[tuple(slice(a, b) for a, b in zip(dst_lo, dst_hi))] = data[tuple(slice(a, b) for a, b in zip(lo, hi))]
    return out


def load_tissue_templates() -> dict:
    """nilearn's 1 mm GM, WM probabilities and CSF = brain mask x clip(1 − GM − WM, 0, 1)."""
    from ..atlas import load_template

    gm_img = load_template(1, "gm")
    gm = np.asarray(gm_img.dataobj, np.float32)
    wm = np.asarray(load_template(1, "wm").dataobj, np.float32)
    mask = np.asarray(load_template(1, "mask").dataobj) > 0
    csf = np.where(mask, np.clip(1 - gm - wm, 0, 1), 0).astype(np.float32)
    aff = gm_img.affine
    return {"gm": (gm, aff), "wm": (wm, aff), "csf": (csf, aff)}


def build_maps(
    templates: dict, roi_maps: dict, shape, affine, sig: dict, rng: np.random.Generator, n_networks: int
) -> Maps:
    """Baseline S0 and the component maps (order of :func:`signals.component_names`) on one grid.

    S0 = (I_gm·GM + I_wm·WM + I_csf·CSF)·(1 + bias_pct/100·field_80mm), set to 0 where
    GM+WM+CSF < 0.05.  ROI maps: given.  GM networks: GM·field·(1 − ROI union).  GM task:
    GM·clip(0.5 + field, 0).  Physio: Σ_tissue physio_pct[tissue]·P_tissue·clip(1 + 0.4·field, 0).
    Drift: (GM+WM+CSF)·(1 + 0.3·field_60mm).  Fields without a stated width use
    ``spatial_smooth_mm``.  Random fields use ``rng`` (fixed ``map_seed``), so all participants
    share the maps.

    Parameters
    ----------
    templates : dict
        Tissue name -> (data, affine) at 1 mm.
    roi_maps : dict
        ``vmpfc``, ``amygdala_l``, ``amygdala_r`` -> soft ROI map on the grid.
    shape : sequence of int
        Grid shape.
    affine : ndarray, shape (4, 4)
        Grid voxel-to-world matrix.
    sig : dict
        The config's ``signals`` section (``intensity``, ``bias_field_pct``, ``spatial_smooth_mm``,
        ``physio_pct``).
    rng : numpy.random.Generator
        Generator seeded with ``map_seed``.
    n_networks : int
        Number of grey-matter networks.

    Returns
    -------
    Maps
    """
    zooms = np.abs(np.diag(affine)[:3])
    tissue = tissue_on_grid(templates, shape, affine)
    gm, wm, csf = tissue["gm"], tissue["wm"], tissue["csf"]
    brain = np.clip(gm + wm + csf, 0, 1)
    fwhm = sig["spatial_smooth_mm"]
    inten = sig["intensity"]
    bias = 1 + sig["bias_field_pct"] / 100 * smooth_field(shape, zooms, 80.0, rng)
    s0 = (inten["gm"] * gm + inten["wm"] * wm + inten["csf"] * csf) * bias
    s0[brain < 0.05] = 0
    rois = [roi_maps[name] for name in ("vmpfc", "amygdala_l", "amygdala_r")]
    union = np.clip(sum(rois), 0, 1)
    maps = list(rois)
    maps += [gm * smooth_field(shape, zooms, fwhm, rng) * (1 - union) for _ in range(n_networks)]
    maps.append(gm * np.clip(0.5 + smooth_field(shape, zooms, fwhm, rng), 0, None))
    pct = sig["physio_pct"]
    for _ in range(3):
        maps.append(
            sum(
                pct[t] * tissue[t] * np.clip(1 + 0.4 * smooth_field(shape, zooms, fwhm, rng), 0, None)
                for t in ("gm", "wm", "csf")
            )
        )
    maps.append(brain * (1 + 0.3 * smooth_field(shape, zooms, 60.0, rng)))
    return Maps(shape, affine, s0, maps, tissue)
