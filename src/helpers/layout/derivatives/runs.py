"""Every preprocessed run of a participant, as fMRIPrep, our preprocessing or the twin wrote it.

**Read side** (:func:`derivative_runs`; the folder: :func:`helpers.layout.derivatives.find_fmriprep`):
the variants of fMRIPrep 20.2 LTS to 25.x that are accepted, read from fMRIPrep's own CI output
lists (nipreps/fmriprep ``.circleci/ds005_outputs.txt``, ``ds054_outputs.txt``), its
``docs/outputs.rst`` (1.5 … 23.0) and its ``DerivativesDataSink`` naming (an anatomical output takes
the entities of its source T1w, so one T1w in ``ses-<s>/anat`` gives
``sub-<p>/ses-<s>/anat/sub-<p>_ses-<s>_…``; a ``res-native`` output has no ``res-``):

* BOLD ``…_space-<S>[_res-<R>]_desc-preproc_bold.nii[.gz]`` in ``sub-<p>/[ses-<s>/]func``, ``<S>`` an
  MNI template — ``MNI152NLin2009cAsym`` (fMRIPrep's default) or ``MNI152NLin6Asym`` (written for
  CIFTI/AROMA or when asked) or another ``MNI*`` space when named by ``space``; ``res-`` present
  (``res-2``; from 21.0 the default ``:res-2`` or any ``:res-N`` asked) or absent (20.2's ``res-native``
  default); our own ``desc-smoothed`` images when ``smoothed``.  Files without ``space-`` (23.x+
  native-space BOLD), ``space-T1w``/``space-run``/``space-fsnative``, ``hemi-``, ``echo-`` and
  CIFTI (``.dtseries.nii``) files are never taken;
* confounds ``…_desc-confounds_timeseries.tsv`` (20.2+) or ``…_desc-confounds_regressors.tsv``
  (1.x–20.1) beside the BOLD, without ``space-``; the columns are read by
  :func:`helpers.firstlevel.read_confounds` (``n/a`` first rows, 80–400 columns, non-steady-state);
* brain mask ``…_space-<S>[_res-<R>]_desc-brain_mask.nii.gz`` beside the BOLD (optional);
* tissue maps ``sub-<p>[_ses-<s>]_space-<S>[_res-<R>]_label-<WM|CSF>_probseg.nii[.gz]`` in
  ``sub-<p>/anat`` (one anatomical reference per participant, the default) **or** in
  ``sub-<p>/ses-<s>/anat`` (all anatomical scans in one session, or 25.x's
  ``--subject-anatomical-reference sessionwise``): a run takes its own session's maps, else the
  participant-level ones, else those of the only session that has them; same space as the BOLD,
  and the BOLD's resolution when several are present (nearest-neighbour sampling maps any grid
  to the BOLD's, :func:`helpers.denoise.mask_voxels`);
* repetition time from the BOLD's sidecar ``RepetitionTime`` (seconds), else the NIfTI header.

Labels are matched as written (``run-01`` is run ``"01"``), participants given with or without
``sub-``.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..entities import parse_entities, read_json
from .names import _NIFTI, SPACES, run_label, sidecar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DerivRun:
    """One preprocessed run of a participant, as :func:`derivative_runs` found it.

    ``bold`` is ``desc-preproc`` (or ``desc-smoothed`` when asked, or as a fallback with a warning);
    ``confounds`` the run's confounds TSV; ``wm``/``csf`` the MNI tissue probability maps;
    ``mask`` the run's brain mask (None when absent); ``tr`` in seconds; ``metadata`` the BOLD
    sidecar's fields (``{}`` when there is none).
    """

    participant: str
    task: str
    session: str | None
    acq: str | None
    run: str | None
    bold: Path
    confounds: Path
    wm: Path
    csf: Path
    mask: Path | None
    tr: float
    metadata: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def label(self) -> str:
        """``"ses-1_run-2"``, ``"run-1"``, ``""`` for a plain single run (as ``RawRun.label``)."""
        return run_label(self.session, self.acq, self.run)


def _files(folder: Path, datatype: str) -> list[tuple[Path, dict]]:
    """``(path, entities)`` of the BIDS-named files of one datatype.

    Looked up in ``folder/<datatype>`` and ``folder/ses-*/<datatype>``.
    """
    out = []
    for sub in [folder / datatype, *sorted(folder.glob(f"ses-*/{datatype}"))]:
        if sub.is_dir():
            for path in sorted(sub.iterdir()):
                ent = parse_entities(path.name) if path.is_file() and not path.name.startswith(".") else None
                if ent is not None:
                    out.append((path, ent))
    return out


def _is_mni(space: str) -> bool:
    return space.startswith("MNI")


def _choose(values: set, asked, what: str, parameter: str, where: str):
    """The one value present (or the one asked); ValueError naming the values and the parameter otherwise."""
    shown = sorted("(none)" if v is None else v for v in values)
    if asked is not None:
        if asked not in values:
            raise FileNotFoundError(
                f"{where}: no preprocessed BOLD with {what} {asked!r} (found: {', '.join(shown) or 'none'}; "
                f"rule: parameter {parameter} names one that exists)"
            )
        return asked
    if len(values) > 1:
        raise ValueError(
            f"{where}: preprocessed BOLD in {len(values)} {what} values ({', '.join(shown)}); "
            f"choose one with the parameter {parameter}"
        )
    return next(iter(values))


def _repetition_time(bold: Path, metadata: dict) -> float:
    """RepetitionTime (s) from the sidecar (validated as the raw one), else the NIfTI header's pixdim[4]."""
    from ..raw import repetition_time  # raw imports this module: import at call time

    if "RepetitionTime" in metadata:
        return repetition_time(metadata, {"RepetitionTime": sidecar(bold)}, bold)
    import nibabel as nib

    header = nib.load(bold).header
    zooms = header.get_zooms()
    tr = float(zooms[3]) if len(zooms) > 3 else float("nan")
    if header.get_xyzt_units()[1] == "msec":
        tr /= 1000.0
    if not tr > 0:
        raise ValueError(
            f"{bold}: no RepetitionTime in its sidecar and none in the NIfTI header (pixdim[4] = {tr}); "
            "rule: the BOLD's JSON sidecar gives RepetitionTime in seconds"
        )
    return tr


