"""Load and validate a BIDS dataset against the project's raw-input contract (DESIGN.md §3).

Contract::

    dataset_description.json, participants.tsv (participant_id, age, sex)
    phenotype/scs.tsv            participant_id, scs_01 … scs_26, integers 1–5
    sub-XX/anat/sub-XX_T2w.nii.gz  (T1w accepted too)
    sub-XX/func/sub-XX_task-<task>_bold.nii.gz (+ _bold.json with RepetitionTime)
    sub-XX/func/sub-XX_task-<task>_events.tsv  onset, duration, trial_type, rating (1–4), word

:func:`validate_dataset` checks every rule and raises **one** ``ValueError`` listing every problem
(file, participant, column, rule), so a user fixes everything in one pass.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

__all__ = ["Dataset", "load_dataset", "participant_files", "read_tsv", "repetition_time", "validate_dataset",
           "design_summary", "ratings_table", "motion_table", "is_twin", "PAPER_DESIGN", "SCS_COLUMNS", "EVENT_COLUMNS"]

SCS_COLUMNS = [f"scs_{i:02d}" for i in range(1, 27)]
EVENT_COLUMNS = ["onset", "duration", "trial_type", "rating", "word"]
_SUB = re.compile(r"^sub-[A-Za-z0-9]+$")


def _show(value) -> str:
    """A value as a user wrote it: numbers plainly (6, 2.5), text quoted ('six')."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


def read_tsv(path: str | os.PathLike) -> pd.DataFrame:
    """Read a BIDS TSV (``n/a`` = missing); participant ids stay strings."""
    return pd.read_csv(path, sep="\t", na_values=["n/a"], keep_default_na=False,
                       dtype={"participant_id": str})


def participant_files(root: str | os.PathLike, sub: str, task: str = "feedback") -> dict[str, Path | None]:
    """Files of one participant by BIDS entities (None when absent).

    Keys: ``bold``, ``bold_json``, ``events``, ``anat`` (T2w preferred, else T1w).
    """
    root = Path(root)
    func, anat = root / sub / "func", root / sub / "anat"
    stem = f"{sub}_task-{task}"

    def first(*candidates: Path) -> Path | None:
        return next((c for c in candidates if c.is_file()), None)

    return {"bold": first(func / f"{stem}_bold.nii.gz", func / f"{stem}_bold.nii"),
            "bold_json": first(func / f"{stem}_bold.json", root / f"task-{task}_bold.json"),
            "events": first(func / f"{stem}_events.tsv"),
            "anat": first(anat / f"{sub}_T2w.nii.gz", anat / f"{sub}_T2w.nii",
                          anat / f"{sub}_T1w.nii.gz", anat / f"{sub}_T1w.nii")}


def repetition_time(sidecar: str | os.PathLike) -> float:
    """``RepetitionTime`` (s) from a BOLD JSON sidecar; ValueError naming the file if absent/invalid."""
    meta = json.loads(Path(sidecar).read_text())
    tr = meta.get("RepetitionTime")
    if not isinstance(tr, (int, float)) or isinstance(tr, bool) or not tr > 0:
        raise ValueError(f"{sidecar}: RepetitionTime must be a positive number of seconds, got {tr!r}")
    return float(tr)


@dataclass
class Dataset:
    """A loaded dataset: tables and per-participant file paths."""

    root: Path
    task: str
    participants: pd.DataFrame
    scs: pd.DataFrame
    files: dict[str, dict[str, Path | None]] = field(default_factory=dict)
    tr: dict[str, float] = field(default_factory=dict)

    def events(self, sub: str) -> pd.DataFrame:
        """The events table of one participant."""
        return read_tsv(self.files[sub]["events"])

    @property
    def ids(self) -> list[str]:
        return list(self.participants["participant_id"])

    def n_volumes(self, sub: str) -> int:
        """Number of volumes of a participant's BOLD run (from the header)."""
        return int(nib.load(self.files[sub]["bold"]).shape[3])


