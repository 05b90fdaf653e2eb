"""The connectivity stage's settings, and the store key of each participant's measure.

A key (:func:`result_keys`) covers the participant's input files (path, size, mtime), the TR, the
settings every measure shares (:class:`StageSettings`), the measure, whether it is the required one,
and the code of the stage (:func:`helpers.cache.code_fingerprint` following its imports).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..beta_series import MIN_TRIALS, OUTLIER_Z, check_options
from ..connectivity import MAX_VIF
from ..layout.derivatives import sidecar
from ..outliers import parse_outliers
from .inputs import ParticipantFiles

__all__ = ["StageSettings", "stage_settings", "result_keys"]


@dataclass(frozen=True)
class StageSettings:
    """The settings every measure of every participant shares (part of the cache key).

    Parameters
    ----------
    conditions : tuple of str
        Modelled conditions (trial_type values).
    rois : dict, path or None
        ROI specification (:func:`helpers.atlas.roi_masks`; None: the paper's ROIs).
    band : tuple of float
        Filter band in Hz (default high-pass 0.008 Hz).
    min_dof : float
        Smallest effective residual dof of a condition (:func:`helpers.connectivity.check_dof`).
    min_trials, lss, beta_outliers, beta_outlier_z, gppi_max_vif
        The measures' options (:class:`helpers.firstlevel.measures.MeasureData`; defaults 3, "separate",
        "flag", 5, 1000).
    outliers : helpers.outliers.OutlierRule or None, default None
        Outlier scans of every measure built on CONN's design (None: none, the paper's pipeline).
    """

    conditions: tuple
    rois: object
    band: tuple
    min_dof: float
    min_trials: int = MIN_TRIALS
    lss: str = "separate"
    beta_outliers: str = "flag"
    beta_outlier_z: float = OUTLIER_Z
    gppi_max_vif: float = MAX_VIF
    outliers: object = None

    def options(self) -> dict:
        """The settings passed to every measure beyond conditions, band and min_dof."""
        return {name: getattr(self, name) for name in _OPTIONS}


#: StageSettings fields that are measure options (MeasureData fields of the same names).
_OPTIONS = ("min_trials", "lss", "beta_outliers", "beta_outlier_z", "gppi_max_vif")


def stage_settings(
    conditions,
    rois,
    band,
    min_dof,
    min_trials: int = MIN_TRIALS,
    lss: str = "separate",
    beta_outliers: str = "flag",
    beta_outlier_z: float = OUTLIER_Z,
    gppi_max_vif: float = MAX_VIF,
    outliers="none",
) -> StageSettings:
    """:class:`StageSettings` of :func:`helpers.firstlevel.run_connectivity`'s arguments, checked.

    Parameters
    ----------
    conditions : sequence of str
        Modelled conditions.
    rois : dict, path or None
        ROI specification (None: the paper's ROIs).
    band : tuple of float
        Filter band in Hz.
    min_dof : float
        Smallest effective residual dof of a condition.
    min_trials : int, default :data:`helpers.beta_series.MIN_TRIALS`
        ``beta_series``: fewest trials of a condition (3).
    lss : str, default "separate"
        ``beta_series``: the LSS variant.
    beta_outliers : str, default "flag"
        ``beta_series``: what happens to trials with outlying betas.
    beta_outlier_z : float, default :data:`helpers.beta_series.OUTLIER_Z`
        ``beta_series``: the modified-z threshold (5).
    gppi_max_vif : float, default :data:`helpers.connectivity.MAX_VIF`
        gPPI: largest variance inflation factor of an interaction term (1000).
    outliers : str or dict, default "none"
        Outlier scans (:func:`helpers.outliers.parse_outliers`).

    Returns
    -------
    StageSettings

    Raises
    ------
    ValueError
        A measure option out of range (the message names it).
    """
    check_options(lss, min_trials, beta_outliers, beta_outlier_z)
    if isinstance(gppi_max_vif, bool) or not gppi_max_vif > 0:
        raise ValueError(f"gppi_max_vif must be a positive number (∞: no limit), got {gppi_max_vif!r}")
    return StageSettings(
        tuple(conditions),
        rois,
        tuple(band),
        float(min_dof),
        int(min_trials),
        lss,
        beta_outliers,
        float(beta_outlier_z),
        float(gppi_max_vif),
        parse_outliers(outliers),
    )


def _input_fingerprints(files: ParticipantFiles) -> dict:
    """Cache-key part of a participant's inputs (path, size, mtime of every file read, per run)."""
    from ..cache import file_fingerprint

    def one(run):
        paths = {
            "bold": run.bold,
            "events": run.events,
            "confounds": run.confounds,
            "wm": run.wm,
            "csf": run.csf,
        }
        if sidecar(run.confounds).is_file():  # nilearn's strategies read it
            paths["confounds_json"] = sidecar(run.confounds)
        return {name: file_fingerprint(p) for name, p in paths.items()} | {"tr": run.tr}

    runs = files.all_runs
    return one(files) if len(runs) == 1 else {"runs": [one(run) | {"label": run.label} for run in runs]}


def _rois_key(rois):
    """ROI specification for the cache key: mask files by fingerprint, images by their data."""
    import nibabel as nib

    from ..cache import file_fingerprint

    if isinstance(rois, dict):
        return {name: _rois_key(spec) for name, spec in rois.items()}
    if isinstance(rois, nib.spatialimages.SpatialImage):
        return {"image": [np.asanyarray(rois.dataobj), rois.affine]}
    if isinstance(rois, (str, Path)) and Path(rois).is_file():
        return {"file": file_fingerprint(rois)}
    return rois


def result_keys(files: ParticipantFiles, settings: StageSettings, measures, code: str) -> dict:
    """Each measure's store key: the participant's inputs, the settings, the measure, whether it is the
    required (first) one, and the code.

    Parameters
    ----------
    files : ParticipantFiles
        The participant's runs (every file read enters by path, size and mtime; the TR by value).
    settings : StageSettings
        The stage's settings.
    measures : sequence of str
        The requested measures, the first the required one.
    code : str
        :func:`helpers.cache.code_fingerprint` of the stage.

    Returns
    -------
    dict
        ``{measure: key}``.
    """
    from ..cache import make_key

    inputs = _input_fingerprints(files)
    params = dict(
        conditions=settings.conditions,
        rois=_rois_key(settings.rois),
        band=settings.band,
        min_dof=settings.min_dof,
        **settings.options(),
    )
    if settings.outliers is not None:  # no outlier choice keeps the keys (and the cache) of before
        params["outliers"] = settings.outliers
    return {m: make_key(inputs, params, m, m == measures[0], code) for m in measures}
