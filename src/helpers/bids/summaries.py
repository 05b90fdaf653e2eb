"""What the data chapter shows: the design, the sample, ratings, motion; :func:`is_twin`."""

from __future__ import annotations

import os
from pathlib import Path

import nibabel as nib
import pandas as pd

from ..layout import derivative_paths
from ..layout.entities import read_json
from ..layout.raw import RawRun
from .dataset import Dataset
from .rules import CONDITIONS
from .tables import read_tsv

# --------------------------------------------------------------------------------------------- summaries
#: The paper's design values (book/spec_paper.md) for side-by-side tables.
PAPER_DESIGN = {
    "participants": 19,
    "female": 12,
    "age_mean": 20.3,
    "age_range": "18–27",
    "runs": 1,
    "tr_s": 3.0,
    "volumes": 166,
    "matrix": "64 × 64 × 36",
    "voxel_mm": "3.125 × 3.125 × 4 (3 mm + 1 mm gap)",
    "structural": "T2w, 1.56 × 1.56 mm in-plane, 3 mm slices, coplanar",
    "events_per_condition": "15 / 15 / 15",
    "event_duration_s": "10–12",
}


def _span(values) -> str:
    """``"3"`` when all equal, else ``"2–4"``."""
    values = sorted(set(values))
    return f"{values[0]:g}" if len(values) == 1 else f"{values[0]:g}–{values[-1]:g}"


def design_summary(ds: Dataset, conditions=CONDITIONS) -> pd.DataFrame:
    """Design of a dataset beside the paper's (rows: design item; columns: paper, dataset).

    Reads headers only (no image data): runs per participant, TR and volumes over every run, grid and
    voxel size of the first participant's first run; events per condition are per participant (all
    runs together), averaged over participants.

    Parameters
    ----------
    ds : Dataset
        The dataset (:class:`helpers.bids.Dataset`).
    conditions : sequence of str, default :data:`helpers.bids.rules.CONDITIONS`
        Conditions whose events are counted, in this order.

    Returns
    -------
    DataFrame
        Indexed by design item (:data:`PAPER_DESIGN`'s keys), columns ``paper`` and ``dataset`` (text;
        ``n/a`` where ``participants.tsv`` lacks age or sex).
    """
    parts = ds.participants
    first = ds.first_run(ds.ids[0])
    bold = nib.load(first.bold)
    anat = ds.structural.get(ds.ids[0])
    anat_img = nib.load(anat[0]) if anat else None
    runs = [r for sub in ds.ids for r in ds.runs[sub]]
    events = pd.concat([ds.events(s).assign(participant_id=s) for s in ds.ids], ignore_index=True)
    counts = events.groupby("trial_type").size() / len(ds.ids)
    sex = parts["sex"].astype(str).str.upper().str[0] if "sex" in parts else None
    age = pd.to_numeric(parts["age"], errors="coerce") if "age" in parts else None
    values = {
        "participants": len(parts),
        "female": int((sex == "F").sum()) if sex is not None else "n/a",
        "age_mean": round(float(age.mean()), 1) if age is not None and age.notna().any() else "n/a",
        "age_range": f"{age.min():g}–{age.max():g}" if age is not None and age.notna().any() else "n/a",
        "runs": _span([len(ds.runs[s]) for s in ds.ids]),
        "tr_s": _span([r.tr for r in runs]),
        "volumes": _span([ds.n_volumes(r) for r in runs]),
        "matrix": " × ".join(str(n) for n in bold.shape[:3]),
        "voxel_mm": " × ".join(f"{z:g}" for z in bold.header.get_zooms()[:3]),
        "structural": f"{anat[1]}, " + " × ".join(f"{z:g}" for z in anat_img.header.get_zooms()[:3]) + " mm"
        if anat
        else "missing",
        "events_per_condition": " / ".join(f"{counts.get(c, 0):g}" for c in conditions),
        "event_duration_s": f"{events['duration'].min():g}–{events['duration'].max():g}",
    }
    return pd.DataFrame({"paper": pd.Series(PAPER_DESIGN), "dataset": pd.Series(values)}).astype(str)


