"""Locate and validate the raw inputs of preprocessing (BIDS raw contract, DESIGN.md §3).

Every check raises ``ValueError`` naming the file, the participant and the rule broken.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

__all__ = ["RawInputs", "find_participants", "find_inputs", "load_bold", "load_structural"]

#: Structural suffixes accepted, in order of preference (the paper's coplanar T2w first).
STRUCTURAL_SUFFIXES = ("T2w", "T1w")


@dataclass(frozen=True)
class RawInputs:
    """Paths of one participant's raw files and the structural contrast (``"T2w"``/``"T1w"``)."""

    participant: str
    bold: Path
    sidecar: Path
    structural: Path
    contrast: str


def find_participants(bids_dir: str | Path) -> list[str]:
    """Sorted ``sub-*`` folder names of a BIDS dataset."""
    root = Path(bids_dir)
    if not root.is_dir():
        raise ValueError(f"BIDS folder {root} does not exist")
    subs = sorted(p.name for p in root.glob("sub-*") if p.is_dir())
    if not subs:
        raise ValueError(f"BIDS folder {root}: no sub-* participant folders")
    return subs


def find_inputs(bids_dir: str | Path, participant: str, task: str) -> RawInputs:
    """The BOLD run, its JSON sidecar and the structural of ``participant`` for ``task``."""
    root = Path(bids_dir) / participant
    bold = root / "func" / f"{participant}_task-{task}_bold.nii.gz"
    if not bold.is_file():
        raise ValueError(f"{participant}: BOLD file {bold} is missing (task {task!r})")
    sidecar = bold.with_name(f"{participant}_task-{task}_bold.json")
    if not sidecar.is_file():
        raise ValueError(f"{participant}: sidecar {sidecar} is missing (it must give RepetitionTime)")
    for suffix in STRUCTURAL_SUFFIXES:
        anat = root / "anat" / f"{participant}_{suffix}.nii.gz"
        if anat.is_file():
            return RawInputs(participant, bold, sidecar, anat, suffix)
    raise ValueError(f"{participant}: no structural image ({' or '.join(f'anat/{participant}_{s}.nii.gz' for s in STRUCTURAL_SUFFIXES)})")


def _check_orientation(img: nib.Nifti1Image, path: Path, participant: str) -> None:
    """World coordinates must be defined (sform or qform code > 0), non-singular, and sform = qform if both set."""
    header = img.header
    s_code, q_code = int(header["sform_code"]), int(header["qform_code"])
    if s_code == 0 and q_code == 0:
        raise ValueError(f"{path}: participant {participant}: sform_code and qform_code are both 0 "
                         "(no scanner orientation); set a valid sform/qform")
    if abs(np.linalg.det(img.affine[:3, :3])) < 1e-6:
        raise ValueError(f"{path}: participant {participant}: the voxel-to-world affine is singular")
    if s_code > 0 and q_code > 0:
        diff = np.abs(header.get_sform() - header.get_qform())
        if diff[:3, :3].max() > 1e-3 or diff[:3, 3].max() > 1e-2:
            raise ValueError(f"{path}: participant {participant}: sform and qform disagree "
                             f"(max difference {diff.max():.3g}); fix the header orientation")


def _check_finite(data: np.ndarray, path: Path, participant: str) -> None:
    bad = ~np.isfinite(data)
    if bad.any():
        where = np.argwhere(bad)[0]
        raise ValueError(f"{path}: participant {participant}: {int(bad.sum())} NaN/inf values "
                         f"(first at voxel {tuple(int(i) for i in where)})")


def load_bold(inputs: RawInputs) -> tuple[nib.Nifti1Image, np.ndarray, float]:
    """Load and validate the BOLD run: 4-D, ≥ 2 volumes, finite, orientation set, TR in the sidecar.

    Returns the image, its data (float32) and the repetition time (s, from the sidecar).
    """
    img = nib.load(inputs.bold)
    if img.ndim != 4 or img.shape[3] < 2:
        raise ValueError(f"{inputs.bold}: participant {inputs.participant}: BOLD must be 4-D with ≥ 2 volumes, "
                         f"got shape {img.shape}")
    _check_orientation(img, inputs.bold, inputs.participant)
    meta = json.loads(Path(inputs.sidecar).read_text())
    tr = meta.get("RepetitionTime")
    if not isinstance(tr, (int, float)) or not np.isfinite(tr) or tr <= 0:
        raise ValueError(f"{inputs.sidecar}: participant {inputs.participant}: RepetitionTime is missing or "
                         f"not a positive number (got {tr!r})")
    data = np.asarray(img.dataobj, dtype=np.float32)
    _check_finite(data, inputs.bold, inputs.participant)
    return img, data, float(tr)


def load_structural(inputs: RawInputs) -> nib.Nifti1Image:
    """Load and validate the structural: 3-D, finite, orientation set."""
    img = nib.load(inputs.structural)
    if img.ndim != 3:
        raise ValueError(f"{inputs.structural}: participant {inputs.participant}: structural must be 3-D, "
                         f"got shape {img.shape}")
    _check_orientation(img, inputs.structural, inputs.participant)
    data = np.asarray(img.dataobj, dtype=np.float32)
    _check_finite(data, inputs.structural, inputs.participant)
    return nib.Nifti1Image(data, img.affine)
