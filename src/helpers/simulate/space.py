"""Spatial side of the twin: grids, tissue and component maps, native anatomy, resampling.

The parts live in their own modules; this one gathers them (``space.native_to_mni``,
``space.build_maps`` …):

* :mod:`helpers.simulate.coordinates` — scanner and MNI coordinates, the participant's pose, warp
  and head motion, with the coordinate conventions of the ground truth (``p = u + d(u)``,
  ``u = H⁻¹ M_t⁻¹ q``);
* :mod:`helpers.simulate.resampling` — a volume's values at world points or on another grid;
* :mod:`helpers.simulate.maps` — tissue on a grid, smooth random fields, the baseline and component
  maps (:class:`Maps`);
* :func:`mni_grid` — the MNI grids (:func:`helpers.preprocess.resample.mni_grid`).
"""

from __future__ import annotations

from ..preprocess.resample import mni_grid
from .coordinates import (
    MAX_WARP_GRADIENT,  # noqa: F401 (space.MAX_WARP_GRADIENT, as before)
    mni_to_native,
    native_affine,
    native_to_mni,
    participant_pose,
    rigid_matrix,
    warp_displacement,
    warp_params,
)
from .maps import Maps, build_maps, load_tissue_templates, smooth_field, tissue_on_grid
from .resampling import resample_grid, resample_points

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
