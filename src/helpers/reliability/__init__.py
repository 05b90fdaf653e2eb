"""How reliable is a participant's Neg − Neu connectivity estimate, and what does that do to r?

A brain–behaviour correlation is computed from *estimated* connectivity: one run of 166 volumes, about
55 per condition, gives each participant's condition-specific correlation with an error of its own.
Classical test theory says the observed correlation is attenuated,

    r_obs ≈ r_true · √(reliability_x · reliability_y),     reliability = Var(true) / Var(observed)

(Spearman 1904).  The questionnaire side is taken as error-free here (the twin plants the coupling
on the *observed* scores), so r_obs ≈ r_true · √reliability of the connectivity estimate.

The reliability is measured on the twin's own signal model without writing images: the first level
reads only the voxels of the three ROIs and of the eroded WM and CSF masks, and on the twin's ideal
derivatives each of these voxels is exactly ``(S0 + Σ_k w_k(x) ts_k(t)) · spin(t) + noise``
(:mod:`helpers.simulate.space`).  :func:`first_level_draw` simulates exactly those voxels for fresh
draws of every random time series (neural signals with the planted coupling, networks, physiology,
drift, motion, thermal noise) and runs the project's own first level on them
(:func:`helpers.firstlevel.denoising_design` with CompCor, :func:`helpers.denoise.regress_and_filter`,
:func:`helpers.connectivity.condition_weights`, :func:`helpers.connectivity.roi_to_roi`).  Repeating
the draw for the same planted coupling gives each participant's estimation error; its variance
against the spread of the participants' planted values is the reliability.

The modules: :mod:`~helpers.reliability.voxels` (the voxels the first level reads),
:mod:`~helpers.reliability.twin` (what the twin planted), :mod:`~helpers.reliability.draws` (fresh
first-level draws), :mod:`~helpers.reliability.estimates` (reliability from the draws),
:mod:`~helpers.reliability.attenuation` (what it does to r), :mod:`~helpers.reliability.attenuation_figure`
and :mod:`~helpers.reliability.twin_report` (the robustness chapter's call).  Everything is imported from
``helpers.reliability`` itself.
"""

from .attenuation import _exact_pair as _exact_pair  # tests plant exact sample correlations with it
from .attenuation import attenuated_r, attenuation_summary, latent_r, observed_r_given
from .attenuation_figure import plot_attenuation
from .draws import first_level_draw, repeated_draws
from .estimates import (
    draw_correlations,
    image_check,
    planted_population_sd,
    population_reliability,
    reliability_from_draws,
)
from .twin import TwinDesign, expected_observed, read_twin_design
from .twin_report import TwinAttenuation, twin_attenuation
from .voxels import VoxelModel, voxel_model

__all__ = [
    "VoxelModel",
    "voxel_model",
    "first_level_draw",
    "TwinDesign",
    "read_twin_design",
    "repeated_draws",
    "reliability_from_draws",
    "draw_correlations",
    "attenuated_r",
    "latent_r",
    "attenuation_summary",
    "plot_attenuation",
    "population_reliability",
    "observed_r_given",
    "planted_population_sd",
    "image_check",
    "expected_observed",
    "TwinAttenuation",
    "twin_attenuation",
]
