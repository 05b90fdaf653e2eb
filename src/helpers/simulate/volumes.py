"""A twin participant's images: the raw BOLD and structural in scanner space, the ideal MNI BOLD.

Each is drawn from the participant's own generator in a fixed order (:mod:`helpers.simulate.build`).
"""

from __future__ import annotations

import nibabel as nib
import numpy as np
from scipy import ndimage

from . import anatomy, space

__all__ = ["native_bold", "native_structural", "mni_bold"]


def native_bold(
    shared, series: dict, pose, warp, cfg: dict, rng: np.random.Generator, dropout: dict | None = None
) -> np.ndarray:
    """Raw BOLD (int16, time first: (T, x, y, z)).

    The participant's warped maps are computed once (:meth:`space.Maps.warped`), their baseline (and
    so every signal change) multiplied by :func:`anatomy.dropout_factor` when ``dropout`` (the config's
    ``plants.dropout``) is given; each volume is then
    one trilinear ``scipy.ndimage.affine_transform`` of the 2 mm signal through
    ``A_src⁻¹ H⁻¹ M_t⁻¹ A_func``, plus
    Rician thermal noise |S + σ(n1 + i n2)|, σ = I_gm / tsnr.

    Parameters
    ----------
    shared : helpers.simulate.build.Shared
        The maps common to every participant.
    series : dict
        The participant's time series (:func:`helpers.simulate.build.participant_series`).
    pose : ndarray, shape (4, 4)
        MNI-to-scanner pose of the head.
    warp : dict
        The participant's warp parameters (:func:`space.warp_params`).
    cfg : dict
        Simulation config.
    rng : numpy.random.Generator
        The participant's generator.
    dropout : dict or None, default None
        The config's ``plants.dropout`` for a participant with planted signal dropout.

    Returns
    -------
    ndarray of int16, shape (T, x, y, z)
    """
    grid = cfg["grid"]
    shape = tuple(grid["func_shape"])
    aff = space.native_affine(shape, grid["func_zooms"])
    maps = shared.src.warped(warp)
    if dropout is not None:
        keep = anatomy.dropout_factor(
            maps.shape, maps.affine, dropout["centre_mni"], dropout["fwhm_mm"], dropout["depth"]
        )
        maps = space.Maps(maps.shape, maps.affine, maps.s0_full * keep, maps.maps_full, maps.tissue)
    to_src = np.linalg.inv(maps.affine) @ np.linalg.inv(pose)
    sigma = cfg["signals"]["intensity"]["gm"] / cfg["signals"]["tsnr"]
    ts = series["components"].to_numpy()
    out = np.empty((len(ts), *shape), np.int16)
    for t in range(len(ts)):
        vol = maps.volume(ts[t], series["spin"][t])
        m = to_src @ np.linalg.inv(space.rigid_matrix(series["motion"][t])) @ aff
        vals = ndimage.affine_transform(
            vol,
            m[:3, :3],
            offset=m[:3, 3],
            output_shape=shape,
            order=1,
            mode="constant",
            cval=0.0,
            prefilter=False,
        )
        noise = rng.standard_normal((2, *shape), dtype=np.float32) * sigma
        vals += noise[0]
        mag = np.hypot(vals, noise[1], out=vals)
        out[t] = np.clip(np.rint(mag), 0, 32767)
    return out


def native_structural(
    shared, pose, warp, cfg: dict, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Raw structural (int16) in its own small pose (acquired before the run): the head image through
    the participant's warp, times a smooth bias field in scanner space (:func:`anatomy.bias_field`),
    plus Rician noise of SD ``anatomy.noise``.

    Parameters
    ----------
    shared : helpers.simulate.build.Shared
        The maps common to every participant (the head image).
    pose : ndarray, shape (4, 4)
        MNI-to-scanner pose of the head.
    warp : dict
        The participant's warp parameters.
    cfg : dict
        Simulation config.
    rng : numpy.random.Generator
        The participant's generator.

    Returns
    -------
    image : ndarray of int16
        The structural on the config's ``anat_shape`` grid.
    anat_motion : ndarray, shape (6,)
        Its small pose relative to the run (translations mm, rotations rad).
    """
    grid, mo, anat = cfg["grid"], cfg["motion"], cfg["anatomy"]
    shape = tuple(grid["anat_shape"])
    aff = space.native_affine(shape, grid["anat_zooms"])
    q = nib.affines.apply_affine(aff, np.indices(shape).reshape(3, -1).T)
    anat_motion = np.r_[rng.normal(0, mo["anat_trans"], 3), rng.normal(0, mo["anat_rot"], 3)]
    p = space.native_to_mni(q, pose, warp, anat_motion)
    vals = space.resample_points(shared.anat, shared.anat_affine, p).reshape(shape)
    vals *= anatomy.bias_field(shape, grid["anat_zooms"], anat["bias_fwhm_mm"], anat["bias_sd"], rng)
    noise = rng.standard_normal((2, *shape)) * anat["noise"]
    return np.clip(np.round(np.hypot(vals + noise[0], noise[1])), 0, 32767).astype(np.int16), anat_motion


def mni_bold(shared, series: dict, cfg: dict, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Ideal MNI-space BOLD (float32, time first, 0 outside the brain support) and its 8 mm smoothed copy.

    Noise: Gaussian with SD 0.75·σ_thermal (trilinear resampling of native noise lowers its SD).

    Parameters
    ----------
    shared : helpers.simulate.build.Shared
        The maps common to every participant (MNI grid).
    series : dict
        The participant's time series.
    cfg : dict
        Simulation config.
    rng : numpy.random.Generator
        The participant's generator.

    Returns
    -------
    data, smoothed : ndarray of float32, shape (T, x, y, z)
    """
    sigma = 0.75 * cfg["signals"]["intensity"]["gm"] / cfg["signals"]["tsnr"]
    data = shared.mni.series(series["components"].to_numpy(), series["spin"])
    support = shared.mni.s0_full > 0
    noise = rng.standard_normal((data.shape[0], int(support.sum())), dtype=np.float32) * np.float32(sigma)
    data[:, support] += noise
    del noise
    res = cfg["grid"]["mni_resolution"]
    s = 8.0 / 2.3548 / res
    smoothed = ndimage.gaussian_filter(data, (0, s, s, s), truncate=3.0)
    return data, smoothed
