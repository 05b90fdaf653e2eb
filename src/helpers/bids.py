"""Load and validate a raw BIDS dataset against the project's input contract (book: *The data contract*).

What is accepted (file names are found by :mod:`helpers.layout.raw`, never spelled here)::

    dataset_description.json     Name, BIDSVersion
    [participants.tsv]           participant_id (with or without "sub-"); age, sex optional
    phenotype/scs.tsv            participant_id (with or without "sub-"), the 26 SCS items (1–5 or n/a)
    sub-<p>/[ses-<s>/]anat/…_T2w|T1w.nii[.gz]                       one structural (T2w preferred)
    sub-<p>/[ses-<s>/]func/…_task-<task>[_acq-<a>][_run-<r>]_bold.nii[.gz]   one or more runs
        RepetitionTime (s) in the run's sidecar or an inherited one (task-<task>_bold.json …)
        _events.tsv (beside the run or inherited): onset, duration, trial_type among ``conditions``;
        rating (integers in ``rating_range``) and word optional; any further columns ignored

Tables may come from a spreadsheet program (:func:`read_tsv`).  :func:`validate_dataset` checks every
rule and raises **one** ``ValueError`` listing every problem (file, participant, column/field, rule),
so a user fixes everything in one pass.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from .layout import derivative_paths, entity_stem
from .layout.entities import read_json
from .layout.raw import RawRun, near_misses, phenotype_file, raw_runs, structural, with_sub
from .layout.raw import participants as find_participants

__all__ = [
    "Dataset",
    "sample_summary",
    "load_dataset",
    "read_tsv",
    "read_image",
    "validate_dataset",
    "design_summary",
    "ratings_table",
    "motion_table",
    "is_twin",
    "PAPER_DESIGN",
    "SCS_COLUMNS",
    "EVENT_COLUMNS",
    "REQUIRED_EVENT_COLUMNS",
    "CONDITIONS",
    "RATING_RANGE",
    "VOXEL_MM",
]

log = logging.getLogger(__name__)

SCS_COLUMNS = [f"scs_{i:02d}" for i in range(1, 27)]
#: Events columns used by the book; ``rating`` and ``word`` are optional.
EVENT_COLUMNS = ["onset", "duration", "trial_type", "rating", "word"]
REQUIRED_EVENT_COLUMNS = ["onset", "duration", "trial_type"]
#: The paper's conditions (a parameter of every chapter).
CONDITIONS = ("negative", "neutral", "positive")
#: The paper's rating scale (How do you feel? 1–4).
RATING_RANGE = (1, 4)
#: Plausible voxel sizes of an MRI image in mm (below: metres or centimetres written as mm; above: not a
#: brain image of this kind of study).
VOXEL_MM = (0.2, 10.0)
_SUB = re.compile(r"^sub-[A-Za-z0-9]+$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _show(value) -> str:
    """A value as a user wrote it: numbers plainly (6, 2.5), text quoted ('six')."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


# --------------------------------------------------------------------------------------------- tables
def _decode(path: Path) -> str:
    """Text of a table: UTF-8 (with or without BOM); else Windows-1252/Latin-1, with a warning."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        log.warning(
            "%s: not UTF-8 (byte 0x%02x on line %d); read as Windows-1252/Latin-1 — BIDS asks for "
            "UTF-8, so save it as 'UTF-8' next time",
            path,
            data[err.start],
            line,
        )
        return data.decode("cp1252", errors="strict") if _cp1252_ok(data) else data.decode("latin-1")


def _cp1252_ok(data: bytes) -> bool:
    try:
        data.decode("cp1252")
        return True
    except UnicodeDecodeError:
        return False


def _separator(path: Path, header: str) -> str:
    """Tab, as BIDS requires; a header with no tab but ``;`` or ``,`` is a spreadsheet's CSV export."""
    if "\t" in header or not header.strip():
        return "\t"
    for sep, name in ((";", "semicolons"), (",", "commas")):
        if sep in header:
            log.warning(
                "%s: columns separated by %s, not tabs; read as such — BIDS asks for tab-separated "
                "values (in a spreadsheet program: save as 'Text (tab delimited)')",
                path,
                name,
            )
            return sep
    return "\t"


def _clean_column(col: pd.Series) -> pd.Series:
    """Numbers (``3``, ``3.0``, decimal commas ``2,5``) when every filled cell is one; else the text."""
    filled = col.dropna()
    if filled.empty:
        return col
    text = filled.astype(str)
    commas = text.str.match(_DECIMAL_COMMA.pattern)
    if commas.any() and (commas | text.str.match(_NUMBER.pattern)).all():
        col = col.where(col.isna(), col.astype(str).str.replace(",", ".", regex=False))
    num = pd.to_numeric(col, errors="coerce")
    return num if num.notna().sum() == len(filled) else col


