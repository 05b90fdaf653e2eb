"""File writers of the twin: NIfTI, confounds, top-level files, ground truth (names: :mod:`helpers.layout`).

All writers put files under a root folder that the caller later renames into place
(:func:`helpers.io.atomic_path`), so no partial dataset is ever visible.  NIfTI files are written
by nibabel, whose gzip stream has mtime 0 and no file name (byte-identical for equal data).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from ..io import write_json, write_tsv

__all__ = ["TRUTH_README", "truth_dir", "save_nifti", "confounds_table"]


#: Description of the ground-truth folder, written as derivatives/twin-truth/README.md.
TRUTH_README = """# Ground truth of the digital twin

Written by `helpers.simulate` (model and parameters: `config.yaml` here, a copy of the configuration
used, and the docstrings of `helpers.simulate`).  All TSVs are tab-separated, `n/a` = missing.

| file | content |
|---|---|
| `config.yaml` | the full configuration used (defaults merged with overrides) |
| `scores.tsv` | `participant_id`, latent `general` and `f_<subscale>` factors, observed subscale scores and `total` |
| `coupling.tsv` | planted coupling: `participant_id, condition, source, target, z, r` (z = Fisher z of the neural-level correlation in that condition, r = tanh z) |
| `population_correlations.tsv` | `side, measure, score, target` (the paper's r), `planted` (the model's population r) and `sample` (r of the planted z with the observed scores in this dataset) |
| `sub-XX/sub-XX_motion.tsv` | true rigid head motion per volume: `trans_x/y/z` (mm), `rot_x/y/z` (rad), SPM order T·Rx·Ry·Rz about the scanner isocentre, relative to volume 0; `framewise_displacement` (Power, 50 mm) |
| `sub-XX/sub-XX_transform.json` | `pose_mni_to_scanner` (4x4 H), `warp` (sinusoidal modes), `anat_motion` (pose of the structural), `fov_centre_mni`, `anatomy_source` (the brain source, not the registration template), `planted_problems` (hard twin); scanner point q at volume t shows MNI point p = u + d(u), u = H^-1 M_t^-1 q (`helpers.simulate.space.native_to_mni` / `mni_to_native`) |
| `sub-XX/sub-XX_roi_timeseries.tsv` | noise-free ROI BOLD in percent signal change per volume: `<roi>` = `<roi>_fluct` (coupled fluctuation) + `<roi>_task` (task main effect) |
| `sub-XX/sub-XX_neural.tsv` | neural signals of the three ROIs on the fine time grid (`time` in s) |
| `sub-XX/sub-XX_components.tsv` | every spatial component's time series (percent before its map's weight) |
"""  # noqa: E501 - the rows of a Markdown table cannot be wrapped


def truth_dir(root: Path, sub: str) -> Path:
    """Folder of one participant's ground truth: ``<root>/derivatives/twin-truth/<sub>``.

    Parameters
    ----------
    root : Path
        Dataset root.
    sub : str
        Participant label.

    Returns
    -------
    Path
    """
    return root / "derivatives" / "twin-truth" / sub


def save_nifti(
    data: np.ndarray,
    affine: np.ndarray,
    path: Path,
    dtype,
    code: str = "scanner",
    zooms=None,
    compresslevel: int = 1,
    time_first: bool = False,
) -> None:
    """Save ``data`` as a gzipped NIfTI-1 file with ``dtype``, deterministically and fast.

    ``data`` is (x, y, z) or (x, y, z, t), or (t, x, y, z) with ``time_first=True`` (the layout the
    twin computes in, so each volume is contiguous).  Float data saved as int16 are stored as
    ``rint(data / slope)`` with ``scl_slope`` = max|data| / 32000 and intercept 0 (0 stays exactly 0;
    quantisation error < 0.002 % of the peak).  The header is nibabel's; the data are streamed volume
    by volume into a zlib gzip stream with mtime 0 and no file name, so equal inputs give
    byte-identical files.  (ISA-L's faster ``igzip`` was used until it wrote a different, equally
    valid stream for the same mask in a worker process than in the parent: its output is not
    deterministic.)

    Parameters
    ----------
    data : ndarray
        Image data (layout above).
    affine : ndarray, shape (4, 4)
        Voxel-to-world matrix (mm).
    path : Path
        Destination (parent folders are created).
    dtype : numpy dtype
        On-disk data type.
    code : {"scanner", "mni"}, default "scanner"
        sform/qform code: ``"scanner"`` for raw data, ``"mni"`` for template space.
    zooms : sequence of float or None, default None
        Header voxel sizes, may include the TR (None: from the affine's columns).
    compresslevel : int, default 1
        gzip level (1: fast).
    time_first : bool, default False
        ``data`` is (t, x, y, z).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    dtype = np.dtype(dtype)
    vols = data if time_first else np.moveaxis(data.reshape((*data.shape[:3], -1)), -1, 0)
    shape = (*vols.shape[1:], vols.shape[0]) if (time_first or data.ndim == 4) else data.shape
    hdr = nib.Nifti1Header()
    hdr.set_data_shape(shape)
    hdr.set_data_dtype(dtype)
    hdr.set_xyzt_units("mm", "sec")
    hdr.set_sform(affine, code=code)
    hdr.set_qform(affine, code=code)
    hdr.set_zooms(
        zooms if zooms is not None else tuple(np.sqrt((affine[:3, :3] ** 2).sum(axis=0)))[: len(shape)]
    )
    scale = None
    if dtype.kind in "iu" and np.issubdtype(data.dtype, np.floating):
        peak = float(np.abs(data).max())
        slope = peak / 32000 if peak > 0 else 1.0
        hdr.set_slope_inter(slope, 0.0)
        scale = np.float32(1 / slope)
    hdr.set_data_offset(352)
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=compresslevel, mtime=0) as gz,
    ):
        gz.write(hdr.binaryblock + b"\0\0\0\0")
        for vol in vols:
            if scale is not None:
                vol = np.rint(vol * scale)
            gz.write(vol.astype(dtype, copy=False).tobytes(order="F"))


