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

Each score has a threshold (:data:`GATE_DEFAULTS`, all parameters); a participant failing one is
flagged with the reason, a warning names the participant, the score and the threshold, and
:func:`apply_policy` either excludes flagged participants (``qc_policy="exclude"``, through
:func:`helpers.execution.record_exclusions`, stage ``preprocessing/qc``) or only reports them
(``"report"``).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from nibabel.affines import apply_affine
from scipy import ndimage

from ..exclusions import motion_table
from ..execution import EXCLUSION_COLUMNS, execution_doc, map_participants, record_exclusions
from ..io import write_tsv
from .pipeline import derivative_paths
from .voxels import masked_series, temporal_mean_sd

__all__ = [
    "GATE_DEFAULTS",
    "QC_POLICIES",
    "STAGE",
    "nmi",
    "coreg_similarity",
    "norm_similarity",
    "roi_coverage",
    "on_grid",
    "template_on_grid",
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


def nmi(a: np.ndarray, b: np.ndarray, bins: int = 32) -> float:
    """Normalised mutual information ``(H(a) + H(b)) / H(a, b)`` of two equally long samples (1–2).

    Studholme et al. (1999); entropies (natural log) of the joint histogram and its marginals.

    Parameters
    ----------
    a, b : ndarray, shape (n,)
        Paired samples.
    bins : int, default 32
        Histogram bins per sample.

    Returns
    -------
    float
        1 for independent samples, 2 for identical ones.
    """
    joint, _, _ = np.histogram2d(a, b, bins=bins)
    p = joint / joint.sum()

    def entropy(q):
        q = q[q > 0]
        return -float((q * np.log(q)).sum())

    return (entropy(p.sum(axis=1)) + entropy(p.sum(axis=0))) / entropy(p.ravel())


def _otsu(values: np.ndarray) -> float:
    from skimage.filters import threshold_otsu

    return float(threshold_otsu(values))


def coreg_similarity(boldref: nib.Nifti1Image, structural: nib.Nifti1Image, coreg: np.ndarray) -> float:
    """NMI of the mean EPI and the structural sampled at ``coreg⁻¹ · x`` for the EPI's head voxels x.

    Head voxels: above Otsu's threshold of the non-zero EPI values; the structural is sampled
    trilinearly (0 outside).

    Parameters
    ----------
    boldref : Nifti1Image
        Mean (reference) EPI volume.
    structural : Nifti1Image
        The participant's structural image.
    coreg : ndarray, shape (4, 4)
        Maps structural world points to functional world points (our ``coreg_xfm``).

    Returns
    -------
    float
    """
    ref = np.asarray(boldref.get_fdata(dtype=np.float32))
    head = ref > _otsu(ref[ref > 0])
    x = apply_affine(boldref.affine, np.argwhere(head))
    ijk = apply_affine(np.linalg.inv(structural.affine) @ np.linalg.inv(coreg), x)
    struct = ndimage.map_coordinates(
        np.asarray(structural.get_fdata(dtype=np.float32)), ijk.T, order=1, mode="constant", cval=0.0
    )
    return nmi(ref[head], struct)


def norm_similarity(anat_mni: nib.Nifti1Image, template: nib.Nifti1Image, brain: np.ndarray) -> float:
    """Pearson r of the normalised structural and the template (same grid) inside ``brain``.

    Parameters
    ----------
    anat_mni : Nifti1Image
        Structural normalised to MNI.
    template : Nifti1Image
        Template of the same contrast, on the same grid.
    brain : ndarray of bool
        Voxels compared (the template's brain mask).

    Returns
    -------
    float
    """
    a = np.asarray(anat_mni.get_fdata(dtype=np.float32))[brain]
    b = np.asarray(template.get_fdata(dtype=np.float32))[brain]
    return float(np.corrcoef(a, b)[0, 1])


def roi_coverage(
    bold: nib.Nifti1Image, mask: np.ndarray, rois: dict[str, np.ndarray], tsnr_fraction: float
) -> dict[str, float]:
    """``brain_cover_<roi>`` and ``signal_cover_<roi>`` (module docstring) on the derivatives' grid.

    tSNR = mean / SD over volumes (0 where SD = 0); a voxel has usable signal if it is in ``mask``
    and its tSNR ≥ ``tsnr_fraction`` × the median tSNR inside ``mask``.

    Parameters
    ----------
    bold : Nifti1Image
        Unsmoothed preprocessed 4-D run.
    mask : ndarray of bool
        The participant's MNI brain mask.
    rois : dict
        ROI name -> boolean array on the same grid.
    tsnr_fraction : float
        Fraction of the brain's median tSNR a voxel must reach.

    Returns
    -------
    dict of str to float
    """
    mean, sd = temporal_mean_sd(masked_series(bold, mask))  # only the mask's voxels are read as floats
    tsnr = np.divide(mean, sd, out=np.zeros_like(mean), where=sd > 0)
    usable = tsnr >= tsnr_fraction * np.median(tsnr)  # per voxel of the mask, in its order
    out = {}
    for name, roi in rois.items():
        n = roi.sum()
        out[f"brain_cover_{name}"] = float((roi & mask).sum() / n)
        out[f"signal_cover_{name}"] = float((roi[mask] & usable).sum() / n)
    return out


def first_run_derivatives(bids_dir, preproc_dir, participant: str, task: str, resolution):
    """A participant's raw inputs and the derivative paths of its first run (what the QC reads).

    With several runs the QC scores and figures describe the first run's derivatives; the structural
    is the participant's.

    Parameters
    ----------
    bids_dir, preproc_dir : path-like
        The raw dataset and our derivatives.
    participant : str
        ``sub-…`` label.
    task : str
        Task label.
    resolution : float
        Derivative grid (mm).

    Returns
    -------
    (helpers.preprocess.inputs.RawInputs, dict)
        The inputs (:func:`helpers.preprocess.inputs.find_inputs`) and
        :func:`helpers.layout.derivative_paths` of the first run.
    """
    from .inputs import find_inputs

    inputs = find_inputs(bids_dir, participant, task)
    first = inputs.runs[0]
    paths = derivative_paths(
        preproc_dir,
        participant,
        task,
        resolution,
        inputs.contrast,
        session=first.session,
        acq=first.acq,
        run=first.run,
    )
    return inputs, paths


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


def on_grid(img: nib.Nifti1Image, like: nib.Nifti1Image, interpolation: str = "linear") -> nib.Nifti1Image:
    """``img`` resampled onto the grid of ``like`` when the grids differ (else ``img`` itself).

    Parameters
    ----------
    img, like : Nifti1Image
        The image and the image whose grid it is put on.
    interpolation : {"linear", "nearest", "continuous"}, default "linear"
        nilearn's interpolation.

    Returns
    -------
    Nifti1Image
    """
    if img.shape[:3] == like.shape[:3] and np.allclose(img.affine, like.affine):
        return img
    from nilearn import image as nimg

    return nimg.resample_to_img(img, like, interpolation=interpolation, force_resample=True, copy_header=True)


def template_on_grid(like: nib.Nifti1Image, contrast: str, resolution) -> tuple[nib.Nifti1Image, np.ndarray]:
    """The template of ``contrast`` and its brain mask (bool) on the grid of ``like``: what norm_r compares.

    Parameters
    ----------
    like : Nifti1Image
        The normalised structural (``anat_mni``).
    contrast : {"T2w", "T1w"}
        Its contrast (:func:`helpers.preprocess.normalise.template_for_contrast`).
    resolution : int
        Voxel size (mm) of the derivatives' MNI grid.

    Returns
    -------
    (Nifti1Image, ndarray of bool)
    """
    from helpers.atlas import load_template

    from .normalise import template_for_contrast

    template = on_grid(template_for_contrast(contrast, resolution), like)
    brain = on_grid(load_template(int(resolution), "mask"), like, "nearest").get_fdata() > 0.5
    return template, brain


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
