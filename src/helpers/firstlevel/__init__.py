"""Per-participant first level: ROI signals → CONN denoising → condition-specific connectivity.

One participant (:func:`participant_connectivity`):

1. locate the fMRIPrep-style files of every run (:func:`find_participant_files`, which asks
   :mod:`helpers.layout`: the twin's ideal derivatives, ours, or fMRIPrep 20.2 … 25.x) and
   pair each with the raw run of the same session, acq and run for its events;
2. read the preprocessed BOLD **once** and take, in one pass, every ROI's mean series
   and the WM/CSF voxel series (:func:`extract_signals`; unsmoothed ``desc-preproc``
   by default, as CONN; ``smoothed=True`` reads ``desc-smoothed``);
3. build CONN's denoising design (:func:`denoising_design`, book/spec_conn.md §4): aCompCor 5 + 5,
   6 realignment parameters + derivatives, Effect regressors + derivatives (the
   constant and linear trend are added by :func:`helpers.denoise.regress_and_filter`);
4. regress and filter (RegBP, high-pass 0.008 Hz), weight, correlate
   (:func:`helpers.connectivity.roi_to_roi`), and add the contrasts
   negative−neutral, positive−neutral as differences of z.

Alternatives (``measures``, the registry of :mod:`helpers.firstlevel.measures`; :func:`measures_table`
lists them): ``weighted_hanning``, ``weighted_none``, ``gppi_regression`` and ``gppi_symmetric`` (the
mean of its two directions), ``beta_series`` (least squares separate, :mod:`helpers.beta_series`),
``bandpass`` (0.008–0.09 Hz), ``no_compcor``, ``nilearn_<strategy>`` (nilearn's fMRIPrep confound
strategies as the denoiser), ``scrubbing`` and ``censoring`` (CONN's ART outlier scans,
:mod:`helpers.outliers`).  The ``outliers`` setting (default ``"none"``, the paper's pipeline) scrubs or
censors outlier scans in every measure built on CONN's design.
:func:`run_connectivity` runs every participant through :mod:`helpers.execution` (serial, local
processes or Dask; tqdm), reuses cached per-participant results (:mod:`helpers.cache`), writes
``connectivity.tsv`` atomically and records every excluded participant with its reason.

The modules
-----------
``inputs``    finding a participant's runs (through :mod:`helpers.layout`), reading events and confounds;
``signals``   ROI and WM/CSF signals of a run, CONN's denoising design, loading a participant's runs;
``registry``  the measure registry (:func:`register`, :data:`MEASURES`, :func:`measures_table`);
``measure_data``  what a measure receives (:class:`MeasureData`: runs, settings, shared steps);
``measures``  the measures themselves, each registered once, and the contrasts;
``stage``     one participant (:func:`participant_connectivity`) and the stage (:func:`run_connectivity`);
``example``   the chapter's worked example (the first participant whose runs can all be denoised);
``figures``   the chapter's figures;  ``recovery``  the twin's planted vs recovered coupling.

The package loads a module when one of its names is first used, so that reading the registry
(:mod:`helpers.params`) does not import nibabel or nilearn.

Several runs (CONN's "sessions", book/spec_conn.md §7)
------------------------------------------------------
A participant with several runs of the task (``run-``, ``ses-``, ``acq-``) gets one result per
condition and ROI pair, computed as CONN computes it (``conn_process.m``, denoising and first-level
steps):

* **each run is denoised on its own** — its own aCompCor (its WM/CSF voxels, its covariates), its
  realignment parameters and their derivatives, its Effect regressors built from its own onsets
  (relative to its first scan; an HRF tail never crosses into the next run), its constant and linear
  trend, its regression and CONN's filter with the mirror extension of that run and its TR.  A run
  would otherwise share a trend, a filter edge and confound betas with scans acquired minutes apart;
* a condition absent from a run has all-zero Effect and weight columns in that run (they stay in its
  design; the pseudo-inverse ignores them); absent from **every** run is an error naming the
  participant and the condition;
* **the runs are stacked, every scan kept**, with their weights (zero outside the condition), and the
  weighted correlation runs **once** on the stack: one weighted mean over all runs, one r, one Fisher
  z.  Averaging per-run z values instead would weigh a run where the condition has 3 scans like one
  where it has 60, and is not what CONN reports.  CONN's denoising step appends each session's
  denoised series to the condition's file (``conn_process.m``: ``dataroi = cat(1, dataroi,
  y(C{nses}.samples{ncondition}, :))``); current releases keep every scan
  (``CROPCONDITIONSAMPLES = false``, zero weight outside the condition), older ones kept only the
  scans with weight > 0 — the weighted correlation is the same either way, since a zero weight
  removes a scan from every sum;
* ``gppi_regression``: the stacked denoised series and the stacked psychological terms, one global
  centring and no run intercept (book/spec_conn.md §6–7; every run's residuals already have mean ≈ 0);
* ``beta_series``: least-squares-separate betas per run (a trial's model holds its own run only),
  concatenated across runs; the correlation is over all trials of the condition;
* ``nilearn_<strategy>``, ``no_compcor``, ``bandpass``: each run cleaned by that method, then stacked
  as above;
* degrees of freedom: a condition's effective residual dof (:func:`helpers.connectivity.condition_dof`)
  add up over runs; below ``min_dof`` (default 10) the measure fails with the participant, the
  condition and the dof in the message (:func:`helpers.connectivity.check_dof`), never a number
  (``beta_series`` keeps its own rule: at least ``min_trials``, default 3, trials of the condition over all
  runs).

A single run goes through the same code and gives the same bytes as before runs were supported
(``tests/test_runs.py`` checks a run named ``run-1`` against the plain layout, and two runs against a
concatenation computed by hand from the primitives).

fMRIPrep's non-steady-state volumes (``non_steady_state_outlier_XX``) become spike regressors of their
run (:func:`read_confounds`): the volumes stay, the events keep their onsets.
"""

