"""One resampling of every BOLD volume to MNI space, composing normalisation, coregistration and motion.

For an output voxel with MNI world position ``y`` the source position in volume ``t`` is

    ``v_t(y) = A_func⁻¹ · M_t · C · N(y)``

with ``N`` the MNI → structural map (affine + SyN warp, :mod:`.normalise`), ``C`` the structural →
mean-functional rigid matrix (:mod:`.coregister`) and ``M_t`` the motion matrix of volume ``t``
(:mod:`.realign`).  ``N`` and ``C`` are evaluated once per participant; each volume then needs one
4 × 4 product and one interpolation — the data are interpolated exactly once (no chain of resamplings).
Smoothing (Gaussian, FWHM 8 mm as in the paper) is applied afterwards to a copy.
"""

from __future__ import annotations

import functools
import warnings

import nibabel as nib
import numpy as np
from scipy import ndimage

from .realign import FWHM_TO_SIGMA

#: MNI bounding box (mm) of the derivatives' grid and the twin's: the template's extent.
MNI_EXTENT = ((-96.0, 96.0), (-132.0, 96.0), (-72.0, 114.0))


def box_grid(extent, resolution: float) -> tuple[tuple[int, int, int], np.ndarray]:
    """Shape and affine of the isotropic grid of ``resolution`` mm over ``extent`` ((lo, hi) per axis, mm).

    The first voxel is at ``lo``; each axis has ``floor((hi − lo) / resolution) + 1`` voxels.

    Parameters
    ----------
    extent : sequence of 3 (float, float)
        (lo, hi) per axis (world mm).
    resolution : float
        Voxel size (mm).

    Returns
    -------
    shape : tuple of int
    affine : ndarray, shape (4, 4)
    """
    lo = np.array([e[0] for e in extent], dtype=float)
    hi = np.array([e[1] for e in extent], dtype=float)
    shape = tuple(int(n) for n in np.floor((hi - lo) / resolution) + 1)
    affine = np.diag([float(resolution)] * 3 + [1.0])
    affine[:3, 3] = lo
    return shape, affine


def mni_grid(resolution: float) -> tuple[tuple[int, int, int], np.ndarray]:
    """Shape and affine of the isotropic MNI grid over :data:`MNI_EXTENT` (derivatives and twin).

    Parameters
    ----------
    resolution : float
        Voxel size (mm).

    Returns
    -------
    shape : tuple of int
    affine : ndarray, shape (4, 4)
    """
    return box_grid(MNI_EXTENT, resolution)


__all__ = [
    "coarsen",
    "grid_points",
    "resample_series",
    "smooth_series",
    "template_tissue",
    "scatter",
    "as_image",
]


def coarsen(img: nib.Nifti1Image, zooms) -> nib.Nifti1Image:
    """``img`` (3-D) on a grid of voxels no smaller than ``zooms`` (mm) along each axis, same field of view.

    Each axis is coarsened by the integer factor ``max(1, round(zoom / voxel size))`` after a Gaussian
    anti-aliasing filter (FWHM = the new voxel size along axes that are coarsened); registration
    then works at the resolution the analysis needs instead of the structural's in-plane one.

    Parameters
    ----------
    img : Nifti1Image
        3-D image.
    zooms : sequence of 3 float
        Target voxel sizes (mm).

    Returns
    -------
    Nifti1Image
        ``img`` itself when no axis is coarsened, else a float32 image.
    """
    data = np.asarray(img.get_fdata(dtype=np.float32))
    vox = np.sqrt((img.affine[:3, :3] ** 2).sum(axis=0))
    factor = np.maximum(1, np.rint(np.asarray(zooms, float) / vox)).astype(int)
    if (factor == 1).all():
        return img
    sigma = np.where(factor > 1, factor * FWHM_TO_SIGMA, 0.0)
    smooth = ndimage.gaussian_filter(data, sigma)
    # voxel centre of the coarse voxel j at (j + 0.5)·f − 0.5 in the fine grid
    start = (factor - 1) / 2.0
    shape = tuple(int(n) for n in np.ceil(np.asarray(data.shape) / factor))
    out = ndimage.affine_transform(
        smooth, factor.astype(float), offset=start, output_shape=shape, order=1, mode="nearest"
    )
    affine = img.affine.copy()
    affine[:3, :3] = img.affine[:3, :3] * factor
    affine[:3, 3] = img.affine[:3, :3] @ start + img.affine[:3, 3]
    return nib.Nifti1Image(out.astype(np.float32), affine)


