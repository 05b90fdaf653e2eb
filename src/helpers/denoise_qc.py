"""Denoising quality: what CONN's QA plots, QC-FC benchmarks and XCP-D reports show about a denoising.

Five scores, one helper each, all on the denoising the first level uses (the same regressors from
:func:`helpers.firstlevel.participant_design`, the same regression and filter
:func:`helpers.denoise.regress_and_filter`):

* **before/after** (:func:`edge_correlations`, :func:`participant_denoise_qc`): every ROI pair's
  Pearson r over all scans of the minimally preprocessed ROI signals and of the denoised ones, per
  participant — CONN's "QA denoising" histogram (Whitfield-Gabrieli & Nieto-Castanon 2012): a
  confound shared by the whole brain (motion, physiology, scanner drift) shifts the raw
  distribution to positive values; after a good denoising it is narrower and nearer zero;
* **QC-FC** (:func:`qc_fc`): across participants, the correlation of each connection's analysed
  value with the participant's mean framewise displacement (Power et al. 2012; Ciric et al. 2017;
  Parkes et al. 2018), with a permutation null (FD shuffled across participants) giving a p per
  edge and for the summary (median |QC-FC|); and its dependence on the distance between ROI
  centroids (:func:`roi_distances`, :func:`distance_dependence`);
* **carpet** (:func:`carpet_data`, :func:`plot_carpet`): voxels × time of one participant,
  z-scored, before and after the same regression and filter applied voxel-wise (Power 2017);
* **degrees of freedom** (:func:`design_dof`): scans, regressors of the denoising design by kind,
  the residual dof, and each condition's effective dof of the weighted GLM
  (:func:`helpers.connectivity.condition_dof`);
* **verdicts** (:func:`verdicts`): one line per score against thresholds that are parameters.

:func:`run_denoise_qc` runs them for a whole sample and writes ``denoise_qc.tsv`` (one row per
participant), ``qc_fc.tsv`` (one row per edge and condition) and ``denoise_qc_verdicts.tsv``
beside ``connectivity.tsv``.

Which connectivity enters QC-FC: the **analysed measure per condition** (default ``weighted_hrf``,
read from ``connectivity.tsv``), not an all-scans correlation.  The question QC-FC answers is
whether between-participant differences in motion leave a trace in the values the group statistics
use; in this task design those are the condition-weighted correlations, and an all-scans
correlation (the resting-state convention) would average over the conditions the paper compares.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass

import nibabel as nib
import numpy as np
import pandas as pd

from . import atlas
from . import firstlevel as fl
from .connectivity import condition_dof, condition_weights
from .denoise import HIGHPASS, regress_and_filter, residual_dof
from .exclusions import motion_table
from .io import write_tsv
from .layout import outputs
from .style import OKABE_ITO, format_p, format_r, role_colours, styled

__all__ = [
    "REGRESSOR_KINDS",
    "edge_correlations",
    "regressor_kind",
    "design_dof",
    "participant_denoise_qc",
    "qc_fc",
    "roi_distances",
    "distance_dependence",
    "distance_sentence",
    "qc_fc_sentence",
    "MIN_QCFC_PARTICIPANTS",
    "carpet_data",
    "verdicts",
    "run_denoise_qc",
    "DenoiseQC",
    "plot_before_after",
    "plot_qc_fc",
    "plot_qc_fc_distance",
    "plot_carpet",
    "plot_dof",
]

log = logging.getLogger(__name__)

#: Kinds of denoising regressors counted by :func:`design_dof` (the constant and trend are added
#: by :func:`helpers.denoise.regress_and_filter`; "outliers" are spike/scrubbing columns).
REGRESSOR_KINDS = ("constant_trend", "motion", "compcor_wm", "compcor_csf", "effects", "outliers")
BEFORE, AFTER = OKABE_ITO["orange"], OKABE_ITO["blue"]
#: Fewer participants than this: QC-FC is not computed (its verdict says so).
MIN_QCFC_PARTICIPANTS = 4
#: Null r values kept for the per-edge null range of :func:`qc_fc` (permutations × edges; ~160 MB).
NULL_VALUES = 20_000_000
#: Width (inches) of this module's figures: narrower than the text column so that 10-pt text stays legible
#: when a phone shrinks the figure to its screen.
WIDTH = 4.6


# --------------------------------------------------------------------------- before / after
def edge_correlations(timeseries: pd.DataFrame) -> pd.DataFrame:
    """Pearson r of every unordered ROI pair over all scans.

    Formula: r_ij = Σ_t x̃_i(t) x̃_j(t) / sqrt(Σ x̃_i² Σ x̃_j²), x̃ = x − mean(x).

    Parameters
    ----------
    timeseries : DataFrame (scans × ROIs)

    Returns
    -------
    DataFrame
        ``source, target, r``, one row per pair in the column order (source before target).
    """
    names = list(timeseries.columns)
    r = np.corrcoef(timeseries.to_numpy(float), rowvar=False)
    rows = [(names[i], names[j], float(r[i, j])) for i, j in itertools.combinations(range(len(names)), 2)]
    return pd.DataFrame(rows, columns=["source", "target", "r"])


def regressor_kind(column: str) -> str:
    """Kind of a :func:`helpers.firstlevel.denoising_design` column (one of :data:`REGRESSOR_KINDS`).

    ``wm_*`` → compcor_wm, ``csf_*`` → compcor_csf, the six realignment parameters and their
    derivatives → motion, ``effect_*`` → effects; any other column (fMRIPrep's
    ``non_steady_state_outlier_XX``, scrubbing spikes) → outliers.
    """
    if column.startswith("wm_"):
        return "compcor_wm"
    if column.startswith("csf_"):
        return "compcor_csf"
    if column.removesuffix("_derivative1") in fl.MOTION_COLUMNS:
        return "motion"
    if column.startswith("effect_"):
        return "effects"
    return "outliers"


def design_dof(designs, weights=None) -> dict:
    """Regressors of the denoising design by kind, residual dof and each condition's effective dof.

    Formula: dof = Σ_runs (N_r − rank([1, X_r, trend])) (:func:`helpers.denoise.residual_dof`);
    effective dof of condition c = Σ_r (n_{c,r}/N_r)·dof_r (:func:`helpers.connectivity.condition_dof`,
    n_{c,r} = scans of run r where c has weight > 0).  The filter's loss is not subtracted (both are
    upper bounds, as in the first level).

    Parameters
    ----------
    designs : DataFrame or list of DataFrame
        Each run's denoising design (scans × regressors, without constant and trend).
    weights : DataFrame or list of DataFrame, optional
        Each run's condition weights (scans × conditions); default None: no per-condition dof.

    Returns
    -------
    dict
        ``n_scans``, ``n_<kind>`` for every kind in :data:`REGRESSOR_KINDS`, ``n_regressors``
        (their sum), ``dof`` and ``dof_<condition>``.
    """
    designs = [designs] if isinstance(designs, pd.DataFrame) else list(designs)
    counts = dict.fromkeys(REGRESSOR_KINDS, 0)
    dofs = []
    for design in designs:
        counts["constant_trend"] += 2
        for column in design.columns:
            counts[regressor_kind(str(column))] += 1
        dofs.append(residual_dof(len(design), design))
    out = {"n_scans": int(sum(len(d) for d in designs))}
    out |= {f"n_{kind}": n for kind, n in counts.items()}
    out["n_regressors"] = int(sum(counts.values()))
    out["dof"] = int(sum(dofs))
    if weights is not None:
        weights = [weights] if isinstance(weights, pd.DataFrame) else list(weights)
        out |= {f"dof_{c}": float(v) for c, v in condition_dof(weights, dofs).items()}
    return out


def _run_design(run, conditions, rois):
    """One run's ROI series, events and design; conditions absent from the run are left out of its design
    (an all-zero column adds nothing to the regression or its rank, book/spec_conn.md §7)."""
    present = [c for c in conditions if c in set(fl.read_events(run.events, conditions, require_all=False)["trial_type"])]
    return fl.participant_design(run, present or list(conditions), rois)


def participant_denoise_qc(files, conditions=("negative", "neutral", "positive"), rois=None, band=HIGHPASS,
                           weighting: str = "hrf") -> tuple[pd.DataFrame, dict]:
    """Before/after ROI correlations and degrees of freedom of one participant (its BOLD read once per run).

    Every run is denoised on its own, as the first level does (:func:`helpers.firstlevel.participant_design`
    for the design, :func:`helpers.denoise.regress_and_filter` for regression and CONN's filter); the
    runs are then stacked.  The raw series are each run's ROI means minus their run mean (so run
    offsets do not inflate r).

    Parameters
    ----------
    files : helpers.firstlevel.ParticipantFiles
    conditions : sequence of str, default ("negative", "neutral", "positive")
    rois : dict, optional
        ROI specification (:func:`helpers.atlas.roi_masks`); default None: the paper's.
    band : (float, float), default :data:`helpers.denoise.HIGHPASS` (0.008 Hz, ∞)
    weighting : str, default "hrf"
        Condition weights for the effective dof (:func:`helpers.connectivity.condition_weights`).

    Returns
    -------
    (DataFrame, dict)
        ``participant_id, source, target, r_raw, r_denoised``; and :func:`design_dof`'s counts.
    """
    raw, denoised, designs, weights = [], [], [], []
    for run in files.all_runs:
        roi_ts, events, design = _run_design(run, conditions, rois)
        raw.append(roi_ts - roi_ts.mean())
        denoised.append(regress_and_filter(roi_ts, design, run.tr, band))
        designs.append(design)
        present = [c for c in conditions if (events["trial_type"] == c).any()]
        weights.append(condition_weights(events, len(roi_ts), run.tr, weighting, conditions=present)
                       .reindex(columns=list(conditions), fill_value=0.0))
    before = edge_correlations(pd.concat(raw, ignore_index=True))
    after = edge_correlations(pd.concat(denoised, ignore_index=True))
    edges = before.rename(columns={"r": "r_raw"}).assign(r_denoised=after["r"].to_numpy())
    return edges.assign(participant_id=files.participant_id)[["participant_id", "source", "target", "r_raw",
                                                               "r_denoised"]], design_dof(designs, weights)


# --------------------------------------------------------------------------- QC-FC
def _standardise(a: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=0)
    return a / np.sqrt((a**2).sum(axis=0))


def qc_fc(values: pd.DataFrame, fd: pd.Series, n_perm: int = 5000, seed: int = 0, alpha: float = 0.05,
          chunk: int = 1000) -> tuple[pd.DataFrame, dict]:
    """QC-FC: each edge's correlation with mean FD across participants, with a permutation null.

    Formula: QC-FC_e = Pearson r(FD, v_e) over participants.  The null shuffles FD across
    participants (the same permutation for every edge, so the edges' dependence is kept):
    p_e = (1 + #{|r*_e| ≥ |r_e|}) / (n_perm + 1) (two-sided; Phipson & Smyth 2010), and for the
    summary m = median_e |QC-FC_e|, p = (1 + #{m* ≥ m}) / (n_perm + 1).  When n! ≤ ``n_perm``
    every permutation is enumerated instead (identity included) and p = #{…} / n! is exact.

    Parameters
    ----------
    values : DataFrame (participants × edges)
        Connectivity of every participant (index) and edge (columns); no missing values.
    fd : Series
        Mean framewise displacement per participant (same index as ``values``).
    n_perm : int, default 5000
        Random permutations.
    seed : int, default 0
        Seed of the permutations (same seed → same p values).
    alpha : float, default 0.05
        Level for the "% of edges with p < alpha" summary.
    chunk : int, default 1000
        Permutations evaluated at once (memory: chunk × edges floats).

    Returns
    -------
    (DataFrame, dict)
        Per edge (``values``' columns as index): ``qc_fc_r, p_perm, null_low, null_high`` (2.5 and
        97.5 % of the null r, from the first :data:`NULL_VALUES` / edges permutations); summary ``n_participants, n_edges, n_perm, exact, median_abs_qc_fc,
        p_median, pct_significant``.

    Raises
    ------
    ValueError
        Fewer than 4 participants, missing values (names the participant and edge), different
        participants in ``values`` and ``fd``, or FD (or an edge) constant across participants.
    """
    if n_perm < 1:
        raise ValueError(f"qc_fc: n_perm = {n_perm}; rule: at least 1 permutation")
    missing = sorted(set(values.index) ^ set(fd.index))
    if missing:
        raise ValueError(f"qc_fc: participant(s) {missing} are not in both the connectivity table and the FD table "
                         "(rule: one FD value per participant with connectivity)")
    fd = fd.loc[values.index]
    n = len(values)
    if n < 4:
        raise ValueError(f"qc_fc: {n} participants; rule: at least 4 for a correlation across participants")
    if values.isna().any().any():
        missing_at = values.isna().to_numpy()
        i, j = np.argwhere(missing_at)[0]
        pid, edge = values.index[i], values.columns[j]
        raise ValueError(f"qc_fc: participant {pid}, edge {edge}: missing value (rule: every participant has "
                         "every edge)")
    if not np.isfinite(fd.to_numpy(float)).all() or np.ptp(fd.to_numpy(float)) == 0:
        raise ValueError("qc_fc: mean FD is missing or the same for every participant (rule: FD varies across "
                         "participants for a correlation)")
    flat = [c for c in values.columns if np.ptp(values[c].to_numpy(float)) == 0]
    if flat:
        raise ValueError(f"qc_fc: edge {flat[0]} has the same value for every participant (rule: an edge varies)")
    y = _standardise(values.to_numpy(float))
    x = _standardise(fd.to_numpy(float)[:, None])[:, 0]
    r = x @ y
    med = float(np.median(np.abs(r)))
    exact = math.factorial(n) <= n_perm
    if exact:
        blocks = (np.array(list(itertools.islice(itertools.permutations(range(n)), i, i + chunk)))
                  for i in range(0, math.factorial(n), chunk))
        total = math.factorial(n)
    else:
        rng = np.random.default_rng(seed)
        sizes = [min(chunk, n_perm - i) for i in range(0, n_perm, chunk)]
        blocks = (np.argsort(rng.random((size, n)), axis=1) for size in sizes)
        total = n_perm
    above = np.zeros(r.size)
    above_med = 0
    null, kept, keep = [], 0, max(1, NULL_VALUES // r.size)   # bounded memory for many edges (an atlas)
    for perm in blocks:
        rp = x[perm] @ y                     # (permutations × edges)
        above += (np.abs(rp) >= np.abs(r) - 1e-12).sum(axis=0)
        above_med += int((np.median(np.abs(rp), axis=1) >= med - 1e-12).sum())
        if kept < keep:
            null.append(rp[: keep - kept])
            kept += len(null[-1])
    null = np.concatenate(null)
    p = above / total if exact else (1 + above) / (total + 1)
    p_med = above_med / total if exact else (1 + above_med) / (total + 1)
    table = pd.DataFrame({"qc_fc_r": r, "p_perm": p, "null_low": np.quantile(null, 0.025, axis=0),
                          "null_high": np.quantile(null, 0.975, axis=0)}, index=values.columns)
    summary = {"n_participants": n, "n_edges": int(r.size), "n_perm": int(total), "exact": bool(exact),
               "median_abs_qc_fc": med, "p_median": float(p_med),
               "pct_significant": float(100 * np.mean(p < alpha))}
    return table, summary


def roi_distances(reference_img, rois=None) -> pd.DataFrame:
    """Euclidean distance (mm) between the centroids of every pair of ROIs, on a reference grid.

    Formula: c_k = mean over ROI k's voxels of (affine · [i, j, k, 1])[:3]; d_kl = ‖c_k − c_l‖.
    The ROIs are resampled to the grid of ``reference_img`` as for extraction
    (:func:`helpers.atlas.roi_masks`), so the centroids are those of the ROIs analysed.

    Parameters
    ----------
    reference_img : Nifti1Image or path
        e.g. a participant's preprocessed BOLD.
    rois : dict, optional
        Default None: the paper's ROIs.

    Returns
    -------
    DataFrame
        ``source, target, distance_mm`` (unordered pairs in ROI order).
    """
    masks = atlas.roi_masks(reference_img, rois)
    centroids = {}
    for name, mask in masks.items():
        ijk = np.argwhere(np.asanyarray(mask.dataobj))
        centroids[name] = nib.affines.apply_affine(mask.affine, ijk).mean(axis=0)
    rows = [(a, b, float(np.linalg.norm(centroids[a] - centroids[b]))) for a, b in itertools.combinations(masks, 2)]
    return pd.DataFrame(rows, columns=["source", "target", "distance_mm"])


def distance_dependence(table: pd.DataFrame) -> float:
    """Spearman ρ between QC-FC r and inter-ROI distance over the rows of ``table`` (``qc_fc_r``,
    ``distance_mm``); NaN with fewer than 4 distinct distances (a trend needs ≥ 4 ROIs' pairs).

    Motion artefacts inflate short-range and deflate long-range connectivity (Power et al. 2012),
    so a negative ρ is the signature of residual motion; near 0 is what a denoising aims at.
    """
    from scipy.stats import spearmanr

    if table["distance_mm"].nunique() < 4:
        return float("nan")
    return float(spearmanr(table["qc_fc_r"], table["distance_mm"]).statistic)


def qc_fc_sentence(summary: dict, alpha: float = 0.05) -> str:
    """One sentence on the QC-FC summary for the prose (:func:`qc_fc`'s ``summary``)."""
    if not np.isfinite(summary["pct_significant"]):
        return (f"QC-FC was not computed: {summary['n_participants']} participant(s) enter the group analysis, and a "
                f"correlation across participants needs at least {MIN_QCFC_PARTICIPANTS}.")
    level = f"{alpha:g}".lstrip("0")
    return (f"The median |QC-FC| is {format_r(summary['median_abs_qc_fc'], 2)} (permutation *p* = "
            f"{format_p(summary['p_median'])}), and {summary['pct_significant']:.0f} % of the {summary['n_edges']} "
            f"connection–condition values reach *p* < {level}; chance alone would give about {100 * alpha:g} %.")


def distance_sentence(result) -> str:
    """One sentence on QC-FC against distance for the prose (:class:`DenoiseQC` ``result``)."""
    table = result.qc_fc
    n_rois = len(set(table["source"]) | set(table["target"]))
    if not np.isfinite(result.distance_rho):
        return (f"With {n_rois} regions there are too few distinct distances for this check "
                "(it needs at least 4 regions).")
    return (f"Across the {len(table)} connection–condition values of {n_rois} regions, QC-FC and the distance "
            f"between region centroids correlate at Spearman ρ = {format_r(result.distance_rho, 2)}.")


# --------------------------------------------------------------------------- carpet
def _brain_voxels(files, derivatives_dir, task: str, img) -> np.ndarray:
    """ijk of the brain: the derivative's brain mask beside the BOLD, else nilearn's EPI mask of the data."""
    from nilearn import image as nimg
    from nilearn.masking import compute_epi_mask

    from .layout import derivative_runs

    mask = None
    if derivatives_dir is not None:
        runs = [r for r in derivative_runs(derivatives_dir, files.participant_id, task) if r.bold == files.bold]
        mask = runs[0].mask if runs else None
    mask_img = nib.load(mask) if mask is not None else compute_epi_mask(img)
    mask_img = nimg.resample_to_img(mask_img, nimg.index_img(img, 0), interpolation="nearest",
                                    force_resample=True, copy_header=True)
    return np.argwhere(np.asanyarray(mask_img.dataobj) > 0)


def _tissue_of(ijk: np.ndarray, files, img) -> np.ndarray:
    """0 = grey matter/other, 1 = WM, 2 = CSF: the tissue with probability > 0.5 (WM before CSF)."""
    from nilearn import image as nimg

    label = np.zeros(len(ijk), int)
    for value, path in ((2, files.csf), (1, files.wm)):
        prob = nimg.resample_to_img(nib.load(path), nimg.index_img(img, 0), interpolation="nearest",
                                    force_resample=True, copy_header=True)
        label[np.asanyarray(prob.dataobj)[tuple(ijk.T)] > 0.5] = value
    return label


def carpet_data(files, conditions=("negative", "neutral", "positive"), band=HIGHPASS, max_voxels: int = 3000,
                seed: int = 0, derivatives_dir=None, task: str = "feedback") -> dict:
    """Voxel × time matrices of one participant's (first) run before and after denoising, z-scored.

    Before: the minimally preprocessed BOLD of a random subsample of brain voxels (at most
    ``max_voxels``, seeded); after: the same voxels through the first level's design and
    :func:`helpers.denoise.regress_and_filter`.  Each voxel's series is z-scored over time
    (mean 0, SD 1).  Rows are ordered grey matter, white matter, CSF (Power 2017).

    Parameters
    ----------
    files : helpers.firstlevel.ParticipantFiles
    conditions : sequence of str
    band : (float, float), default (0.008, ∞)
    max_voxels : int, default 3000
        Voxels drawn (without replacement) from the brain mask; all when fewer.
    seed : int, default 0
    derivatives_dir : path, optional
        Where the run's ``desc-brain_mask`` is looked up; default None (or no mask): nilearn's
        :func:`~nilearn.masking.compute_epi_mask` of the data.
    task : str, default "feedback"

    Returns
    -------
    dict
        ``before``, ``after`` (voxels × scans), ``tissue`` (0 GM/other, 1 WM, 2 CSF per row),
        ``fd`` (framewise displacement per scan, NaN where fMRIPrep writes n/a), ``tr``, ``participant_id``.
    """
    run = files.all_runs[0]
    _, _, design = _run_design(run, conditions, None)
    img = nib.load(run.bold)
    ijk = _brain_voxels(run, derivatives_dir, task, img)
    rng = np.random.default_rng(seed)
    if len(ijk) > max_voxels:
        ijk = ijk[np.sort(rng.choice(len(ijk), max_voxels, replace=False))]
    data = np.asanyarray(img.dataobj)
    series = data[tuple(ijk.T)].astype(float).T          # scans × voxels
    keep = series.std(axis=0) > 0                         # voxels without signal cannot be z-scored
    series, ijk = series[:, keep], ijk[keep]
    tissue = _tissue_of(ijk, run, img)
    order = np.argsort(tissue, kind="stable")
    after = np.asarray(regress_and_filter(series, design.to_numpy(float), run.tr, band))

    def z(a):
        sd = a.std(axis=0)
        return ((a - a.mean(axis=0)) / np.where(sd > 0, sd, 1)).T[order]

    conf = pd.read_csv(run.confounds, sep="\t", na_values=["n/a"], keep_default_na=False)
    fd = pd.to_numeric(conf.get("framewise_displacement", pd.Series(np.nan, index=conf.index)), errors="coerce")
    return {"before": z(series), "after": z(after), "tissue": tissue[order], "fd": fd.to_numpy(float),
            "tr": run.tr, "participant_id": files.participant_id}


# --------------------------------------------------------------------------- verdicts
def verdicts(edges: pd.DataFrame, per_participant: pd.DataFrame, summary: dict, *, alpha: float = 0.05,
             max_pct_significant: float = 5.0, min_dof: float = 20.0, min_r_reduction: float = 0.0,
             conditions=None) -> pd.DataFrame:
    """One line per score: its value, the rule, and pass/fail.

    * before/after: pooled median |r| raw − median |r| denoised ≥ ``min_r_reduction`` (default 0.0:
      denoising must not raise it);
    * QC-FC: % of edges with permutation p < ``alpha`` ≤ ``max_pct_significant`` (default 5: what
      chance alone gives at α = .05) **and** the median-|QC-FC| permutation p ≥ ``alpha``;
    * degrees of freedom: every participant's smallest condition dof ≥ ``min_dof`` (default 20; our
      choice, not a published standard: with fewer, a participant's z has an SE above ≈ 0.24).

    Parameters
    ----------
    edges : DataFrame
        :func:`participant_denoise_qc` rows of every participant (``r_raw``, ``r_denoised``).
    per_participant : DataFrame
        :func:`design_dof` rows (``dof_<condition>`` columns).
    summary : dict
        :func:`qc_fc`'s summary.
    alpha : float, default 0.05
        Level of the permutation tests.
    max_pct_significant : float, default 5.0
        Largest % of edges with p < ``alpha``.
    min_dof : float, default 20.0
        Smallest effective dof of a condition.
    min_r_reduction : float, default 0.0
        Smallest drop of the pooled median |r| (raw − denoised).
    conditions : sequence of str, optional
        Conditions whose dof are checked; default None: every ``dof_<c>`` column.

    Returns
    -------
    DataFrame
        ``score`` ("before/after", "QC-FC", "degrees of freedom"), ``value``, ``rule``, ``verdict``
        (``"pass"``, ``"fail"``, or ``"not computed"`` for QC-FC with fewer than
        :data:`MIN_QCFC_PARTICIPANTS` participants) and ``text``: the one-line verdict.
    """
    rows = []
    raw, den = float(np.median(np.abs(edges["r_raw"]))), float(np.median(np.abs(edges["r_denoised"])))
    ok = raw - den >= min_r_reduction
    rows.append(("before/after", raw - den, f"median |r| raw − denoised ≥ {min_r_reduction:g}", ok,
                 f"denoising {'lowered' if den < raw else 'did not lower'} the median |r| of the ROI pairs from "
                 f"{format_r(raw, 2)} to {format_r(den, 2)}"))
    pct, p_med = summary["pct_significant"], summary["p_median"]
    rule = f"% edges p < {alpha:g} ≤ {max_pct_significant:g} and median-|QC-FC| p ≥ {alpha:g}"
    if np.isfinite(pct):
        rows.append(("QC-FC", pct, rule, pct <= max_pct_significant and p_med >= alpha,
                     f"{pct:.0f} % of {summary['n_edges']} edge–condition values correlate with mean FD at "
                     f"p < {alpha:g}; median |QC-FC| = {format_r(summary['median_abs_qc_fc'], 2)}, "
                     f"permutation p = {format_p(p_med)}"))
    else:
        rows.append(("QC-FC", pct, rule, None, f"not computed: {summary['n_participants']} participant(s), a "
                                               f"correlation across participants needs {MIN_QCFC_PARTICIPANTS}"))
    cols = [f"dof_{c}" for c in conditions] if conditions is not None else \
        [c for c in per_participant.columns if c.startswith("dof_")]
    lowest = per_participant[cols].min(axis=1)
    failing = per_participant.loc[lowest < min_dof, "participant_id"].tolist()
    rows.append(("degrees of freedom", float(lowest.min()), f"every condition's effective dof ≥ {min_dof:g}", not failing,
                 f"smallest effective dof of a condition: {lowest.min():.1f}; "
                 + (f"{len(failing)} participant(s) below {min_dof:g} ({', '.join(failing)})" if failing
                    else f"no participant below {min_dof:g}")))
    out = pd.DataFrame(rows, columns=["score", "value", "rule", "ok", "text"])
    out["verdict"] = ["not computed" if ok is None else "pass" if ok else "fail" for ok in out.pop("ok")]
    return out[["score", "value", "rule", "verdict", "text"]]


# --------------------------------------------------------------------------- the whole sample
@dataclass
class DenoiseQC:
    """Every table of :func:`run_denoise_qc` (the three TSVs, the before/after edges, the paths written)."""

    per_participant: pd.DataFrame
    edges: pd.DataFrame
    qc_fc: pd.DataFrame
    summary: dict
    verdicts: pd.DataFrame
    distance_rho: float
    paths: tuple = ()


def _edge_values(connectivity: pd.DataFrame, measure: str, conditions) -> pd.DataFrame:
    """participants × (source, target, condition) of ``measure`` (unordered pairs: source < target in ROI order)."""
    data = connectivity[(connectivity["measure"] == measure) & connectivity["condition"].isin(list(conditions))]
    if data.empty:
        raise ValueError(f"connectivity table: no rows of measure {measure!r} for conditions {list(conditions)} "
                         "(rule: QC-FC reads the analysed measure from connectivity.tsv)")
    order = {name: i for i, name in enumerate(dict.fromkeys([*data["source"], *data["target"]]))}
    data = data[[order[s] < order[t] for s, t in zip(data["source"], data["target"])]]
    wide = data.pivot(index="participant_id", columns=["source", "target", "condition"], values="z")
    return wide.reindex(columns=sorted(wide.columns, key=lambda c: (order[c[0]], order[c[1]],
                                                                     list(conditions).index(c[2]))))


def run_denoise_qc(bids_dir, derivatives_dir, output_dir, participants=None, task: str = "feedback",
                   conditions=("negative", "neutral", "positive"), measure: str = "weighted_hrf", rois=None,
                   band=HIGHPASS, weighting: str = "hrf", n_perm: int = 5000, seed: int = 0, alpha: float = 0.05,
                   max_pct_significant: float = 5.0, min_dof: float = 20.0, min_r_reduction: float = 0.0,
                   smoothed: bool = False, progress: bool = True) -> DenoiseQC:
    """Denoising QC of a sample; writes ``denoise_qc.tsv``, ``qc_fc.tsv`` and ``denoise_qc_verdicts.tsv``.

    Reads ``connectivity.tsv`` in ``output_dir`` (the analysed ``measure``) and mean FD from
    :func:`helpers.exclusions.motion_table`; recomputes, per participant, the raw and denoised ROI
    series (:func:`participant_denoise_qc`).  All three tables are written atomically
    (:func:`helpers.io.write_tsv`).

    Parameters
    ----------
    participants : list of str, optional
        Default None: every participant of ``connectivity.tsv`` (pass the group sample to leave the
        excluded out).
    measure : str, default "weighted_hrf"
        Connectivity measure whose per-condition Fisher z enter QC-FC.
    rois : dict, optional
        Default None: the paper's ROIs (must be those of ``connectivity.tsv``).
    band : (float, float), default (0.008, ∞)
    weighting : str, default "hrf"
    n_perm : int, default 5000
    seed : int, default 0
    alpha, max_pct_significant, min_dof, min_r_reduction
        Thresholds of :func:`verdicts` (defaults 0.05, 5.0, 20.0, 0.0).
    smoothed : bool, default False
    progress : bool, default True
        tqdm progress bar over participants.

    Returns
    -------
    DenoiseQC
    """
    from tqdm.auto import tqdm

    out = outputs(output_dir)
    connectivity = pd.read_csv(out.connectivity, sep="\t")
    wide = _edge_values(connectivity, measure, conditions)
    participants = sorted(wide.index) if participants is None else list(participants)
    unknown = sorted(set(participants) - set(wide.index))
    if unknown:
        raise ValueError(f"{out.connectivity}: participant(s) {unknown} have no {measure} rows "
                         "(rule: QC covers participants with connectivity)")
    wide = wide.loc[participants]
    motion = motion_table(derivatives_dir, participants, task).set_index("participant_id")
    edges, rows, reference = [], [], None
    for pid in tqdm(participants, desc="denoising QC", disable=not progress):
        files = fl.find_participant_files(bids_dir, derivatives_dir, pid, task, smoothed=smoothed)
        reference = reference or files.bold
        pair, dof = participant_denoise_qc(files, conditions, rois, band, weighting)
        edges.append(pair)
        rows.append({"participant_id": pid, "mean_fd": float(motion.loc[pid, "mean_fd"])} | dof
                    | {"median_abs_r_raw": float(np.median(np.abs(pair["r_raw"]))),
                       "median_abs_r_denoised": float(np.median(np.abs(pair["r_denoised"])))})
    edges = pd.concat(edges, ignore_index=True)
    per_participant = pd.DataFrame(rows)
    if len(participants) >= MIN_QCFC_PARTICIPANTS:
        table, summary = qc_fc(wide, motion.loc[participants, "mean_fd"], n_perm=n_perm, seed=seed, alpha=alpha)
    else:  # too few for a correlation across participants: said in the verdict, not an error of the chapter
        log.warning("denoising QC: QC-FC not computed for %d participant(s) (needs %d)", len(participants),
                    MIN_QCFC_PARTICIPANTS)
        table = pd.DataFrame(columns=["qc_fc_r", "p_perm", "null_low", "null_high"], index=wide.columns, dtype=float)
        summary = {"n_participants": len(participants), "n_edges": int(wide.shape[1]), "n_perm": 0, "exact": False,
                   "median_abs_qc_fc": np.nan, "p_median": np.nan, "pct_significant": np.nan}
    table.index = pd.MultiIndex.from_tuples(table.index, names=["source", "target", "condition"])
    table = table.reset_index().merge(roi_distances(reference, rois), on=["source", "target"], how="left")
    table.insert(3, "measure", measure)
    rho = distance_dependence(table)
    summary["distance_rho"] = rho
    cols = [c for c in per_participant.columns if c.startswith("dof_")]
    per_participant["verdict_dof"] = np.where(per_participant[cols].min(axis=1) >= min_dof, "pass", "fail")
    checks = verdicts(edges, per_participant, summary, alpha=alpha, max_pct_significant=max_pct_significant,
                      min_dof=min_dof, min_r_reduction=min_r_reduction, conditions=conditions)
    paths = (write_tsv(per_participant, out.denoise_qc), write_tsv(table, out.qc_fc),
             write_tsv(checks, out.denoise_qc_verdicts))
    return DenoiseQC(per_participant, edges, table, summary, checks, rho, paths)


# --------------------------------------------------------------------------- figures
def _edge_label(source: str, target: str) -> str:
    return f"{source}–{target}"


@styled
def plot_before_after(edges: pd.DataFrame):
    """Figure: distribution of ROI-to-ROI r over all scans before and after denoising (CONN's QA plot).

    Left: histogram of every participant's ROI-pair r, raw and denoised (with a KDE when there are
    ≥ 10 values).  Right: each participant's median r, raw → denoised.
    """
    import matplotlib.pyplot as plt
    from scipy.stats import gaussian_kde

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(WIDTH, 3.4), gridspec_kw={"width_ratios": [1.6, 1]})
    bins = np.linspace(-1, 1, 21)
    grid = np.linspace(-1, 1, 201)
    for column, colour, name in (("r_raw", BEFORE, "before"), ("r_denoised", AFTER, "after")):
        r = edges[column].to_numpy(float)
        ax.hist(r, bins=bins, density=True, color=colour, alpha=0.35,
                label=f"{name}: median |r| {format_r(np.median(np.abs(r)), 2)}")
        if r.size >= 10 and np.ptp(r) > 0:
            ax.plot(grid, gaussian_kde(r)(grid), color=colour, lw=2)
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set(xlabel="ROI-to-ROI r (all scans)", ylabel="density", xlim=(-1, 1))
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), fontsize=10)
    med = edges.groupby("participant_id")[["r_raw", "r_denoised"]].median()
    for _, row in med.iterrows():
        ax2.plot([0, 1], [row["r_raw"], row["r_denoised"]], color="0.6", lw=0.8, marker="o", ms=3)
    ax2.scatter(np.zeros(len(med)), med["r_raw"], color=BEFORE, zorder=3, s=18)
    ax2.scatter(np.ones(len(med)), med["r_denoised"], color=AFTER, zorder=3, s=18)
    ax2.axhline(0, color="0.5", lw=0.8)
    ax2.set_xticks([0, 1], ["before", "after"])
    ax2.set(xlim=(-0.4, 1.4), ylabel="median r per participant")
    fig.tight_layout()
    return fig


@styled
def plot_qc_fc(table: pd.DataFrame, conditions=None, max_rows: int = 30):
    """Figure: QC-FC r of every edge and condition with the permutation null's 95 % range.

    Up to ``max_rows`` rows: one line per edge, a dot per condition (filled when p < .05), the grey
    bar the null's 2.5–97.5 %.  More rows (an atlas): histogram of QC-FC r with the null range.
    """
    import matplotlib.pyplot as plt

    conditions = list(dict.fromkeys(table["condition"])) if conditions is None else list(conditions)
    colours = role_colours(conditions)
    if table["qc_fc_r"].isna().all():
        fig, ax = plt.subplots(figsize=(4.2, 0.9))
        ax.text(0.5, 0.5, f"QC-FC not computed: fewer than\n{MIN_QCFC_PARTICIPANTS} participants", ha="center",
                va="center")
        ax.set_axis_off()
        return fig
    if len(table) > max_rows:
        fig, ax = plt.subplots(figsize=(WIDTH, 3.4))
        for cond in conditions:
            ax.hist(table.loc[table["condition"] == cond, "qc_fc_r"], bins=np.linspace(-1, 1, 41), histtype="step",
                    lw=1.8, color=colours[cond], label=cond)
        ax.axvspan(table["null_low"].median(), table["null_high"].median(), color="0.88", zorder=0,
                   label="middle 95 % of the null")
        ax.set(xlabel="QC-FC r (connectivity vs mean FD)", ylabel="edges", xlim=(-1, 1))
        ax.legend(fontsize=10, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2)
        fig.tight_layout()
        return fig
    pairs = list(dict.fromkeys(zip(table["source"], table["target"])))
    fig, ax = plt.subplots(figsize=(WIDTH, 1.0 + 0.75 * len(pairs)))
    offsets = np.linspace(-0.22, 0.22, len(conditions)) if len(conditions) > 1 else [0.0]
    for i, (s, t) in enumerate(pairs):
        for off, cond in zip(offsets, conditions):
            row = table[(table["source"] == s) & (table["target"] == t) & (table["condition"] == cond)]
            if row.empty:
                continue
            row = row.iloc[0]
            y = i + off
            ax.plot([row["null_low"], row["null_high"]], [y, y], color="0.8", lw=5, solid_capstyle="butt", zorder=1)
            sig = row["p_perm"] < 0.05
            ax.scatter(row["qc_fc_r"], y, s=40, zorder=3, color=colours[cond] if sig else "white",
                       edgecolors=colours[cond], linewidths=1.6)
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_yticks(range(len(pairs)), [_edge_label(s, t) for s, t in pairs])
    ax.invert_yaxis()
    ax.set(xlabel="QC-FC r (connectivity vs mean FD)", xlim=(-1, 1))
    handles = [plt.Line2D([], [], ls="", marker="o", ms=7, color=colours[c]) for c in conditions]
    ax.legend(handles, conditions, loc="upper center", bbox_to_anchor=(0.5, -0.28 if len(pairs) < 4 else -0.12),
              ncol=len(conditions), fontsize=10, handletextpad=0.2, columnspacing=0.8)
    fig.tight_layout()
    return fig


@styled
def plot_qc_fc_distance(table: pd.DataFrame, rho: float, conditions=None):
    """Figure: QC-FC r against the distance between ROI centroids (mm), Spearman ρ in the title.

    With fewer than 4 distinct distances (fewer than 4 ROIs) the figure says so instead.
    """
    import matplotlib.pyplot as plt

    n_rois = len(set(table["source"]) | set(table["target"]))
    if table["distance_mm"].nunique() < 4:
        fig, ax = plt.subplots(figsize=(4.2, 0.9))
        ax.text(0.5, 0.5, f"QC-FC against distance needs at least 4 ROIs;\nthis analysis has {n_rois}",
                ha="center", va="center")
        ax.set_axis_off()
        return fig
    conditions = list(dict.fromkeys(table["condition"])) if conditions is None else list(conditions)
    colours = role_colours(conditions)
    fig, ax = plt.subplots(figsize=(WIDTH, 3.6))
    if len(table) > 300:  # many edges (an atlas): density of all values, and the mean per distance bin
        ax.hexbin(table["distance_mm"], table["qc_fc_r"], gridsize=30, cmap="Greys", mincnt=1, linewidths=0)
        bins = np.quantile(table["distance_mm"], np.linspace(0, 1, 11))
        for cond in conditions:
            sub = table[table["condition"] == cond]
            where = np.clip(np.digitize(sub["distance_mm"], bins[1:-1]), 0, len(bins) - 2)
            means = sub.groupby(where)[["distance_mm", "qc_fc_r"]].mean()
            ax.plot(means["distance_mm"], means["qc_fc_r"], color=colours[cond], lw=2, marker="o", ms=4,
                    label=cond)
    else:
        for cond in conditions:
            sub = table[table["condition"] == cond]
            ax.scatter(sub["distance_mm"], sub["qc_fc_r"], s=14, alpha=0.8, color=colours[cond], label=cond)
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set(xlabel="distance between ROI centroids (mm)", ylabel="QC-FC r", ylim=(-1, 1))
    ax.set_title(f"Spearman ρ = {format_r(rho, 2)} ({n_rois} ROIs)", pad=4)
    ax.legend(fontsize=10, loc="lower left", bbox_to_anchor=(0, 1.08), ncol=3, columnspacing=0.8,
              title="mean per distance decile" if len(table) > 300 else None, title_fontsize=10)
    fig.tight_layout()
    return fig


@styled
def plot_carpet(carpet: dict):
    """Figure: carpet plot before and after denoising with the framewise displacement above.

    Rows: voxels (grey matter, white matter, CSF, marked at the left), columns: scans; z-scored
    intensity from −2 (black) to 2 (white).
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    n = carpet["before"].shape[1]
    t = np.arange(n) * carpet["tr"]
    fig, axes = plt.subplots(3, 2, figsize=(WIDTH, 5.4), sharex="col",
                             gridspec_kw={"height_ratios": [0.7, 4, 4], "width_ratios": [0.04, 1], "hspace": 0.12,
                                          "wspace": 0.02})
    axes[0, 0].set_axis_off()
    axes[0, 1].plot(t, carpet["fd"], color=OKABE_ITO["vermillion"], lw=1.2)
    axes[0, 1].set_ylabel("FD\n(mm)", fontsize=10)
    axes[0, 1].tick_params(labelsize=10)
    tissue_cmap = ListedColormap([OKABE_ITO["reddish_purple"], OKABE_ITO["sky_blue"], OKABE_ITO["yellow"]])
    for row, key, name in ((1, "before", "before"), (2, "after", "after denoising")):
        axes[row, 0].imshow(carpet["tissue"][:, None], aspect="auto", cmap=tissue_cmap, vmin=0, vmax=2,
                            interpolation="nearest")
        axes[row, 0].set_xticks([])
        axes[row, 0].set_yticks([])
        axes[row, 0].set_ylabel(name, fontsize=10)
        axes[row, 1].imshow(carpet[key], aspect="auto", cmap="gray", vmin=-2, vmax=2, interpolation="nearest",
                            extent=(-carpet["tr"] / 2, t[-1] + carpet["tr"] / 2, len(carpet[key]), 0))
        axes[row, 1].set_yticks([])
    axes[2, 1].set_xlabel("time (s)")
    axes[2, 1].xaxis.set_major_locator(plt.MaxNLocator(6))
    handles = [plt.Rectangle((0, 0), 1, 1, color=tissue_cmap(i)) for i in range(3)]
    fig.legend(handles, ["grey matter / other", "white matter", "CSF"], loc="lower center", ncol=3, fontsize=10,
               bbox_to_anchor=(0.5, -0.01))
    fig.subplots_adjust(left=0.09, right=0.98, top=0.97, bottom=0.14)
    return fig


@styled
def plot_dof(per_participant: pd.DataFrame, conditions, min_dof: float = 20.0):
    """Figure: scans spent per participant — regressors by kind, then each condition's effective dof.

    Left: stacked bars of the denoising regressors by kind and the residual dof (they add up to the
    number of scans when the design has full rank).  Right: effective dof per condition with the
    ``min_dof`` line.
    """
    import matplotlib.pyplot as plt

    kinds = [k for k in REGRESSOR_KINDS if per_participant[f"n_{k}"].sum() > 0]
    colours = dict(zip(REGRESSOR_KINDS, [OKABE_ITO[c] for c in ("black", "orange", "sky_blue", "bluish_green",
                                                                 "reddish_purple", "yellow")]))
    labels = {"constant_trend": "constant + trend", "motion": "motion", "compcor_wm": "CompCor WM",
              "compcor_csf": "CompCor CSF", "effects": "task effects", "outliers": "outlier scans"}
    ids = per_participant["participant_id"].str.removeprefix("sub-")
    y = np.arange(len(ids))
    height = 2.9 + 0.3 * len(ids)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(WIDTH, height), sharey=True,
                                  gridspec_kw={"width_ratios": [1.5, 1]})
    left = np.zeros(len(ids))
    for kind in kinds:
        v = per_participant[f"n_{kind}"].to_numpy(float)
        ax.barh(y, v, left=left, color=colours[kind], label=labels[kind])
        left += v
    ax.barh(y, per_participant["dof"], left=left, color="0.85", label="residual dof")
    ax.set_yticks(y, ids)
    ax.invert_yaxis()
    ax.set(xlabel="scans", ylabel="participant")
    colours_c = role_colours(conditions)
    off = np.linspace(-0.25, 0.25, len(conditions)) if len(conditions) > 1 else [0.0]
    for o, cond in zip(off, conditions):
        ax2.scatter(per_participant[f"dof_{cond}"], y + o, s=16, color=colours_c[cond], label=cond)
    ax2.axvline(min_dof, color="0.3", ls="--", lw=1, label="minimum")
    ax2.set(xlabel="effective dof")
    ax2.set_xlim(0, max(min_dof, float(per_participant[[f"dof_{c}" for c in conditions]].max().max())) * 1.1)
    handles = [h for a in (ax, ax2) for h in a.get_legend_handles_labels()[0]]
    names = [n for a in (ax, ax2) for n in a.get_legend_handles_labels()[1]]
    fig.tight_layout(rect=(0, 1.15 / height, 1, 1))  # 1.15 inch below the axes for the legend
    fig.legend(handles, names, loc="lower center", ncol=3, fontsize=10, handlelength=1, columnspacing=0.8,
               bbox_to_anchor=(0.5, 0))
    return fig