def load_dataset(root: str | os.PathLike, task: str = "feedback", validate: bool = True,
                 conditions=("negative", "neutral", "positive")) -> Dataset:
    """Load a BIDS dataset (validated first unless ``validate=False``)."""
    root = Path(root)
    if validate:
        validate_dataset(root, task=task, conditions=conditions)
    parts = read_tsv(root / "participants.tsv")
    scs = read_tsv(root / "phenotype" / "scs.tsv")
    ds = Dataset(root, task, parts, scs)
    for sub in parts["participant_id"]:
        ds.files[sub] = participant_files(root, sub, task)
        if ds.files[sub]["bold_json"] is not None:
            ds.tr[sub] = repetition_time(ds.files[sub]["bold_json"])
    return ds


def _check_description(root: Path, problems: list[str]) -> None:
    path = root / "dataset_description.json"
    if not path.is_file():
        problems.append(f"{path.name}: missing (rule: every BIDS dataset has one)")
        return
    try:
        meta = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        problems.append(f"{path.name}: not valid JSON ({err.msg})")
        return
    for key in ("Name", "BIDSVersion"):
        if key not in meta:
            problems.append(f"{path.name}: field {key} missing (rule: required by BIDS)")


def _check_participants(root: Path, problems: list[str]) -> list[str]:
    path = root / "participants.tsv"
    if not path.is_file():
        problems.append("participants.tsv: missing (rule: one row per participant)")
        return sorted(p.name for p in root.glob("sub-*") if p.is_dir())
    table = read_tsv(path)
    for col in ("participant_id", "age", "sex"):
        if col not in table:
            problems.append(f"participants.tsv: column {col} missing (rule: participant_id, age, sex)")
    if "participant_id" not in table:
        return []
    ids = table["participant_id"].astype(str)
    for pid in ids[ids.duplicated()]:
        problems.append(f"participants.tsv: participant {pid}: duplicated participant_id")
    for pid in ids:
        if not _SUB.match(pid):
            problems.append(f"participants.tsv: participant {pid}: participant_id must look like sub-<label>")
    if "age" in table:
        age = pd.to_numeric(table["age"], errors="coerce")
        for pid, a, raw in zip(ids, age, table["age"]):
            if pd.notna(raw) and (pd.isna(a) or not 0 < a < 120):
                problems.append(f"participants.tsv: participant {pid}, column age: value {_show(raw)} is not an age in years")
    return list(dict.fromkeys(ids))


def _check_scs(root: Path, ids: list[str], problems: list[str]) -> None:
    path = root / "phenotype" / "scs.tsv"
    name = "phenotype/scs.tsv"
    if not path.is_file():
        problems.append(f"{name}: missing (rule: participant_id, scs_01 … scs_26)")
        return
    table = read_tsv(path)
    missing = [c for c in ["participant_id", *SCS_COLUMNS] if c not in table]
    if missing:
        problems.append(f"{name}: columns missing: {', '.join(missing)} (rule: participant_id, scs_01 … scs_26)")
    if "participant_id" not in table:
        return
    for pid in sorted(set(ids) - set(table["participant_id"])):
        problems.append(f"{name}: participant {pid}: no row (rule: every participant in participants.tsv)")
    for pid in sorted(set(table["participant_id"]) - set(ids)):
        problems.append(f"{name}: participant {pid}: not in participants.tsv")
    for col in (c for c in SCS_COLUMNS if c in table):
        values = pd.to_numeric(table[col], errors="coerce")
        for pid, raw, v in zip(table["participant_id"], table[col], values):
            if pd.isna(raw):
                continue
            if pd.isna(v) or v != round(v) or not 1 <= v <= 5:
                problems.append(f"{name}: participant {pid}, column {col}: value {_show(raw)} is not an integer 1–5")


