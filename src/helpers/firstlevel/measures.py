"""The connectivity measures of the first level, each registered once (:mod:`helpers.firstlevel.registry`).

* ``weighted_hrf`` (the paper's, CONN's default), ``weighted_hanning``, ``weighted_none``: weighted
  correlation of the denoised ROI series (book/spec_conn.md §3);
* ``gppi_regression``: generalised PPI interaction betas (book/spec_conn.md §6), and ``gppi_symmetric``,
  the mean of the two directions of each ROI pair;
* ``beta_series``: least-squares-separate trial betas correlated per condition (:mod:`helpers.beta_series`:
  LSS variant, trial counts, minimum trials, outlier betas);
* ``no_compcor``, ``bandpass``, ``nilearn_<strategy>``: the paper's measure under another denoising;
* ``scrubbing``, ``censoring``: the paper's measure with the outlier scans of CONN's ART (default
  thresholds) scrubbed or censored (:mod:`helpers.outliers`).

The stage's ``outliers`` setting (:attr:`MeasureData.outliers`) applies to every measure built on
CONN's design; ``nilearn_<strategy>`` keeps nilearn's own handling (its strategy decides, e.g.
``scrub``), and the two branches keep their own rule.

Every measure combines a participant's runs as CONN combines sessions (book/spec_conn.md §7).  This
module re-exports the registry's API (:data:`MEASURES`, :func:`register`, :func:`measures_table` …):
importing it gives the registry with every built-in measure in it.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd

from ..beta_series import beta_series
from ..connectivity import gppi, gppi_symmetric
from .registry import (
    MEASURES,
    Measure,
    MeasureData,
    check_measures,
    compute_measure,
    describe_measure,  # noqa: F401
    get_measure,
    is_measure,
    measures_table,
    register,
    unregister,
)

__all__ = [
    "MEASURES",
    "DEFAULT_CONTRASTS",
    "BANDPASS",
    "Measure",
    "MeasureData",
    "register",
    "unregister",
    "get_measure",
    "is_measure",
    "check_measures",
    "describe_measure",
    "measures_table",
    "compute_measure",
    "weighted",
    "gppi_regression",
    "gppi_symmetric_measure",
    "beta_series",
    "outlier_branch",
    "branch_rule",
    "add_contrasts",
]

#: The paper's relative measures (book/spec_paper.md): differences of Fisher z.
DEFAULT_CONTRASTS = (("negative", "neutral"), ("positive", "neutral"))
#: The band of the ``bandpass`` measure (Hz; CONN's band-pass default).
BANDPASS = (0.008, 0.09)


# --------------------------------------------------------------------------- the measures
def weighted(data: MeasureData, weighting: str, band=None, compcor: bool = True) -> pd.DataFrame:
    """CONN's weighted correlation (book/spec_conn.md §3) on the series denoised with the full design.

    ``weighting`` hrf/hanning/none; ``band`` default None: the stage's; ``compcor=False`` leaves the
    aCompCor WM/CSF regressors out of the design.

    Parameters
    ----------
    data : MeasureData
        A participant's runs, ROI series and stage settings (:class:`MeasureData`).
    weighting : {"hrf", "hanning", "none"}
        Condition weighting (:func:`helpers.connectivity.condition_weights`).
    band : tuple of float, default None
        Filter band (Hz); None: the stage's.
    compcor : bool, default True
        Include the aCompCor WM/CSF regressors in the denoising design.

    Returns
    -------
    pandas.DataFrame
        One row per condition and ROI pair, with ``r`` and ``z``.
    """
    return data.correlate(*data.denoise(data.design_of(compcor), band), weighting)


for _weighting, _text in (
    ("hrf", "the paper's: weighted correlation, HRF-shaped condition weights (CONN default)"),
    ("hanning", "weighted correlation, Hanning-tapered weights on each condition segment"),
    ("none", "weighted correlation, boxcar weights (1 on the condition's support)"),
):
    register(f"weighted_{_weighting}", _text, "weighted correlation", weighting=_weighting)(weighted)


@register(
    "gppi_regression",
    "generalised psychophysiological interaction, interaction beta",
    "gPPI",
    uses=("conditions", "band", "min_dof", "gppi_max_vif"),
)
def gppi_regression(data: MeasureData) -> pd.DataFrame:
    """gPPI interaction betas of the stacked denoised series, ``hrf`` weights (spec_conn.md §6–7); r = NaN.

    Parameters
    ----------
    data : MeasureData
        A participant's runs, ROI series and stage settings (:class:`MeasureData`).

    Returns
    -------
    pandas.DataFrame
        One row per condition and ordered ROI pair; the beta in ``z``, ``r`` NaN.

    Raises
    ------
    ValueError
        Too few degrees of freedom (:meth:`MeasureData.check_dof`) or a non-estimable interaction
        term (:func:`helpers.connectivity.check_gppi_estimable`).
    """
    from .signals import stack

    series, dofs = data.denoise(data.design_of())
    weights = data.weights("hrf")
    data.check_dof(weights, dofs)
    kept = np.concatenate(data.kept())  # censored scans leave the gPPI regression
    series, weights = stack(series)[kept].reset_index(drop=True), stack(weights)[kept].reset_index(drop=True)
    values = gppi(series, weights, max_vif=data.gppi_max_vif, where=data.where)
    return values.rename(columns={"value": "z"}).assign(r=np.nan)


@register(
    "gppi_symmetric",
    "generalised psychophysiological interaction, mean of the two directions A→B and B→A",
    "gPPI",
    uses=("conditions", "band", "min_dof", "gppi_max_vif"),
)
def gppi_symmetric_measure(data: MeasureData) -> pd.DataFrame:
    """:func:`gppi_regression` averaged over the two directions of each pair.

    (b_{A→B} + b_{B→A}) / 2 for both ordered pairs (:func:`helpers.connectivity.gppi_symmetric`).

    Parameters
    ----------
    data : MeasureData
        A participant's runs, ROI series and stage settings (:class:`MeasureData`).

    Returns
    -------
    pandas.DataFrame
        As :func:`gppi_regression`, with symmetric values.
    """
    return gppi_symmetric(gppi_regression(data), value="z")


@register(
    "beta_series",
    "beta-series correlation, least squares separate (one GLM per trial)",
    "beta series",
    uses=("conditions", "band", "min_trials", "lss", "beta_outliers", "beta_outlier_z"),
)
def beta_series_measure(data: MeasureData) -> pd.DataFrame:
    """:func:`helpers.beta_series.beta_series` of the series denoised without the task regressors; the rows
    carry each condition's trial counts (``n_trials, n_outliers, n_used``) for ``beta_series_trials.tsv``.
    Outlier scans: scrubbing only (censoring raises).

    Parameters
    ----------
    data : MeasureData
        A participant's runs, ROI series and stage settings (:class:`MeasureData`).

    Returns
    -------
    pandas.DataFrame
        One row per condition and ROI pair, with ``r`` and ``z``.

    Raises
    ------
    ValueError
        The stage's outlier rule censors scans.
    """
    if data.censoring:
        raise ValueError(
            f"{data.where}: censoring is not defined for beta series (a trial's regressor needs every "
            "scan of its run); rule: outliers with method scrub"
        )

    def nuisance(r):
        design = data.design_of()(r)
        return design.drop(columns=[c for c in design.columns if c.startswith("effect_")])

    series, _ = data.denoise(nuisance)
    return beta_series(
        series,
        [r.events for r in data.runs],
        [r.files.tr for r in data.runs],
        data.band,
        lss=data.lss,
        min_trials=data.min_trials,
        beta_outliers=data.beta_outliers,
        outlier_z=data.beta_outlier_z,
        where=data.where,
    )


register(
    "no_compcor",
    "as the paper's, without the aCompCor WM/CSF regressors",
    "denoising alternative",
    weighting="hrf",
    compcor=False,
)(weighted)
register(
    "bandpass",
    "as the paper's, band-pass 0.008–0.09 Hz instead of high-pass",
    "denoising alternative",
    uses=("conditions", "min_dof"),
    weighting="hrf",
    band=BANDPASS,
)(weighted)


@register(
    "nilearn_<strategy>",
    "as the paper's, denoised with nilearn's fMRIPrep confound strategy '<strategy>'",
    "denoising alternative",
    prefix="nilearn_",
    examples=("nilearn_motion+wm_csf",),
)
def nilearn_measure(data: MeasureData, variant: str) -> pd.DataFrame:
    """Weighted ``hrf`` correlation of the series cleaned with nilearn's confound strategy ``variant``.

    The stage's outlier rule does not apply: nilearn's strategy handles outliers its own way.

    Parameters
    ----------
    data : MeasureData
        A participant's runs, ROI series and stage settings (:class:`MeasureData`).
    variant : str
        nilearn confound strategy names joined by ``+`` (e.g. ``"motion+wm_csf"``).

    Returns
    -------
    pandas.DataFrame
        One row per condition and ROI pair, with ``r`` and ``z``.
    """
    data = dataclasses.replace(data, outliers=None)
    strategy = tuple(variant.split("+"))
    cleaned = [_nilearn_denoise(r.files, r.roi_ts, strategy, data.band) for r in data.runs]
    return data.correlate([c for c, _ in cleaned], [d for _, d in cleaned])


def _nilearn_denoise(
    files, roi_ts: pd.DataFrame, strategy: tuple[str, ...], band
) -> tuple[pd.DataFrame, int]:
    """nilearn's fMRIPrep confound strategy + ``signal.clean`` (detrend, high-pass) as denoiser of one run.

    Returns the cleaned series and their residual degrees of freedom (N − rank([1, trend, confounds])).
    """
    from nilearn import signal
    from nilearn.interfaces.fmriprep import load_confounds

    from ..denoise import residual_dof
    from .inputs import _where

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            confounds, _ = load_confounds(str(files.bold), strategy=strategy, motion="basic")
    except Exception as err:  # nilearn raises several types for missing columns/sidecars
        raise ValueError(
            f"{files.participant_id}: nilearn confound strategy {strategy} failed on "
            f"{files.confounds.name}: {err}"
        ) from err
    if confounds is not None and len(confounds) != len(roi_ts):
        raise ValueError(
            f"{_where(files.confounds, files.participant_id)}: {len(confounds)} rows for {len(roi_ts)} "
            "volumes (mismatched lengths)"
        )
    conf = None if confounds is None else confounds.to_numpy(float)
    cleaned = signal.clean(
        roi_ts.to_numpy(float),
        confounds=conf,
        detrend=True,
        standardize=None,
        high_pass=band[0],
        t_r=files.tr,
    )
    return pd.DataFrame(cleaned, columns=roi_ts.columns), residual_dof(len(roi_ts), conf)


def branch_rule(method: str):
    """The rule of a multiverse branch: CONN's default ART thresholds (:data:`helpers.outliers.PRESETS`
    ``intermediate``: global-signal z 5, motion 0.9 mm), applied by ``method`` (scrub or censor).

    Parameters
    ----------
    method : {"scrub", "censor"}
        How the flagged scans are removed.

    Returns
    -------
    helpers.outliers.OutlierRule
        The rule, named ``intermediate``.
    """
    from ..outliers import PRESETS, OutlierRule

    return OutlierRule(**PRESETS["intermediate"], method=method, name="intermediate")


def outlier_branch(data: MeasureData, method: str) -> pd.DataFrame:
    """The paper's measure (``weighted_hrf``) under :func:`branch_rule`, whatever the stage's ``outliers``.

    Parameters
    ----------
    data : MeasureData
        A participant's runs, ROI series and stage settings (:class:`MeasureData`).
    method : {"scrub", "censor"}
        As for :func:`branch_rule`.

    Returns
    -------
    pandas.DataFrame
        One row per condition and ROI pair, with ``r`` and ``z``.
    """
    return weighted(dataclasses.replace(data, outliers=branch_rule(method)), "hrf")


register(
    "scrubbing",
    "as the paper's, with CONN's ART outlier scans (intermediate: global-signal z 5, motion 0.9 mm) "
    "as scrubbing regressors",
    "outlier scans",
    method="scrub",
)(outlier_branch)
register(
    "censoring",
    "as the paper's, with the same ART outlier scans censored (dropped; spline-filled for the filter)",
    "outlier scans",
    method="censor",
)(outlier_branch)


# --------------------------------------------------------------------------- contrasts
def add_contrasts(table: pd.DataFrame, contrasts=DEFAULT_CONTRASTS) -> pd.DataFrame:
    """Append contrast rows "a-b" with z = z_a − z_b and r = NaN (book/spec_conn.md §3).

    Parameters
    ----------
    table : DataFrame
        Rows with ``condition, source, target, z`` (and ``participant_id``, ``measure`` if present).
    contrasts : sequence of (str, str), default :data:`DEFAULT_CONTRASTS`
        ``(a, b)`` pairs; a pair with a condition absent from ``table`` adds no rows.

    Returns
    -------
    DataFrame
        ``table`` followed by the contrast rows.
    """
    out = [table]
    keys = [c for c in ("participant_id", "measure") if c in table.columns] + ["source", "target"]
    for a, b in contrasts:
        za = table[table["condition"] == a].set_index(keys)["z"]
        zb = table[table["condition"] == b].set_index(keys)["z"]
        if za.empty or zb.empty:
            continue
        diff = (za - zb).dropna().rename("z").reset_index()
        diff["condition"] = f"{a}-{b}"
        diff["r"] = np.nan
        out.append(diff)
    return pd.concat(out, ignore_index=True)
