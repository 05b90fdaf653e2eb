"""Writing one participant's preprocessing derivatives: images, confounds, sidecars, provenance.

The whole folder is written to a temporary sibling and renamed when complete
(:func:`helpers.io.atomic_path`); ``provenance.json`` lists every output, which is what the stage
checks to resume (:mod:`.pipeline`).
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from ..io import atomic_path, write_json, write_tsv
from ..versions import package_versions
from .brain import BRAIN_DEFAULTS
from .coregister import COREG_DEFAULTS
from .inputs import RawInputs
from .normalise import NORMALISE_DEFAULTS
from .resample import as_image

__all__ = ["SOFTWARE", "write_participant"]

#: Packages whose versions the sidecars and provenance record (all but ``helpers`` key the code).
SOFTWARE = ("helpers", "numpy", "scipy", "nibabel", "nilearn", "dipy")


def _sidecar(tr: float, params: dict, run, inputs: RawInputs, extra: dict) -> dict:
    return {
        "RepetitionTime": tr,
        "SkullStripped": False,
        "SliceTimingCorrected": False,
        "Sources": [f"bids:raw:{run.bold.name}", f"bids:raw:{inputs.structural.name}"],
        "GeneratedBy": [
            {
                "Name": "helpers.preprocess",
                "Version": package_versions(SOFTWARE)["helpers"],
                "Description": "realign (SPM-style Gauss-Newton) -> coregister (dipy MI, rigid) -> "
                "normalise (dipy MI affine + SyN CC) -> one composed resampling",
            }
        ],
        "Software": package_versions(SOFTWARE),
        "Parameters": params,
        "Coregistration": COREG_DEFAULTS,
        "Normalisation": NORMALISE_DEFAULTS,
        "BrainExtraction": BRAIN_DEFAULTS,
        **extra,
    }


def write_participant(
    runs,
    mni: dict,
    motion,
    coreg,
    func_affine,
    params: dict,
    inputs: RawInputs,
    record: dict,
    seconds: dict,
    lap,
) -> None:
    """Write every output of one participant into a temporary folder renamed when complete.

    The anatomical outputs and the provenance are the participant's; each run gets its functional files,
    its rows of the realignment parameters (relative to the first volume of the first run, as SPM's
    ``rp_*.txt`` of later sessions) with framewise displacement ``n/a`` at its own first volume.

    Parameters
    ----------
    runs : list of tuple
        ``(run, paths, tr, volumes)`` per run: the raw run, its :func:`helpers.layout.derivative_paths`,
        its TR and ``volumes``, its slice of the concatenated series.
    mni : dict
        The MNI-space results: ``affine``, ``support``, ``points``, ``struct_points``, ``tissue``, ``bold``,
        ``smoothed``, ``mask``, ``anat``.
    motion : helpers.preprocess.realign.RealignResult
        Realignment (``mean`` image, ``params`` table).
    coreg : ndarray, shape (4, 4)
        Functional-to-structural matrix.
    func_affine : ndarray, shape (4, 4)
        The first run's voxel-to-world affine.
    params : dict
        Complete stage parameters (recorded in the sidecars and the provenance).
    inputs : RawInputs
        The participant's raw inputs.
    record : dict
        Its input record (:func:`helpers.preprocess.participant.input_record`).
    seconds : dict
        Wall time per step so far (recorded; ``lap("write")`` adds the writing).
    lap : callable
        ``lap(step)`` records the time since the previous step.
    """
    paths = runs[0][1]
    sub_dir = paths["provenance"].parent
    affine = mni["affine"]
    with atomic_path(sub_dir) as tmp:

        def inside(p: Path) -> Path:
            out = tmp / p.relative_to(sub_dir)
            out.parent.mkdir(parents=True, exist_ok=True)
            return out

        for label in ("GM", "WM", "CSF"):
            as_image(mni["tissue"][label], affine).to_filename(inside(paths[f"probseg_{label}"]))
        as_image(mni["anat"], affine).to_filename(inside(paths["anat_mni"]))
        as_image(mni["points"], affine).to_filename(inside(paths["norm_xfm"]))
        for run, run_paths, tr, volumes in runs:
            rel = {k: inside(p) for k, p in run_paths.items() if k in _RUN_OUTPUTS}
            as_image(mni["bold"][..., volumes], affine, dtype=np.int16, tr=tr).to_filename(rel["preproc"])
            smoothed = as_image(mni["smoothed"][..., volumes], affine, dtype=np.int16, tr=tr)
            smoothed.to_filename(rel["smoothed"])
            as_image(mni["mask"], affine, dtype=np.uint8).to_filename(rel["mask"])
            nib.Nifti1Image(motion.mean.astype(np.float32), func_affine).to_filename(rel["boldref"])
            np.savetxt(rel["coreg_xfm"], coreg, fmt="%.10f")
            confounds = motion.params.iloc[volumes].reset_index(drop=True)
            confounds.loc[0, "framewise_displacement"] = np.nan
            write_tsv(confounds, rel["confounds"])
            write_json(
                {
                    c: {
                        "Description": _RIGID_DESCRIPTION
                        if c != "framewise_displacement"
                        else "Power et al. (2012) FD, 50 mm sphere; n/a for the run's first volume"
                    }
                    for c in confounds.columns
                },
                rel["confounds_json"],
            )
            write_json(_sidecar(tr, params, run, inputs, {}), rel["preproc_json"])
            write_json(
                _sidecar(tr, params, run, inputs, {"SmoothingFWHM": params["smoothing_fwhm"]}),
                rel["smoothed_json"],
            )
        lap("write")
        outputs = sorted(
            {
                str(p.relative_to(sub_dir))
                for _, run_paths, _, _ in runs
                for k, p in run_paths.items()
                if k != "provenance"
            }
        )
        write_json(
            {
                "participant": inputs.participant,
                "parameters": params,
                "inputs": record,
                "outputs": outputs,
                "seconds": seconds,
                "software": package_versions(SOFTWARE),
            },
            inside(paths["provenance"]),
        )


_RIGID_DESCRIPTION = (
    "SPM-convention rigid parameter (mm or rad) relative to the first volume of the first "
    "run, rotations about the scanner origin"
)

#: The functional outputs written for each run (the others are the participant's).
_RUN_OUTPUTS = (
    "preproc",
    "preproc_json",
    "smoothed",
    "smoothed_json",
    "mask",
    "confounds",
    "confounds_json",
    "boldref",
    "coreg_xfm",
)
