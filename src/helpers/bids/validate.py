"""Every rule of the input contract checked at once.

:func:`validate_dataset` raises one ``ValueError`` listing every problem.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from ..layout import entity_stem
from ..layout.entities import read_json
from ..layout.raw import RawRun, near_misses, phenotype_file, raw_runs, structural, with_sub
from .images import read_image
from .rules import CONDITIONS, RATING_RANGE, REQUIRED_EVENT_COLUMNS, SCS_COLUMNS, VOXEL_MM
from .tables import _show, read_tsv

_SUB = re.compile(r"^sub-[A-Za-z0-9]+$")


# --------------------------------------------------------------------------------------------- checks
class _Problems(list):
    """Problems found so far, each ``<file relative to the dataset>: <what>`` ."""

    def __init__(self, root: Path):
        super().__init__()
        self.root = root

    def append(self, problem: str) -> None:
        if problem not in self:  # a shared file (e.g. an inherited sidecar) is reported once
            super().append(problem)

    def rel(self, path: Path) -> str:
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def add(self, path: Path | str, text: str) -> None:
        self.append(f"{self.rel(path) if isinstance(path, Path) else path}: {text}")

    def add_error(self, err: Exception, who: str = "") -> None:
        """An error ``"<file>: <what>"`` of a reader, with the file made relative and ``who`` inserted."""
        file, _, what = str(err).partition(": ")
        self.add(Path(file), f"{who}: {what}" if who else what)


def _table(path: Path, problems: _Problems) -> pd.DataFrame | None:
    try:
        return read_tsv(path)
    except ValueError as err:
        problems.add_error(err)
        return None


def _check_description(root: Path, problems: _Problems) -> None:
    path = root / "dataset_description.json"
    if not path.is_file():
        problems.add(path, "missing (rule: every BIDS dataset has one, with Name and BIDSVersion)")
        return
    try:
        meta = read_json(path)
    except ValueError as err:
        problems.add_error(err)
        return
    for key in ("Name", "BIDSVersion"):
        if key not in meta:
            problems.add(path, f"field {key} missing (rule: required by BIDS)")


def _check_participants(root: Path, problems: _Problems) -> list[str]:
    path = root / "participants.tsv"
    if not path.is_file():
        return sorted(p.name for p in root.glob("sub-*") if p.is_dir())
    table = _table(path, problems)
    if table is None:
        return []
    if "participant_id" not in table:
        problems.add(
            path,
            f"column participant_id missing (rule: the first column is participant_id; found "
            f"{', '.join(table.columns)})",
        )
        return []
    ids = table["participant_id"].dropna().astype(str).map(with_sub)
    for pid in ids[ids.duplicated()]:
        problems.add(path, f"participant {pid}: duplicated participant_id")
    for pid in ids:
        if not _SUB.match(pid):
            problems.add(
                path,
                f"participant {pid}: participant_id must be sub-<label>, the label letters and digits only",
            )
    if "age" in table:
        age = pd.to_numeric(table["age"], errors="coerce")
        for pid, a, raw in zip(ids, age, table["age"]):
            if pd.notna(raw) and (pd.isna(a) or not 0 < a < 120):
                problems.add(
                    path, f"participant {pid}, column age: value {_show(raw)} is not an age in years"
                )
    return list(dict.fromkeys(ids))


def _check_scs(root: Path, ids: list[str], problems: _Problems) -> None:
    try:
        path = phenotype_file(root)
    except ValueError as err:
        problems.add_error(err)
        return
    name = problems.rel(path)
    table = _table(path, problems)
    if table is None:
        return
    missing = [c for c in ["participant_id", *SCS_COLUMNS] if c not in table]
    if missing:
        problems.add(path, f"columns missing: {', '.join(missing)} (rule: participant_id, scs_01 … scs_26)")
    if "participant_id" not in table:
        return
    table["participant_id"] = table["participant_id"].astype(str).map(with_sub)
    for pid in sorted(set(ids) - set(table["participant_id"])):
        problems.append(f"{name}: participant {pid}: no row (rule: every participant with imaging data)")
    for pid in sorted(set(table["participant_id"]) - set(ids)):
        problems.append(f"{name}: participant {pid}: not in participants.tsv (or no sub-{pid[4:]} folder)")
    for col in (c for c in SCS_COLUMNS if c in table):
        values = pd.to_numeric(table[col], errors="coerce")
        for pid, raw, v in zip(table["participant_id"], table[col], values):
            if pd.isna(raw):
                continue
            if pd.isna(v) or v != round(v) or not 1 <= v <= 5:
                problems.append(
                    f"{name}: participant {pid}, column {col}: value {_show(raw)} is not an integer 1–5"
                )


def _check_events(
    run: RawRun, conditions, rating_range, run_length: float | None, problems: _Problems
) -> set[str]:
    """Check one run's events; returns the trial types present (the caller checks every condition occurs)."""
    path, sub = run.events, run.participant
    where = f"participant {sub}" + (f", run {run.label}" if run.label else "")
    table = _table(path, problems)
    if table is None:
        return set()
    missing = [c for c in REQUIRED_EVENT_COLUMNS if c not in table]
    if missing:
        problems.add(
            path,
            f"{where}: columns missing: {', '.join(missing)} (rule: onset, duration, trial_type; "
            f"rating and word optional; found {', '.join(table.columns)})",
        )
    if table.empty:
        problems.add(path, f"{where}: no events")
        return set()
    for col in ("onset", "duration"):
        if col in table:
            v = pd.to_numeric(table[col], errors="coerce")
            bad = v.isna() | (v < 0) | ((v <= 0) if col == "duration" else False)
            for row in np.flatnonzero(bad):
                problems.add(
                    path,
                    f"{where}, column {col}, row {row + 1}: value {_show(table[col].iloc[row])} must "
                    f"be a {'positive' if col == 'duration' else 'non-negative'} number of seconds",
                )
    present = set(table["trial_type"].dropna().astype(str)) if "trial_type" in table else set()
    if present and conditions is not None:
        unknown = sorted(present - set(conditions))
        if unknown:
            problems.add(
                path,
                f"{where}, column trial_type: unknown condition(s) {unknown} (rule: one of "
                f"{list(conditions)}, the conditions parameter)",
            )
    if "rating" in table:
        lo, hi = rating_range
        r = pd.to_numeric(table["rating"], errors="coerce")
        bad = table["rating"].notna() & (r.isna() | (r != r.round()) | ~r.between(lo, hi))
        for row in np.flatnonzero(bad):
            problems.add(
                path,
                f"{where}, column rating, row {row + 1}: value {_show(table['rating'].iloc[row])} is "
                f"not an integer {lo}–{hi}",
            )
    if run_length is not None and {"onset", "duration"} <= set(table):
        end = (
            pd.to_numeric(table["onset"], errors="coerce") + pd.to_numeric(table["duration"], errors="coerce")
        ).max()
        if end > run_length + 1e-6:
            problems.add(
                path,
                f"{where}, columns onset+duration: last event ends at {end:g} s, after the run "
                f"({run_length:g} s = volumes x TR of {problems.rel(run.bold)})",
            )
    return present


