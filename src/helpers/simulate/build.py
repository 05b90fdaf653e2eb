"""Assemble the twin: shared maps once, then one task per participant (parallel, deterministic).

Randomness: ``SeedSequence(seed)`` spawns one child for the sample/questionnaire and one per
participant, so results do not depend on the number of parallel jobs.  Spatial maps use the
config's fixed ``map_seed`` (common to every participant and every seed).
Participants run through the stage skeleton (:func:`helpers.participant_stage.run_stage`) without a
store: the twin is written into a fresh temporary root that :func:`helpers.simulate.simulate` renames
into place only when whole, so there is nothing to resume.  The config's ``output`` section chooses
``n_jobs`` and, optionally, ``backend`` (default ``"processes"``; ``"serial"`` or ``"dask"``) and
``scheduler``; the shared maps are sent once per worker.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import yaml
from scipy import ndimage

from .. import __version__
from ..atlas import roi_masks
from ..io import write_json, write_tsv
from ..layout import derivative_paths, raw_paths
from ..participant_stage import Task, run_stage
from . import anatomy, model, signals, space, volumes, writer

__all__ = ["build", "Shared", "participant_series"]

log = logging.getLogger(__name__)


class Shared:
    """Everything common to all participants: grids, maps on the source and 3 mm grids, the head image.

    The brain is the config's ``anatomy.source`` (:func:`anatomy.source_tissue`), not the registration
    template; the structural's source is that brain in a head (:func:`anatomy.head_image`) with the
    contrast ``anatomy.contrast``.
    """

    def __init__(self, cfg: dict):
        grid, sig, anat = cfg["grid"], cfg["signals"], cfg["anatomy"]
        templates = anatomy.source_tissue(anat["source"])
        src_shape, src_aff = space.mni_grid(grid["source_resolution"])
        ref = nib.Nifti1Image(np.zeros(src_shape, np.uint8), src_aff)
        sigma = sig["roi_smooth_mm"] / 2.3548 / grid["source_resolution"]
        rois = {
            name: np.clip(ndimage.gaussian_filter(np.asarray(m.dataobj, np.float32), sigma) * 1.2, 0, 1)
            for name, m in roi_masks(ref).items()
        }
        rng = np.random.default_rng(sig["map_seed"])
        self.src = space.build_maps(templates, rois, src_shape, src_aff, sig, rng, sig["gm_networks"])
        mni_shape, mni_aff = space.mni_grid(grid["mni_resolution"])
        tissue = space.tissue_on_grid(templates, mni_shape, mni_aff)
        self.mni = self.src.on_grid(mni_shape, mni_aff, tissue)
        self.mask = (tissue["gm"] + tissue["wm"] + tissue["csf"]) > 0.5
        intensity = anat["intensity"][_contrast(anat)]
        self.anat, self.anat_affine = anatomy.head_image(
            templates, grid["anat_source_resolution"], intensity, anat["head"]
        )


def _contrast(anat: dict) -> str:
    if anat["contrast"] not in ("T2w", "T1w"):
        raise ValueError(f"config anatomy.contrast: {anat['contrast']!r} is not 'T2w' or 'T1w'")
    return anat["contrast"]


@functools.lru_cache(maxsize=2)
def _shared_cached(key: tuple) -> Shared:
    return Shared(model._thaw(key))


def shared_for(cfg: dict) -> Shared:
    """:class:`Shared` for a config, cached in-process.

    It depends only on ``grid``, ``signals`` and the anatomy's source, contrast, head and intensity, so
    configs differing elsewhere (participants, coupling, output) share one object.

    Parameters
    ----------
    cfg : dict
        Full simulation config (:func:`helpers.simulate.load_config`).

    Returns
    -------
    Shared
    """
    anat = {k: cfg["anatomy"][k] for k in ("source", "contrast", "head", "intensity")}
    return _shared_cached(model._freeze({"grid": cfg["grid"], "signals": cfg["signals"], "anatomy": anat}))


def participant_series(
    events: pd.DataFrame, coupling: pd.DataFrame, cfg: dict, rng: np.random.Generator
) -> dict:
    """All time series of one participant (no images): neural, ROI BOLD, components, motion.

    Parameters
    ----------
    events : DataFrame
        The participant's events (``onset``, ``duration``, ``trial_type`` …;
        :func:`model.event_sequence`).
    coupling : DataFrame
        This participant's rows of the planted coupling table (``target``, ``condition``, ``r``).
    cfg : dict
        Simulation config (``conditions``, ``timing``, ``signals``, ``motion``).
    rng : numpy.random.Generator
        The participant's generator (drawn in a fixed order, so results are deterministic).

    Returns
    -------
    dict
        ``neural``, ``fluct``, ``task``, ``components`` (DataFrames), ``motion`` (volumes × 6, mm and
        rad), ``fd`` (framewise displacement, mm) and ``spin`` (spin-history factor
        ``1 − spin_pct_per_mm · FD / 100``).
    """
    conds, tm = cfg["conditions"], cfg["timing"]
    tr, dt, n_vol = tm["tr"], tm["dt"], tm["n_volumes"]
    n_fine = int(round(n_vol * tr / dt))
    idx = signals.condition_index(events, conds, n_fine, dt)
    r = np.array(
        [
            [coupling.set_index(["target", "condition"]).loc[(side, c), "r"] for c in conds]
            for side in ("amygdala_l", "amygdala_r")
        ]
    )
    regs = signals.task_regressors(idx, len(conds), dt, tr, n_vol)
    neural, fluct, task = signals.roi_timeseries(idx, r, regs, conds, cfg["signals"], dt, tr, n_vol, rng)
    comps = signals.components(fluct, task, regs, conds, cfg["signals"], dt, tr, n_vol, n_fine, rng)
    motion = signals.motion_parameters(n_vol, cfg["motion"], rng)
    fd = signals.framewise_displacement(motion)
    spin = 1 - cfg["motion"]["spin_pct_per_mm"] * fd / 100
    return {
        "neural": neural,
        "fluct": fluct,
        "task": task,
        "components": comps,
        "motion": motion,
        "fd": fd,
        "spin": spin,
    }


_STRUCTURAL_SIDECAR = {
    "T2w": {
        "EchoTime": 0.054,
        "RepetitionTime": 4.0,
        "PulseSequenceType": "Echo-planar T2-weighted spin echo (simulated)",
    },
    "T1w": {
        "EchoTime": 0.003,
        "RepetitionTime": 2.3,
        "InversionTime": 0.9,
        "PulseSequenceType": "MPRAGE-like T1-weighted gradient echo (simulated)",
    },
}


def _pure(prob: np.ndarray) -> np.ndarray:
    """Voxels of (nearly) one tissue: probability > 0.9, or > 0.9 x the maximum on a coarse grid where
    partial volume keeps every voxel below 0.9."""
    return prob > min(0.9, 0.9 * float(prob.max()))


def planted_problems(cfg: dict, sub: str) -> list[str]:
    """Names of the problems the config's ``plants`` section plants in participant ``sub`` (sorted).

    Parameters
    ----------
    cfg : dict
        Simulation config; ``plants`` maps a problem name to a spec with a ``participants`` list.
    sub : str
        Participant label, e.g. ``"sub-03"``.

    Returns
    -------
    list of str
    """
    return sorted(name for name, spec in cfg.get("plants", {}).items() if sub in spec.get("participants", []))


def _scale_motion(series: dict, mean_fd_mm: float, spin_pct_per_mm: float) -> None:
    """Scale a participant's motion so that its mean framewise displacement is ``mean_fd_mm`` (a restless
    participant); FD and spin history follow."""
    series["motion"] = series["motion"] * (mean_fd_mm / np.nanmean(series["fd"]))
    series["fd"] = signals.framewise_displacement(series["motion"])
    series["spin"] = 1 - spin_pct_per_mm * series["fd"] / 100


def _participant(
    root: Path,
    sub: str,
    events: pd.DataFrame,
    coupling: pd.DataFrame,
    ratings: np.ndarray,
    cfg: dict,
    shared: Shared,
    seed_seq: np.random.SeedSequence,
) -> None:
    """Simulate and write one participant (raw, ideal derivatives, truth); one BLAS thread
    (:func:`helpers.participant_stage.run_stage`)."""
    rng = np.random.default_rng(seed_seq)
    series = participant_series(events, coupling, cfg, rng)
    planted = planted_problems(cfg, sub)
    if "motion" in planted:
        _scale_motion(series, cfg["plants"]["motion"]["mean_fd_mm"], cfg["motion"]["spin_pct_per_mm"])
    pose = space.participant_pose(cfg["anatomy"], cfg["grid"]["fov_centre_mni"], rng)
    warp = space.warp_params(cfg["anatomy"], rng)
    task, tm, grid = cfg["task"], cfg["timing"], cfg["grid"]
    raw = raw_paths(root, sub, task)
    # raw BOLD + sidecars
    bold = volumes.native_bold(
        shared, series, pose, warp, cfg, rng, cfg["plants"]["dropout"] if "dropout" in planted else None
    )
    f_aff = space.native_affine(grid["func_shape"], grid["func_zooms"])
    writer.save_nifti(
        bold, f_aff, raw["bold"], np.int16, zooms=(*grid["func_zooms"], tm["tr"]), time_first=True
    )
    del bold
    write_json(
        {
            "RepetitionTime": tm["tr"],
            "EchoTime": tm["echo_time"],
            "FlipAngle": tm["flip_angle"],
            "TaskName": task,
            "MagneticFieldStrength": 3,
            "Manufacturer": "Siemens",
            "ManufacturersModelName": "TrioTim (simulated)",
            "SliceThickness": 3.0,
            "SpacingBetweenSlices": grid["func_zooms"][2],
            "PhaseEncodingDirection": "j-",
            "TaskDescription": "Social feedback: adjectives (positive/neutral/negative) about the "
            "participant; rate 'How do you feel?' 1 (really bad) - 4 (really good)",
        },
        raw["bold_json"],
    )
    ev = events.copy()
    ev["rating"] = ratings
    write_tsv(ev[["onset", "duration", "trial_type", "rating", "word"]], raw["events"])
    struct, anat_motion = volumes.native_structural(shared, pose, warp, cfg, rng)
    if "orientation" in planted:  # data flipped under an unchanged header: a mis-set orientation
        struct = np.flip(struct, axis=cfg["plants"]["orientation"]["axis"])
    contrast = _contrast(cfg["anatomy"])
    writer.save_nifti(
        struct,
        space.native_affine(grid["anat_shape"], grid["anat_zooms"]),
        raw["t2w"].with_name(raw["t2w"].name.replace("_T2w.", f"_{contrast}.")),
        np.int16,
    )
    write_json(
        _STRUCTURAL_SIDECAR[contrast]
        | {
            "MagneticFieldStrength": 3,
            "SliceThickness": 3.0,
            "SpacingBetweenSlices": grid["anat_zooms"][2],
        },
        raw["t2w_json"].with_name(raw["t2w_json"].name.replace("_T2w.", f"_{contrast}.")),
    )
    # ideal derivatives
    res = grid["mni_resolution"]
    der = derivative_paths(root / "derivatives" / "twin-fmriprep", sub, task, res)
    data, smoothed = volumes.mni_bold(shared, series, cfg, rng)
    aff = shared.mni.affine
    zooms4 = (res, res, res, tm["tr"])
    writer.save_nifti(data, aff, der["preproc"], np.int16, code="mni", zooms=zooms4, time_first=True)
    writer.save_nifti(smoothed, aff, der["smoothed"], np.int16, code="mni", zooms=zooms4, time_first=True)
    for key, desc in (
        ("preproc_json", "ideal (truth) preprocessing, unsmoothed"),
        ("smoothed_json", "ideal preprocessing, 8 mm FWHM Gaussian smoothing"),
    ):
        write_json(
            {
                "RepetitionTime": tm["tr"],
                "SkullStripped": True,
                "Description": desc,
                "SmoothingFWHM": 8.0 if key == "smoothed_json" else 0.0,
            },
            der[key],
        )
    writer.save_nifti(shared.mask.astype(np.uint8), aff, der["mask"], np.uint8, code="mni")
    for label in ("GM", "WM", "CSF"):
        writer.save_nifti(
            shared.mni.tissue[label.lower()], aff, der[f"probseg_{label}"], np.float32, code="mni"
        )
    mean_in = {
        name: data[:, m].mean(axis=1)
        for name, m in (
            ("global_signal", shared.mask),
            ("csf", _pure(shared.mni.tissue["csf"])),
            ("white_matter", _pure(shared.mni.tissue["wm"])),
        )
    }
    del data, smoothed
    write_tsv(writer.confounds_table(series["motion"], series["fd"], mean_in), der["confounds"])
    # ground truth
    tdir = writer.truth_dir(root, sub)
    names = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]
    motion = pd.DataFrame(series["motion"], columns=names)
    motion["framewise_displacement"] = series["fd"]
    write_tsv(motion, tdir / f"{sub}_motion.tsv")
    write_json(
        {
            "pose_mni_to_scanner": pose.tolist(),
            "warp": warp,
            "anat_motion": anat_motion.tolist(),
            "fov_centre_mni": cfg["grid"]["fov_centre_mni"],
            "anatomy_source": cfg["anatomy"]["source"],
            "planted_problems": planted,
            "conventions": (
                "see helpers.simulate.space: scanner q shows MNI p = u + d(u), u = H^-1 M_t^-1 q"
            ),
        },
        tdir / f"{sub}_transform.json",
    )
    roi = series["fluct"] + series["task"]
    for part in ("fluct", "task"):
        for name in signals.ROIS:
            roi[f"{name}_{part}"] = series[part][name]
    write_tsv(roi, tdir / f"{sub}_roi_timeseries.tsv")
    write_tsv(series["neural"], tdir / f"{sub}_neural.tsv")
    write_tsv(series["components"], tdir / f"{sub}_components.tsv")


def _participant_job(job: tuple, root: Path, cfg: dict, shared: Shared) -> None:
    """One participant's task for the stage skeleton (the shared maps are sent once per worker)."""
    _participant(root, *job[:4], cfg, shared, job[4])


