"""A run's signals and its CONN denoising design: the inputs every measure starts from.

:func:`extract_signals` reads the preprocessed BOLD once and takes every ROI's mean series and the
WM/CSF voxel series; :func:`denoising_design` builds CONN's nuisance design (book/spec_conn.md §4);
:func:`load_runs` does both for every run of a participant (a :class:`Run` each; several runs are
denoised one by one and stacked by the measures, book/spec_conn.md §7).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import nibabel as nib
import numpy as np
import pandas as pd

from .. import atlas
from ..connectivity import condition_effects, condition_weights
from ..denoise import compcor_from_voxels, mask_voxels, sample_voxels, temporal_derivative, tissue_mask
from ..layout.derivatives import SPACE
from .inputs import ParticipantFiles, _where, read_confounds, read_events

__all__ = [
    "extract_signals",
    "denoising_design",
    "Run",
    "load_run",
    "load_runs",
    "participant_design",
    "stack",
]

#: ROI voxel coordinates per BOLD grid and ROI specification (the atlas is resampled once per grid).
_ROI_CACHE: dict = {}


def _roi_voxels(img: nib.Nifti1Image, rois) -> dict[str, np.ndarray]:
    """ROI voxel coordinates on the BOLD grid (atlas resampling cached per grid)."""
    key = (tuple(img.shape[:3]), img.affine.round(6).tobytes(), repr(rois))
    if key not in _ROI_CACHE:
        ref = nib.Nifti1Image(np.zeros(img.shape[:3], np.uint8), img.affine)
        _ROI_CACHE[key] = {
            name: np.argwhere(np.asanyarray(m.dataobj)) for name, m in atlas.roi_masks(ref, rois).items()
        }
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

    Parameters
    ----------
    files : ParticipantFiles
        One run (its ``bold``, ``wm``, ``csf`` are read).
    rois : dict, path or None, default None
        ROI specification (:func:`helpers.atlas.roi_masks`; None: the paper's ROIs).

    Returns
    -------
    (DataFrame scans × ROIs, array scans × WM voxels, array scans × CSF voxels)
    """
    img = nib.load(files.bold)
    if len(img.shape) != 4:
        raise ValueError(f"{files.bold}: expected a 4-D BOLD image, got shape {img.shape}")
    roi_ijk = _roi_voxels(img, rois)
    tissue_ijk = [
        mask_voxels(tissue_mask(path, fallback=True), img.shape, img.affine) for path in (files.wm, files.csf)
    ]
    data = (
        img.dataobj.get_unscaled() if nib.is_proxy(img.dataobj) else np.asanyarray(img.dataobj)
    )  # the single read
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
        raise ValueError(
            f"{where}: ROI {name!r} lies outside the brain: its {vox.shape[1]} voxels are 0 or NaN "
            f"in every volume (rule: every ROI inside the BOLD image's brain mask; check that the "
            f"BOLD is in {SPACE} space and covers the ROI)"
        )
    mean = np.nanmean(vox, axis=1) if np.isnan(vox).any() else vox.mean(axis=1)
    if np.ptp(mean) == 0:
        raise ValueError(
            f"{where}: ROI {name!r} signal has zero variance (the value {mean[0]:g} in all "
            f"{mean.size} volumes; rule: an ROI signal must vary over time for a correlation)"
        )
    return mean


