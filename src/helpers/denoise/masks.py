"""CONN's WM/CSF masks (threshold, one erosion step) and sampling the BOLD at their voxels.

Follows ``book/spec_conn.md`` §4 and ``conn_process.m`` (tissue-mask threshold and erosion).
"""

from __future__ import annotations

import logging
import warnings

import nibabel as nib
import numpy as np
from scipy import ndimage

log = logging.getLogger(__name__)


def tissue_probabilities(prob: np.ndarray, name: str = "probseg image") -> np.ndarray:
    """Tissue probabilities in [0, 1]; a map saved in percent (0–100) is rescaled, with a warning.

    fMRIPrep writes probabilities in [0, 1]; maps converted or exported by hand sometimes hold percent
    (0–100).  A WM or CSF map always has voxels near certainty, so its maximum tells the unit apart:

    * max ≤ 1 (+1e-6): probabilities, returned as they are;
    * 50 < max ≤ 100 (+1e-6): percent — divided by 100, with a ``UserWarning`` naming the file
      (CONN's threshold 0.5 applied to percent would keep almost every voxel of the head);
    * anything else (negative values, 1 < max ≤ 50, max > 100): ``ValueError`` naming the file and
      the rule — e.g. a label map (``dseg``) or a 0–255 export given instead of a ``probseg``.

    Parameters
    ----------
    prob : ndarray
        Probability values (any shape; NaN/inf are ignored when judging the unit).
    name : str, default "probseg image"
        File name used in the warning and error messages.

    Returns
    -------
    ndarray
        ``prob`` itself, or ``prob / 100``.

    Raises
    ------
    ValueError
        If the values are neither probabilities nor percent (rules above).
    """
    finite = prob[np.isfinite(prob)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    tol = 1e-6
    if low < -tol:
        raise ValueError(
            f"{name}: tissue probability map has negative values (min {low:g}); "
            "rule: probabilities in [0, 1] (or percent in [0, 100])"
        )
    if high <= 1 + tol:
        return prob
    if 50 < high <= 100 + tol:
        message = f"{name}: tissue probabilities look like percent (max {high:g}); divided by 100"
        warnings.warn(message, stacklevel=3)
        log.warning(message)
        return prob / 100.0
    raise ValueError(
        f"{name}: tissue probability map has max {high:g}; rule: probabilities in [0, 1] "
        "(fMRIPrep's label-<WM|CSF>_probseg) or percent in [0, 100] — is it a label map (dseg)?"
    )


def tissue_mask(
    probseg_img, threshold: float = 0.5, max_below: int = 1, fallback: bool = False
) -> nib.Nifti1Image:
    """CONN's WM/CSF mask: probability > threshold, then one erosion step (book/spec_conn.md §4).

    A voxel with p > ``threshold`` survives if at most ``max_below`` voxels of its
    3×3×3 neighbourhood (itself included) have p < ``threshold``; voxels on the
    volume's border are dropped (``conn_process.m``: ``ERODE = 1``,
    ``NEIGHB = 1``, ``binary_threshold = .5``).

    Parameters
    ----------
    probseg_img : nibabel image or path
        3-D tissue probability map (e.g. fMRIPrep's ``label-WM_probseg``); a map in percent is
        rescaled with a warning (:func:`tissue_probabilities`).
    threshold : float, default 0.5
        Probability a voxel must exceed (CONN's ``binary_threshold``).
    max_below : int, default 1
        Largest number of below-threshold voxels allowed in the 3×3×3 neighbourhood (CONN's
        ``NEIGHB``).
    fallback : bool, default False
        If the erosion leaves no voxel (coarse grids), warn and return the thresholded,
        un-eroded mask instead of raising (CONN raises).

    Returns
    -------
    nibabel.Nifti1Image
        Boolean (uint8) mask on the probability map's grid.

    Raises
    ------
    ValueError
        If the image is not 3-D, or no voxel survives the threshold or erosion.
    """
    img = (
        nib.load(probseg_img) if not isinstance(probseg_img, nib.spatialimages.SpatialImage) else probseg_img
    )
    name = getattr(img, "get_filename", lambda: None)() or "probseg image"
    prob = np.asarray(img.dataobj, dtype=float)
    if prob.ndim == 4 and prob.shape[3] == 1:
        prob = prob[..., 0]
    if prob.ndim != 3:
        raise ValueError(f"{name}: tissue probability map must be 3-D, got shape {prob.shape}")
    prob = tissue_probabilities(prob, name)
    above = prob > threshold
    if not above.any():
        raise ValueError(f"{name}: no voxel has probability > {threshold} (check the segmentation)")
    below = (prob < threshold).astype(np.int16)
    n_below = ndimage.convolve(below, np.ones((3, 3, 3), dtype=np.int16), mode="constant", cval=0)
    interior = np.zeros_like(above)
    interior[1:-1, 1:-1, 1:-1] = True
    mask = above & interior & (n_below <= max_below)
    if not mask.any():
        message = (
            f"{name}: no voxel survives the one-step erosion ({int(above.sum())} voxels above {threshold})"
        )
        if not fallback:
            raise ValueError(message)
        warnings.warn(message + "; using the un-eroded mask", stacklevel=2)
        log.warning("%s; using the un-eroded mask", message)
        mask = above
    return nib.Nifti1Image(mask.astype(np.uint8), img.affine)


def mask_voxels(mask_img, data_shape, data_affine) -> np.ndarray:
    """Voxel coordinates (n × 3, int) on a data grid of the voxels of ``mask_img``.

    Mask voxels are mapped to the data grid by nearest neighbour (book/spec_conn.md §4:
    "the functional data are sampled at the mask voxels by nearest neighbour");
    on an identical grid this is plain indexing.  Mask voxels falling outside the
    data's field of view are dropped; several mask voxels may sample the same data
    voxel (each counts, as in CONN).

    Parameters
    ----------
    mask_img : nibabel image or path
        Mask; voxels with a value > 0 are taken.
    data_shape : tuple of int
        Shape of the data (only the first three dimensions are used).
    data_affine : ndarray, shape (4, 4)
        Voxel-to-world (mm) matrix of the data.

    Returns
    -------
    ndarray of int, shape (n, 3)
        Data-grid voxel indices.

    Raises
    ------
    ValueError
        If no mask voxel falls inside the data's field of view.
    """
    img = nib.load(mask_img) if not isinstance(mask_img, nib.spatialimages.SpatialImage) else mask_img
    mask = np.asanyarray(img.dataobj) > 0
    ijk = np.argwhere(mask)
    shape = np.array(data_shape[:3])
    if mask.shape == tuple(shape) and np.allclose(img.affine, data_affine, atol=1e-4):
        return ijk
    world = nib.affines.apply_affine(img.affine, ijk)
    vox = np.rint(nib.affines.apply_affine(np.linalg.inv(data_affine), world)).astype(int)
    vox = vox[np.all((vox >= 0) & (vox < shape), axis=1)]
    if vox.size == 0:
        raise ValueError(f"mask {img.get_filename() or ''} has no voxel inside the data's field of view")
    return vox


def sample_voxels(data4d: np.ndarray, ijk: np.ndarray) -> np.ndarray:
    """Scans × voxels float64 array of a 4-D array at voxel coordinates ``ijk`` (n × 3).

    Parameters
    ----------
    data4d : ndarray or array proxy, shape (x, y, z, scans)
        The 4-D data.
    ijk : ndarray of int, shape (n, 3)
        Voxel indices (e.g. from :func:`mask_voxels`).

    Returns
    -------
    ndarray, shape (scans, n)
    """
    return np.asarray(data4d[ijk[:, 0], ijk[:, 1], ijk[:, 2], :], dtype=np.float64).T
