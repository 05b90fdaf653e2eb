"""Values of a volume elsewhere: at world points, or on another grid (trilinear by default, 0 outside)."""

from __future__ import annotations

import numpy as np
from nibabel.affines import apply_affine
from scipy import ndimage

__all__ = ["resample_points", "resample_grid"]


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