def denoising_design(
    motion: pd.DataFrame,
    effects: pd.DataFrame,
    wm=None,
    csf=None,
    n_components: int = 5,
    spikes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """CONN's first-level nuisance design without constant and trend (book/spec_conn.md §4).

    Columns: ``wm_mean, wm_pc1…4, csf_mean, csf_pc1…4`` (aCompCor on the voxel series,
    confounds = realignment + Effect regressors [+ spikes]), ``trans_x … rot_z``, their
    ``*_derivative1``, ``effect_<condition>`` and ``effect_<condition>_derivative1``, then the
    non-steady-state ``spikes`` (:func:`read_confounds`; none by default) — first-level
    covariates like the realignment parameters, without derivatives.

    Parameters
    ----------
    motion : DataFrame
        Realignment parameters (scans × 6).
    effects : DataFrame
        Condition Effect regressors (:func:`helpers.connectivity.condition_effects`).
    wm, csf : array (scans × voxels), default None
        WM/CSF voxel series; None leaves that CompCor block out.
    n_components : int, default 5
        aCompCor signals per tissue (the mean and ``n_components - 1`` components; CONN's 5).
    spikes : DataFrame, default None
        Non-steady-state spike regressors; default None: none.

    Returns
    -------
    DataFrame
        The design, scans × columns above.

    Raises
    ------
    ValueError
        ``effects`` and ``motion`` have different numbers of scans.
    """
    n = len(motion)
    if len(effects) != n:
        raise ValueError(f"effects have {len(effects)} scans but motion has {n} (mismatched lengths)")
    eff = effects.add_prefix("effect_").reset_index(drop=True)
    mot = motion.reset_index(drop=True)
    spk = spikes.reset_index(drop=True) if spikes is not None and spikes.shape[1] else None
    parts = []
    covariates = np.column_stack(
        [mot.to_numpy(float), eff.to_numpy(float)] + ([spk.to_numpy(float)] if spk is not None else [])
    )
    for prefix, vox in (("wm_", wm), ("csf_", csf)):
        if vox is not None:
            parts.append(
                compcor_from_voxels(vox, confounds=covariates, n_components=n_components, prefix=prefix)
            )
    parts += [
        mot,
        temporal_derivative(mot).add_suffix("_derivative1"),
        eff,
        temporal_derivative(eff).add_suffix("_derivative1"),
    ]
    if spk is not None:
        parts.append(spk)
    return pd.concat(parts, axis=1)


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
class Run:
    """One run's signals and its CONN denoising design (the inputs of every measure).

    ``wm`` and ``csf`` keep the WM/CSF voxel series (None without CompCor), so that a scrubbing
    design (:meth:`design`) can recompute aCompCor with its spike regressors.
    """

    files: ParticipantFiles
    roi_ts: pd.DataFrame
    events: pd.DataFrame
    effects: pd.DataFrame
    motion: pd.DataFrame
    spikes: pd.DataFrame
    full: pd.DataFrame
    wm: np.ndarray | None = None
    csf: np.ndarray | None = None
    _weights: dict = field(default_factory=dict)
    _outliers: dict = field(default_factory=dict)
    _designs: dict = field(default_factory=dict)

    def weights(self, kind: str, conditions) -> pd.DataFrame:
        """This run's condition weights (``kind`` = hrf/hanning/none), zero for absent conditions.

        Parameters
        ----------
        kind : {"hrf", "hanning", "none"}
            Weighting (:func:`helpers.connectivity.condition_weights`); cached per kind.
        conditions : sequence of str
            The columns, in order.

        Returns
        -------
        DataFrame
            Scans × conditions.
        """
        if kind not in self._weights:
            n, tr = len(self.roi_ts), self.files.tr
            self._weights[kind] = _per_condition(
                lambda names: condition_weights(self.events, n, tr, kind, conditions=names),
                self.events,
                conditions,
                n,
            )
        return self._weights[kind]

    def outliers(self, rule) -> np.ndarray:
        """This run's outlier scans under ``rule`` (bool per scan; :mod:`helpers.outliers`).

        Parameters
        ----------
        rule : helpers.outliers.OutlierRule
            Thresholds (global-signal z, motion) of CONN's ART detection.

        Returns
        -------
        numpy.ndarray of bool
            True at each outlier scan.
        """
        from ..outliers import detect_outliers, read_outlier_inputs

        key = (rule.gs_z, rule.fd_mm, rule.fd)
        if key not in self._outliers:
            inputs = read_outlier_inputs(
                self.files.confounds, len(self.roi_ts), self.files.participant_id, bold=self.files.bold
            )
            self._outliers[key] = detect_outliers(inputs, rule)["outlier"].to_numpy()
        return self._outliers[key]

    def design(self, rule=None, compcor: bool = True) -> pd.DataFrame:
        """The denoising design under an outlier ``rule`` (:class:`helpers.outliers.OutlierRule`).

        No rule or censoring: :attr:`full` itself (censoring drops scans, not columns); without
        CompCor the design without the WM/CSF signals.  Scrubbing (CONN's way): one spike regressor
        per outlier scan not already a non-steady-state spike, a first-level covariate like the
        realignment parameters, so aCompCor removes it too before its PCA (book/spec_conn.md §4).

        Parameters
        ----------
        rule : helpers.outliers.OutlierRule, default None
            Outlier rule; None: no outlier scans.
        compcor : bool, default True
            Include the aCompCor WM/CSF signals.

        Returns
        -------
        DataFrame
            The denoising design (:func:`denoising_design`), cached per rule.
        """
        scrub = rule is not None and rule.method == "scrub"
        if compcor and not scrub:
            return self.full
        key = ((rule.gs_z, rule.fd_mm, rule.fd) if scrub else None, compcor)
        if key not in self._designs:  # aCompCor is recomputed once per rule, not at every use
            spikes = self.spikes
            if scrub:
                from ..outliers import spike_regressors

                flagged = self.outliers(rule) & ~self.spikes.to_numpy(bool).any(axis=1)
                spikes = pd.concat([spikes, spike_regressors(flagged)], axis=1)
            self._designs[key] = denoising_design(
                self.motion,
                self.effects,
                self.wm if compcor else None,
                self.csf if compcor else None,
                spikes=spikes,
            )
        return self._designs[key]


def load_run(run: ParticipantFiles, conditions, rois, require_all: bool, compcor: bool = True) -> Run:
    """Read one run (BOLD once, events, confounds) and build its denoising design (book/spec_conn.md §4, §7).

    Parameters
    ----------
    run : ParticipantFiles
        One run.
    conditions : sequence of str
        Modelled conditions.
    rois : dict, path or None
        ROI specification.
    require_all : bool
        Every condition must occur in this run (a participant's only run).
    compcor : bool, default True
        Include the aCompCor WM/CSF signals in the design.
    """
    roi_ts, wm, csf = extract_signals(run, rois)
    n, tr = len(roi_ts), run.tr
    events = read_events(run.events, conditions, require_all=require_all)

    effects = _per_condition(
        lambda names: condition_effects(events, n, tr, conditions=names), events, conditions, n
    )
    motion, spikes = read_confounds(run.confounds, n, run.participant_id)
    if not compcor:
        wm = csf = None
    full = denoising_design(motion, effects, wm, csf, spikes=spikes)
    return Run(run, roi_ts, events, effects, motion, spikes, full, wm, csf)


def load_runs(files: ParticipantFiles, conditions, rois) -> list[Run]:
    """Every run of a participant (:func:`load_run`); a condition may miss from some runs but not from all.

    Parameters
    ----------
    files : ParticipantFiles
        The participant (``files.all_runs``).
    conditions : sequence of str
        Modelled conditions.
    rois : dict, path or None
        ROI specification.
    """
    runs = files.all_runs
    data = [load_run(run, conditions, rois, require_all=len(runs) == 1) for run in runs]
    absent = [c for c in conditions if not any((d.events["trial_type"] == c).any() for d in data)]
    if absent:
        raise ValueError(
            f"{files.participant_id}: condition(s) {absent} have no events in any of its {len(runs)} runs "
            f"({', '.join(str(r.events) for r in runs)}); rule: every modelled condition occurs in at "
            "least one run"
        )
    return data


def participant_design(
    files: ParticipantFiles, conditions, rois=None, compcor: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """ROI series, events and the full denoising design of one participant's (first) run (for figures).

    Parameters
    ----------
    files : ParticipantFiles
        The participant.
    conditions : sequence of str
        Modelled conditions.
    rois : dict, path or None, default None
        ROI specification (None: the paper's ROIs).
    compcor : bool, default True
        Include the aCompCor WM/CSF signals in the design.
    """
    run = load_run(files.all_runs[0], conditions, rois, require_all=len(files.all_runs) == 1, compcor=compcor)
    return run.roi_ts, run.events, run.full


def stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Runs stacked in time, every scan kept (book/spec_conn.md §7); one run is returned as it is.

    Parameters
    ----------
    frames : list of DataFrame
        One table per run, same columns.

    Returns
    -------
    DataFrame
        The runs one after the other, with a fresh index.
    """
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
