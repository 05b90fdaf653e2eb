"""Outlier scans: CONN's ART detection, and two ways to keep them out of the connectivity.

One module per step:

* :mod:`helpers.outliers.rules` — the ``outliers`` parameter: CONN's presets, explicit thresholds,
  the motion measure and the method (:class:`OutlierRule`, :func:`parse_outliers`);
* :mod:`helpers.outliers.detection` — ART's two scan-to-scan series (global-signal change,
  composite motion) and the outlier scans of a run (:func:`detect_outliers`);
* :mod:`helpers.outliers.scrub_censor` — applying them: CONN's spike regressors (``scrub``) or
  nilearn-style censoring (``censor``);
* :mod:`helpers.outliers.losses` — the scans each condition loses, and the participants excluded
  for losing too many.

Everything is imported from here (``from helpers.outliers import parse_outliers``).
"""

from __future__ import annotations

from .detection import (
    ART_BOX,
    art_global_signal,
    composite_motion,
    detect_outliers,
    global_signal_z,
    read_outlier_inputs,
)
from .losses import (
    ALL_MEASURES,
    LOST_COLUMNS,
    STAGE,
    lost_scans,
    outlier_exclusions,
    record_outlier_exclusions,
)
from .rules import FD_KINDS, METHODS, PRESETS, OutlierRule, parse_outliers
from .scrub_censor import censor_denoise, censor_weights, spike_regressors

__all__ = [
    "PRESETS",
    "METHODS",
    "STAGE",
    "LOST_COLUMNS",
    "ALL_MEASURES",
    "OutlierRule",
    "parse_outliers",
    "composite_motion",
    "global_signal_z",
    "art_global_signal",
    "read_outlier_inputs",
    "detect_outliers",
    "spike_regressors",
    "censor_denoise",
    "censor_weights",
    "lost_scans",
    "outlier_exclusions",
    "record_outlier_exclusions",
    "FD_KINDS",
    "ART_BOX",
]
