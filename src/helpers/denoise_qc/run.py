"""The denoising QC of a whole sample: tables written beside connectivity.tsv (helpers.denoise_qc)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import firstlevel as fl
from ..denoise import HIGHPASS
from ..exclusions import motion_table
from ..io import write_tsv
from ..layout import outputs
from .qcfc import MIN_QCFC_PARTICIPANTS, distance_dependence, qc_fc, roi_distances
from .scores import participant_denoise_qc, verdicts

__all__ = ["DenoiseQC", "run_denoise_qc", "span_text"]

log = logging.getLogger(__name__)


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
    """Participants × (source, target, condition) of ``measure``; each unordered pair once (ROI order)."""
    data = connectivity[
        (connectivity["measure"] == measure) & connectivity["condition"].isin(list(conditions))
    ]
    if data.empty:
        raise ValueError(
            f"connectivity table: no rows of measure {measure!r} for conditions {list(conditions)} "
            "(rule: QC-FC reads the analysed measure from connectivity.tsv)"
        )
    order = {name: i for i, name in enumerate(dict.fromkeys([*data["source"], *data["target"]]))}
    data = data[[order[s] < order[t] for s, t in zip(data["source"], data["target"])]]
    wide = data.pivot(index="participant_id", columns=["source", "target", "condition"], values="z")
    return wide.reindex(
        columns=sorted(wide.columns, key=lambda c: (order[c[0]], order[c[1]], list(conditions).index(c[2])))
    )


def run_denoise_qc(
    bids_dir,
    derivatives_dir,
    output_dir,
    participants=None,
    task: str = "feedback",
    conditions=("negative", "neutral", "positive"),
    measure: str = "weighted_hrf",
    rois=None,
    band=HIGHPASS,
    weighting: str = "hrf",
    n_perm: int = 5000,
    seed: int = 0,
    alpha: float = 0.05,
    max_pct_significant: float = 5.0,
    min_dof: float = 20.0,
    min_r_reduction: float = 0.0,
    smoothed: bool = False,
    progress: bool = True,
    outliers=None,
) -> DenoiseQC:
    """Denoising QC of a sample; writes ``denoise_qc.tsv``, ``qc_fc.tsv`` and ``denoise_qc_verdicts.tsv``.

    Reads ``connectivity.tsv`` in ``output_dir`` (the analysed ``measure``) and mean FD from
    :func:`helpers.exclusions.motion_table`; recomputes, per participant, the raw and denoised ROI
    series (:func:`participant_denoise_qc`).  All three tables are written atomically
    (:func:`helpers.io.write_tsv`).

    Parameters
    ----------
    bids_dir : path-like
        Raw BIDS dataset (events, TR).
    derivatives_dir : path-like
        fMRIPrep-style derivatives the first level read.
    output_dir : path-like
        Folder of ``connectivity.tsv``; the three tables are written there.
    participants : list of str, default None
        Default None: every participant of ``connectivity.tsv`` (pass the group sample to leave the
        excluded out).
    task : str, default "feedback"
        BIDS task label.
    conditions : sequence of str, default ("negative", "neutral", "positive")
        Conditions of the QC-FC and dof scores.
    measure : str, default "weighted_hrf"
        Connectivity measure whose per-condition Fisher z enter QC-FC.
    rois : dict, default None
        Default None: the paper's ROIs (must be those of ``connectivity.tsv``).
    band : (float, float), default (0.008, ∞)
    weighting : str, default "hrf"
    n_perm : int, default 5000
    seed : int, default 0
    alpha : float, default 0.05
        Level of the permutation tests (:func:`verdicts`).
    max_pct_significant : float, default 5.0
        Largest % of edges with permutation p < ``alpha`` (:func:`verdicts`).
    min_dof : float, default 20.0
        Smallest effective dof of a condition (:func:`verdicts`).
    min_r_reduction : float, default 0.0
        Smallest drop of the pooled median |r|, raw − denoised (:func:`verdicts`).
    smoothed : bool, default False
    progress : bool, default True
        tqdm progress bar over participants.
    outliers : str, dict or None, default None
        The connectivity stage's outlier rule (:func:`participant_denoise_qc`), so that the QC
        describes the denoising the first level did.

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
        raise ValueError(
            f"{out.connectivity}: participant(s) {unknown} have no {measure} rows "
            "(rule: QC covers participants with connectivity)"
        )
    wide = wide.loc[participants]
    motion = motion_table(derivatives_dir, participants, task).set_index("participant_id")
    edges, rows, reference = [], [], None
    for pid in tqdm(participants, desc="denoising QC", disable=not progress):
        files = fl.find_participant_files(bids_dir, derivatives_dir, pid, task, smoothed=smoothed)
        reference = reference or files.bold
        pair, dof = participant_denoise_qc(files, conditions, rois, band, weighting, outliers)
        edges.append(pair)
        rows.append(
            {"participant_id": pid, "mean_fd": float(motion.loc[pid, "mean_fd"])}
            | dof
            | {
                "median_abs_r_raw": float(np.median(np.abs(pair["r_raw"]))),
                "median_abs_r_denoised": float(np.median(np.abs(pair["r_denoised"]))),
            }
        )
    edges = pd.concat(edges, ignore_index=True)
    per_participant = pd.DataFrame(rows)
    if len(participants) >= MIN_QCFC_PARTICIPANTS:
        table, summary = qc_fc(
            wide, motion.loc[participants, "mean_fd"], n_perm=n_perm, seed=seed, alpha=alpha
        )
    else:  # too few for a correlation across participants: said in the verdict, not an error of the chapter
        log.warning(
            "denoising QC: QC-FC not computed for %d participant(s) (needs %d)",
            len(participants),
            MIN_QCFC_PARTICIPANTS,
        )
        table = pd.DataFrame(
            columns=["qc_fc_r", "p_perm", "null_low", "null_high"], index=wide.columns, dtype=float
        )
        summary = {
            "n_participants": len(participants),
            "n_edges": int(wide.shape[1]),
            "n_perm": 0,
            "exact": False,
            "median_abs_qc_fc": np.nan,
            "p_median": np.nan,
            "pct_significant": np.nan,
        }
    table.index = pd.MultiIndex.from_tuples(table.index, names=["source", "target", "condition"])
    table = table.reset_index().merge(roi_distances(reference, rois), on=["source", "target"], how="left")
    table.insert(3, "measure", measure)
    rho = distance_dependence(table)
    summary["distance_rho"] = rho
    cols = [c for c in per_participant.columns if c.startswith("dof_")]
    per_participant["verdict_dof"] = np.where(per_participant[cols].min(axis=1) >= min_dof, "pass", "fail")
    checks = verdicts(
        edges,
        per_participant,
        summary,
        alpha=alpha,
        max_pct_significant=max_pct_significant,
        min_dof=min_dof,
        min_r_reduction=min_r_reduction,
        conditions=conditions,
    )
    paths = (
        write_tsv(per_participant, out.denoise_qc),
        write_tsv(table, out.qc_fc),
        write_tsv(checks, out.denoise_qc_verdicts),
    )
    return DenoiseQC(per_participant, edges, table, summary, checks, rho, paths)


def span_text(values) -> str:
    """``"30"`` when every value is 30, else ``"28–30"`` (min–max): a count over participants, for prose.

    Parameters
    ----------
    values : sequence of int
        One count per participant.

    Returns
    -------
    str
    """
    low, high = float(min(values)), float(max(values))
    return f"{low:g}" if low == high else f"{low:g}–{high:g}"