def _check_events(path: Path, sub: str, conditions, run_length: float | None, problems: list[str]) -> None:
    name = f"{sub}/func/{path.name}"
    table = read_tsv(path)
    missing = [c for c in EVENT_COLUMNS if c not in table]
    if missing:
        problems.append(f"{name}: participant {sub}: columns missing: {', '.join(missing)} "
                        f"(rule: onset, duration, trial_type, rating, word)")
    if table.empty:
        problems.append(f"{name}: participant {sub}: no events")
        return
    for col in ("onset", "duration"):
        if col in table:
            v = pd.to_numeric(table[col], errors="coerce")
            bad = v.isna() | (v < 0) | ((v <= 0) if col == "duration" else False)
            for row in np.flatnonzero(bad):
                problems.append(f"{name}: participant {sub}, column {col}, row {row + 1}: value "
                                f"{_show(table[col].iloc[row])} must be a {'positive' if col == 'duration' else 'non-negative'} number of seconds")
    if "trial_type" in table and conditions is not None:
        unknown = sorted(set(table["trial_type"].astype(str)) - set(conditions))
        if unknown:
            problems.append(f"{name}: participant {sub}, column trial_type: unknown condition(s) {unknown} "
                            f"(rule: one of {list(conditions)})")
        for cond in conditions:
            if cond not in set(table["trial_type"].astype(str)):
                problems.append(f"{name}: participant {sub}, column trial_type: condition {cond!r} never occurs")
    if "rating" in table:
        r = pd.to_numeric(table["rating"], errors="coerce")
        bad = table["rating"].notna() & (r.isna() | (r != r.round()) | ~r.between(1, 4))
        for row in np.flatnonzero(bad):
            problems.append(f"{name}: participant {sub}, column rating, row {row + 1}: value "
                            f"{_show(table['rating'].iloc[row])} is not an integer 1–4")
    if run_length is not None and {"onset", "duration"} <= set(table):
        end = (pd.to_numeric(table["onset"], errors="coerce") + pd.to_numeric(table["duration"], errors="coerce")).max()
        if end > run_length + 1e-6:
            problems.append(f"{name}: participant {sub}, columns onset+duration: last event ends at {end:g} s, "
                            f"after the run ({run_length:g} s = volumes x TR)")


def _check_orientation(img, name: str, sub: str, problems: list[str]) -> None:
    """World coordinates must be defined: sform_code or qform_code > 0 (NIfTI-1)."""
    header = img.header
    if int(header["sform_code"]) == 0 and int(header["qform_code"]) == 0:
        problems.append(f"{name}: participant {sub}, header fields sform_code/qform_code: both 0, so the image has "
                        "no scanner orientation (rule: set a valid sform or qform, e.g. re-convert the DICOMs)")


def _header_tr(img) -> float | None:
    """TR in seconds from the NIfTI header (pixdim[4]), or None when unset."""
    tr = float(img.header.get_zooms()[3])
    if not tr > 0:
        return None
    unit = img.header.get_xyzt_units()[1]
    return tr / 1000 if unit == "msec" else tr / 1e6 if unit == "usec" else tr


def _check_bold_data(img, name: str, sub: str, problems: list[str]) -> None:
    """Read the whole image once: readable (not truncated or corrupt), not all zero, finite."""
    try:
        raw = img.dataobj.get_unscaled() if nib.is_proxy(img.dataobj) else np.asanyarray(img.dataobj)
    except Exception as err:  # EOFError, zlib.error, gzip.BadGzipFile, OSError…: a damaged file
        problems.append(f"{name}: participant {sub}: image data cannot be read ({type(err).__name__}: {err}); "
                        "the file is truncated or corrupt (rule: a complete NIfTI file; copy or export it again)")
        return
    inter = getattr(img.dataobj, "inter", 0.0)
    if not raw.any() and (inter is None or not np.isfinite(inter) or inter == 0):
        problems.append(f"{name}: participant {sub}: every voxel is 0 in every volume (rule: a BOLD run with signal)")
        return
    if np.issubdtype(raw.dtype, np.floating):
        bad = ~np.isfinite(raw)
        if bad.any():
            i, j, k, t = (int(v) for v in np.argwhere(bad)[0])
            problems.append(f"{name}: participant {sub}: {int(bad.sum())} NaN/inf values (first at voxel ({i}, {j}, {k}), "
                            f"volume {t}) (rule: finite values; mask or interpolate them before the analysis)")


def _check_bold(path: Path, stem: str, sub: str, tr: float | None, check_data: bool,
                problems: list[str]) -> tuple[int | None, tuple | None]:
    """Check one BOLD run; returns (volumes, grid) where grid = (shape, voxel sizes) or None."""
    name = f"{stem}_bold.nii.gz"
    try:
        img = nib.load(path)
        shape = img.shape
    except Exception as err:  # nibabel raises many types for unreadable files
        problems.append(f"{name}: participant {sub}: unreadable NIfTI ({err})")
        return None, None
    if len(shape) != 4:
        problems.append(f"{name}: participant {sub}: image is {len(shape)}-D, must be 4-D (x, y, z, time)")
        return None, None
    _check_orientation(img, name, sub, problems)
    header_tr = _header_tr(img)
    if tr is not None and header_tr is not None and abs(header_tr - tr) > 1e-3:
        problems.append(f"{name}: participant {sub}, header field pixdim[4]: TR {header_tr:g} s disagrees with "
                        f"RepetitionTime {tr:g} s in the sidecar (rule: they must agree; fix whichever is wrong)")
    if check_data:
        _check_bold_data(img, name, sub, problems)
    zooms = tuple(round(float(z), 3) for z in img.header.get_zooms()[:3])
    return shape[3], (tuple(shape[:3]), zooms)


