"""The names of fMRIPrep-style derivatives, and where our preprocessing and the twin put them.

Names follow BIDS-Derivatives as fMRIPrep writes them, entities in BIDS order::

    sub-<p>[_ses-<s>]_task-<t>[_acq-<a>][_run-<r>]_space-<S>_res-<R>_desc-preproc_bold.nii.gz
    sub-<p>[_ses-<s>]_task-<t>[_acq-<a>][_run-<r>]_desc-confounds_timeseries.tsv
    sub-<p>_space-<S>_res-<R>_label-<WM|CSF|GM>_probseg.nii.gz          (in anat/)

Our preprocessing and the twin put the functional files of a session in ``sub-<p>/[ses-<s>/]func``
and the anatomical files (one structural per participant) in ``sub-<p>/anat``, as fMRIPrep does
for a participant with a single anatomical reference.
"""

from __future__ import annotations

from pathlib import Path

#: The template space our preprocessing and the twin write (fMRIPrep's default output space).
SPACE = "MNI152NLin2009cAsym"
#: The template spaces fMRIPrep writes that the ROI atlas (MNI coordinates) fits, in order of preference.
SPACES = ("MNI152NLin2009cAsym", "MNI152NLin6Asym")
_NIFTI = (".nii.gz", ".nii")


def entity_stem(
    participant: str,
    task: str | None = None,
    *,
    session: str | None = None,
    acq: str | None = None,
    run: str | None = None,
) -> str:
    """The leading entities of a BIDS file name, in BIDS order.

    Parameters
    ----------
    participant : str
        ``"sub-<label>"``.
    task : str, default None
        Task label (without ``task-``); default None leaves the entity out (anatomical files).
    session, acq, run : str, default None
        Labels without their prefix; default None leaves the entity out.

    Returns
    -------
    str

    Examples
    --------
    >>> entity_stem("sub-01", "feedback", session="2", run="1")
    'sub-01_ses-2_task-feedback_run-1'
    """
    parts = [participant]
    for key, value in (("ses", session), ("task", task), ("acq", acq), ("run", run)):
        if value is not None:
            parts.append(f"{key}-{value}")
    return "_".join(parts)


def derivative_paths(
    out_dir: str | Path,
    participant: str,
    task: str,
    resolution: int | float = 3,
    contrast: str = "T2w",
    *,
    session: str | None = None,
    acq: str | None = None,
    run: str | None = None,
    space: str = SPACE,
) -> dict[str, Path]:
    """Paths of one run's derivatives as our preprocessing and the twin write them.

    Parameters
    ----------
    out_dir : path-like
        The derivatives folder (e.g. ``build/data/preproc`` or ``<twin>/derivatives/twin-fmriprep``).
    participant : str
        ``"sub-<label>"``.
    task : str
        Task label.
    resolution : int or float, default 3
        The ``res-`` entity (voxel size in mm of the MNI grid).
    contrast : str, default "T2w"
        Suffix of the structural the transforms refer to (``"T2w"`` or ``"T1w"``).
    session, acq, run : str, default None
        Entities of the functional run (labels without prefix); default None: absent.
    space : str, default :data:`SPACE`
        Template space of the outputs.

    Returns
    -------
    dict
        ``preproc``, ``preproc_json``, ``smoothed``, ``smoothed_json``, ``mask``, ``confounds``,
        ``confounds_json``, ``boldref``, ``coreg_xfm`` (functional files of the run, under
        ``[ses-<s>/]func``); ``norm_xfm``, ``anat_mni``, ``probseg_GM|WM|CSF`` (the participant's
        anatomical files, under ``anat``); ``provenance`` (the participant's record).
    """
    res = f"{resolution:g}" if isinstance(resolution, float) else str(resolution)
    sub = Path(out_dir) / participant
    func = (sub / f"ses-{session}" / "func") if session is not None else sub / "func"
    anat = sub / "anat"
    stem = entity_stem(participant, task, session=session, acq=acq, run=run)
    sp = f"space-{space}_res-{res}"
    paths = {
        "preproc": func / f"{stem}_{sp}_desc-preproc_bold.nii.gz",
        "preproc_json": func / f"{stem}_{sp}_desc-preproc_bold.json",
        "smoothed": func / f"{stem}_{sp}_desc-smoothed_bold.nii.gz",
        "smoothed_json": func / f"{stem}_{sp}_desc-smoothed_bold.json",
        "mask": func / f"{stem}_{sp}_desc-brain_mask.nii.gz",
        "confounds": func / f"{stem}_desc-confounds_timeseries.tsv",
        "confounds_json": func / f"{stem}_desc-confounds_timeseries.json",
        "boldref": func / f"{stem}_boldref.nii.gz",
        "coreg_xfm": func / f"{stem}_from-boldref_to-{contrast}_mode-image_xfm.txt",
        "norm_xfm": anat / f"{participant}_from-{contrast}_to-{space}_mode-points_xfm.nii.gz",
        "anat_mni": anat / f"{participant}_{sp}_desc-preproc_{contrast}.nii.gz",
        "provenance": sub / "provenance.json",
    }
    for label in ("GM", "WM", "CSF"):
        paths[f"probseg_{label}"] = anat / f"{participant}_{sp}_label-{label}_probseg.nii.gz"
    return paths


def run_label(session: str | None = None, acq: str | None = None, run: str | None = None) -> str:
    """A run's name in messages and tables: ``"ses-1_acq-mb_run-2"``, ``"run-1"``, ``""`` (single run).

    Parameters
    ----------
    session : str, default None
        ``ses`` label; default None: none.
    acq : str, default None
        ``acq`` label; default None: none.
    run : str, default None
        ``run`` label; default None: none.

    Returns
    -------
    str
        The given entities as ``key-value`` joined by ``_``.
    """
    return "_".join(f"{k}-{v}" for k, v in (("ses", session), ("acq", acq), ("run", run)) if v is not None)


def sidecar(path: str | Path) -> Path:
    """The JSON sidecar of a data file (``x_bold.nii.gz`` → ``x_bold.json``, ``x.tsv`` → ``x.json``).

    Parameters
    ----------
    path : path-like
        A ``.nii.gz``, ``.nii``, ``.tsv.gz`` or ``.tsv`` file (any other suffix is replaced by ``.json``).

    Returns
    -------
    pathlib.Path
        Beside ``path``; not checked to exist.
    """
    path = Path(path)
    name = path.name
    for ext in (".nii.gz", ".nii", ".tsv.gz", ".tsv"):
        if name.endswith(ext):
            return path.with_name(name[: -len(ext)] + ".json")
    return path.with_suffix(".json")