def confounds_table(params: np.ndarray, fd: np.ndarray, signals: dict[str, np.ndarray]) -> pd.DataFrame:
    """fMRIPrep confounds of the twin.

    trans_x…rot_z (+ _derivative1 = backward difference with n/a at volume 0, _power2,
    _derivative1_power2), framewise_displacement (n/a at volume 0) and mean signals.

    Parameters
    ----------
    params : ndarray, shape (n_vol, 6)
        Rigid motion (mm, rad).
    fd : ndarray, shape (n_vol,)
        Framewise displacement (mm).
    signals : dict
        Name (``global_signal``, ``csf``, ``white_matter``) -> mean signal per volume; first columns.

    Returns
    -------
    DataFrame
    """
    cols = {}
    for sig_name, values in signals.items():
        cols[sig_name] = values
    for i, name in enumerate(["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]):
        x = params[:, i]
        d = np.r_[np.nan, np.diff(x)]
        cols[name] = x
        cols[f"{name}_derivative1"] = d
        cols[f"{name}_power2"] = x**2
        cols[f"{name}_derivative1_power2"] = d**2
    cols["framewise_displacement"] = np.r_[np.nan, fd[1:]]
    return pd.DataFrame(cols)


def write_dataset_files(
    root: Path, cfg: dict, participants: pd.DataFrame, items: pd.DataFrame, version: str
) -> None:
    """Top-level BIDS files: dataset_description, participants.tsv/.json, phenotype/scs.tsv/.json, README.

    Also the ``dataset_description.json`` of the two derivative folders (``twin-fmriprep``,
    ``twin-truth``).

    Parameters
    ----------
    root : Path
        Dataset root.
    cfg : dict
        Simulation config; not used by this function (:func:`.build.build` writes it to ``twin-truth``).
    participants : DataFrame
        ``participant_id, age, sex``.
    items : DataFrame
        ``participant_id, scs_01 … scs_26``.
    version : str
        Version of this package, recorded in ``GeneratedBy``.
    """
    write_json(
        {
            "Name": "Digital twin of Parrish et al. (2018) social-feedback fMRI study",
            "BIDSVersion": "1.8.0",
            "DatasetType": "raw",
            "License": "CC0",
            "GeneratedBy": [
                {
                    "Name": "helpers.simulate",
                    "Version": version,
                    "Description": "Deterministic simulation (digital twin); not real data",
                }
            ],
        },
        root / "dataset_description.json",
    )
    write_tsv(participants, root / "participants.tsv")
    write_json(
        {
            "age": {"Description": "age in years", "Units": "year"},
            "sex": {"Description": "sex", "Levels": {"F": "female", "M": "male"}},
        },
        root / "participants.json",
    )
    write_tsv(items, root / "phenotype" / "scs.tsv")
    levels = {str(k): v for k, v in zip(range(1, 6), ["almost never", "2", "3", "4", "almost always"])}
    write_json(
        {
            "MeasurementToolMetadata": {"Description": "Self-Compassion Scale, 26 items (Neff 2003)"},
            **{c: {"Description": f"SCS item {int(c[4:])}", "Levels": levels} for c in items.columns[1:]},
        },
        root / "phenotype" / "scs.json",
    )
    (root / "README").write_text(
        "Digital twin of the Parrish et al. (2018) social-feedback fMRI study, simulated by\n"
        "helpers.simulate.  All data are synthetic; the ground truth is in derivatives/twin-truth/\n"
        "and ideal preprocessed data in derivatives/twin-fmriprep/.\n"
    )
    for name, kind in (("twin-fmriprep", "derivative"), ("twin-truth", "derivative")):
        write_json(
            {
                "Name": f"{name} (digital twin)",
                "BIDSVersion": "1.8.0",
                "DatasetType": kind,
                "GeneratedBy": [{"Name": "helpers.simulate", "Version": version}],
            },
            root / "derivatives" / name / "dataset_description.json",
        )
