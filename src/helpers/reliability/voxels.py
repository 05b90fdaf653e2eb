"""The twin's ideal-derivative voxels that the first level reads: a signal model that needs no images.

On the twin's ideal derivatives each voxel of the three ROIs and of the eroded WM and CSF masks is
exactly ``(S0 + Σ_k w_k(x) ts_k(t)) · spin(t) + noise`` (:mod:`helpers.simulate.space`);
:func:`voxel_model` finds those voxels and their weights once per configuration.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import nibabel as nib
import numpy as np

from .. import atlas
from ..denoise import mask_voxels, tissue_mask
from ..simulate import build as twin_build
from ..simulate import model as twin_model


@dataclass(frozen=True)
class VoxelModel:
    """The twin's ideal-derivative voxels that the first level reads.

    ``s0[name]`` (voxels) and ``weights[name]`` (voxels × components, percent → intensity) for each
    ROI and for the eroded ``wm``/``csf`` masks; ``noise_sd`` = SD of the ideal derivatives' voxel noise.
    """

    s0: dict
    weights: dict
    noise_sd: float


def voxel_model(cfg: dict) -> VoxelModel:
    """The voxels of the 3 ROIs and the eroded WM/CSF masks on the twin's derivatives grid.

    Same masks as the first level: :func:`helpers.atlas.roi_masks` on the BOLD grid and
    :func:`helpers.denoise.tissue_mask` of the twin's tissue maps, sampled with
    :func:`helpers.denoise.mask_voxels`.  Cached per ``grid``/``signals``/``anatomy`` config (the
    anatomy's source brain shapes the maps).

    Parameters
    ----------
    cfg : dict
        The twin's configuration (its ``grid``, ``signals`` and ``anatomy`` sections are used).

    Returns
    -------
    VoxelModel
    """
    return _voxel_model(
        twin_model._freeze({"grid": cfg["grid"], "signals": cfg["signals"], "anatomy": cfg["anatomy"]})
    )


@functools.lru_cache(maxsize=2)
def _voxel_model(key: tuple) -> VoxelModel:
    cfg = twin_model._thaw(key)
    maps = twin_build.shared_for(cfg).mni
    full = np.zeros(int(np.prod(maps.shape)), np.int64) - 1
    full[maps.inside] = np.arange(maps.inside.size)
    ref = nib.Nifti1Image(np.zeros(maps.shape, np.uint8), maps.affine)
    ijk = {name: np.argwhere(np.asanyarray(m.dataobj)) for name, m in atlas.roi_masks(ref).items()}
    for label in ("wm", "csf"):
        prob = nib.Nifti1Image(maps.tissue[label].astype(np.float32), maps.affine)
        ijk[label] = mask_voxels(tissue_mask(prob, fallback=True), maps.shape, maps.affine)
    s0, weights = {}, {}
    for name, vox in ijk.items():
        idx = full[np.ravel_multi_index(vox.T, maps.shape)]
        inside = idx >= 0  # voxels outside the signal's support are 0 in the images
        s0[name] = np.where(inside, maps.s0[np.clip(idx, 0, None)], 0.0).astype(float)
        weights[name] = np.where(inside[:, None], maps.weights[np.clip(idx, 0, None)], 0.0).astype(float)
    sigma = 0.75 * cfg["signals"]["intensity"]["gm"] / cfg["signals"]["tsnr"]  # as build._mni_bold
    return VoxelModel(s0, weights, float(sigma))


def _voxels(
    vm: VoxelModel, name: str, components: np.ndarray, spin: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Scans × voxels of one mask: (S0 + W ts) · spin + N(0, noise_sd) where S0 > 0 (as the images)."""
    clean = (vm.s0[name][None, :] + components @ vm.weights[name].T) * spin[:, None]
    noise = rng.standard_normal(clean.shape) * vm.noise_sd
    return clean + noise * (vm.s0[name] > 0)[None, :]