def derivative_runs(
    derivatives_dir,
    participant: str,
    task: str,
    *,
    space: str | None = None,
    res=None,
    smoothed: bool = False,
) -> list[DerivRun]:
    """Every preprocessed run of one participant and task, in BIDS order (session, acq, run).

    Accepts fMRIPrep 20.2 LTS … 25.x derivatives, our preprocessing's and the twin's (the variants
    are listed in this module's docstring).

    Parameters
    ----------
    derivatives_dir : path-like
        The derivatives dataset (the folder holding ``sub-*``).
    participant : str
        ``"sub-01"`` or ``"01"``.
    task : str
        Task label.
    space : str, default None
        Template space of the BOLD; default None: the one MNI space present (``MNI152NLin2009cAsym``
        or ``MNI152NLin6Asym``, …); several → ValueError naming them and this parameter.
    res : str or int, default None
        The ``res-`` entity (``2`` for ``res-2``); default None: the one present (or none).
    smoothed : bool, default False
        Read ``desc-smoothed`` images (ours; fMRIPrep writes none).  When False and a run has only a
        smoothed image, it is used with a warning (book/spec_conn.md §4).

    Returns
    -------
    list of DerivRun

    Raises
    ------
    FileNotFoundError
        No folder for the participant, no BOLD of the task, or a run without confounds or tissue
        maps (the message names the participant, run and the naming rule).
    ValueError
        Several spaces, resolutions or files for one run (naming them and the parameter to set),
        a non-MNI ``space``, or an invalid repetition time.
    """
    from ..raw import _sort_key, with_sub  # raw imports this module: import at call time

    sub = with_sub(participant)
    label = sub.removeprefix("sub-")
    folder = Path(derivatives_dir) / sub
    if not folder.is_dir():
        raise FileNotFoundError(f"{sub}: no derivatives folder {folder}")
    if space is not None and not _is_mni(space):
        raise ValueError(
            f"{sub}: space {space!r} is not an MNI template (rule: the ROIs are MNI coordinates; "
            f"use e.g. {' or '.join(SPACES)})"
        )
    res = None if res is None else str(res).removeprefix("res-")
    func = [(p, e) for p, e in _files(folder, "func") if e.get("sub") == label and e.get("task") == task]
    bolds = [
        (p, e)
        for p, e in func
        if e["suffix"] == "bold"
        and e["extension"] in _NIFTI
        and e.get("desc") in ("preproc", "smoothed")
        and _is_mni(e.get("space", ""))
        and not {"hemi", "echo"} & e.keys()
    ]
    if not bolds:
        raise FileNotFoundError(
            f"{sub}: no preprocessed BOLD of task {task!r} under {folder} (rule: "
            f"{sub}[_ses-<s>]_task-{task}[_run-<r>]_space-<MNI space>[_res-<r>]_desc-preproc_bold.nii[.gz] "
            "in func/ or ses-<s>/func/)"
        )
    spaces = {e["space"] for _, e in bolds}
    if space is None and len(spaces) > 1 and len(spaces & set(SPACES)) == 1:
        spaces = spaces & set(SPACES)  # e.g. MNI152NLin2009cAsym beside an exotic MNI* space
    chosen_space = _choose(spaces, space, "space", "space", sub)
    bolds = [(p, e) for p, e in bolds if e["space"] == chosen_space]
    chosen_res = _choose({e.get("res") for _, e in bolds}, res, "res-", "res", f"{sub}, space {chosen_space}")
    bolds = [(p, e) for p, e in bolds if e.get("res") == chosen_res]
    keys = sorted(
        {(e.get("ses"), e.get("acq"), e.get("run")) for _, e in bolds},
        key=lambda k: tuple(_sort_key(v) for v in k),
    )
    anat = [
        (p, e)
        for p, e in _files(folder, "anat")
        if e.get("sub") == label
        and e["suffix"] == "probseg"
        and e["extension"] in _NIFTI
        and e.get("space") == chosen_space
        and e.get("label") in ("WM", "CSF")
    ]
    runs = []
    for ses, acq, run in keys:
        where = f"{sub}" + (f", {run_label(ses, acq, run)}" if run_label(ses, acq, run) else "")
        mine = [(p, e) for p, e in bolds if (e.get("ses"), e.get("acq"), e.get("run")) == (ses, acq, run)]
        bold = _pick_bold(mine, smoothed, where)
        same = [(p, e) for p, e in func if (e.get("ses"), e.get("acq"), e.get("run")) == (ses, acq, run)]
        confounds = _pick_confounds(same, where, folder, task)
        masks = [
            p
            for p, e in same
            if e["suffix"] == "mask"
            and e.get("desc") == "brain"
            and e["extension"] in _NIFTI
            and e.get("space") == chosen_space
            and e.get("res") == chosen_res
        ]
        tissue = {t: _pick_probseg(anat, t, ses, chosen_res, where, chosen_space) for t in ("WM", "CSF")}
        meta = read_json(sidecar(bold)) if sidecar(bold).is_file() else {}
        runs.append(
            DerivRun(
                sub,
                task,
                ses,
                acq,
                run,
                bold,
                confounds,
                tissue["WM"],
                tissue["CSF"],
                masks[0] if len(masks) == 1 else None,
                _repetition_time(bold, meta),
                meta,
            )
        )
    return runs


