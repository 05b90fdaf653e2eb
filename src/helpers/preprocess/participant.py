"""One participant's preprocessing: raw BIDS → fMRIPrep-style derivatives (the stage's compute path).

Steps (the paper's SPM8 order): realignment (:mod:`.realign`), coregistration of the mean functional
to the structural (:mod:`.coregister`), normalisation of the structural to MNI (:mod:`.normalise`),
one resampling of every volume to MNI at ``resolution`` mm (:mod:`.resample`), smoothing
(``smoothing_fwhm`` mm).  Outputs use the names of the twin's ``derivatives/twin-fmriprep``
(:func:`helpers.layout.derivative_paths`), so the connectivity chapter reads either.

Several runs of a participant (sessions, ``acq-``, ``run-``), as SPM does it: every volume of every run
is realigned to the first volume of the first run (two-pass: then to the mean of all runs), the mean
over all runs is coregistered once to the one structural, which is normalised once; each run is then
resampled with its own motion and written under its own entities.  A run whose voxel grid or
voxel-to-world affine differs from the first run's is first put on the first run's grid (cubic,
``regrid_order``) through the scanner coordinates, since realignment works on one grid.

Each participant's folder is written to a temporary sibling and renamed when complete
(:func:`helpers.io.atomic_path`); its ``provenance.json`` records the parameters, the input
checksums and the code fingerprint of this module and every helpers module it imports
(:func:`input_record`), which is what the stage compares to resume (:mod:`.pipeline`).  This module
imports no presentation code (figures, styles, chapter provenance), so editing those never makes a
participant's derivatives stale.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import nibabel as nib
import numpy as np
from scipy import ndimage

from ..layout import derivative_paths
from ..versions import sha256
from .brain import brain_mask
from .coregister import coregister
from .inputs import RawInputs, find_inputs, load_bold, load_structural
from .normalise import NORMALISE_DEFAULTS, normalise, template_for_contrast
from .realign import realign
from .resample import (
    grid_points,
    mni_grid,
    resample_series,
    scatter,
    smooth_series,
    template_tissue,
)
from .writer import SOFTWARE, write_participant

__all__ = [
    "DEFAULTS",
    "with_defaults",
    "input_record",
    "normalise_structural",
    "preprocess_participant",
    "process",
]

log = logging.getLogger(__name__)


#: Parameters of the stage (all recorded in provenance; a change triggers recomputation).
DEFAULTS = dict(
    task="feedback",
    resolution=3,
    smoothing_fwhm=8.0,
    realign_fwhm=5.0,
    realign_sep=4.0,
    realign_quality=0.9,  # SPM's default: the sample points that carry least information are dropped
    two_pass=True,
    # SPM's estimation default is a quadratic B-spline (interp = 2): 4-6 s faster per participant, but
    # realignment RMS error .030-.040 -> .038-.045 mm on twin sub-01..04, 0.1 mm off on a shifted tiny run
    realign_order=3,
    resample_order=1,  # SPM8's normalise.write.interp = 1 (trilinear); SPM12 made it 4
    # a run on another grid than the first: an extra interpolation SPM does not make, so cubic, which
    # smooths least (trilinear twice lowered a 2 mm-shifted run's r with the single run to .986)
    regrid_order=3,
    nonlinear=True,
    template_resolution=3,
    cc_radius=1,
    cc_sigma_mm=12.0,
    syn_level_iters=[50, 25, 25],
    seed=0,
)


def input_record(inputs: RawInputs) -> dict:
    """What a participant's derivatives depend on besides the parameters (recorded in provenance.json).

    Parameters
    ----------
    inputs : RawInputs
        The participant's raw inputs (:func:`.inputs.find_inputs`).

    Returns
    -------
    dict
        ``runs`` (each BOLD's name, SHA-256 and merged sidecar fields), ``structural`` (name and
        SHA-256) and ``code``: :func:`helpers.cache.code_fingerprint` of this module and every
        helpers module it imports, with the numeric libraries' versions.
    """
    from ..cache import code_fingerprint

    runs = [
        {
            "name": run.bold.name,
            "sha256": sha256(run.bold),
            "metadata": json.loads(json.dumps(run.metadata, sort_keys=True)),
        }
        for run in inputs.runs
    ]
    return {
        "runs": runs,
        "structural": {"name": inputs.structural.name, "sha256": sha256(inputs.structural)},
        "code": code_fingerprint(__name__, packages=SOFTWARE[1:], follow_imports=True),
    }


def with_defaults(params: dict | None) -> dict:
    """:data:`DEFAULTS` updated with ``params``.

    Parameters
    ----------
    params : dict or None
        Overrides of :data:`DEFAULTS` (None: none).

    Returns
    -------
    dict
        The complete parameters.

    Raises
    ------
    ValueError
        A key of ``params`` is not in :data:`DEFAULTS` (the message lists the allowed ones).
    """
    unknown = set(params or {}) - set(DEFAULTS)
    if unknown:
        raise ValueError(
            f"preprocessing: unknown parameter(s) {sorted(unknown)}; allowed: {sorted(DEFAULTS)}"
        )
    return {**DEFAULTS, **(params or {})}


def preprocess_participant(
    bids_dir: str | Path, out_dir: str | Path, participant: str, params: dict | None = None
) -> dict:
    """Preprocess one participant (realign, coregister, normalise, one resampling to MNI, smooth).

    Always computes; skipping finished participants is the stage's work
    (:func:`helpers.preprocess.pipeline.run_preprocessing`).

    Parameters
    ----------
    bids_dir : path
        Raw BIDS dataset.
    out_dir : path
        Derivatives folder (e.g. ``build/data/preproc``); ``<out_dir>/<participant>/`` is written
        atomically.
    participant : str
        ``sub-XX``.
    params : dict or None, default None
        Overrides of :data:`DEFAULTS` (None: the defaults).

    Returns
    -------
    dict
        ``{"participant", "seconds": {step: s}}``.

    Raises
    ------
    ValueError
        If ``params`` has a key not in :data:`DEFAULTS`, or the inputs are missing or invalid (the
        message names the file and the rule).
    """
    params = with_defaults(params)
    inputs = find_inputs(bids_dir, participant, params["task"])
    return process(inputs, out_dir, params, input_record(inputs))


def process(inputs: RawInputs, out_dir: str | Path, params: dict, record: dict) -> dict:
    """Preprocess one participant's located inputs and write its derivatives folder atomically.

    Parameters
    ----------
    inputs : RawInputs
        The participant's raw inputs (:func:`.inputs.find_inputs`).
    out_dir : path
        Derivatives folder; ``<out_dir>/<participant>/`` is written atomically.
    params : dict
        Complete parameters (:func:`with_defaults`).
    record : dict
        :func:`input_record` of ``inputs`` (written into ``provenance.json``).

    Returns
    -------
    dict
        ``{"participant", "seconds": {step: s}}``.

    Raises
    ------
    ValueError
        The inputs are invalid (the message names the file and the rule).
    """
    participant = inputs.participant
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(step):
        nonlocal clock
        now = time.perf_counter()
        seconds[step] = round(now - clock, 3)
        clock = now

    bold_img, data, trs, lengths = _load_runs(inputs, params["regrid_order"])
    structural = load_structural(inputs)
    lap("load")
    motion = realign(
        data,
        bold_img.affine,
        fwhm=params["realign_fwhm"],
        sep=params["realign_sep"],
        quality=params["realign_quality"],
        two_pass=params["two_pass"],
        order=params["realign_order"],
    )
    lap("realign")
    brain = brain_mask(structural, participant=participant)
    lap("brain")
    coreg = coregister(
        nib.Nifti1Image(motion.mean, bold_img.affine), structural, brain=brain, seed=params["seed"]
    )
    lap("coregister")
    norm = normalise_structural(structural, brain, inputs.contrast, params)
    lap("normalise")
    mni = _to_mni(data, bold_img.affine, motion.matrices, coreg, norm, params)
    lap("resample")
    mni["smoothed"] = smooth_series(mni["bold"], mni["affine"], params["smoothing_fwhm"])
    lap("smooth")
    mni["anat"] = scatter(
        resample_series(
            structural.get_fdata(dtype=np.float32)[..., None],
            structural.affine,
            np.eye(4)[None],
            mni["struct_points"],
            order=1,
        )[0][:, 0],
        mni["support"],
    )
    runs = [
        (
            run,
            derivative_paths(
                out_dir,
                participant,
                params["task"],
                params["resolution"],
                inputs.contrast,
                session=run.session,
                acq=run.acq,
                run=run.run,
            ),
            tr,
            volumes,
        )
        for run, tr, volumes in zip(inputs.runs, trs, _run_slices(lengths))
    ]
    write_participant(runs, mni, motion, coreg, bold_img.affine, params, inputs, record, seconds, lap)
    log.info("%s preprocessed (%d run(s)) in %.1f s", participant, len(runs), sum(seconds.values()))
    return {"participant": participant, "seconds": seconds}


def _run_slices(lengths: list[int]) -> list[slice]:
    """Volumes of each run in the concatenated series."""
    ends = np.cumsum(lengths)
    return [slice(int(end - n), int(end)) for n, end in zip(lengths, ends)]


def _load_runs(inputs: RawInputs, order: int) -> tuple[nib.Nifti1Image, np.ndarray, list[float], list[int]]:
    """Every run of a participant, concatenated in time on the first run's grid.

    Returns the first run's image, the data (X, Y, Z, sum of volumes; float32), each run's TR and
    number of volumes.  A run on another grid or with another voxel-to-world affine is resampled onto
    the first run's grid through the scanner coordinates (spline ``order``; 0 outside its field of view).
    """
    first, series, trs, lengths = None, [], [], []
    for run in inputs.runs:
        img, data, tr = load_bold(run)
        if first is None:
            first = img
        elif img.shape[:3] != first.shape[:3] or not np.allclose(img.affine, first.affine, atol=1e-4):
            log.info(
                "%s: run %s is on another grid than run %s; resampled onto it",
                run.participant,
                run.label,
                inputs.runs[0].label,
            )
            data = _onto_grid(data, img.affine, first.shape[:3], first.affine, order)
        series.append(data)
        trs.append(tr)
        lengths.append(data.shape[3])
    return first, np.concatenate(series, axis=3) if len(series) > 1 else series[0], trs, lengths


def _onto_grid(
    data: np.ndarray, affine: np.ndarray, shape, target_affine: np.ndarray, order: int
) -> np.ndarray:
    """Resample each volume of ``data`` (on ``affine``) onto the grid ``shape``/``target_affine``."""
    grid = np.indices(shape).reshape(3, -1).astype(float)
    vox = (np.linalg.inv(affine) @ target_affine @ np.vstack([grid, np.ones_like(grid[0])]))[:3]
    out = np.empty((*shape, data.shape[3]), dtype=np.float32)
    for t in range(data.shape[3]):
        out[..., t] = ndimage.map_coordinates(
            data[..., t], vox, order=order, mode="constant", cval=0.0
        ).reshape(shape)
    return out


def normalise_structural(structural, brain, contrast: str, params: dict):
    """Structural → template normalisation with the stage's settings.

    The affine stage runs on a template of at least ``affine_template_resolution`` mm
    (:data:`.normalise.NORMALISE_DEFAULTS`, 3); SyN's update-field smoothing
    ``cc_sigma_mm`` is converted to template voxels (:func:`.normalise.normalise`).

    Parameters
    ----------
    structural : Nifti1Image
        The participant's structural image.
    brain : Nifti1Image
        Its brain mask (:func:`.brain.brain_mask`).
    contrast : {"T2w", "T1w"}
        The structural's contrast (chooses the template's).
    params : dict
        Stage parameters (:data:`DEFAULTS` with overrides).

    Returns
    -------
    Normalisation
    """
    template = template_for_contrast(contrast, params["template_resolution"])
    coarse = template_for_contrast(
        contrast, max(params["template_resolution"], NORMALISE_DEFAULTS["affine_template_resolution"])
    )
    return normalise(
        structural,
        template,
        affine_template=coarse,
        brain=brain,
        nonlinear=params["nonlinear"],
        contrast=contrast,
        seed=params["seed"],
        cc_radius=params["cc_radius"],
        cc_sigma_diff=params["cc_sigma_mm"] / params["template_resolution"],
        syn_level_iters=tuple(params["syn_level_iters"]),
    )


def _to_mni(data, func_affine, matrices, coreg, norm, params) -> dict:
    """The one resampling to the MNI grid, over the template's head support (2 voxels around tissue).

    Returns the grid ``affine``, ``support``, ``points`` (``N(y)`` on the whole grid, x, y, z, 3),
    ``struct_points`` (``N(y)`` on the support, N × 3), ``bold`` (4-D), ``mask`` (template brain ∩
    field of view in every volume) and the template ``tissue`` maps.  The points image is written
    whole: zeros outside the support would be read as the structural's origin, and interpolating
    across the support's edge pulled points toward it (the VMPFC's Dice box reaches past the support
    below the frontal lobe: it read .02–.03 low on the 19-participant twin).
    """
    shape, affine = mni_grid(params["resolution"])
    tissue = template_tissue(shape, affine)
    support = ndimage.binary_dilation(tissue["GM"] + tissue["WM"] + tissue["CSF"] > 0.01, iterations=2)
    points = norm.to_structural(grid_points(shape, affine)).reshape(*shape, 3)
    struct_points = points[support]
    func_points = struct_points @ coreg[:3, :3].T + coreg[:3, 3]
    values, coverage = resample_series(
        data, func_affine, matrices, func_points, order=params["resample_order"]
    )
    return {
        "affine": affine,
        "support": support,
        "points": points,
        "struct_points": struct_points,
        "tissue": tissue,
        "bold": scatter(values, support),
        "mask": tissue["mask"] & scatter(coverage, support),
    }
