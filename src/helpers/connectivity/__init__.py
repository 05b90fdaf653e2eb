"""Condition-specific ROI-to-ROI connectivity, numerically equivalent to CONN.

The paper computed its connectivity in the CONN toolbox (release 18.a, SPM8).
This package re-implements the pieces of CONN's first-level analysis that the
paper relies on, following ``book/spec_conn.md`` to the letter and the
MATLAB sources read for this purpose, one module per step:

* :mod:`helpers.connectivity.hrf` — SPM's canonical haemodynamic response (§1);
* :mod:`helpers.connectivity.conditions` — CONN's "Effect of <condition>" regressors
  and the condition weights (``hrf``/``hanning``/``none``) from a BIDS events table (§1–§2);
* :mod:`helpers.connectivity.correlation` — the weighted correlation, Fisher z and
  the ROI-to-ROI table (§3);
* :mod:`helpers.connectivity.dof` — each condition's effective residual degrees of
  freedom, and the check that stops a correlation computed on too few (§7);
* :mod:`helpers.connectivity.ppi` — generalised psychophysiological interactions
  (gPPI), the variance inflation of their terms, and the undirected mean (§6).

Everything is imported from here (``from helpers.connectivity import roi_to_roi``).
"""

from __future__ import annotations

from .conditions import (
    MICROTIME_BINS,
    PADDING_SECONDS,
    WEIGHTINGS,
    condition_effects,
    condition_weights,
    matlab_round,
)
from .correlation import fisher_z, roi_to_roi, weighted_correlation
from .dof import MIN_DOF, check_dof, condition_dof
from .hrf import SPM_HRF_PARAMS, SPM_MICROTIME_T, spm_hrf
from .ppi import MAX_VIF, check_gppi_estimable, gppi, gppi_symmetric, gppi_vif

__all__ = [
    "spm_hrf",
    "condition_effects",
    "condition_weights",
    "weighted_correlation",
    "fisher_z",
    "roi_to_roi",
    "gppi",
    "gppi_vif",
    "gppi_symmetric",
    "check_gppi_estimable",
    "condition_dof",
    "check_dof",
    "matlab_round",
    "WEIGHTINGS",
    "MIN_DOF",
    "MAX_VIF",
    "MICROTIME_BINS",
    "PADDING_SECONDS",
    "SPM_HRF_PARAMS",
    "SPM_MICROTIME_T",
]