def build(root: Path, cfg: dict, n: int, seed: int) -> None:
    """Write the whole twin under ``root`` (an empty temporary folder).

    Parameters
    ----------
    root : Path
        Destination folder (:func:`helpers.simulate.simulate` renames it into place).
    cfg : dict
        Validated, merged simulation config.
    n : int
        Number of participants.
    seed : int
        Root of ``SeedSequence(seed)``: one child for the sample and questionnaire, one per
        participant (results do not depend on the number of parallel jobs).
    """
    ss = np.random.SeedSequence(seed)
    child_sample, *child_subs = ss.spawn(n + 1)
    rng = np.random.default_rng(child_sample)
    ids = [f"sub-{i:02d}" for i in range(1, n + 1)]
    participants = model.demographics(ids, cfg["demographics"], rng)
    items, latent = model.scs_items(ids, cfg["scs"], rng)
    scores = model.score(items)
    coupling = model.planted_coupling(scores, cfg["scs"], cfg["coupling"], cfg["conditions"], rng)
    mean, sd, _ = model.scs_population(cfg["scs"])
    sc_std = (scores["total"] - mean["total"]) / sd["total"]
    designs = _designs(ids, sc_std, cfg, rng)
    writer.write_dataset_files(root, cfg, participants, items, __version__)
    log.info("building the shared anatomy and signal maps")
    shared = shared_for(cfg)
    jobs = {
        pid: (designs[i][0], coupling[coupling["participant_id"] == pid], designs[i][1], child_subs[i])
        for i, pid in enumerate(ids)
    }
    output = cfg["output"]
    n_jobs = min(output["n_jobs"], n)
    log.info("simulating %d participants (%d parallel jobs)", n, n_jobs)
    # no store: the twin is written into a fresh temporary root, renamed into place only when whole
    run_stage(
        "twin participants",
        ids,
        lambda pid: Task(pid, (pid, *jobs[pid])),
        _participant_job,
        backend=output.get("backend", "processes"),
        n_jobs=n_jobs,
        scheduler=output.get("scheduler", ""),
        progress=None,
        shared={"root": root, "cfg": cfg, "shared": shared},
    )
    _write_truth(root, cfg, n, latent, scores, coupling)


