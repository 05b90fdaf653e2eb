"""Time series of some voxels of a 4-D image, without a float copy of the whole image.

The QC gates and the accuracy scores need the series of a brain mask's or a few ROIs' voxels only.
``np.asarray(img.dataobj, dtype=np.float32)[mask]`` scales every voxel of the run first (for an
int16 file with a float64 slope, through a float64 array of the whole run: 420 MB for 166 volumes
on the 3 mm grid); :func:`masked_series` scales the selected voxels only, with the same arithmetic
(nibabel's :func:`~nibabel.volumeutils.apply_read_scaling` on the same slope and intercept, cast to
float32 as nibabel casts), so the values are the same to the last bit.
"""

from __future__ import annotations

import nibabel as nib
import numpy as np
from nibabel.volumeutils import apply_read_scaling

__all__ = ["masked_series", "temporal_mean_sd"]


def masked_series(img: nib.Nifti1Image, mask: np.ndarray) -> np.ndarray:
    """float32 series (voxels × volumes) of ``mask``'s voxels: ``np.asarray(img.dataobj, np.float32)[mask]``.

    For an image read from a file the raw (unscaled) values are read, the mask's voxels selected and
    only those scaled, as :meth:`nibabel.arrayproxy.ArrayProxy.__array__` scales them (a slope or
    intercept that casts safely to float32 is applied in float32, otherwise in the wider type, then
    the result is cast to float32).  An image held in memory is indexed directly.

    Parameters
    ----------
    img : Nifti1Image
        4-D image.
    mask : ndarray of bool, shape ``img.shape[:3]``
        Voxels wanted.

    Returns
    -------
    ndarray, shape (mask.sum(), img.shape[3]), float32
        Voxels in C order of their indices (as boolean indexing orders them).

    Raises
    ------
    ValueError
        If ``mask`` is not on the image's 3-D grid.
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != img.shape[:3]:
        raise ValueError(
            f"mask of shape {mask.shape} for an image of shape {img.shape} (rule: same 3-D grid)"
        )
    proxy = img.dataobj
    if not (nib.is_proxy(proxy) and hasattr(proxy, "get_unscaled")):
        return np.asarray(proxy, dtype=np.float32)[mask]
    raw = np.asanyarray(proxy.get_unscaled())[mask]
    slope, inter = np.asanyarray(proxy.slope), np.asanyarray(proxy.inter)
    if np.can_cast(slope, np.float32):  # nibabel's rule (ArrayProxy._get_scaled) for dtype=float32
        slope = slope.astype(np.float32)
    if np.can_cast(inter, np.float32):
        inter = inter.astype(np.float32)
    return apply_read_scaling(raw, slope, inter).astype(np.float32, copy=False)


def temporal_mean_sd(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and SD over volumes of a (voxels × volumes) float32 series, summed volume after volume.

    Equal to the bits to ``data.mean(axis=3)`` and ``data.std(axis=3)`` of the whole run read from a
    NIfTI file (Fortran order, so NumPy adds the volumes one after another rather than pairwise).

    Parameters
    ----------
    series : ndarray, shape (n_voxels, n_volumes)
        :func:`masked_series`.

    Returns
    -------
    mean, sd : ndarray, shape (n_voxels,)
    """
    by_volume = np.ascontiguousarray(series.T)  # volumes outermost: the sums run over volumes in order
    return by_volume.mean(axis=0), by_volume.std(axis=0)
