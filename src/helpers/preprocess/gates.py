"""Quantitative registration QC with gates: scores per participant, thresholds, flags, exclusions.

Preprocessing can finish without error and still be wrong: a coregistration that settled 20° off, a
structural with a mis-set orientation, a VMPFC that sits in EPI signal dropout.  Looking at overlays
catches some of that; these gates measure it, for every participant, from the derivatives on disk
(so they apply to any preprocessing that writes our or fMRIPrep-like outputs):

* ``coreg_nmi`` — normalised mutual information ``(H(A) + H(B)) / H(A, B)`` (Studholme et al. 1999)
  of the mean EPI and the structural resampled onto it through the coregistration, over the EPI's
  head voxels (above Otsu's threshold), 32 bins per image.  1 = independent, 2 = identical.
* ``norm_r`` — Pearson correlation of the normalised structural with the template of the same
  contrast, inside the template's brain mask.
* ``brain_cover_<roi>`` — fraction of each ROI's voxels inside the participant's MNI brain mask
  (template brain ∩ functional field of view in every volume).
* ``signal_cover_<roi>`` — fraction of each ROI's voxels whose temporal SNR (mean / SD over volumes
  of the unsmoothed preprocessed run) is at least ``tsnr_fraction`` × the brain's median tSNR:
  the share of the ROI with usable EPI signal (dropout lowers the mean, hence the tSNR).
* ``mean_fd`` — mean framewise displacement (mm).
* ``bold_voxel_mm`` — largest voxel edge of the raw BOLD (mm).

The measures are computed in :mod:`.qc_scores`.  Each score has a threshold (:data:`GATE_DEFAULTS`,
all parameters); a participant failing one is flagged with the reason, a warning names the
participant, the score and the threshold, and :func:`apply_policy` either excludes flagged
participants (``qc_policy="exclude"``, through :func:`helpers.execution.record_exclusions`, stage
``preprocessing/qc``) or only reports them (``"report"``).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from ..exclusions import motion_table
from ..execution import EXCLUSION_COLUMNS, execution_doc, map_participants, record_exclusions
from ..io import write_tsv
from .qc_scores import (
    coreg_similarity,
    first_run_derivatives,
    norm_similarity,
    roi_coverage,
    template_on_grid,
)

__all__ = [
    "GATE_DEFAULTS",
    "QC_POLICIES",
    "STAGE",
    "participant_scores",
    "evaluate",
    "registration_qc",
    "apply_policy",
]

log = logging.getLogger(__name__)

#: Exclusion stage of the gates (a sub-stage of preprocessing).
STAGE = "preprocessing/qc"

#: ``qc_policy`` values: exclude flagged participants, or only report them.
QC_POLICIES = ("exclude", "report")

#: Thresholds.  Measured on the realistic twin (3 mm EPI, 4 mm slices): well-registered participants
#: score coreg_nmi 1.08–1.12 and norm_r 0.72–0.79; a structural with a mis-set orientation 1.03 and 0.15.
#: NMI has a narrow range here because the mean EPI is smooth and low-contrast: 1.05 sits between.
GATE_DEFAULTS = dict(
    min_coreg_nmi=1.05,
    min_norm_r=0.6,
    min_brain_cover=0.9,
    min_signal_cover=0.7,
    tsnr_fraction=0.5,
    max_mean_fd=0.5,
    max_voxel_mm=5.0,
)

#: Gate of each score: (column or column prefix, threshold key, "min" or "max", description).
_GATES = (
    ("coreg_nmi", "min_coreg_nmi", "min", "EPI-structural NMI after coregistration"),
    ("norm_r", "min_norm_r", "min", "structural-template correlation after normalisation"),
    ("brain_cover_", "min_brain_cover", "min", "fraction of the ROI inside the brain mask"),
    ("signal_cover_", "min_signal_cover", "min", "fraction of the ROI with usable EPI signal"),
    ("mean_fd", "max_mean_fd", "max", "mean framewise displacement (mm)"),
    ("bold_voxel_mm", "max_voxel_mm", "max", "largest BOLD voxel edge (mm)"),
)

#: Added to a negative ``norm_r``: a registration gone wrong lowers the correlation towards 0, an
#: image of the other contrast than its name says turns it negative (measured on the tiny twin at
#: 8 mm slices: correctly named T1w and T2w structurals .63–.80, a T2w named ``_T1w`` −.11 to −.28).
_INVERTED = (
    "; negative: the structural's contrast is the template's reversed, as for a T2-weighted image"
    " named _T1w (or the reverse)"
)


def participant_scores(
    bids_dir: str | Path,
    preproc_dir: str | Path,
    participant: str,
    task: str = "feedback",
    resolution: int = 3,
    tsnr_fraction: float = GATE_DEFAULTS["tsnr_fraction"],
) -> dict:
    """Every gate score of one participant (one row of the QC table), read from raw data and derivatives.

    With several runs, the first run's derivatives are scored (as the QC figures).

    Parameters
    ----------
    bids_dir : path
        Raw BIDS dataset.
    preproc_dir : path
        Our derivatives.
    participant : str
        ``sub-XX``.
    task : str, default "feedback"
        BIDS task label.
    resolution : int, default 3
        Voxel size (mm) of the derivatives' MNI grid.
    tsnr_fraction : float, default ``GATE_DEFAULTS["tsnr_fraction"]`` (0.5)
        See :func:`roi_coverage`.

    Returns
    -------
    dict
        ``participant_id``, ``coreg_nmi``, ``norm_r``, ``brain_cover_<roi>``, ``signal_cover_<roi>``,
        ``mean_fd``, ``bold_voxel_mm``, ``anat_voxel_mm``.

    Raises
    ------
    ValueError
        If a needed derivative is missing (the message names the file and the participant).
    """
    from helpers.atlas import roi_masks

    from .inputs import load_structural

    inputs, paths = first_run_derivatives(bids_dir, preproc_dir, participant, task, resolution)
    first = inputs.runs[0]
    missing = [
        k
        for k in ("boldref", "coreg_xfm", "anat_mni", "preproc", "mask", "confounds")
        if not paths[k].is_file()
    ]
    if missing:
        raise ValueError(
            f"{paths[missing[0]]}: participant {participant}: derivative missing for QC gates "
            "(run preprocessing first)"
        )
    structural = load_structural(inputs)
    row = {
        "participant_id": participant,
        "coreg_nmi": coreg_similarity(nib.load(paths["boldref"]), structural, np.loadtxt(paths["coreg_xfm"])),
    }
    anat_mni = nib.load(paths["anat_mni"])
    row["norm_r"] = norm_similarity(anat_mni, *template_on_grid(anat_mni, inputs.contrast, resolution))
    bold = nib.load(paths["preproc"])
    mask = np.asarray(nib.load(paths["mask"]).dataobj) > 0
    rois = {k: np.asarray(v.dataobj) > 0 for k, v in roi_masks(bold).items()}
    row.update(roi_coverage(bold, mask, rois, tsnr_fraction))
    # every run's FD, pooled as the exclusion rule pools it (one definition of a participant's mean FD)
    row["mean_fd"] = float(motion_table(preproc_dir, [participant], task)["mean_fd"].iloc[0])
    raw = nib.load(first.bold)
    row["bold_voxel_mm"] = float(max(raw.header.get_zooms()[:3]))
    row["anat_voxel_mm"] = float(max(nib.load(inputs.structural).header.get_zooms()[:3]))
    return row


def _check_thresholds(thresholds: dict) -> None:
    unknown = set(thresholds) - set(GATE_DEFAULTS)
    if unknown:
        raise ValueError(
            f"registration QC: unknown threshold(s) {sorted(unknown)}; allowed: {sorted(GATE_DEFAULTS)}"
        )


def _scores_of(participant: str, **arguments) -> dict:
    """:func:`participant_scores` with the participant first (the call :func:`map_participants` makes)."""
    return participant_scores(participant=participant, **arguments)


def evaluate(scores: pd.DataFrame, **thresholds) -> pd.DataFrame:
    """The QC table: ``scores`` plus ``flagged`` (bool) and ``reasons`` ("; "-separated).

    A warning per failed gate names the participant, the score and the threshold.

    Parameters
    ----------
    scores : DataFrame
        One row per participant (:func:`participant_scores`).
    **thresholds
        Overrides of :data:`GATE_DEFAULTS` (``None`` turns a gate off); ``tsnr_fraction`` is ignored
        here (it shapes the scores).

    Returns
    -------
    DataFrame

    Raises
    ------
    ValueError
        If a threshold name is not in :data:`GATE_DEFAULTS`.
    """
    _check_thresholds(thresholds)
    limits = {**GATE_DEFAULTS, **thresholds}
    table = scores.copy()
    reasons = []
    for _, row in table.iterrows():
        failed = []
        for prefix, key, kind, text in _GATES:
            limit = limits[key]
            if limit is None:
                continue
            for col in [
                c for c in table.columns if c == prefix or (prefix.endswith("_") and c.startswith(prefix))
            ]:
                value = row[col]
                if (value < limit) if kind == "min" else (value > limit):
                    sign = "<" if kind == "min" else ">"
                    hint = _INVERTED if col == "norm_r" and value < 0 else ""
                    failed.append(f"{col} {value:.3f} {sign} {limit} ({text}{hint})")
        for reason in failed:
            warnings.warn(
                f"registration QC: participant {row['participant_id']}: {reason}", UserWarning, stacklevel=2
            )
        reasons.append("; ".join(failed))
    table["flagged"] = [bool(r) for r in reasons]
    table["reasons"] = reasons
    return table


@execution_doc("progress", "n_jobs", "backend", "scheduler")
def registration_qc(
    bids_dir: str | Path,
    preproc_dir: str | Path,
    participants: list[str],
    task: str = "feedback",
    resolution: int = 3,
    progress: bool = False,
    path: str | Path | None = None,
    n_jobs: int = 1,
    backend: str = "serial",
    scheduler: str = "",
    **thresholds,
) -> pd.DataFrame:
    """Scores, flags and reasons for every participant, written to a TSV.

    The participants' scores (:func:`participant_scores`) are computed through
    :func:`helpers.execution.map_participants`; the table does not depend on the backend.

    Parameters
    ----------
    bids_dir, preproc_dir : path
        Raw BIDS dataset; our derivatives.
    participants : list of str
        Participants to check.
    task : str, default="feedback"
        BIDS task label.
    resolution : int, default=3
        Voxel size (mm) of the derivatives' MNI grid.
    {execution_parameters:progress}
    path : path or None, default None
        Where to write the QC table (TSV); None: ``<preproc_dir>/registration_qc.tsv``.
    {execution_parameters:n_jobs,backend,scheduler}
    **thresholds
        Overrides of :data:`GATE_DEFAULTS`.

    Returns
    -------
    DataFrame
        The QC table (:func:`evaluate`).

    Raises
    ------
    ValueError
        If a threshold name is unknown.
    helpers.execution.ParticipantError
        If a participant's derivative is missing (the message names the participant and the file).
    """
    _check_thresholds(thresholds)  # before the participants are scored
    rows = map_participants(
        _scores_of,
        list(participants),
        backend=backend,
        n_jobs=n_jobs,
        scheduler=scheduler,
        desc="registration QC",
        progress=progress,
        shared=dict(
            bids_dir=bids_dir,
            preproc_dir=preproc_dir,
            task=task,
            resolution=resolution,
            tsnr_fraction=thresholds.get("tsnr_fraction", GATE_DEFAULTS["tsnr_fraction"]),
        ),
    )
    table = evaluate(pd.DataFrame(rows), **thresholds)
    write_tsv(table, Path(path) if path is not None else Path(preproc_dir) / "registration_qc.tsv")
    return table


def apply_policy(table: pd.DataFrame, output_dir: str | Path, qc_policy: str = "exclude") -> pd.DataFrame:
    """Exclusions of the flagged participants under ``qc_policy``, recorded in ``exclusions.tsv``.

    The file is ``<output_dir>/exclusions.tsv``.

    ``"exclude"``: every flagged participant is excluded (stage :data:`STAGE`, reason = the failed
    gates).  ``"report"``: nobody is excluded by the gates (their earlier exclusions of this stage are
    cleared); the QC table still shows the flags.

    Parameters
    ----------
    table : DataFrame
        QC table (:func:`evaluate`).
    output_dir : path
        Folder of ``exclusions.tsv``.
    qc_policy : {"exclude", "report"}, default "exclude"
        See above (:data:`QC_POLICIES`).

    Returns
    -------
    DataFrame
        The rows recorded for this stage (``participant_id, stage, reason``).

    Raises
    ------
    ValueError
        If ``qc_policy`` is not one of :data:`QC_POLICIES`.
    """
    if qc_policy not in QC_POLICIES:
        raise ValueError(f"qc_policy {qc_policy!r} is not one of {QC_POLICIES}")
    flagged = table[table["flagged"]] if qc_policy == "exclude" else table.iloc[:0]
    rows = pd.DataFrame(
        {
            "participant_id": flagged["participant_id"],
            "stage": STAGE,
            "reason": "registration QC: " + flagged["reasons"],
        },
        columns=EXCLUSION_COLUMNS,
    )
    rows = rows.reset_index(drop=True)
    record_exclusions(rows, Path(output_dir) / "exclusions.tsv", STAGE)
    return rows