def _pick_bold(files: list, smoothed: bool, where: str) -> Path:
    by_desc = {}
    for p, e in files:
        by_desc.setdefault(e["desc"], []).append(p)
    for desc, found in by_desc.items():
        if len(found) > 1:
            raise ValueError(
                f"{where}: {len(found)} desc-{desc} BOLD files for one run "
                f"({', '.join(p.name for p in found)}); "
                "rule: one per space, resolution and run (remove the extra, or give acq-/run- entities)"
            )
    wanted = "smoothed" if smoothed else "preproc"
    if wanted in by_desc:
        return by_desc[wanted][0]
    if smoothed:
        raise FileNotFoundError(
            f"{where}: no desc-smoothed BOLD (smoothed=True; found {by_desc['preproc'][0].name})"
        )
    bold = by_desc["smoothed"][0]
    message = f"{where}: no unsmoothed desc-preproc BOLD; using the smoothed image {bold.name}"
    warnings.warn(message, stacklevel=3)
    log.warning(message)
    return bold


def _pick_confounds(files: list, where: str, folder: Path, task: str) -> Path:
    for suffix in ("timeseries", "regressors"):  # 20.2+, then 1.x–20.1
        found = [
            p
            for p, e in files
            if e["suffix"] == suffix
            and e.get("desc") == "confounds"
            and e["extension"] == ".tsv"
            and "space" not in e
        ]
        if len(found) > 1:
            raise ValueError(
                f"{where}: {len(found)} confounds files for one run ({', '.join(p.name for p in found)})"
            )
        if found:
            return found[0]
    raise FileNotFoundError(
        f"{where}: no confounds file under {folder} (rule: the BOLD's entities + "
        f"_desc-confounds_timeseries.tsv, or fMRIPrep < 20.2's _desc-confounds_regressors.tsv, "
        f"task {task!r})"
    )


def _pick_probseg(
    anat: list, tissue: str, session: str | None, res: str | None, where: str, space: str
) -> Path:
    """The run's tissue map: its session's, else the participant's, else the only session's that has one."""
    found = [(p, e) for p, e in anat if e["label"] == tissue]
    if not found:
        raise FileNotFoundError(
            f"{where}: no {tissue} probability map in space {space} (rule: "
            f"sub-<p>[_ses-<s>]_space-{space}[_res-<r>]_label-{tissue}_probseg.nii[.gz] in anat/ "
            "or ses-<s>/anat/)"
        )
    levels = [
        [(p, e) for p, e in found if e.get("ses") == session and session is not None],
        [(p, e) for p, e in found if "ses" not in e],
    ]
    sessions = {e.get("ses") for _, e in found if "ses" in e}
    if len(sessions) == 1:
        levels.append([(p, e) for p, e in found if "ses" in e])
    candidates = next((level for level in levels if level), None)
    if candidates is None:
        raise ValueError(
            f"{where}: {tissue} probability maps only in sessions {sorted(sessions)}, none in this run's "
            f"session or at participant level ({', '.join(p.name for p, _ in found)})"
        )
    if len(candidates) > 1:
        same = [(p, e) for p, e in candidates if e.get("res") == res]
        if len(same) == 1:
            candidates = same
        else:
            raise ValueError(
                f"{where}: {len(candidates)} {tissue} probability maps fit "
                f"({', '.join(p.name for p, _ in candidates)}); choose the resolution with the parameter res"
            )
    return candidates[0][0]
