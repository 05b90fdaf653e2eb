"""Rewrite the digital twin into a *foreign* dataset: a layout and names nobody here wrote.

:func:`make_foreign` copies a twin (raw data and ideal derivatives) into a dataset that looks like a
public multi-session study preprocessed by fMRIPrep 24:

* other participant IDs (:func:`foreign_id`, not in the twin's order), phenotype IDs without
  ``sub-``, participants.tsv with an extra column; another task label (``faces``) and other
  condition labels (negative/neutral/positive → face/house/scrambled), an extra events column;
* a ``ses-1`` level; the structural under its own contrast's suffix (``_T1w`` for a twin simulated
  with ``anatomy.contrast: T1w``, as the foreign tests do: a T2-weighted image renamed ``_T1w`` is
  mislabelled data, which the registration gates rightly flag); uncompressed ``.nii`` BOLD; the BOLD
  sidecar inherited from a top-level ``task-faces_bold.json`` (no per-run sidecar);
* two runs for the participants in ``split`` (each run cut at a word onset that falls on a scan
  boundary; the second run's events re-timed), ``run-1`` only for the others;
* fMRIPrep-24 derivative names in ``derivatives/fmriprep`` (``GeneratedBy`` fMRIPrep 24.1.1):
  ``res-2`` labels, confounds with ``n/a`` first rows and dozens of extra columns, probseg in
  ``anat/`` (no session level), a ``desc-brain_mask`` and a BOLD sidecar with ``RepetitionTime``.

The voxel values are the twin's: a single-run participant's numbers must equal the twin's, and a
split participant's must equal the CONN-style concatenation of its two halves.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

TASK = "faces"
LABELS = {"negative": "face", "neutral": "house", "positive": "scrambled"}


def foreign_id(twin_id: str) -> str:
    """``sub-01`` → ``sub-s37``, ``sub-02`` → ``sub-s74``, ``sub-03`` → ``sub-s11`` …: other IDs and order."""
    return f"sub-s{int(twin_id.removeprefix('sub-')) * 37 % 100:02d}"


SESSION = "1"
SPACE = "MNI152NLin2009cAsym"
RES = "2"
#: Columns fMRIPrep 24 writes besides the six motion parameters (a selection; n/a in the first row
#: where fMRIPrep leaves it undefined).
_EXTRA = (
    ["global_signal", "csf", "white_matter", "csf_wm", "dvars", "std_dvars", "rmsd"]
    + [f"a_comp_cor_{i:02d}" for i in range(24)]
    + [f"t_comp_cor_{i:02d}" for i in range(6)]
    + [f"cosine{i:02d}" for i in range(3)]
)


@dataclass(frozen=True)
class Split:
    """Where a twin participant's run was cut: ``scans`` volumes in run 1, the rest in run 2."""

    participant: str
    scans: int
    seconds: float