def grid_points(shape, affine) -> np.ndarray:
    """World coordinates (N, 3) of every voxel of a grid, in C order.

    Parameters
    ----------
    shape : sequence of 3 int
        Grid shape.
    affine : ndarray, shape (4, 4)
        Voxel-to-world (mm) matrix.

    Returns
    -------
    ndarray, shape (N, 3)
    """
    idx = np.indices(tuple(shape)).reshape(3, -1).T.astype(float)
    return idx @ np.asarray(affine)[:3, :3].T + np.asarray(affine)[:3, 3]


def resample_series(
    data: np.ndarray, func_affine: np.ndarray, matrices: np.ndarray, points: np.ndarray, order: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Sample each volume ``t`` at ``A⁻¹·M_t·p`` for the functional-space points ``p`` (one interpolation).

    Parameters
    ----------
    data : ndarray (X, Y, Z, T)
        Raw BOLD series.
    func_affine : ndarray (4, 4)
        Its voxel → world affine.
    matrices : ndarray (T, 4, 4)
        Motion matrices (:func:`helpers.preprocess.realign.realign`).
    points : ndarray (N, 3)
        Functional world points ``C·N(y)`` of the output voxels ``y``.
    order : int, default 1
        Spline order (1 trilinear, as SPM8's normalise write default ``interp`` = 1, which the
        paper used; 3 cubic; SPM12's default is a 4th-degree B-spline).

    Returns
    -------
    values : ndarray (N, T), float32
        Resampled series; points sampled outside the field of view in any volume are 0.
    coverage : ndarray (N,), bool
        Points inside the functional field of view (± half a voxel) in every volume.
    """
    hom = np.column_stack([points, np.ones(len(points))]).T
    inv = np.linalg.inv(func_affine)
    upper = np.array(data.shape[:3])[:, None] - 1
    out = np.empty((len(points), data.shape[3]), dtype=np.float32)
    coverage = np.ones(len(points), dtype=bool)
    for t in range(data.shape[3]):
        vox = (inv @ matrices[t] @ hom)[:3]
        coverage &= np.all((vox >= -0.5) & (vox <= upper + 0.5), axis=0)
        vol = np.ascontiguousarray(data[..., t], dtype=np.float32)
        out[:, t] = ndimage.map_coordinates(vol, vox, order=order, mode="nearest")
    out[~coverage] = 0.0
    return out, coverage


def smooth_series(data: np.ndarray, affine: np.ndarray, fwhm: float = 8.0) -> np.ndarray:
    """Gaussian smoothing of every volume with FWHM ``fwhm`` mm (σ = FWHM/√(8 ln 2)), none across time.

    Zero outside the grid (``mode="constant"``).

    Parameters
    ----------
    data : ndarray (X, Y, Z, T)
        Series.
    affine : ndarray, shape (4, 4)
        Voxel → world affine (voxel sizes from its columns).
    fwhm : float, default 8.0
        Kernel FWHM (mm); the paper smoothed with 8 mm.

    Returns
    -------
    ndarray of float32
    """
    zooms = np.sqrt((np.asarray(affine)[:3, :3] ** 2).sum(axis=0))
    sigma = [*(fwhm * FWHM_TO_SIGMA / zooms), 0.0]
    return ndimage.gaussian_filter(np.asarray(data, dtype=np.float32), sigma, mode="constant")


def template_tissue(shape, affine) -> dict[str, np.ndarray]:
    """GM/WM/CSF probability maps and brain mask of the MNI152 template on the output grid (cached).

    In MNI space after normalisation each participant's tissue classes are the template's
    (we do not segment the participant's structural).  CSF = brain mask − GM − WM, clipped to
    [0, 1].  Linear interpolation of nilearn's 1 mm maps (mask: ≥ 0.5 after interpolation).  The
    arrays are shared between calls: do not modify them.

    Parameters
    ----------
    shape : sequence of 3 int
        Output grid shape.
    affine : ndarray, shape (4, 4)
        Output grid affine.

    Returns
    -------
    dict
        ``GM``, ``WM``, ``CSF`` (float arrays) and ``mask`` (bool).
    """
    return _template_tissue(tuple(int(n) for n in shape), tuple(map(tuple, np.asarray(affine, float))))


@functools.lru_cache(maxsize=4)
def _template_tissue(shape, affine) -> dict[str, np.ndarray]:
    """GM/WM/CSF probability maps and brain mask of the MNI152 template on the output grid.

    In MNI space after normalisation each participant's tissue classes are the template's
    (we do not segment the participant's structural).  CSF = brain mask − GM − WM, clipped at 0.
    Linear interpolation of nilearn's 1 mm maps (mask: ≥ 0.5 after interpolation).
    """
    from nilearn import image as nimg

    from helpers.atlas import load_template

    target = dict(
        target_affine=np.asarray(affine),
        target_shape=tuple(shape),
        interpolation="continuous",
        force_resample=True,
        copy_header=True,
    )
    maps = {}
    for kind in ("gm", "wm", "mask"):
        img = load_template(1, kind)
        img = nib.Nifti1Image(img.get_fdata(dtype=np.float32), img.affine)
        with warnings.catch_warnings():  # the binary mask is interpolated on purpose, then thresholded
            warnings.filterwarnings("ignore", message="Resampling binary images")
            maps[kind] = np.clip(nimg.resample_img(img, **target).get_fdata(), 0, 1)
    return {
        "GM": maps["gm"],
        "WM": maps["wm"],
        "CSF": np.clip(maps["mask"] - maps["gm"] - maps["wm"], 0, 1),
        "mask": maps["mask"] >= 0.5,
    }


def scatter(values: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Put per-point values (N, ...) back on the grid: zeros outside the boolean ``support`` (C order).

    Parameters
    ----------
    values : ndarray, shape (N, ...)
        One row per True voxel of ``support``.
    support : ndarray of bool, 3-D
        Voxels the rows belong to.

    Returns
    -------
    ndarray, shape ``support.shape + values.shape[1:]``
    """
    out = np.zeros((*support.shape, *values.shape[1:]), dtype=values.dtype)
    out[support] = values
    return out


def as_image(
    data: np.ndarray, affine: np.ndarray, dtype=np.float32, tr: float | None = None
) -> nib.Nifti1Image:
    """A NIfTI image with sform/qform code 4 (MNI) and, for 4-D data, the TR in the header zooms.

    ``dtype`` is the on-disk type; for ``int16`` nibabel stores float data with a scale factor.

    Parameters
    ----------
    data : ndarray, 3-D or 4-D
        Image data (held as float32 in memory).
    affine : ndarray, shape (4, 4)
        Voxel → MNI world (mm).
    dtype : numpy dtype, default numpy.float32
        On-disk data type.
    tr : float or None, default None
        Repetition time (s) written as the fourth zoom of 4-D data.

    Returns
    -------
    Nifti1Image
    """
    img = nib.Nifti1Image(np.asarray(data, dtype=np.float32), affine)
    img.header.set_data_dtype(dtype)
    img.header.set_xyzt_units("mm", "sec")
    if tr is not None and data.ndim == 4:
        img.header.set_zooms(img.header.get_zooms()[:3] + (float(tr),))
    img.set_sform(affine, code=4)
    img.set_qform(affine, code=4)
    return img
