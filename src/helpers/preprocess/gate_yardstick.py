"""What a broken registration scores on the QC gates: a yardstick for reading their numbers.

The similarity scores of :mod:`.gates` have no natural scale (an EPI–structural NMI of 1.10 is good
here, and 1 means unrelated), so the chapter shows, for one participant, each score as written and
for a deliberately broken copy of the same registration:

* ``coreg_nmi_broken`` — the coregistration turned by ``degrees`` about the x axis (pitch), the
  failure mode of a rigid search that settled in a wrong basin: ``R_x(degrees) · C``, the same
  matrix the gate test of the book's test suite writes;
* ``norm_r_broken`` — the normalised structural moved ``shift_mm`` forward (+y), as a normalisation
  that missed by a few voxels would leave it.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from ..style import format_number, format_r
from .gates import GATE_DEFAULTS
from .qc_scores import coreg_similarity, first_run_derivatives, norm_similarity, on_grid, template_on_grid
from .realign import rigid_matrix

__all__ = ["misregistration_scores", "yardstick_sentence"]


def misregistration_scores(
    bids_dir: str | Path,
    preproc_dir: str | Path,
    participant: str,
    task: str = "feedback",
    resolution: int = 3,
    degrees: float = 30.0,
    shift_mm: float = 10.0,
) -> dict[str, float]:
    """The gate similarity scores of one participant, as registered and deliberately broken.

    Parameters
    ----------
    bids_dir, preproc_dir : path
        The raw dataset and our derivatives (as :func:`helpers.preprocess.gates.participant_scores`).
    participant : str
        ``sub-…`` label.
    task : str, default "feedback"
        BIDS task label.
    resolution : int, default 3
        Voxel size (mm) of the derivatives' MNI grid.
    degrees : float, default 30.0
        Rotation of the broken coregistration about x (degrees).
    shift_mm : float, default 10.0
        Forward shift of the broken normalisation (mm).

    Returns
    -------
    dict
        ``coreg_nmi``, ``coreg_nmi_broken``, ``norm_r``, ``norm_r_broken``, ``degrees``, ``shift_mm``.
    """
    from .inputs import load_structural

    inputs, paths = first_run_derivatives(bids_dir, preproc_dir, participant, task, resolution)
    boldref, structural = nib.load(paths["boldref"]), load_structural(inputs)
    coreg = np.loadtxt(paths["coreg_xfm"])
    rotated = rigid_matrix([0, 0, 0, np.deg2rad(degrees), 0, 0]) @ coreg
    anat_mni = nib.load(paths["anat_mni"])
    moved_affine = anat_mni.affine.copy()
    moved_affine[1, 3] += shift_mm  # the same voxels, shift_mm further forward in MNI space
    moved = on_grid(nib.Nifti1Image(np.asarray(anat_mni.dataobj, np.float32), moved_affine), anat_mni)
    template, brain = template_on_grid(anat_mni, inputs.contrast, resolution)
    return {
        "coreg_nmi": coreg_similarity(boldref, structural, coreg),
        "coreg_nmi_broken": coreg_similarity(boldref, structural, rotated),
        "norm_r": norm_similarity(anat_mni, template, brain),
        "norm_r_broken": norm_similarity(moved, template, brain),
        "degrees": float(degrees),
        "shift_mm": float(shift_mm),
    }


def yardstick_sentence(
    participant: str,
    scores: dict[str, float],
    min_coreg_nmi: float = GATE_DEFAULTS["min_coreg_nmi"],
    min_norm_r: float = GATE_DEFAULTS["min_norm_r"],
) -> str:
    """The scores of :func:`misregistration_scores` beside the gates' thresholds, in one sentence.

    "For scale: sub-01's EPI–structural NMI of 1.097 falls to 1.007 when its coregistration is turned
    30°, and its structural–template correlation of .793 falls to .259 when its normalised structural
    is moved 10 mm forward; the gates ask for at least 1.050 (``qc_min_coreg_nmi``) and .600
    (``qc_min_norm_r``)."

    Parameters
    ----------
    participant : str
        Whose registration was broken.
    scores : dict
        :func:`misregistration_scores`.
    min_coreg_nmi, min_norm_r : float or None, default :data:`~helpers.preprocess.gates.GATE_DEFAULTS`
        The thresholds in force (the chapter's ``qc_min_coreg_nmi``, ``qc_min_norm_r``); None: the
        gate is off, and the sentence says so.

    Returns
    -------
    str
        Markdown, with its full stop.
    """
    nmi = {k: format_number(scores[k], 3) for k in ("coreg_nmi", "coreg_nmi_broken")}
    r = {k: format_r(scores[k]) for k in ("norm_r", "norm_r_broken")}
    gates = {"qc_min_coreg_nmi": (min_coreg_nmi, 3), "qc_min_norm_r": (min_norm_r, None)}
    on = [
        f"{format_number(v, d) if d else format_r(v)} (`{key}`)"
        for key, (v, d) in gates.items()
        if v is not None
    ]
    off = [f"`{key}`" for key, (v, _) in gates.items() if v is None]
    if not on:
        tail = f"both gates are off ({' and '.join(off)} are None)"
    else:
        tail = f"the gates ask for at least {' and '.join(on)}"
        tail += f" ({off[0]} is off)" if off else ""

    def moves(key):  # a registration already poor can score higher once broken: say so
        return "falls to" if scores[f"{key}_broken"] < scores[key] else "rises to"

    return (
        f"For scale: {participant}'s EPI–structural NMI of {nmi['coreg_nmi']} {moves('coreg_nmi')} "
        f"{nmi['coreg_nmi_broken']} when its coregistration is turned {scores['degrees']:g}°, and its "
        f"structural–template correlation of {r['norm_r']} {moves('norm_r')} {r['norm_r_broken']} when its "
        f"normalised structural is moved {scores['shift_mm']:g} mm forward; {tail}."
    )