def _save(img, volumes: slice, path: Path) -> None:
    """``img``'s volumes ``volumes`` at ``path``, stored values and scaling unchanged (no re-quantisation)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = nib.Nifti1Image(np.asanyarray(img.dataobj.get_unscaled())[..., volumes], img.affine, img.header)
    out.header.set_slope_inter(img.dataobj.slope, img.dataobj.inter)
    nib.save(out, path)


def cut_point(events: pd.DataFrame, tr: float, n_scans: int) -> tuple[int, float]:
    """The word onset nearest the middle of the run that falls on a scan boundary: (scans, seconds)."""
    on_grid = [
        o for o in events["onset"] if o > 0 and abs(o / tr - round(o / tr)) < 1e-9 and o / tr < n_scans
    ]
    if not on_grid:
        raise ValueError("no word onset falls on a scan boundary: the run cannot be cut at an event")
    onset = min(on_grid, key=lambda o: abs(o / tr - n_scans / 2))
    return int(round(onset / tr)), float(onset)


def _events(events: pd.DataFrame, start: float, stop: float) -> pd.DataFrame:
    part = events[(events["onset"] >= start) & (events["onset"] < stop)].copy()
    part["onset"] = part["onset"] - start
    part["trial_type"] = part["trial_type"].map(LABELS)
    part["response_time"] = 1.25  # an extra column the contract ignores
    return part


def _confounds(table: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """fMRIPrep-24-like confounds of one run: the columns it lacks added, its first row n/a where
    fMRIPrep's is (derivatives, FD, DVARS: undefined for a run's first volume)."""
    out = table.copy()
    for col in ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"):
        if f"{col}_derivative1" not in out:
            out[f"{col}_derivative1"] = out[col].diff()
        if f"{col}_power2" not in out:
            out[f"{col}_power2"] = out[col] ** 2
    for col in _EXTRA:
        if col not in out:
            out[col] = rng.standard_normal(len(out))
    undefined = ("dvars", "std_dvars", "framewise_displacement")
    first = [c for c in out.columns if "derivative1" in c or c in undefined]
    out.loc[out.index[0], first] = np.nan
    return out


def make_foreign(
    twin: Path,
    dest: Path,
    *,
    split=("sub-02", "sub-03"),
    sessions: bool = True,
    runs: bool = True,
    nii: bool = True,
    inherit: bool = True,
    derivatives: bool = True,
) -> dict[str, Split]:
    """Write the foreign dataset at ``dest``; returns the cut of each split participant (twin IDs).

    Parameters
    ----------
    twin : Path
        A digital twin (``helpers.simulate``), with its ideal derivatives.
    dest : Path
        The new dataset's folder (created).
    split : tuple of str
        Twin participants whose run becomes two runs.
    sessions, runs, nii, inherit : bool
        Add a ``ses-1`` level; name single runs ``run-1`` too (split runs always have the entity);
        write the BOLD as ``.nii``; move the BOLD sidecar to the top level.
    derivatives : bool
        Also write fMRIPrep-24-style derivatives (False: a raw dataset, to be preprocessed).
    """
    rng = np.random.default_rng(0)
    dest.mkdir(parents=True)
    (dest / "dataset_description.json").write_text(
        json.dumps(
            {
                "Name": "A face-processing study (foreign layout)",
                "BIDSVersion": "1.9.0",
                "DatasetType": "raw",
            },
            indent=1,
        )
    )
    parts = pd.read_csv(twin / "participants.tsv", sep="\t")
    ids = {old: foreign_id(old) for old in parts["participant_id"]}
    parts["participant_id"] = parts["participant_id"].map(ids)
    parts["site"] = "B"
    parts.to_csv(dest / "participants.tsv", sep="\t", index=False)
    (dest / "phenotype").mkdir()
    scs = pd.read_csv(twin / "phenotype" / "scs.tsv", sep="\t", dtype=str, keep_default_na=False)
    scs["participant_id"] = scs["participant_id"].map(ids).str.removeprefix("sub-")
    scs.to_csv(dest / "phenotype" / "scs.tsv", sep="\t", index=False)
    shutil.copy2(twin / "phenotype" / "scs.json", dest / "phenotype" / "scs.json")
    sidecar = json.loads(next(twin.glob("sub-*/func/*_bold.json")).read_text())
    sidecar["TaskName"] = TASK
    if inherit:
        (dest / f"task-{TASK}_bold.json").write_text(json.dumps(sidecar, indent=1))
    ideal = twin / "derivatives" / "twin-fmriprep"
    deriv = dest / "derivatives" / "fmriprep"
    if derivatives:
        deriv.mkdir(parents=True)
        (deriv / "dataset_description.json").write_text(
            json.dumps(
                {
                    "Name": "fMRIPrep - fMRI PREProcessing workflow",
                    "BIDSVersion": "1.9.0",
                    "DatasetType": "derivative",
                    "GeneratedBy": [
                        {
                            "Name": "fMRIPrep",
                            "Version": "24.1.1",
                            "CodeURL": "https://github.com/nipreps/fmriprep",
                        }
                    ],
                },
                indent=1,
            )
        )
    cuts = {}
    for old, new in ids.items():
        ses = f"_ses-{SESSION}" if sessions else ""
        folder = dest / new / (f"ses-{SESSION}" if sessions else "")
        anat = next((twin / old / "anat").glob("*_T[12]w.nii.gz"))
        suffix = anat.name.removesuffix(".nii.gz").rsplit("_", 1)[1]
        (folder / "anat").mkdir(parents=True)
        shutil.copy2(anat, folder / "anat" / f"{new}{ses}_{suffix}.nii.gz")
        bold_img = nib.load(twin / old / "func" / f"{old}_task-feedback_bold.nii.gz")
        events = pd.read_csv(twin / old / "func" / f"{old}_task-feedback_events.tsv", sep="\t")
        tr = float(sidecar["RepetitionTime"])
        n = bold_img.shape[3]
        if old in split:
            scans, seconds = cut_point(events, tr, n)
            cuts[old] = Split(old, scans, seconds)
            windows = [(0, scans, 0.0, seconds), (scans, n, seconds, np.inf)]
        else:
            windows = [(0, n, 0.0, np.inf)]
        for k, (a, b, t0, t1) in enumerate(windows, 1):
            stem = f"{new}{ses}_task-{TASK}" + (f"_run-{k}" if runs or len(windows) > 1 else "")
            _save(bold_img, slice(a, b), folder / "func" / f"{stem}_bold.nii{'' if nii else '.gz'}")
            if not inherit:
                (folder / "func" / f"{stem}_bold.json").write_text(json.dumps(sidecar, indent=1))
            _events(events, t0, t1).to_csv(
                folder / "func" / f"{stem}_events.tsv", sep="\t", index=False, na_rep="n/a"
            )
            if derivatives:
                target = deriv / new / (f"ses-{SESSION}" if sessions else "")
                _derivative_run(ideal, old, target, stem, a, b, tr, rng)
        if derivatives:
            for tissue in ("GM", "WM", "CSF"):
                src = next((ideal / old / "anat").glob(f"*_label-{tissue}_probseg.nii.gz"))
                target = deriv / new / "anat" / f"{new}_space-{SPACE}_res-{RES}_label-{tissue}_probseg.nii.gz"
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, target)
    return cuts


def _derivative_run(ideal: Path, old: str, folder: Path, stem: str, a: int, b: int, tr: float, rng) -> None:
    func = folder / "func"
    func.mkdir(parents=True, exist_ok=True)
    src = ideal / old / "func"
    img = nib.load(next(src.glob("*_desc-preproc_bold.nii.gz")))
    name = f"{stem}_space-{SPACE}_res-{RES}"
    _save(img, slice(a, b), func / f"{name}_desc-preproc_bold.nii.gz")
    (func / f"{name}_desc-preproc_bold.json").write_text(
        json.dumps({"RepetitionTime": tr, "SkullStripped": False, "TaskName": TASK}, indent=1)
    )
    shutil.copy2(next(src.glob("*_desc-brain_mask.nii.gz")), func / f"{name}_desc-brain_mask.nii.gz")
    conf = (
        pd.read_csv(
            next(src.glob("*_desc-confounds_timeseries.tsv")),
            sep="\t",
            na_values=["n/a"],
            keep_default_na=False,
        )
        .iloc[a:b]
        .reset_index(drop=True)
    )
    _confounds(conf, rng).to_csv(
        func / f"{stem}_desc-confounds_timeseries.tsv", sep="\t", index=False, na_rep="n/a"
    )