def _check_participant(root: Path, sub: str, task: str, conditions, problems: list[str],
                       check_data: bool = True) -> tuple | None:
    """Check one participant's files; returns the BOLD grid (shape, voxel sizes) if readable."""
    if not (root / sub).is_dir():
        problems.append(f"{sub}/: participant {sub}: folder missing")
        return None
    files = participant_files(root, sub, task)
    stem = f"{sub}/func/{sub}_task-{task}"
    if files["anat"] is None:
        problems.append(f"{sub}/anat/{sub}_T2w.nii.gz: participant {sub}: structural missing (rule: T2w or T1w)")
    else:
        try:
            _check_orientation(nib.load(files["anat"]), f"{sub}/anat/{files['anat'].name}", sub, problems)
        except Exception as err:  # nibabel raises many types for unreadable files
            problems.append(f"{sub}/anat/{files['anat'].name}: participant {sub}: unreadable NIfTI ({err})")
    tr = None
    if files["bold_json"] is None:
        problems.append(f"{stem}_bold.json: participant {sub}: sidecar missing (rule: RepetitionTime required)")
    else:
        try:
            tr = repetition_time(files["bold_json"])
        except (ValueError, json.JSONDecodeError) as err:
            problems.append(f"{stem}_bold.json: participant {sub}, field RepetitionTime: {err}".replace(f"{files['bold_json']}: ", ""))
    n_vol, grid = None, None
    if files["bold"] is None:
        problems.append(f"{stem}_bold.nii.gz: participant {sub}: BOLD run missing")
    else:
        n_vol, grid = _check_bold(files["bold"], stem, sub, tr, check_data, problems)
    if files["events"] is None:
        problems.append(f"{stem}_events.tsv: participant {sub}: events missing")
    else:
        run_length = n_vol * tr if (n_vol and tr) else None
        _check_events(files["events"], sub, conditions, run_length, problems)
    return grid


def _check_grids(grids: dict[str, tuple], task: str, problems: list[str]) -> None:
    """Every BOLD run must share the most common grid (matrix and voxel size: one protocol)."""
    if len(set(grids.values())) < 2:
        return
    values = list(grids.values())
    common = max(set(values), key=values.count)

    def text(grid):
        return " × ".join(map(str, grid[0])) + " voxels of " + " × ".join(f"{z:g}" for z in grid[1]) + " mm"

    for sub, grid in grids.items():
        if grid != common:
            problems.append(f"{sub}/func/{sub}_task-{task}_bold.nii.gz: participant {sub}: grid {text(grid)} differs "
                            f"from the other participants' {text(common)} (rule: one acquisition grid for everyone)")


def validate_dataset(path: str | os.PathLike, task: str = "feedback",
                     conditions=("negative", "neutral", "positive"), check_data: bool = True) -> None:
    """Check a dataset against the raw contract; raise one ``ValueError`` listing every problem.

    Each problem names the file (relative to the dataset), the participant, the column/field
    and the rule broken.  Passing ``conditions=None`` accepts any ``trial_type``.
    Images: the BOLD run must be 4-D, oriented (sform or qform code > 0), with a header TR that
    agrees with the sidecar's ``RepetitionTime`` and the same grid as the other participants;
    the structural must be oriented.  ``check_data`` (default) also reads every BOLD run once,
    to catch truncated or corrupt files, all-zero runs and NaN/inf values.
    """
    root = Path(path)
    if not root.is_dir():
        raise ValueError(f"{root}: dataset folder does not exist")
    problems: list[str] = []
    _check_description(root, problems)
    ids = _check_participants(root, problems)
    _check_scs(root, ids, problems)
    grids = {}
    for sub in ids:
        if _SUB.match(sub):
            grid = _check_participant(root, sub, task, conditions, problems, check_data)
            if grid is not None:
                grids[sub] = grid
    _check_grids(grids, task, problems)
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise ValueError(f"{root}: {len(problems)} problem(s) with the BIDS dataset:\n{listing}")