def _designs(ids: list, sc_std, cfg: dict, rng: np.random.Generator) -> list:
    """Each participant's events and ratings (drawn in participant order from ``rng``)."""
    designs = []
    for pid in ids:
        ev_rng = np.random.default_rng(rng.integers(2**63))
        events = model.event_sequence(cfg["conditions"], cfg["events"], ev_rng)
        if cfg["events"]["shared_order"] and designs:
            events = designs[0][0]
        designs.append((events, model.ratings(events, sc_std[pid], cfg["ratings"], ev_rng)))
    return designs


def _write_truth(root: Path, cfg: dict, n: int, latent, scores, coupling) -> None:
    """The group-level ground truth: config, scores, planted coupling, population correlations."""
    tdir = root / "derivatives" / "twin-truth"
    (tdir / "README.md").write_text(writer.TRUTH_README)
    (tdir / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=True))
    truth_scores = latent.set_index("participant_id").join(scores)
    write_tsv(truth_scores.reset_index(), tdir / "scores.tsv")
    write_tsv(coupling, tdir / "coupling.tsv")
    _, table = model.coupling_weights(cfg["scs"], cfg["coupling"], cfg["conditions"])
    if n >= 3:
        z = coupling.pivot_table(index="participant_id", columns=["target", "condition"], values="z")
        comps = [(side, c) for side in ("amygdala_l", "amygdala_r") for c in cfg["conditions"]]
        table["sample"] = model.sample_correlations(
            z[comps].loc[scores.index].to_numpy(), scores, cfg["coupling"]["targets"], cfg["conditions"]
        )
    write_tsv(table, tdir / "population_correlations.tsv")