def _check_header(img, path: Path, where: str, problems: _Problems) -> None:
    """Orientation defined and voxel sizes plausible (mm, not metres; not > 10 mm)."""
    header = img.header
    if int(header["sform_code"]) == 0 and int(header["qform_code"]) == 0:
        problems.add(
            path,
            f"{where}, header fields sform_code/qform_code: both 0, so the image has no scanner "
            "orientation (rule: set a valid sform or qform, e.g. re-convert the DICOMs)",
        )
    unit = header.get_xyzt_units()[0]
    zooms = [float(z) for z in header.get_zooms()[:3]]
    lo, hi = VOXEL_MM
    if unit in ("meter", "micron"):
        problems.add(
            path,
            f"{where}, header field xyzt_units: voxel sizes are in {unit}s (rule: millimetres; "
            "re-convert the DICOMs, or fix the header's units and pixdim)",
        )
    elif any(not lo <= z <= hi for z in zooms):
        hint = " — metres or centimetres written as mm?" if min(zooms) < lo else ""
        problems.add(
            path,
            f"{where}, header field pixdim[1:4]: voxel size {' × '.join(f'{z:g}' for z in zooms)} mm "
            f"is implausible{hint} (rule: each between {lo:g} and {hi:g} mm)",
        )


def _header_tr(img) -> float | None:
    """TR in seconds from the NIfTI header (pixdim[4]), or None when unset."""
    tr = float(img.header.get_zooms()[3])
    if not tr > 0:
        return None
    unit = img.header.get_xyzt_units()[1]
    return tr / 1000 if unit == "msec" else tr / 1e6 if unit == "usec" else tr