#: The paper's design values (PAPER_FACTS.md) for side-by-side tables.
PAPER_DESIGN = {
    "participants": 19, "female": 12, "age_mean": 20.3, "age_range": "18–27", "tr_s": 3.0, "volumes": 166,
    "matrix": "64 × 64 × 36", "voxel_mm": "3.125 × 3.125 × 4 (3 mm + 1 mm gap)",
    "structural": "T2w, 1.56 × 1.56 mm in-plane, 3 mm slices, coplanar",
    "events_per_condition": "15 / 15 / 15", "event_duration_s": "10–12",
}


def design_summary(ds: Dataset, conditions=("negative", "neutral", "positive")) -> pd.DataFrame:
    """Design of a dataset beside the paper's (rows: design item; columns: paper, dataset).

    Reads headers only (no image data): grid, voxel size and volumes from the first participant's
    BOLD, events pooled over participants.
    """
    parts = ds.participants
    first = ds.ids[0]
    bold = nib.load(ds.files[first]["bold"])
    anat = nib.load(ds.files[first]["anat"]) if ds.files[first]["anat"] else None
    events = pd.concat([ds.events(s) for s in ds.ids])
    counts = events.groupby("trial_type").size() / len(ds.ids)
    zooms = bold.header.get_zooms()
    values = {
        "participants": len(parts),
        "female": int((parts["sex"].astype(str).str.upper().str[0] == "F").sum()) if "sex" in parts else "n/a",
        "age_mean": round(float(pd.to_numeric(parts["age"], errors="coerce").mean()), 1) if "age" in parts else "n/a",
        "age_range": f"{parts['age'].min():g}–{parts['age'].max():g}" if "age" in parts else "n/a",
        "tr_s": ds.tr.get(first),
        "volumes": bold.shape[3],
        "matrix": " × ".join(str(n) for n in bold.shape[:3]),
        "voxel_mm": " × ".join(f"{z:g}" for z in zooms[:3]),
        "structural": ("T2w" if "T2w" in ds.files[first]["anat"].name else "T1w") + ", "
                      + " × ".join(f"{z:g}" for z in anat.header.get_zooms()[:3]) + " mm" if anat else "missing",
        "events_per_condition": " / ".join(f"{counts.get(c, 0):g}" for c in conditions),
        "event_duration_s": f"{events['duration'].min():g}–{events['duration'].max():g}",
    }
    return pd.DataFrame({"paper": pd.Series(PAPER_DESIGN), "dataset": pd.Series(values)}).astype(str)


def ratings_table(ds: Dataset) -> pd.DataFrame:
    """Mean rating per participant and condition (long: participant_id, trial_type, rating, n)."""
    rows = []
    for sub in ds.ids:
        ev = ds.events(sub)
        grouped = ev.groupby("trial_type")["rating"].agg(["mean", "count"]).reset_index()
        grouped.insert(0, "participant_id", sub)
        rows.append(grouped.rename(columns={"mean": "rating", "count": "n"}))
    return pd.concat(rows, ignore_index=True)


def motion_table(ds: Dataset, sub: str) -> tuple[pd.DataFrame | None, str]:
    """Head motion of one participant and where it came from.

    The twin's true motion (``derivatives/twin-truth``) if present, else fMRIPrep-style confounds in
    ``derivatives/*/sub/func`` (first found); ``(None, "none")`` for raw data never preprocessed.
    """
    truth = ds.root / "derivatives" / "twin-truth" / sub / f"{sub}_motion.tsv"
    if truth.is_file():
        return read_tsv(truth), "twin ground truth"
    for path in sorted(ds.root.glob(f"derivatives/*/{sub}/func/{sub}_task-{ds.task}*desc-confounds_timeseries.tsv")):
        return read_tsv(path), str(path.relative_to(ds.root))
    return None, "none"


def is_twin(root: str | os.PathLike) -> bool:
    """True if ``dataset_description.json`` says the dataset was generated by ``helpers.simulate``."""
    path = Path(root) / "dataset_description.json"
    if not path.is_file():
        return False
    meta = json.loads(path.read_text())
    return any(g.get("Name") == "helpers.simulate" for g in meta.get("GeneratedBy", []))
