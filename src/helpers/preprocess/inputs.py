"""Locate and validate the raw inputs of preprocessing (files found by :mod:`helpers.layout.raw`).

A participant's inputs are every BOLD run of the task (sessions, ``acq-``, ``run-``; ``.nii`` or
``.nii.gz``; sidecar fields inherited by the BIDS rules) and one structural (T2w preferred, else T1w).
Every check raises ``ValueError`` naming the file, the participant and the rule broken.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

from ..bids import read_image
from ..layout.raw import STRUCTURAL_SUFFIXES, RawRun, near_misses, participants, raw_runs, structural

__all__ = ["RawInputs", "find_participants", "find_inputs", "load_bold", "load_structural"]


@dataclass(frozen=True)
class RawInputs:
    """One participant's BOLD runs (sorted by session, acq, run), structural and its contrast."""

    participant: str
    runs: tuple[RawRun, ...]
    structural: Path
    contrast: str


def find_participants(bids_dir: str | Path) -> list[str]:
    """Participants of a BIDS dataset (``participants.tsv``, else the ``sub-*`` folders).

    Parameters
    ----------
    bids_dir : path
        Raw BIDS dataset.

    Returns
    -------
    list of str
    """
    return participants(bids_dir)


def find_inputs(bids_dir: str | Path, participant: str, task: str) -> RawInputs:
    """Every BOLD run of ``participant`` for ``task`` and the structural image.

    Parameters
    ----------
    bids_dir : path
        Raw BIDS dataset.
    participant : str
        ``sub-XX``.
    task : str
        BIDS task label.

    Returns
    -------
    RawInputs

    Raises
    ------
    ValueError
        If the participant's folder, a BOLD run of the task or a structural image is missing; the
        message names the folder, the naming rule and files found but not taken.
    """
    root = Path(bids_dir)
    if not (root / participant).is_dir():
        raise ValueError(f"{root / participant}: participant {participant}: folder missing")
    runs = raw_runs(root, participant, task)
    if not runs:
        raise ValueError(
            f"{root / participant}: participant {participant}: no BOLD run of task {task!r} "
            f"(rule: [ses-<s>/]func/{participant}[_ses-<s>]_task-{task}[_acq-<a>][_run-<r>]_bold.nii[.gz])"
            + "".join(f"; found but not taken: {m}" for m in near_misses(root, participant, task))
        )
    anat = structural(root, participant)
    if anat is None:
        raise ValueError(
            f"{root / participant}: participant {participant}: no structural image (rule: "
            f"[ses-<s>/]anat/{participant}[_ses-<s>]_{'|'.join(STRUCTURAL_SUFFIXES)}.nii[.gz])"
            + "".join(f"; found but not taken: {m}" for m in near_misses(root, participant))
        )
    return RawInputs(participant, tuple(runs), *anat)


def _check_orientation(img: nib.Nifti1Image, path: Path, participant: str) -> None:
    """World coordinates defined (sform or qform code > 0), non-singular, and sform = qform if both set."""
    header = img.header
    s_code, q_code = int(header["sform_code"]), int(header["qform_code"])
    if s_code == 0 and q_code == 0:
        raise ValueError(
            f"{path}: participant {participant}: sform_code and qform_code are both 0 "
            "(no scanner orientation); set a valid sform/qform"
        )
    if abs(np.linalg.det(img.affine[:3, :3])) < 1e-6:
        raise ValueError(f"{path}: participant {participant}: the voxel-to-world affine is singular")
    if s_code > 0 and q_code > 0:
        diff = np.abs(header.get_sform() - header.get_qform())
        if diff[:3, :3].max() > 1e-3 or diff[:3, 3].max() > 1e-2:
            raise ValueError(
                f"{path}: participant {participant}: sform and qform disagree "
                f"(max difference {diff.max():.3g}); fix the header orientation"
            )


def _check_finite(data: np.ndarray, path: Path, participant: str) -> None:
    bad = ~np.isfinite(data)
    if bad.any():
        where = np.argwhere(bad)[0]
        raise ValueError(
            f"{path}: participant {participant}: {int(bad.sum())} NaN/inf values "
            f"(first at voxel {tuple(int(i) for i in where)})"
        )


def load_bold(run: RawRun) -> tuple[nib.Nifti1Image, np.ndarray, float]:
    """Load and validate one BOLD run.

    Every byte is read (gzip CRC); the image must be 4-D with ≥ 2 volumes, finite, oriented (sform or
    qform set, non-singular, sform = qform when both are set), with ``RepetitionTime`` (s) in its
    sidecar or an inherited one.

    Parameters
    ----------
    run : helpers.layout.raw.RawRun
        The run (:func:`find_inputs`).

    Returns
    -------
    img : Nifti1Image
    data : ndarray of float32
    tr : float
        Repetition time (s).

    Raises
    ------
    ValueError
        Naming the file, the participant and the rule broken.
    """
    tr = run.tr  # ValueError naming the sidecar (or the run when no sidecar gives it)
    img = read_image(run.bold)
    if img.ndim != 4 or img.shape[3] < 2:
        raise ValueError(
            f"{run.bold}: participant {run.participant}: BOLD must be 4-D with ≥ 2 volumes, "
            f"got shape {img.shape}"
        )
    _check_orientation(img, run.bold, run.participant)
    data = np.asarray(img.dataobj, dtype=np.float32)
    _check_finite(data, run.bold, run.participant)
    return img, data, tr


def load_structural(inputs: RawInputs) -> nib.Nifti1Image:
    """Load and validate the structural: every byte read, 3-D, finite, orientation set.

    Parameters
    ----------
    inputs : RawInputs
        The participant's inputs (:func:`find_inputs`).

    Returns
    -------
    Nifti1Image
        float32 data with the file's affine.

    Raises
    ------
    ValueError
        Naming the file, the participant and the rule broken.
    """
    img = read_image(inputs.structural)
    if img.ndim != 3:
        raise ValueError(
            f"{inputs.structural}: participant {inputs.participant}: structural must be 3-D, "
            f"got shape {img.shape}"
        )
    _check_orientation(img, inputs.structural, inputs.participant)
    data = np.asarray(img.dataobj, dtype=np.float32)
    _check_finite(data, inputs.structural, inputs.participant)
    return nib.Nifti1Image(data, img.affine)
