"""How far the normalisation moves when its input changes in its last bits: the scores' reproducibility.

Two machines whose processors round differently (another SIMD path of numpy or OpenBLAS), or two
builds of a library, give a registration inputs and intermediate values that differ in their last
bits.  An optimiser that stops after a set number of evaluations, or when an energy's slope crosses a
tolerance, and dipy's SyN, whose every update is scaled to a fixed step length however close it is
to the optimum, can turn such differences into visible ones.  :func:`rounding_shift` measures it
without ground truth (it works on any dataset): the participant's structural times ``1 + ε·n``
(``n`` standard normal, fixed seed; ``ε`` = 1e-6, below the int16 quantisation of a typical image)
is normalised as the stage normalised the structural, and the two MNI → structural maps (the
stage's as it wrote it) are compared over each atlas ROI's 1 mm voxels.

Measured on the realistic twin (``benchmarks/bench_registration_stability.py``; sub-04 / sub-05,
VMPFC, ε = 1e-6): 1.61 / 1.44 mm after the affine stage alone, 1.19 / 1.03 mm after SyN; with the
affine stage's result held fixed, SyN alone 1.00 / 0.63 mm (its coarsest level stopped after 25 and
22, or 50 and 23 iterations).  The book's nineteen ROI scores moved accordingly between two machines
with the same code and lock: 5 VMPFC Dice below .90 on one, 13 on the other.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from ..atlas import roi_points
from ..execution import execution_doc, map_participants

__all__ = ["perturbed", "rounding_shift", "rounding_shifts"]


def perturbed(image: nib.Nifti1Image, eps: float, seed: int = 1) -> nib.Nifti1Image:
    """``image`` times ``1 + eps·n``, ``n`` standard normal drawn with ``seed`` (float32).

    Parameters
    ----------
    image : Nifti1Image
        3-D image.
    eps : float
        Relative size of the change (0: the same values, as float32).
    seed : int, default 1
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    Nifti1Image
    """
    data = image.get_fdata(dtype=np.float32)
    noise = np.random.default_rng(seed).standard_normal(data.shape).astype(np.float32)
    return nib.Nifti1Image(data * (1 + np.float32(eps) * noise), image.affine)


def rounding_shift(
    bids_dir: str | Path, preproc_dir: str | Path, participant: str, eps: float = 1e-6
) -> dict[str, float]:
    """Mean distance (mm) at each atlas ROI between the stage's normalisation and a perturbed structural's.

    ``mean_y |N_ε(y) − N(y)|`` over the ROI's 1 mm voxels ``y``.  ``N`` is the MNI → structural map
    the stage wrote (its points image ``from-…_to-MNI…_mode-points_xfm``, float32 on the 3 mm MNI
    grid); ``N_ε`` is :func:`helpers.preprocess.participant.normalise_structural` with the parameters
    the stage recorded in ``<preproc_dir>/<participant>/provenance.json``, of the structural times
    ``1 + ε·n`` (:func:`perturbed`), written the same way (float32 points on the same grid).  Both
    are read at ``y`` alike (:func:`.spatial_accuracy.structural_points`, trilinear), as the accuracy
    scores read the map, so ``ε = 0`` gives exactly 0: the normalisation is deterministic.  One
    normalisation (~25 s on one core); ``N_ε`` at the ROI points is kept in ``build/cache/rounding``,
    keyed by the participant, ``eps``, the recorded parameters, the structural's bytes, the grid and
    the code (with its numeric packages' versions), so that rebuilding the book does not redo it.

    Parameters
    ----------
    bids_dir : path
        Raw BIDS dataset.
    preproc_dir : path
        The preprocessing stage's derivatives (``provenance.json`` and the points image of
        ``participant``).
    participant : str
        ``sub-XX``.
    eps : float, default 1e-6
        Relative size of the change.

    Returns
    -------
    dict of str to float
        ROI name (:func:`helpers.atlas.roi_masks`) -> mean distance (mm).

    Raises
    ------
    FileNotFoundError
        If the participant's ``provenance.json`` or points image is missing (the stage has not run).
    """
    from ..cache import Cache, code_fingerprint, make_key
    from ..layout import derivative_paths
    from ..versions import sha256
    from .brain import brain_mask
    from .inputs import find_inputs, load_structural
    from .participant import normalise_structural, with_defaults
    from .resample import grid_points
    from .spatial_accuracy import structural_points

    record = Path(preproc_dir) / participant / "provenance.json"
    if not record.exists():
        raise FileNotFoundError(
            f"{record}: no provenance for {participant}; run the preprocessing stage first"
        )
    params = with_defaults(json.loads(record.read_text())["parameters"])
    stored = derivative_paths(preproc_dir, participant, params["task"], params["resolution"])["norm_xfm"]
    if not stored.exists():
        raise FileNotFoundError(
            f"{stored}: no normalisation of {participant}; run the preprocessing stage first"
        )
    base = nib.load(stored)
    shape, affine = base.shape[:3], base.affine
    inputs = find_inputs(bids_dir, participant, params["task"])
    rois = roi_points()

    def compute() -> dict[str, np.ndarray]:
        structural = load_structural(inputs)
        brain = brain_mask(structural, participant=participant)
        norm = normalise_structural(perturbed(structural, eps), brain, inputs.contrast, params)
        points = norm.to_structural(grid_points(shape, affine)).reshape(*shape, 3).astype(np.float32)
        image = nib.Nifti1Image(points, affine)
        return {roi: structural_points(image, y) for roi, y in rois.items()}

    code = code_fingerprint(__name__, "helpers.preprocess.participant", follow_imports=True)
    key = make_key(
        participant, float(eps), params, inputs.contrast, sha256(inputs.structural), shape, affine, code
    )
    moved = Cache("rounding").memo(key, compute)
    return {
        roi: float(np.linalg.norm(moved[roi] - structural_points(base, y), axis=1).mean())
        for roi, y in rois.items()
    }


@execution_doc("backend", "n_jobs", "scheduler")
def rounding_shifts(
    bids_dir: str | Path,
    preproc_dir: str | Path,
    participants: list[str],
    eps: float = 1e-6,
    backend: str = "serial",
    n_jobs: int = 1,
    scheduler="",
) -> pd.DataFrame:
    """:func:`rounding_shift` of several participants, one row each (mm), in parallel.

    Parameters
    ----------
    bids_dir : path
        Raw BIDS dataset.
    preproc_dir : path
        The preprocessing stage's derivatives.
    participants : list of str
        ``sub-XX`` ids.
    eps : float, default 1e-6
        Relative size of the change.
    {execution_parameters:backend,n_jobs,scheduler}

    Returns
    -------
    DataFrame
        Index ``participant_id``; one column per atlas ROI.
    """
    rows = map_participants(
        functools.partial(rounding_shift, bids_dir, preproc_dir, eps=eps),
        participants,
        backend=backend,
        n_jobs=n_jobs,
        scheduler=scheduler,
        desc="rounding sensitivity",
    )
    return pd.DataFrame(rows, index=pd.Index(participants, name="participant_id"))
