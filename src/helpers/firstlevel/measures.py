"""The connectivity measures of the first level, each registered once (:mod:`helpers.firstlevel.registry`).

* ``weighted_hrf`` (the paper's, CONN's default), ``weighted_hanning``, ``weighted_none``: weighted
  correlation of the denoised ROI series (book/spec_conn.md §3);
* ``gppi_regression``: generalised PPI interaction betas (book/spec_conn.md §6);
* ``beta_series``: least-squares-separate trial betas correlated per condition (Mumford et al. 2012);
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

from ..connectivity import condition_effects, fisher_z, gppi
from .registry import (  # noqa: F401
    MEASURES,
    Measure,
    MeasureData,
    check_measures,
    compute_measure,
    describe_measure,
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
    """
    return data.correlate(*data.denoise(data.design_of(compcor), band), weighting)


for _weighting, _text in (
    ("hrf", "the paper's: weighted correlation, HRF-shaped condition weights (CONN default)"),
    ("hanning", "weighted correlation, Hanning-tapered weights on each condition segment"),
    ("none", "weighted correlation, boxcar weights (1 on the condition's support)"),
):
    register(f"weighted_{_weighting}", _text, "weighted correlation", weighting=_weighting)(weighted)


@register("gppi_regression", "generalised psychophysiological interaction, interaction beta", "gPPI")
def gppi_regression(data: MeasureData) -> pd.DataFrame:
    """gPPI interaction betas of the stacked denoised series, ``hrf`` weights (spec_conn.md §6–7); r = NaN."""
    from .signals import stack

    series, dofs = data.denoise(data.design_of())
    weights = data.weights("hrf")
    data.check_dof(weights, dofs)
    kept = np.concatenate(data.kept())  # censored scans leave the gPPI regression
    series, weights = stack(series)[kept].reset_index(drop=True), stack(weights)[kept].reset_index(drop=True)
    return gppi(series, weights).rename(columns={"value": "z"}).assign(r=np.nan)


@register(
    "beta_series",
    "beta-series correlation, least squares separate (one GLM per trial)",
    "beta series",
    uses=("conditions", "band"),
)
def beta_series_measure(data: MeasureData) -> pd.DataFrame:
    """:func:`beta_series` of the series denoised without the task regressors (outliers: scrubbing only)."""
    if data.censoring:
        raise ValueError(f"{data.where}: censoring is not defined for beta series (a trial's regressor needs "
                         "every scan of its run); rule: outliers with method scrub")

    def nuisance(r):
        design = data.design_of()(r)
        return design.drop(columns=[c for c in design.columns if c.startswith("effect_")])

    series, _ = data.denoise(nuisance)
    return beta_series(series, [r.events for r in data.runs], [r.files.tr for r in data.runs], data.band)


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

    The stage's outlier rule does not apply: nilearn's strategy handles outliers its own way."""
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
    ``intermediate``: global-signal z 5, motion 0.9 mm), applied by ``method`` (scrub or censor)."""
    from ..outliers import PRESETS, OutlierRule

    return OutlierRule(**PRESETS["intermediate"], method=method, name="intermediate")


def outlier_branch(data: MeasureData, method: str) -> pd.DataFrame:
    """The paper's measure (``weighted_hrf``) under :func:`branch_rule`, whatever the stage's ``outliers``."""
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


# --------------------------------------------------------------------------- beta series, contrasts
def _lss_betas(timeseries: pd.DataFrame, events: pd.DataFrame, tr: float, band) -> np.ndarray:
    """Least-squares-separate trial betas (events × ROIs) of one run (see :func:`beta_series`)."""
    from ..denoise import conn_filter

    n = len(timeseries)
    single = condition_effects(events.assign(trial_type=[f"{i:04d}" for i in range(len(events))]), n, tr)
    single = np.asarray(conn_filter(single.to_numpy(), tr, band))
    kinds = events["trial_type"].to_numpy()
    conditions = sorted(set(kinds))
    totals = {c: single[:, kinds == c].sum(axis=1) for c in conditions}
    y = timeseries.to_numpy(float)
    betas = np.empty((len(events), y.shape[1]))
    for i in range(len(events)):
        others = [totals[c] - (single[:, i] if kinds[i] == c else 0) for c in conditions]
        design = np.column_stack([np.ones(n), single[:, i], *others])
        betas[i] = np.linalg.lstsq(design, y, rcond=None)[0][1]
    return betas


def beta_series(timeseries, events, tr, band=None) -> pd.DataFrame:
    """Least-squares-separate (LSS) trial betas and their correlation per condition.

    For each event i (Mumford et al. 2012, "LSS-N"): y ~ [e_i, Σ_{j≠i, c} e_j for every
    condition c], where e_j is event j's CONN regressor (:func:`condition_effects` of that
    event alone); the regressors are filtered like the data (:func:`conn_filter`) and the
    fit has an intercept.  Within each condition, r = Pearson correlation of two ROIs'
    betas across its events; z = atanh(r).

    Several runs (lists of ``timeseries``, ``events`` and ``tr``, one item per run): the betas
    are estimated run by run — each trial's model holds only its own run's scans, events and
    filter, as a trial regressor never crosses a run boundary — and then concatenated across
    runs, so that a condition's correlation is taken over all of its trials (its trial count is
    the sum over runs).  A per-run correlation averaged over runs would weigh a run with two
    trials like one with twenty.

    Parameters
    ----------
    timeseries : DataFrame (scans × ROIs), or list of them (one per run)
        ROI series denoised **without** the task regressors.
    events : DataFrame, or list of them
        Modelled events (``onset, duration, trial_type``), onsets relative to their run.
    tr : float, or list of float
        Repetition time(s) in seconds.
    band : tuple of float, optional
        Filter band of the trial regressors (Hz); default None: :data:`helpers.denoise.HIGHPASS`
        (high-pass 0.008 Hz, CONN's default), as the data were filtered.

    Returns
    -------
    DataFrame
        ``condition, source, target, r, z``, one row per condition and ordered ROI pair.

    Raises
    ------
    ValueError
        A condition with fewer than 3 events over all runs.
    """
    if band is None:
        from ..denoise import HIGHPASS as band
    if isinstance(timeseries, pd.DataFrame):
        timeseries, events, tr = [timeseries], [events], [tr]
    runs = [
        (ts, ev, t) for ts, ev, t in zip(timeseries, events, tr) if len(ev)
    ]  # a run without modelled trials adds none
    betas = np.concatenate([_lss_betas(ts, ev, t, band) for ts, ev, t in runs])
    kinds = np.concatenate([ev["trial_type"].to_numpy() for _, ev, _ in runs])
    conditions = sorted(set(kinds))
    rois = list(timeseries[0].columns)
    rows = []
    for c in conditions:
        sel = betas[kinds == c]
        if sel.shape[0] < 3:
            raise ValueError(f"beta series: condition {c!r} has {sel.shape[0]} events; at least 3 are needed")
        r = np.corrcoef(sel, rowvar=False)
        rows += [(c, s, t, r[i, j]) for i, s in enumerate(rois) for j, t in enumerate(rois) if i != j]
    out = pd.DataFrame(rows, columns=["condition", "source", "target", "r"])
    out["z"] = fisher_z(out["r"].to_numpy())
    return out


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
