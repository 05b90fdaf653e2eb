"""Bad derivatives met by the first level: confounds, ROI signals, censoring.

One part of the catalogue's list, :data:`helpers.catalogue.cases.CASES`.
"""

from __future__ import annotations

from .breakers import (
    _all_zero_weights,
    _confounds,
    _drop,
    _roi_signal,
    _set_cell,
)
from .case import Case

DERIVATIVE_CASES: tuple[Case, ...] = (
    Case(
        "confounds_missing_column",
        "connectivity",
        "a confounds TSV without rot_z",
        ValueError,
        (
            "confounds_timeseries.tsv",
            "participant sub-01",
            "missing realignment column(s) ['rot_z']",
            "rule: the confounds hold",
        ),
        "Use fMRIPrep's confounds file (trans_x … rot_z), or rename your realignment columns.",
        _confounds(_drop("rot_z")),
    ),
    Case(
        "confounds_wrong_length",
        "connectivity",
        "a confounds TSV shorter than the BOLD run",
        ValueError,
        (
            "confounds_timeseries.tsv",
            "participant sub-01",
            "rows but the BOLD image has",
            "volumes",
            "mismatched lengths",
            "one confounds row per volume",
        ),
        "The confounds belong to another run or lost rows; regenerate them with the BOLD.",
        _confounds(lambda t: t.iloc[:-5]),
    ),
    Case(
        "confounds_missing_value",
        "connectivity",
        "an n/a inside a realignment column",
        ValueError,
        (
            "confounds_timeseries.tsv",
            "participant sub-01",
            "column trans_x",
            "row 3",
            "missing or non-numeric",
        ),
        "Realignment parameters are defined for every volume; regenerate the file.",
        _confounds(_set_cell("trans_x", "n/a", row=3)),
    ),
    Case(
        "roi_outside_brain",
        "connectivity",
        "an ROI that falls outside the brain mask (its voxels are all 0)",
        ValueError,
        (
            "desc-preproc_bold.nii.gz",
            "participant sub-01",
            "ROI 'vmpfc'",
            "lies outside the brain",
            "0 or NaN in every volume",
            "rule: every ROI inside",
        ),
        "Check that the BOLD is in the atlas space (MNI152NLin2009cAsym) and that the brain mask covers "
        "the ROI.",
        _roi_signal(lambda d: 0.0),
    ),
    Case(
        "roi_zero_variance",
        "connectivity",
        "an ROI whose signal does not vary",
        ValueError,
        (
            "desc-preproc_bold.nii.gz",
            "participant sub-01",
            "ROI 'vmpfc'",
            "signal has zero variance",
            "the value 500 in all",
            "rule: an ROI signal must vary",
        ),
        "The data in the ROI were replaced or masked; check the preprocessing of this participant.",
        _roi_signal(lambda d: 500.0),
    ),
    Case(
        "all_scans_censored",
        "connectivity",
        "a condition whose weights are 0 in every scan (every scan removed; "
        "the pipeline has no motion censoring, so this is the closest real case)",
        ValueError,
        ("condition 'negative'", "zero in every scan"),
        "The condition's events do not overlap the run; check the events and the TR.",
        _all_zero_weights,
    ),
)
