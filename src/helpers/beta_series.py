"""Beta-series correlation with its safeguards: LSS variant, trial counts, minimum trials, outlier betas.

Beta-series correlation (Rissman et al. 2004): one response amplitude (beta) per trial and ROI, then,
per condition, the correlation of two ROIs' betas across the condition's trials.  The betas are
least-squares-separate (LSS) estimates: one model per trial.  Two variants of LSS differ in how they
model the *other* trials:

* ``"separate"`` (default): the trial, plus one regressor per condition holding the condition's other
  trials — the variant NiBetaSeries adopted (HBClab/NiBetaSeries issue #87, pull request #191), whose
  authors attribute it to Turner, Mumford, Poldrack & Ashby (2012);
* ``"lumped"``: the trial, plus one regressor holding every other trial — the original LSS of
  Mumford et al. (2012).

The default is the book's behaviour before this module existed and is the right one here: the three
kinds of feedback differ in their mean response, so a lumped "other trials" regressor leaves each
condition's mean response in the residual, where it leaks into the betas of the trials next to it,
which in this wall-to-wall design are always trials of other conditions.

Safeguards users of beta series ask for (issue 17; NiBetaSeries #276, #309):

* **trial counts** per condition, in the rows :func:`beta_series` returns (``n_trials, n_outliers,
  n_used``; :func:`trial_counts` takes them out, and the first-level stage writes them per participant
  as ``beta_series_trials.tsv`` beside ``connectivity.tsv``);
* a **minimum number of trials** (``min_trials``, default 3) below which the correlation is an error
  naming the participant, the condition, the count and the minimum — never a number;
* **outlier betas** (:func:`robust_z`): a trial whose beta is far from its condition's median in any
  ROI (modified z of Iglewicz & Hoaglin 1993 above ``outlier_z``, default 5) is flagged; one trial
  with a huge beta in both ROIs drives their correlation towards 1.  ``beta_outliers="flag"``
  (default) only counts them; ``"censor"`` leaves them out of the correlation and re-estimates the
  other trials' betas with each outlier on a regressor of its own (in LSS an outlier shares the
  "other trials" regressor with its condition's trials, so it also inflates their betas: leaving it
  out of the correlation alone would not undo that).  The counts are reported either way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .connectivity import condition_effects, fisher_z

__all__ = [
    "LSS_VARIANTS",
    "OUTLIER_POLICIES",
    "MIN_TRIALS",
    "OUTLIER_Z",
    "lss_betas",
    "robust_z",
    "check_options",
    "trial_summary",
    "trial_counts",
    "COUNT_COLUMNS",
    "beta_series",
]

#: LSS variants (module docstring): the other trials modelled per condition, or in one regressor.
LSS_VARIANTS = ("separate", "lumped")
#: What happens to outlier betas: counted only, or left out of the correlation.
OUTLIER_POLICIES = ("flag", "censor")
#: Default minimum number of trials of a condition that enter its correlation (the book's rule since
#: beta series were added: a correlation of two points is ±1, of three has one degree of freedom).
MIN_TRIALS = 3
#: Default threshold of the modified z score of a beta.  Iglewicz & Hoaglin (1993) recommend 3.5 for
#: large samples; with a condition's 5–16 trials the median absolute deviation is itself noisy, and on
#: normal betas of two ROIs 3.5 flags a clean condition in 19 % (16 trials) to 37 % (5 trials) of
#: draws, 5 in 4 % to 21 % (simulated, 4000 draws each).
OUTLIER_Z = 5.0
#: 0.6745 = Φ⁻¹(0.75): makes the median absolute deviation a consistent estimate of a normal SD.
_MAD_NORMAL = 0.6745
#: The trial counts of a condition, as columns of :func:`beta_series`'s rows.
COUNT_COLUMNS = ["n_trials", "n_outliers", "n_used"]


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def lss_betas(
    timeseries: pd.DataFrame, events: pd.DataFrame, tr: float, band=None, lss: str = "separate", isolate=None
) -> np.ndarray:
    """Least-squares-separate betas (events × ROIs) of one run.

    For each event i, y ~ [1, e_i, others], with e_j event j's CONN regressor
    (:func:`helpers.connectivity.condition_effects` of that event alone), filtered like the data
    (:func:`helpers.denoise.conn_filter` with ``band``), and ``others`` = Σ_{j≠i, j in c} e_j for every
    condition c (``lss="separate"``) or Σ_{j≠i} e_j (``lss="lumped"``).  The beta of e_i is kept.
    Trials marked in ``isolate`` (outliers being censored) leave those sums and get a regressor of their
    own in every other trial's model, so that their response is not spread over the other trials'
    betas through the shared regressor.

    Parameters
    ----------
    timeseries : DataFrame
        One run's ROI series (scans × ROIs), denoised without the task regressors.
    events : DataFrame
        The run's modelled events (``onset, duration, trial_type``), onsets relative to the run.
    tr : float
        Repetition time (s).
    band : tuple of float, default None
        Filter band applied to the trial regressors (Hz); None: :data:`helpers.denoise.HIGHPASS`
        (high-pass 0.008 Hz, CONN's default), as the data were filtered.
    lss : {"separate", "lumped"}, default "separate"
        How the other trials are modelled (module docstring).
    isolate : array of bool, default None
        Trials modelled on their own regressor in every other trial's model (None: none).
    """
    from .denoise import (
        HIGHPASS,
        conn_filter,
    )  # here, so that the registry can import this module without nibabel

    _check_choice("lss", lss, LSS_VARIANTS)
    n = len(timeseries)
    single = condition_effects(events.assign(trial_type=[f"{i:04d}" for i in range(len(events))]), n, tr)
    single = np.asarray(conn_filter(single.to_numpy(), tr, HIGHPASS if band is None else band))
    kinds = events["trial_type"].to_numpy()
    alone = np.zeros(len(kinds), bool) if isolate is None else np.asarray(isolate, bool)
    groups = sorted(set(kinds)) if lss == "separate" else [None]
    member = {c: ((kinds == c) if c is not None else np.ones(len(kinds), bool)) & ~alone for c in groups}
    totals = {c: single[:, member[c]].sum(axis=1) for c in groups}
    y = timeseries.to_numpy(float)
    betas = np.empty((len(events), y.shape[1]))
    for i in range(len(events)):
        others = [totals[c] - (single[:, i] if member[c][i] else 0) for c in groups]
        isolated = [single[:, j] for j in np.flatnonzero(alone) if j != i]
        design = np.column_stack([np.ones(n), single[:, i], *others, *isolated])
        betas[i] = np.linalg.lstsq(design, y, rcond=None)[0][1]
    return betas


def robust_z(betas: np.ndarray) -> np.ndarray:
    """Modified z score of every beta within its column: 0.6745·(b − median) / MAD (Iglewicz & Hoaglin 1993).

    MAD is the median absolute deviation from the median; 0.6745 makes it comparable to a standard
    deviation for normal data.  A column whose MAD is 0 (half its values equal) gives ±∞ for the
    values that differ from the median and 0 for the others.

    Parameters
    ----------
    betas : array-like, shape (n_trials, n_columns)
        Trial betas, one column per region (or series).

    Returns
    -------
    numpy.ndarray
        The modified z scores, same shape as ``betas``.
    """
    b = np.asarray(betas, dtype=float)
    centred = b - np.median(b, axis=0)
    mad = np.median(np.abs(centred), axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = _MAD_NORMAL * centred / mad
    return np.where(centred == 0, 0.0, z)


def check_options(
    lss: str = "separate",
    min_trials: int = MIN_TRIALS,
    beta_outliers: str = "flag",
    outlier_z: float = OUTLIER_Z,
) -> None:
    """Raise ValueError naming the option and its rule if a beta-series option is invalid.

    Parameters
    ----------
    lss : str, default "separate"
        LSS variant, one of :data:`LSS_VARIANTS`.
    min_trials : int, default :data:`MIN_TRIALS`
        Fewest trials of a condition entering its correlation; an integer ≥ 2.
    beta_outliers : str, default "flag"
        What happens to outlying trials, one of :data:`OUTLIER_POLICIES`.
    outlier_z : float, default :data:`OUTLIER_Z`
        Modified-z threshold; a positive number.

    Raises
    ------
    ValueError
        An option outside its choices, ``min_trials`` not an integer ≥ 2, ``outlier_z`` not positive.
    """
    _check_choice("lss", lss, LSS_VARIANTS)
    _check_choice("beta_outliers", beta_outliers, OUTLIER_POLICIES)
    if isinstance(min_trials, bool) or not float(min_trials).is_integer() or min_trials < 2:
        raise ValueError(
            f"min_trials must be an integer ≥ 2 (a correlation needs two trials), got {min_trials!r}"
        )
    if isinstance(outlier_z, bool) or not outlier_z > 0:
        raise ValueError(f"outlier_z must be a positive number, got {outlier_z!r}")


def trial_summary(kinds, outliers, beta_outliers: str = "flag", conditions=None) -> pd.DataFrame:
    """Trials per condition: all modelled (``n_trials``), flagged as outliers, and entering the correlation.

    ``n_used`` = ``n_trials`` − ``n_outliers`` under ``beta_outliers="censor"``, else ``n_trials``.
    ``conditions`` fixes the rows (default: the conditions present, sorted); a condition without
    trials gets zeros.

    Parameters
    ----------
    kinds : array-like of str
        The condition of every trial.
    outliers : array-like of bool
        Whether each trial is flagged as an outlier.
    beta_outliers : str, default "flag"
        One of :data:`OUTLIER_POLICIES`; only ``"censor"`` removes flagged trials from ``n_used``.
    conditions : sequence of str, default None
        The rows, in order; None: the conditions present, sorted.

    Returns
    -------
    pandas.DataFrame
        Columns ``condition`` and :data:`COUNT_COLUMNS`.

    Raises
    ------
    ValueError
        ``beta_outliers`` is not one of :data:`OUTLIER_POLICIES`.
    """
    _check_choice("beta_outliers", beta_outliers, OUTLIER_POLICIES)
    kinds, outliers = np.asarray(kinds), np.asarray(outliers, dtype=bool)
    rows = []
    for c in sorted(set(kinds)) if conditions is None else conditions:
        sel = kinds == c
        n, k = int(sel.sum()), int(outliers[sel].sum())
        rows.append((str(c), n, k, n - k if beta_outliers == "censor" else n))
    return pd.DataFrame(rows, columns=["condition", *COUNT_COLUMNS])


def trial_counts(table: pd.DataFrame) -> pd.DataFrame:
    """One row per condition (and participant, if the table has ``participant_id``) of beta-series rows:
    the keys and :data:`COUNT_COLUMNS` (rows without counts, e.g. contrasts, are left out).

    Parameters
    ----------
    table : pandas.DataFrame
        Connectivity rows with :data:`COUNT_COLUMNS` (and optionally ``participant_id``).

    Returns
    -------
    pandas.DataFrame
        The keys and the integer counts, one row per key.
    """
    keys = [c for c in ("participant_id", "condition") if c in table.columns]
    counts = table.dropna(subset=COUNT_COLUMNS).drop_duplicates(keys)[keys + COUNT_COLUMNS]
    return counts.astype({c: int for c in COUNT_COLUMNS}).reset_index(drop=True)


def beta_series(
    timeseries,
    events,
    tr,
    band=None,
    *,
    lss: str = "separate",
    min_trials: int = MIN_TRIALS,
    beta_outliers: str = "flag",
    outlier_z: float = OUTLIER_Z,
    where: str = "",
) -> pd.DataFrame:
    """LSS trial betas and their correlation per condition, with trial counts and outlier handling.

    Betas by :func:`lss_betas` (variant ``lss``).  Within each condition, a trial is an outlier when
    :func:`robust_z` of its beta exceeds ``outlier_z`` in absolute value in any ROI (z computed over
    the condition's trials, every run pooled).  r = Pearson correlation of two ROIs' betas across the
    condition's trials (without the outliers under ``beta_outliers="censor"``); z = atanh(r).

    Several runs (lists of ``timeseries``, ``events`` and ``tr``, one item per run): the betas are
    estimated run by run — each trial's model holds only its own run's scans, events and filter, as a
    trial regressor never crosses a run boundary — and then concatenated across runs, so that a
    condition's correlation is taken over all of its trials (its trial count is the sum over runs).
    A per-run correlation averaged over runs would weigh a run with two trials like one with twenty.

    Parameters
    ----------
    timeseries : DataFrame (scans × ROIs), or list of them (one per run)
        ROI series denoised **without** the task regressors.
    events : DataFrame, or list of them
        Modelled events (``onset, duration, trial_type``), onsets relative to their run.
    tr : float, or list of float
    band : tuple of float, default None
        As for :func:`lss_betas` (None: high-pass 0.008 Hz).
    lss : {"separate", "lumped"}, default "separate"
        LSS variant (module docstring).
    min_trials : int, default :data:`MIN_TRIALS` (3)
        Fewest trials of a condition entering its correlation (after censoring).
    beta_outliers : {"flag", "censor"}, default "flag"
        Outlier trials only counted, or also left out of the correlation.
    outlier_z : float, default :data:`OUTLIER_Z` (5)
        Threshold of the modified z score.
    where : str, default ""
        Start of error messages (the participant).

    Returns
    -------
    DataFrame
        ``condition, source, target, r, z`` (every ordered pair of distinct ROIs) and the condition's
        trial counts ``n_trials, n_outliers, n_used`` (:func:`trial_summary`; :func:`trial_counts`
        gives one row per condition).

    Raises
    ------
    ValueError
        A condition with fewer than ``min_trials`` trials entering its correlation (the message names
        ``where``, the condition, the count, the outliers censored and the minimum); invalid choices.
    """
    check_options(lss, min_trials, beta_outliers, outlier_z)
    if isinstance(timeseries, pd.DataFrame):
        timeseries, events, tr = [timeseries], [events], [tr]
    runs = [
        (ts, ev, t) for ts, ev, t in zip(timeseries, events, tr) if len(ev)
    ]  # a run without modelled trials adds none
    betas = np.concatenate([lss_betas(ts, ev, t, band, lss) for ts, ev, t in runs])
    kinds = np.concatenate([ev["trial_type"].to_numpy() for _, ev, _ in runs])
    conditions = sorted(set(kinds))
    outliers = np.zeros(len(kinds), bool)
    for c in conditions:
        sel = kinds == c
        outliers[sel] = (np.abs(robust_z(betas[sel])) > outlier_z).any(axis=1)
    if beta_outliers == "censor" and outliers.any():  # re-estimate with each outlier on its own regressor
        ends = np.cumsum([len(ev) for _, ev, _ in runs])
        betas = np.concatenate(
            [
                lss_betas(ts, ev, t, band, lss, isolate=part)
                for (ts, ev, t), part in zip(runs, np.split(outliers, ends[:-1]))
            ]
        )
    summary = trial_summary(kinds, outliers, beta_outliers, conditions)
    used = ~outliers if beta_outliers == "censor" else np.ones(len(kinds), bool)
    rois = list(timeseries[0].columns)
    rows = []
    for c, n_trials, n_outliers, n_used in summary.itertuples(index=False):
        if n_used < min_trials:
            censored = f" ({n_outliers} outlier trial(s) of {n_trials} censored)" if n_used < n_trials else ""
            raise ValueError(
                f"{where + ': ' if where else ''}beta series: condition {c!r} has {n_used} events entering "
                f"the correlation{censored}, fewer than min_trials = {int(min_trials)} (rule: a "
                "condition's beta-series correlation needs at least min_trials trials; lower min_trials, "
                'or beta_outliers = "flag" to keep the outliers)'
            )
        r = np.corrcoef(betas[(kinds == c) & used], rowvar=False)
        rows += [(c, s, t, r[i, j]) for i, s in enumerate(rois) for j, t in enumerate(rois) if i != j]
    out = pd.DataFrame(rows, columns=["condition", "source", "target", "r"])
    out["z"] = fisher_z(out["r"].to_numpy())
    return out.merge(summary, on="condition", how="left")