def read_tsv(path: str | os.PathLike, text_columns=("participant_id",)) -> pd.DataFrame:
    """Read a BIDS table as a user may have saved it; ``ValueError`` naming file, line and rule otherwise.

    Accepted, because spreadsheet programs write them: a UTF-8 byte-order mark, Windows line ends,
    ``;`` or ``,`` instead of tabs (a warning is logged), decimal commas (``2,5``) in columns that are
    otherwise numbers, ``3.0`` for 3, spaces around headers and cells, empty trailing rows and
    columns, Windows-1252/Latin-1 text (warning logged).  ``n/a`` and empty cells are missing; a
    column is numeric when every filled cell is a number, else text.  ``text_columns`` (default
    ``participant_id``) always stay text.

    Parameters
    ----------
    path : path-like
        The table (``participants.tsv``, ``phenotype/scs.tsv``, ``*_events.tsv`` …).
    text_columns : sequence of str, default ("participant_id",)
        Columns never converted to numbers (IDs such as ``01`` keep their zeros).

    Raises
    ------
    ValueError
        Empty file, a row with more cells than the header (file and line), or a header repeated.
    """
    path = Path(path)
    text = _decode(path).lstrip("\r\n")
    lines = text.splitlines()
    header = next((line for line in lines if line.strip()), "")
    if not header.strip():
        raise ValueError(
            f"{path}: the file is empty (rule: a header row with the column names, then one row per entry)"
        )
    sep = _separator(path, header)
    rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    width = len(rows[0])
    for number, row in enumerate(rows[1:], start=2):
        cells = len(row)
        while cells > width and not row[cells - 1].strip():  # trailing empty cells of a spreadsheet row
            cells -= 1
        if row and any(c.strip() for c in row) and cells != width:
            raise ValueError(
                f"{path}: line {number}: {cells} cells but the header has {width} columns (rule: every "
                "row has one cell per column, separated by tabs; write n/a for a missing value and "
                "check for a stray tab)"
            )
    table = pd.read_csv(
        io.StringIO(text),
        sep=sep,
        dtype=str,
        na_values=["n/a", ""],
        keep_default_na=False,
        skip_blank_lines=True,
        skipinitialspace=True,
        index_col=False,
    )
    table.columns = [str(c).strip() for c in table.columns]
    unnamed = [c for c in table.columns if c == "" or c.startswith("Unnamed:")]
    empty_unnamed = [c for c in unnamed if table[c].isna().all()]
    table = table.drop(columns=empty_unnamed)
    if any(c == "" or c.startswith("Unnamed:") for c in table.columns):
        raise ValueError(
            f"{path}: a column without a header holds values (rule: every column is named in the first row)"
        )
    dup = [c for c in table.columns if re.search(r"\.\d+$", c) and c.rsplit(".", 1)[0] in table.columns]
    if dup:
        raise ValueError(
            f"{path}: column {dup[0].rsplit('.', 1)[0]!r} appears twice in the header (rule: "
            "unique column names)"
        )
    table = table.apply(
        lambda c: c.str.strip() if c.dtype == object or pd.api.types.is_string_dtype(c) else c
    )
    table = table.replace("", np.nan).replace("n/a", np.nan)
    table = table.dropna(how="all").reset_index(drop=True)
    keep = set(text_columns)
    return table.apply(lambda c: c if c.name in keep else _clean_column(c))


# --------------------------------------------------------------------------------------------- images
def read_image(path: str | os.PathLike) -> nib.Nifti1Image:
    """Load a NIfTI image with its data in memory, every byte checked.

    A ``.nii.gz`` is decompressed to its end, so a damaged file fails gzip's CRC-32 and length check
    (nibabel alone reads only as many bytes as the header asks for and can return wrong values
    silently); a ``.nii`` must hold as many bytes as its header says.  ``ValueError`` names the file.
    """
    path = Path(path)
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:  # BadGzipFile is an OSError
            raise ValueError(
                f"{path}: the compressed data are damaged ({type(err).__name__}: {err}); the file "
                "is truncated or corrupt (rule: a complete NIfTI file; copy or export it again)"
            ) from None
    try:
        img = nib.Nifti1Image.from_bytes(raw)
        np.asanyarray(img.dataobj)  # reads every voxel: a short .nii fails here
    except Exception as err:  # nibabel raises many types for bad headers or short data
        raise ValueError(
            f"{path}: not a readable NIfTI-1 image ({type(err).__name__}: {err}) (rule: a complete "
            "NIfTI file; copy or export it again)"
        ) from None
    return img


