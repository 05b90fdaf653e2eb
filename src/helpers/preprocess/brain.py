"""Brain extraction of the structural image (skull, scalp, eyes and neck removed) before registration.

Real structurals show the whole head; the registration template is a brain.  Mutual information and
cross-correlation are then pulled by the scalp, the eyes and the neck (fat and muscle have no
counterpart in the template).  We therefore mask the structural first.

Method (intensity and morphology only: no model download, no external binary; works for T2w and
T1w contrasts):

1. Soft tissue = voxels above Otsu's threshold (Otsu 1979) of the image after a light Gaussian
   smoothing (FWHM one in-plane voxel) that tames the Rician noise.  Air, bone and (in a T2w)
   muscle fall below it; brain, scalp fat and the eyes above.
2. Erosion by ``erode_mm`` (distance transform in mm, so anisotropic voxels are handled): the thin
   bridges between the brain and the scalp (a few mm of partial volume through the dark skull)
   break; the largest connected component is the brain.
3. Dilation back by the same distance inside the bright tissue, then a closing by ``close_mm`` and
   hole filling (dark white matter in a T2w, dark CSF in a T1w are enclosed by brighter tissue).

The mask is a conservative brain outline; registration uses it dilated by a few mm (:func:`dilate`),
which keeps the brain's edge (the CSF/skull contrast) that drives the alignment.
"""

from __future__ import annotations

import logging

import nibabel as nib
import numpy as np
from scipy import ndimage

__all__ = ["BRAIN_DEFAULTS", "brain_mask", "dilate", "masked"]

log = logging.getLogger(__name__)

#: Settings of :func:`brain_mask` (recorded in the sidecars).
BRAIN_DEFAULTS = dict(method="otsu-erode-largest-component", erode_mm=6.0, close_mm=6.0, min_fraction=0.05)


def _zooms(img: nib.Nifti1Image) -> np.ndarray:
    return np.sqrt((img.affine[:3, :3] ** 2).sum(axis=0))


def _otsu(values: np.ndarray) -> float:
    from skimage.filters import threshold_otsu

    return float(threshold_otsu(values, nbins=256))


def _within(mask: np.ndarray, distance_mm: float, zooms) -> np.ndarray:
    """Voxels within ``distance_mm`` of ``mask`` (dilation by a ball in mm, via the distance transform)."""
    return ndimage.distance_transform_edt(~mask, sampling=zooms) <= distance_mm


def brain_mask(
    structural: nib.Nifti1Image,
    *,
    erode_mm: float = BRAIN_DEFAULTS["erode_mm"],
    close_mm: float = BRAIN_DEFAULTS["close_mm"],
    min_fraction: float = BRAIN_DEFAULTS["min_fraction"],
    participant: str = "",
) -> nib.Nifti1Image:
    """Brain mask (uint8 image on the structural's grid) by thresholds and morphology (module docstring).

    Parameters
    ----------
    structural : Nifti1Image
        3-D T2w or T1w image of the head.
    erode_mm : float, default=6.0
        Erosion (and re-dilation) distance separating the brain from the scalp.
    close_mm : float, default=6.0
        Closing distance that smooths the outline and closes sulci before filling holes.
    min_fraction : float, default=0.05
        Smallest acceptable brain volume as a fraction of the head; a smaller result raises
        ``ValueError`` (the image is then not a head, or its contrast is unusable).
    participant : str, default=""
        Named in error messages.

    Returns
    -------
    Nifti1Image
        uint8 mask (1 = brain).

    Raises
    ------
    ValueError
        If the image is not 3-D, is constant or not finite, nothing survives the erosion, or the
        brain found is smaller than ``min_fraction`` of the soft tissue.
    """
    data = np.asarray(structural.get_fdata(dtype=np.float32))
    if data.ndim != 3:
        raise ValueError(
            f"brain_mask: {participant or 'structural'}: image must be 3-D, got shape {data.shape}"
        )
    zooms = _zooms(structural)
    smooth = ndimage.gaussian_filter(data, zooms.min() / 2.3548 / zooms)
    if not np.isfinite(smooth).all() or smooth.max() <= smooth.min():
        raise ValueError(f"brain_mask: {participant or 'structural'}: the image is constant or not finite")
    bright = smooth > _otsu(smooth[smooth > smooth.min()])
    core = ndimage.distance_transform_edt(bright, sampling=zooms) > erode_mm
    labels, n = ndimage.label(core)
    if n == 0:
        raise ValueError(
            f"brain_mask: {participant or 'structural'}: nothing left after a {erode_mm} mm erosion; "
            "lower erode_mm"
        )
    sizes = ndimage.sum_labels(core, labels, index=np.arange(1, n + 1))
    brain = labels == 1 + int(np.argmax(sizes))
    brain = _within(brain, erode_mm, zooms) & bright
    brain = ~_within(~_within(brain, close_mm, zooms), close_mm, zooms)  # closing by a ball of close_mm
    brain = ndimage.binary_fill_holes(brain)
    for k in range(brain.shape[2]):  # a hole open through a thick slice's edge is still a hole in-plane
        brain[:, :, k] = ndimage.binary_fill_holes(brain[:, :, k])
    if brain.sum() < min_fraction * bright.sum():
        raise ValueError(
            f"brain_mask: {participant or 'structural'}: the brain found is {brain.sum()} voxels, "
            f"< {min_fraction} of the soft tissue ({bright.sum()} voxels)"
        )
    return nib.Nifti1Image(brain.astype(np.uint8), structural.affine)


def dilate(mask: nib.Nifti1Image, distance_mm: float) -> nib.Nifti1Image:
    """``mask`` dilated by ``distance_mm`` (a ball in mm, via the Euclidean distance transform).

    Parameters
    ----------
    mask : Nifti1Image
        Mask (voxels > 0).
    distance_mm : float
        Dilation radius (mm; the voxel sizes are taken from the affine).

    Returns
    -------
    Nifti1Image
        uint8 mask on the same grid.
    """
    data = np.asarray(mask.dataobj) > 0
    return nib.Nifti1Image(_within(data, distance_mm, _zooms(mask)).astype(np.uint8), mask.affine)


def masked(image: nib.Nifti1Image, mask: nib.Nifti1Image) -> nib.Nifti1Image:
    """``image`` (float32) set to 0 outside ``mask`` (same grid).

    Parameters
    ----------
    image : Nifti1Image
        3-D image.
    mask : Nifti1Image
        Mask on the same grid (voxels > 0 are kept).

    Returns
    -------
    Nifti1Image
    """
    data = np.asarray(image.get_fdata(dtype=np.float32)) * (np.asarray(mask.dataobj) > 0)
    return nib.Nifti1Image(data.astype(np.float32), image.affine)
