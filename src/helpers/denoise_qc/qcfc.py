"""QC-FC: connectivity against mean framewise displacement across participants, with a permutation null,
and its dependence on the distance between ROIs (helpers.denoise_qc)."""

from __future__ import annotations

import itertools
import math

import nibabel as nib
import numpy as np
import pandas as pd

from .. import atlas
from ..style import agrees, format_p, format_r

__all__ = [
    "MIN_QCFC_PARTICIPANTS",
    "NULL_VALUES",
    "qc_fc",
    "roi_distances",
    "distance_dependence",
    "qc_fc_sentence",
    "distance_sentence",
]

#: Fewer participants than this: QC-FC is not computed (its verdict says so).
MIN_QCFC_PARTICIPANTS = 4
#: Null r values kept for the per-edge null range of :func:`qc_fc` (permutations × edges; ~160 MB).
NULL_VALUES = 20_000_000


def _standardise(a: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=0)
    return a / np.sqrt((a**2).sum(axis=0))


def qc_fc(
    values: pd.DataFrame,
    fd: pd.Series,
    n_perm: int = 5000,
    seed: int = 0,
    alpha: float = 0.05,
    chunk: int = 1000,
) -> tuple[pd.DataFrame, dict]:
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
        97.5 % of the null r, from the first :data:`NULL_VALUES` / edges permutations); summary
        ``n_participants, n_edges, n_perm, exact, median_abs_qc_fc, p_median, pct_significant``.

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
        raise ValueError(
            f"qc_fc: participant(s) {missing} are not in both the connectivity table and the FD table "
            "(rule: one FD value per participant with connectivity)"
        )
    fd = fd.loc[values.index]
    n = len(values)
    if n < 4:
        raise ValueError(f"qc_fc: {n} participants; rule: at least 4 for a correlation across participants")
    if values.isna().any().any():
        missing_at = values.isna().to_numpy()
        i, j = np.argwhere(missing_at)[0]
        pid, edge = values.index[i], values.columns[j]
        raise ValueError(
            f"qc_fc: participant {pid}, edge {edge}: missing value (rule: every participant has every edge)"
        )
    if not np.isfinite(fd.to_numpy(float)).all() or np.ptp(fd.to_numpy(float)) == 0:
        raise ValueError(
            "qc_fc: mean FD is missing or the same for every participant (rule: FD varies across "
            "participants for a correlation)"
        )
    flat = [c for c in values.columns if np.ptp(values[c].to_numpy(float)) == 0]
    if flat:
        raise ValueError(
            f"qc_fc: edge {flat[0]} has the same value for every participant (rule: an edge varies)"
        )
    y = _standardise(values.to_numpy(float))
    x = _standardise(fd.to_numpy(float)[:, None])[:, 0]
    r = x @ y
    med = float(np.median(np.abs(r)))
    exact = math.factorial(n) <= n_perm
    if exact:
        blocks = (
            np.array(list(itertools.islice(itertools.permutations(range(n)), i, i + chunk)))
            for i in range(0, math.factorial(n), chunk)
        )
        total = math.factorial(n)
    else:
        rng = np.random.default_rng(seed)
        sizes = [min(chunk, n_perm - i) for i in range(0, n_perm, chunk)]
        blocks = (np.argsort(rng.random((size, n)), axis=1) for size in sizes)
        total = n_perm
    above = np.zeros(r.size)
    above_med = 0
    null, kept, keep = [], 0, max(1, NULL_VALUES // r.size)  # bounded memory for many edges (an atlas)
    for perm in blocks:
        rp = x[perm] @ y  # (permutations × edges)
        above += (np.abs(rp) >= np.abs(r) - 1e-12).sum(axis=0)
        above_med += int((np.median(np.abs(rp), axis=1) >= med - 1e-12).sum())
        if kept < keep:
            null.append(rp[: keep - kept])
            kept += len(null[-1])
    null = np.concatenate(null)
    p = above / total if exact else (1 + above) / (total + 1)
    p_med = above_med / total if exact else (1 + above_med) / (total + 1)
    table = pd.DataFrame(
        {
            "qc_fc_r": r,
            "p_perm": p,
            "null_low": np.quantile(null, 0.025, axis=0),
            "null_high": np.quantile(null, 0.975, axis=0),
        },
        index=values.columns,
    )
    summary = {
        "n_participants": n,
        "n_edges": int(r.size),
        "n_perm": int(total),
        "exact": bool(exact),
        "median_abs_qc_fc": med,
        "p_median": float(p_med),
        "pct_significant": float(100 * np.mean(p < alpha)),
    }
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
    rois : dict, default None
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
    rows = [
        (a, b, float(np.linalg.norm(centroids[a] - centroids[b])))
        for a, b in itertools.combinations(masks, 2)
    ]
    return pd.DataFrame(rows, columns=["source", "target", "distance_mm"])


def distance_dependence(table: pd.DataFrame) -> float:
    """Spearman ρ between QC-FC r and inter-ROI distance over the rows of ``table`` (``qc_fc_r``,
    ``distance_mm``); NaN with fewer than 4 distinct distances (a trend needs ≥ 4 ROIs' pairs).

    Motion artefacts inflate short-range and deflate long-range connectivity (Power et al. 2012),
    so a negative ρ is the signature of residual motion; near 0 is what a denoising aims at.

    Parameters
    ----------
    table : DataFrame
        One row per edge (and condition) with ``qc_fc_r`` and ``distance_mm``.

    Returns
    -------
    float
        Spearman ρ, or NaN.
    """
    from scipy.stats import spearmanr

    if table["distance_mm"].nunique() < 4:
        return float("nan")
    return float(spearmanr(table["qc_fc_r"], table["distance_mm"]).statistic)


def qc_fc_sentence(summary: dict, alpha: float = 0.05) -> str:
    """One sentence on the QC-FC summary for the prose.

    Parameters
    ----------
    summary : dict
        :func:`qc_fc`'s summary (``median_abs_qc_fc``, ``p_median``, ``pct_significant`` …).
    alpha : float, default 0.05
        Level the percentage of significant edges refers to.

    Returns
    -------
    str
    """
    if not np.isfinite(summary["pct_significant"]):
        n = summary["n_participants"]
        return (
            f"QC-FC was not computed: {n} {agrees(n, 'participant enters', 'participants enter')} "
            "the group analysis, "
            f"and a correlation across participants needs at least {MIN_QCFC_PARTICIPANTS}."
        )
    level = f"{alpha:g}".lstrip("0")
    return (
        f"The median |QC-FC| is {format_r(summary['median_abs_qc_fc'], 2)} (permutation *p* = "
        f"{format_p(summary['p_median'])}), and {summary['pct_significant']:.0f} % of the "
        f"{summary['n_edges']} connection–condition values reach *p* < {level}; chance alone would give "
        f"about {100 * alpha:g} %."
    )


def distance_sentence(result) -> str:
    """One sentence on QC-FC against distance for the prose.

    Parameters
    ----------
    result : helpers.denoise_qc.DenoiseQC
        The QC of a sample (its ``qc_fc`` table and distance ρ).

    Returns
    -------
    str
    """
    table = result.qc_fc
    n_rois = len(set(table["source"]) | set(table["target"]))
    if not np.isfinite(result.distance_rho):
        return (
            f"With {n_rois} regions there are too few distinct distances for this check "
            "(it needs at least 4 regions)."
        )
    return (
        f"Across the {len(table)} connection–condition values of {n_rois} regions, QC-FC and the distance "
        f"between region centroids correlate at Spearman ρ = {format_r(result.distance_rho, 2)}."
    )