# --------------------------------------------------------------------------------------------- dataset
@dataclass
class Dataset:
    """A loaded dataset: tables, every BOLD run of ``task`` and the structural of each participant.

    Attributes
    ----------
    runs : dict
        Participant → list of :class:`helpers.layout.raw.RawRun` (sorted by session, acq, run).
    structural : dict
        Participant → ``(path, "T2w" | "T1w")`` or None.
    """

    root: Path
    task: str
    participants: pd.DataFrame
    scs: pd.DataFrame
    runs: dict[str, list[RawRun]] = field(default_factory=dict)
    structural: dict[str, tuple[Path, str] | None] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return list(self.participants["participant_id"])

    def events(self, sub: str, run: RawRun | None = None) -> pd.DataFrame:
        """Events of one run, or of every run of ``sub`` one after the other with its ``run`` label."""
        if run is not None:
            return read_tsv(run.events)
        tables = [read_tsv(r.events).assign(run=r.label) for r in self.runs[sub]]
        return pd.concat(tables, ignore_index=True)

    def n_volumes(self, run: RawRun) -> int:
        """Number of volumes of a BOLD run (from the header)."""
        return int(nib.load(run.bold).shape[3])

    def first_run(self, sub: str) -> RawRun:
        """The first run of ``sub`` (by session, acq, run) — the one the data chapter shows."""
        return self.runs[sub][0]


def _participants_table(root: Path) -> pd.DataFrame:
    """participants.tsv with ``sub-`` IDs, or a one-column table of the ``sub-*`` folders."""
    path = root / "participants.tsv"
    if path.is_file():
        table = read_tsv(path)
        table["participant_id"] = table["participant_id"].map(with_sub)
        return table
    return pd.DataFrame({"participant_id": find_participants(root)})


def _scs_table(root: Path) -> pd.DataFrame:
    table = read_tsv(phenotype_file(root))
    table["participant_id"] = table["participant_id"].map(with_sub)
    return table


def load_dataset(
    root: str | os.PathLike,
    task: str = "feedback",
    validate: bool = True,
    conditions=CONDITIONS,
    rating_range=RATING_RANGE,
) -> Dataset:
    """Load a BIDS dataset (validated first unless ``validate=False``).

    Parameters
    ----------
    root : path-like
        The dataset folder.
    task : str, default "feedback"
        Task label of the functional runs.
    validate : bool, default True
        Run :func:`validate_dataset` first.
    conditions : sequence of str, default :data:`CONDITIONS`
        The ``trial_type`` labels analysed (validation only).
    rating_range : (int, int), default :data:`RATING_RANGE`
        Allowed ratings (validation only).
    """
    root = Path(root)
    if validate:
        validate_dataset(root, task=task, conditions=conditions, rating_range=rating_range)
    parts = _participants_table(root)
    ds = Dataset(root, task, parts, _scs_table(root))
    for sub in ds.ids:
        ds.runs[sub] = raw_runs(root, sub, task)
        ds.structural[sub] = structural(root, sub)
    return ds


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
    age = pd.to_numeric(participants["age"], errors="coerce").dropna() if "age" in participants else pd.Series([])
    rows["Age, M (SD)"] = f"{age.mean():.1f} ({age.std(ddof=1):.1f})" if len(age) > 1 else "n/a"
    rows["Age range"] = f"{age.min():g}–{age.max():g}" if len(age) else "n/a"
    return pd.DataFrame({"value": pd.Series(rows)}).rename_axis("sample")


def ratings_table(ds: Dataset) -> pd.DataFrame:
    """Mean rating per participant and condition over all runs (long: participant_id, trial_type, rating, n).

    Participants whose events have no ``rating`` column are left out (the column is optional); the
    table is empty when nobody has ratings.
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
    """Head motion of one run (default: the participant's first) and where it came from.

    The twin's true motion (``derivatives/twin-truth``) if present, else the run's fMRIPrep-style
    confounds in any ``derivatives/*`` folder (first found); ``(None, "none")`` for raw data never
    preprocessed.
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
    """True if ``dataset_description.json`` says the dataset was generated by ``helpers.simulate``."""
    path = Path(root) / "dataset_description.json"
    if not path.is_file():
        return False
    meta = read_json(path)
    return any(g.get("Name") == "helpers.simulate" for g in meta.get("GeneratedBy", []))