def _check_bold_data(img, path: Path, where: str, problems: _Problems) -> None:
    """Data already read in full (:func:`read_image`): not all zero, finite."""
    raw = img.dataobj.get_unscaled() if nib.is_proxy(img.dataobj) else np.asanyarray(img.dataobj)
    inter = getattr(img.dataobj, "inter", 0.0)
    if not raw.any() and (inter is None or not np.isfinite(inter) or inter == 0):
        problems.add(path, f"{where}: every voxel is 0 in every volume (rule: a BOLD run with signal)")
        return
    if np.issubdtype(raw.dtype, np.floating):
        bad = ~np.isfinite(raw)
        if bad.any():
            i, j, k, t = (int(v) for v in np.argwhere(bad)[0])
            problems.add(
                path,
                f"{where}: {int(bad.sum())} NaN/inf values (first at voxel ({i}, {j}, {k}), volume {t}) "
                "(rule: finite values; mask or interpolate them before the analysis)",
            )


def _load(path: Path, where: str, check_data: bool, problems: _Problems):
    """The image (read in full when ``check_data``), or None after recording why it cannot be read."""
    try:
        return read_image(path) if check_data else nib.load(path)
    except ValueError as err:
        problems.add_error(err, where)
    except Exception as err:  # nibabel raises many types for unreadable files
        problems.add(path, f"{where}: unreadable NIfTI ({type(err).__name__}: {err})")
    return None


def _check_run(
    run: RawRun, conditions, rating_range, check_data: bool, problems: _Problems
) -> tuple[tuple | None, set]:
    """Check one BOLD run, its TR and its events; returns its grid (shape, voxel sizes) if readable and the
    trial types of its events."""
    where = f"participant {run.participant}" + (f", run {run.label}" if run.label else "")
    tr = None
    try:
        tr = run.tr
    except ValueError as err:  # names the sidecar that set it (or the run when none did)
        problems.add_error(err, where)
    img = _load(run.bold, where, check_data, problems)
    n_vol, grid = None, None
    if img is not None:
        if len(img.shape) != 4:
            problems.add(run.bold, f"{where}: image is {len(img.shape)}-D, must be 4-D (x, y, z, time)")
        else:
            _check_header(img, run.bold, where, problems)
            header_tr = _header_tr(img)
            if tr is not None and header_tr is not None and abs(header_tr - tr) > 1e-3:
                problems.add(
                    run.bold,
                    f"{where}, header field pixdim[4]: TR {header_tr:g} s disagrees with "
                    f"RepetitionTime {tr:g} s in the sidecar (rule: they must agree; fix whichever "
                    "is wrong)",
                )
            if check_data:
                _check_bold_data(img, run.bold, where, problems)
            n_vol = img.shape[3]
            grid = (tuple(img.shape[:3]), tuple(round(float(z), 3) for z in img.header.get_zooms()[:3]))
    present: set[str] = set()
    if run.events is None:
        stem = entity_stem(run.participant, run.task, session=run.session, acq=run.acq, run=run.run)
        problems.add(
            run.bold,
            f"{where}: no events file (rule: {stem}_events.tsv beside the run, or "
            f"task-{run.task}_events.tsv at the top level)",
        )
    else:
        present = _check_events(
            run, conditions, rating_range, n_vol * tr if (n_vol and tr) else None, problems
        )
    return grid, present


