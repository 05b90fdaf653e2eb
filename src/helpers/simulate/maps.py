"""What the twin's images are made of: tissue on a grid, smooth random fields, baseline and component maps.

The signal at MNI point x and time t is ``S(x, t) = S0(x)(1 + Σ_k map_k(x) ts_k(t)/100)``; a
:class:`Maps` holds S0 and the maps on one grid, moves them to another grid or through a
participant's warp (:mod:`helpers.simulate.coordinates`), and gives noise-free volumes.
"""

from __future__ import annotations

import numpy as np
from nibabel.affines import apply_affine
from scipy import ndimage

from .coordinates import warp_displacement
from .resampling import resample_grid

__all__ = ["smooth_field", "Maps", "build_maps", "tissue_on_grid", "load_tissue_templates"]


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

        Sampling M_w at u = H⁻¹ M_t⁻¹ q gives the tissue of :func:`.coordinates.native_to_mni`.
        Evaluated only where the result can be non-zero: the support of S0 dilated by the largest
        displacement.

        Parameters
        ----------
        warp : dict
            Warp parameters (:func:`.coordinates.warp_params`).

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
    """Baseline S0 and the component maps (order of :func:`.signals.component_names`) on one grid.

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