def sample_summary(participants: pd.DataFrame) -> pd.DataFrame:
    """The sample as a journal reports it: n, women (n, %), age M (SD) and range.

    ``age`` and ``sex`` are optional in ``participants.tsv``: a missing column gives ``n/a``.
    Sex counts as female when its value starts with ``F`` (``F``, ``female``; case-insensitive).

    Parameters
    ----------
    participants : DataFrame
        ``participants.tsv`` (one row per participant; non-numeric ages are ignored).

    Returns
    -------
    DataFrame
        Rows ``Participants``, ``Women``, ``Age, M (SD)``, ``Age range``; one column ``value`` (text).
    """
    n = len(participants)
    rows = {"Participants": str(n)}
    if "sex" in participants:
        women = int(participants["sex"].astype(str).str.strip().str.upper().str.startswith("F").sum())
        rows["Women"] = f"{women} ({100 * women / n:.0f} %)" if n else "0"
    else:
        rows["Women"] = "n/a"
    age = (
        pd.to_numeric(participants["age"], errors="coerce").dropna()
        if "age" in participants
        else pd.Series([])
    )
    rows["Age, M (SD)"] = f"{age.mean():.1f} ({age.std(ddof=1):.1f})" if len(age) > 1 else "n/a"
    rows["Age range"] = f"{age.min():g}–{age.max():g}" if len(age) else "n/a"
    return pd.DataFrame({"value": pd.Series(rows)}).rename_axis("sample")


def ratings_table(ds: Dataset) -> pd.DataFrame:
    """Mean rating per participant and condition over all runs.

    Participants whose events have no ``rating`` column are left out (the column is optional); the
    table is empty when nobody has ratings.

    Parameters
    ----------
    ds : Dataset
        The dataset.

    Returns
    -------
    DataFrame
        Long format: ``participant_id, trial_type, rating`` (mean), ``n`` (rated events).
    """
    rows = []
    for sub in ds.ids:
        ev = ds.events(sub)
        if "rating" not in ev:
            continue
        grouped = ev.groupby("trial_type")["rating"].agg(["mean", "count"]).reset_index()
        grouped.insert(0, "participant_id", sub)
        rows.append(grouped.rename(columns={"mean": "rating", "count": "n"}))
    if not rows:
        return pd.DataFrame(columns=["participant_id", "trial_type", "rating", "n"])
    return pd.concat(rows, ignore_index=True)


def motion_table(ds: Dataset, sub: str, run: RawRun | None = None) -> tuple[pd.DataFrame | None, str]:
    """Head motion of one run and where it came from.

    The twin's true motion (``derivatives/twin-truth``) if present, else the run's fMRIPrep-style
    confounds in any ``derivatives/*`` folder (first found, sorted by name); ``(None, "none")`` for raw
    data never preprocessed.

    Parameters
    ----------
    ds : Dataset
        The dataset.
    sub : str
        Participant id (``sub-<label>``).
    run : RawRun, default None
        The run; default None: the participant's first.

    Returns
    -------
    tuple of (DataFrame or None, str)
        The table and its source (``"twin ground truth"``, the confounds file's path in the dataset, or
        ``"none"``).
    """
    run = run or ds.first_run(sub)
    truth = ds.root / "derivatives" / "twin-truth" / sub / f"{sub}_motion.tsv"
    if truth.is_file():
        return read_tsv(truth), "twin ground truth"
    for deriv in sorted(p for p in (ds.root / "derivatives").glob("*") if p.is_dir()):
        path = derivative_paths(deriv, sub, ds.task, session=run.session, acq=run.acq, run=run.run)[
            "confounds"
        ]
        if path.is_file():
            return read_tsv(path), path.relative_to(ds.root).as_posix()
    return None, "none"


def is_twin(root: str | os.PathLike) -> bool:
    """True if ``dataset_description.json`` says the dataset was generated by ``helpers.simulate``.

    Parameters
    ----------
    root : path-like
        The dataset root; without ``dataset_description.json`` the answer is False.

    Returns
    -------
    bool

    Raises
    ------
    ValueError
        ``dataset_description.json`` is not valid JSON (:func:`helpers.layout.entities.read_json`).
    """
    path = Path(root) / "dataset_description.json"
    if not path.is_file():
        return False
    meta = read_json(path)
    return any(g.get("Name") == "helpers.simulate" for g in meta.get("GeneratedBy", []))