def _check_participant(
    root: Path, sub: str, task: str, conditions, rating_range, problems: _Problems, check_data: bool
) -> dict[Path, tuple]:
    """Check one participant's files; returns the grid of each readable BOLD run."""
    if not (root / sub).is_dir():
        problems.add(
            f"{sub}/",
            f"participant {sub}: folder missing (rule: one sub-<label> folder per row of participants.tsv)",
        )
        return {}
    anat = structural(root, sub)
    if anat is None:
        problems.add(
            f"{sub}/anat/",
            f"participant {sub}: no structural image (rule: {sub}[_ses-<s>]_T2w.nii[.gz] or "
            f"_T1w.nii[.gz] in anat/){_not_taken(near_misses(root, sub))}",
        )
    else:
        img = _load(anat[0], f"participant {sub}", False, problems)
        if img is not None:
            _check_header(img, anat[0], f"participant {sub}", problems)
    try:
        runs = raw_runs(root, sub, task)
    except ValueError as err:
        problems.append(str(err).replace(str(root) + os.sep, ""))
        return {}
    if not runs:
        found = sorted(
            {p.name.split("_task-")[1].split("_")[0] for p in (root / sub).rglob("*_task-*_bold.nii*")}
        )
        also = f"; this participant has task(s) {found} — set the task parameter" if found else ""
        problems.add(
            f"{sub}/func/",
            f"participant {sub}: no BOLD run of task {task!r} (rule: "
            f"{sub}[_ses-<s>]_task-{task}[_acq-<a>][_run-<r>]_bold.nii[.gz]){also}"
            f"{_not_taken(near_misses(root, sub, task))}",
        )
    grids, present = {}, set()
    for run in runs:
        grid, labels = _check_run(run, conditions, rating_range, check_data, problems)
        present |= labels
        if grid is not None:
            grids[run.bold] = grid
    events = sorted({problems.rel(r.events) for r in runs if r.events is not None})
    # a condition may be absent from some runs, not from all
    for cond in (conditions or []) if events else []:
        if cond not in present:
            in_runs = " in any run" if len(runs) > 1 else ""
            problems.add(
                ", ".join(events),
                f"participant {sub}, column trial_type: condition {cond!r} never "
                f"occurs{in_runs} (rule: every condition of the conditions parameter)",
            )
    return grids


def _not_taken(files: list[str]) -> str:
    """The near misses of a message: files that exist but break a naming rule."""
    return "; found but not taken: " + "; ".join(files) if files else ""


def _check_grids(grids: dict[Path, tuple], problems: _Problems) -> None:
    """Every BOLD run must share the most common grid (matrix and voxel size: one protocol)."""
    if len(set(grids.values())) < 2:
        return
    values = list(grids.values())
    common = max(set(values), key=values.count)

    def text(grid):
        return " × ".join(map(str, grid[0])) + " voxels of " + " × ".join(f"{z:g}" for z in grid[1]) + " mm"

    for path, grid in grids.items():
        if grid != common:
            sub = path.name.split("_")[0]
            problems.add(
                path,
                f"participant {sub}: grid {text(grid)} differs from the other runs' {text(common)} "
                "(rule: one acquisition grid for every run)",
            )


def validate_dataset(
    path: str | os.PathLike,
    task: str = "feedback",
    conditions=CONDITIONS,
    check_data: bool = True,
    rating_range=RATING_RANGE,
) -> None:
    """Check a dataset against the raw contract; raise one ``ValueError`` listing every problem.

    Parameters
    ----------
    path : path-like
        The dataset folder.
    task : str, default "feedback"
        Task label of the functional runs.
    conditions : sequence of str or None, default :data:`CONDITIONS`
        The ``trial_type`` labels of the analysis (the chapters' ``conditions`` parameter); no other
        label may occur, and each must occur in at least one run of every participant (CONN models a
        condition absent from a run with no scans of that run); None accepts any.
    check_data : bool, default True
        Read every BOLD run in full (:func:`read_image`: gzip CRC, all-zero runs, NaN/inf).
    rating_range : (int, int), default :data:`RATING_RANGE`
        Allowed values of the optional ``rating`` column.

    Raises
    ------
    ValueError
        The folder does not exist, or one message listing every problem found.

    Notes
    -----
    Each problem names the file (relative to the dataset), the participant and run, the column or
    field and the rule broken.  Images: each BOLD run 4-D, oriented (sform or qform code > 0), voxel
    sizes in :data:`VOXEL_MM`, header TR equal to the sidecar's ``RepetitionTime`` (seconds: a value
    > 100 is taken for milliseconds), the same grid as the other runs; the structural oriented with
    plausible voxel sizes.
    """
    root = Path(path)
    if not root.is_dir():
        raise ValueError(f"{root}: dataset folder does not exist")
    problems = _Problems(root)
    _check_description(root, problems)
    ids = _check_participants(root, problems)
    if not ids and not (root / "participants.tsv").is_file():
        problems.add(
            root, "no participants.tsv and no sub-* folders (rule: one sub-<label> folder per participant)"
        )
    _check_scs(root, ids, problems)
    grids: dict[Path, tuple] = {}
    for sub in ids:
        if _SUB.match(sub):
            grids.update(_check_participant(root, sub, task, conditions, rating_range, problems, check_data))
    _check_grids(grids, problems)
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise ValueError(f"{root}: {len(problems)} problem(s) with the BIDS dataset:\n{listing}")