from __future__ import annotations

import importlib

#: Public name → the module of this package that defines it.
_HOME = {
    **dict.fromkeys(
        [
            "MOTION_COLUMNS",
            "ParticipantFiles",
            "find_participant_files",
            "list_participants",
            "read_events",
            "read_motion",
            "read_confounds",
        ],
        "inputs",
    ),
    **dict.fromkeys(
        ["extract_signals", "denoising_design", "participant_design", "load_runs", "_ROI_CACHE"], "signals"
    ),
    **dict.fromkeys(
        [
            "MEASURES",
            "DEFAULT_CONTRASTS",
            "BANDPASS",
            "Measure",
            "MeasureData",
            "register",
            "unregister",
            "get_measure",
            "check_measures",
            "describe_measure",
            "measures_table",
            "beta_series",
            "add_contrasts",
        ],
        "measures",
    ),
    **dict.fromkeys(
        [
            "OUTPUT_COLUMNS",
            "ConnectivityJob",
            "StageSettings",
            "participant_connectivity",
            "run_connectivity",
        ],
        "stage",
    ),
    **dict.fromkeys(
        [
            "plot_condition_weights",
            "plot_design",
            "plot_connectivity",
            "plot_planted_vs_recovered",
            "plot_no_truth",
        ],
        "figures",
    ),
    **dict.fromkeys(["WorkedExample", "worked_example", "passed_over_sentence"], "example"),
    **dict.fromkeys(["twin_truth", "planted_vs_recovered", "recovery_summary"], "recovery"),
    "condition_weights": "..connectivity",  # used by the chapter beside the figures
}

__all__ = [name for name in _HOME if not name.startswith("_")]


def __getattr__(name: str):
    """Load the module defining ``name`` on first use (PEP 562)."""
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    home = _HOME[name] if _HOME[name].startswith(".") else f".{_HOME[name]}"
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))
