"""The bad-input catalogue: every mistake a re-executor can make, and the message it produces.

Each :class:`Case` breaks a *copy* of a small part of a dataset (the digital twin, or any dataset
of the same layout) and calls the function of the pipeline that meets that input first.  The same
list drives the test module ``tests/test_catalogue.py`` (which asserts the exception type and the
key words of each message) and the book's page on bad input (``notebooks/98_bad_input.ipynb``,
which shows the real messages), so the page can never drift from the code.

:func:`run_case` returns the exception a case raises, :func:`matches` checks it against the
documentation, and :func:`catalogue_table` runs them all.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nibabel as nib
import numpy as np
import pandas as pd

__all__ = ["Case", "CASES", "run_case", "matches", "catalogue_table"]

TASK = "feedback"
DERIV = Path("derivatives") / "twin-fmriprep"


@dataclass(frozen=True)
class Case:
    """One bad input.

    Attributes
    ----------
    id : str
        Short identifier (test id).
    stage : str
        Where the pipeline meets it (questionnaire, events, BOLD, …).
    bad_input : str
        What is wrong, in words.
    error : type
        The exception raised (``UserWarning`` for inputs that are excluded with a warning).
    keywords : tuple of str
        Words the message must contain (file, participant, column/volume, rule).
    fix : str
        How to fix the input.
    run : callable
        ``run(dataset, workdir)``: break a copy in ``workdir`` and call the pipeline (raises).
    """

    id: str
    stage: str
    bad_input: str
    error: type
    keywords: tuple[str, ...]
    fix: str
    run: Callable[[Path, Path], object]


# --------------------------------------------------------------------------- copies and edits
def _subjects(dataset: Path, n: int) -> list[str]:
    table = pd.read_csv(dataset / "participants.tsv", sep="\t", dtype=str)
    return sorted(table["participant_id"])[:n]


def _mini_dataset(dataset: Path, work: Path, n: int = 1) -> tuple[Path, list[str]]:
    """A raw BIDS copy with the first ``n`` participants (no derivatives)."""
    subs = _subjects(dataset, n)
    root = work / "bids"
    root.mkdir(parents=True)
    shutil.copy(dataset / "dataset_description.json", root)
    for rel in ("participants.tsv", "phenotype/scs.tsv"):
        table = pd.read_csv(dataset / rel, sep="\t", dtype=str, keep_default_na=False)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        table[table["participant_id"].isin(subs)].to_csv(root / rel, sep="\t", index=False)
    for sub in subs:
        shutil.copytree(dataset / sub, root / sub)
    return root, subs


def _edit_tsv(path: Path, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Path:
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    edit(table).to_csv(path, sep="\t", index=False)
    return path


def _edit_image(path: Path, edit: Callable[[nib.Nifti1Image, np.ndarray], nib.Nifti1Image]) -> Path:
    img = nib.load(path)
    new = edit(img, np.asanyarray(img.dataobj))
    nib.save(new, path)
    return path


def _like(img, data, dtype=None) -> nib.Nifti1Image:
    header = img.header.copy()
    if dtype is not None:
        header.set_data_dtype(dtype)
    out = nib.Nifti1Image(data, img.affine, header)
    out.header.set_data_shape(data.shape)
    return out


def _bold(root: Path, sub: str) -> Path:
    return root / sub / "func" / f"{sub}_task-{TASK}_bold.nii.gz"


def _events(root: Path, sub: str) -> Path:
    return root / sub / "func" / f"{sub}_task-{TASK}_events.tsv"


def _validate(root: Path) -> None:
    from .bids import validate_dataset

    validate_dataset(root, task=TASK)


def _raw(n: int, breaker: Callable[[Path, list[str]], object]) -> Callable[[Path, Path], None]:
    """A case that breaks a raw mini dataset of ``n`` participants, then validates it."""
    def run(dataset: Path, work: Path) -> None:
        root, subs = _mini_dataset(dataset, work, n)
        breaker(root, subs)
        _validate(root)
    return run


def _set_cell(column: str, value: str, row: int = 0):
    def edit(table):
        table.loc[table.index[row], column] = value
        return table
    return edit


# --------------------------------------------------------------------------- questionnaire
def _scs(edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path, Path], object]:
    """Score a copy of phenotype/scs.tsv after ``edit`` (as the questionnaire chapter does)."""
    def run(dataset: Path, work: Path):
        from .scs import read_scs, score_scs

        path = work / "phenotype" / "scs.tsv"
        path.parent.mkdir(parents=True)
        shutil.copy(dataset / "phenotype" / "scs.tsv", path)
        _edit_tsv(path, edit)
        return score_scs(read_scs(path))
    return run


def _scs_text(edit: Callable[[list[str]], list[str]]):
    """Read a copy of phenotype/scs.tsv whose lines were edited as text (what a spreadsheet export does)."""
    def run(dataset: Path, work: Path):
        from .scs import read_scs, score_scs

        path = work / "phenotype" / "scs.tsv"
        path.parent.mkdir(parents=True)
        lines = (dataset / "phenotype" / "scs.tsv").read_text().splitlines()
        path.write_text("\n".join(edit(lines)) + "\n")
        return score_scs(read_scs(path))
    return run


def _text_cell(line: str, column: int, value: str) -> str:
    """``line`` of a TSV with cell ``column`` replaced by ``value``."""
    cells = line.split("\t")
    cells[column] = value
    return "\t".join(cells)


def _drop(column: str):
    return lambda t: t.drop(columns=[column])


def _duplicate_first(table):
    return pd.concat([table, table.iloc[[0]]], ignore_index=True)


def _extra_scs_row(root: Path, subs: list[str]) -> None:
    path = root / "phenotype" / "scs.tsv"
    _edit_tsv(path, lambda t: pd.concat([t, t.iloc[[0]].assign(participant_id="sub-99")], ignore_index=True))


def _drop_scs_row(root: Path, subs: list[str]) -> None:
    _edit_tsv(root / "phenotype" / "scs.tsv", lambda t: t[t["participant_id"] != subs[-1]])


def _stats(scores_ids: list[str], conn_ids: list[str]):
    """Pair SCS scores with connectivity (group statistics): mismatched participants are warned about."""
    def run(dataset: Path, work: Path):
        from .stats import paired_values

        scores = pd.DataFrame({"participant_id": scores_ids, "total": np.linspace(2, 4, len(scores_ids))})
        conn = pd.DataFrame({"participant_id": conn_ids, "measure": "weighted_hrf", "condition": "negative-neutral",
                             "source": "vmpfc", "target": "amygdala_r", "r": np.nan,
                             "z": np.linspace(-0.2, 0.3, len(conn_ids))})
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return paired_values(scores, conn, "total", "negative-neutral", ("vmpfc", "amygdala_r"))
    return run


# --------------------------------------------------------------------------- images
def _bold_edit(edit, which: int = 0):
    def breaker(root: Path, subs: list[str]) -> None:
        _edit_image(_bold(root, subs[which]), edit)
    return breaker


def _three_d(img, data):
    return _like(img, np.ascontiguousarray(data[..., 0]))


def _all_zero(img, data):
    return _like(img, np.zeros_like(data))


def _with_nan(img, data):
    out = data.astype(np.float32)
    out[1, 2, 3, 4] = np.nan
    return _like(img, out, np.float32)


def _other_tr(img, data):
    out = _like(img, data)
    out.header.set_zooms(img.header.get_zooms()[:3] + (2.0,))
    return out


def _one_slice_less(img, data):
    return _like(img, np.ascontiguousarray(data[:, :, :-1]))


def _no_orientation(img, data):
    header = img.header.copy()
    header["sform_code"] = 0
    header["qform_code"] = 0
    return nib.Nifti1Image(data, None, header)  # no affine: nibabel keeps the codes at 0


def _cut_file(keep: float):
    def breaker(root: Path, subs: list[str]) -> None:
        path = _bold(root, subs[0])
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])
    return breaker


def _scramble_middle(root: Path, subs: list[str]) -> None:
    path = _bold(root, subs[0])
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 2000] = np.random.default_rng(0).integers(0, 256, 2000, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))


def _flip_bit(root: Path, subs: list[str]) -> None:
    path = _bold(root, subs[0])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _zooms(zooms):
    def edit(img, data):
        out = _like(img, data)
        out.header.set_zooms(tuple(zooms) + img.header.get_zooms()[3:])
        return nib.Nifti1Image(data, None, out.header)  # the header's pixdim and qform/sform as written
    return edit


def _uncompressed_copy(root: Path, subs: list[str]) -> None:
    nib.save(nib.load(_bold(root, subs[0])), _bold(root, subs[0]).with_suffix(""))


def _rename_task(root: Path, subs: list[str]) -> None:
    for path in (root / subs[0] / "func").iterdir():
        path.rename(path.with_name(path.name.replace(f"task-{TASK}", "task-faces")))


def _echo(root: Path, subs: list[str]) -> None:
    bold = _bold(root, subs[0])
    bold.rename(bold.with_name(bold.name.replace("_bold", "_echo-1_bold")))


def _sidecar(fields: dict):
    def breaker(root: Path, subs: list[str]) -> None:
        path = _bold(root, subs[0]).with_name(f"{subs[0]}_task-{TASK}_bold.json")
        path.write_text(json.dumps({**json.loads(path.read_text()), **fields}))
    return breaker


def _trailing_comma(root: Path, subs: list[str]) -> None:
    path = _bold(root, subs[0]).with_name(f"{subs[0]}_task-{TASK}_bold.json")
    path.write_text('{\n  "RepetitionTime": 3.0,\n}\n')


def _anat_upper_case(root: Path, subs: list[str]) -> None:
    for path in (root / subs[0] / "anat").iterdir():
        path.rename(path.with_name(path.name.replace("_T2w", "_T2W")))


def _anat_no_orientation(root: Path, subs: list[str]) -> None:
    _edit_image(next((root / subs[0] / "anat").glob("*.nii*")), _no_orientation)


def _drop_tr(root: Path, subs: list[str]) -> None:
    path = root / subs[0] / "func" / f"{subs[0]}_task-{TASK}_bold.json"
    meta = json.loads(path.read_text())
    meta.pop("RepetitionTime")
    path.write_text(json.dumps(meta))


def _preprocessing_structural(dataset: Path, work: Path):
    """Preprocessing's input check (helpers.preprocess.inputs) on a structural without orientation."""
    from .preprocess.inputs import find_inputs, load_structural

    root, subs = _mini_dataset(dataset, work, 1)
    _anat_no_orientation(root, subs)
    return load_structural(find_inputs(root, subs[0], TASK))


# --------------------------------------------------------------------------- events
def _events_edit(edit):
    def breaker(root: Path, subs: list[str]) -> None:
        _edit_tsv(_events(root, subs[0]), edit)
    return breaker


def _events_csv(root: Path, subs: list[str]) -> None:
    path = _events(root, subs[0])
    path.rename(path.with_suffix(".csv"))


def _relabel(old: str, new: str):
    def edit(table):
        table.loc[table["trial_type"] == old, "trial_type"] = new
        return table
    return edit


def _effects(edit):
    """CONN's Effect regressors (helpers.connectivity) from a participant's edited events."""
    def run(dataset: Path, work: Path):
        from .bids import read_tsv
        from .connectivity import condition_effects
        from .layout import raw_runs

        sub = _subjects(dataset, 1)[0]
        (run,) = raw_runs(dataset, sub, TASK)
        events = edit(read_tsv(run.events))
        events.attrs["source"] = str(run.events)
        n_scans = nib.load(run.bold).shape[3]
        tr = run.tr
        return condition_effects(events, n_scans=n_scans, tr=tr, conditions=["negative", "neutral", "positive"])
    return run


# --------------------------------------------------------------------------- derivatives
def _files(dataset: Path):
    from .firstlevel import find_participant_files

    sub = _subjects(dataset, 1)[0]
    return find_participant_files(dataset, dataset / DERIV, sub, task=TASK)


def _confounds(edit):
    """Read the realignment parameters of an edited confounds TSV (first level)."""
    def run(dataset: Path, work: Path):
        from .firstlevel import read_motion

        files = _files(dataset)
        path = work / files.confounds.name
        shutil.copy(files.confounds, path)
        n_scans = nib.load(files.bold).shape[3]
        _edit_tsv(path, edit)
        return read_motion(path, n_scans, participant=files.participant_id)
    return run


def _roi_signal(fill: Callable[[np.ndarray], float]):
    """ROI signals (first level) from a BOLD copy whose vmPFC voxels are set to ``fill(data)``."""
    def run(dataset: Path, work: Path):
        from .atlas import roi_masks
        from .firstlevel import extract_signals

        files = _files(dataset)
        path = work / files.bold.name
        img = nib.load(files.bold)
        data = np.asanyarray(img.dataobj).astype(np.float32)
        mask = np.asanyarray(roi_masks(img)["vmpfc"].dataobj).astype(bool)
        data[mask] = fill(data)
        nib.save(_like(img, data, np.float32), path)
        return extract_signals(dataclasses.replace(files, bold=path))
    return run


def _all_zero_weights(dataset: Path, work: Path):
    """Weighted correlation with a condition whose weights are 0 in every scan (every scan censored)."""
    from .connectivity import roi_to_roi

    rng = np.random.default_rng(0)
    series = pd.DataFrame(rng.standard_normal((40, 3)), columns=["vmpfc", "amygdala_l", "amygdala_r"])
    weights = pd.DataFrame({"negative": np.zeros(40), "neutral": np.ones(40)})
    return roi_to_roi(series, weights)


# --------------------------------------------------------------------------- parameters and output
def _params(values: dict):
    def run(dataset: Path, work: Path):
        from .params import validate_params

        return validate_params(values, source="params file my_params.yml")
    return run


def _chapter_output_under_file(dataset: Path, work: Path):
    """A notebook's Chapter with output_dir below a regular file (tests run as root, where chmod does
    not stop writes; a path below a file cannot be created by anyone)."""
    from .provenance import Chapter

    blocker = work / "results.txt"
    blocker.write_text("a file, not a folder\n")
    out = str(blocker / "outputs")
    return Chapter("03_connectivity", params={"output_dir": out}, output_dir=out)


def _chapter_bad_value(dataset: Path, work: Path):
    from .provenance import Chapter

    out = str(work / "outputs")
    return Chapter("03_connectivity", params={"output_dir": out, "weighting": "gaussian"}, output_dir=out)


# --------------------------------------------------------------------------- the catalogue
_SCS_FILE = "phenotype/scs.tsv"
_RULE_SCS = "outside 1–5"

CASES: tuple[Case, ...] = (
    # questionnaire ------------------------------------------------------------------------------
    Case("scs_out_of_range", "questionnaire", "an SCS answer of 6 (the scale is 1–5)", ValueError,
         (_SCS_FILE, "participant sub-02", "column scs_07", "value 6", _RULE_SCS),
         "Correct the answer in phenotype/scs.tsv (1 almost never … 5 almost always), or write n/a if unknown.",
         _scs(_set_cell("scs_07", "6", row=1))),
    Case("scs_non_numeric", "questionnaire", "a text answer ('often') in an item column", ValueError,
         (_SCS_FILE, "participant sub-01", "column scs_03", "'often'", "not a number"),
         "Recode text answers to 1–5 (or n/a).", _scs(_set_cell("scs_03", "often"))),
    Case("scs_not_integer", "questionnaire", "a fractional answer (2.5)", ValueError,
         (_SCS_FILE, "participant sub-01", "column scs_11", "2.5", "not an integer"),
         "Answers are whole numbers 1–5; check how the file was exported.", _scs(_set_cell("scs_11", "2.5"))),
    Case("scs_missing_column", "questionnaire", "an item column missing (scs_26)", ValueError,
         (_SCS_FILE, "scs_", "missing items [26]"),
         "Add the missing item column, or pass item_columns / item_pattern if the columns are named differently.",
         _scs(_drop("scs_26"))),
    Case("scs_stray_cell", "questionnaire", "a row with one cell more than the header (a stray tab)",
         ValueError,
         (_SCS_FILE, "line 3", "28 cells but the header has 27 columns", "one cell per column"),
         "Delete the extra cell (or name its column in the header).",
         _scs_text(lambda lines: [*lines[:2], lines[2] + "\t4", *lines[3:]])),
    Case("scs_decimal_comma", "questionnaire", "answers exported with a decimal comma, one of them 2,5",
         ValueError,
         (_SCS_FILE, "participant sub-01", "value 2.5", "not an integer"),
         "Answers are whole numbers 1–5 (a decimal comma is read as a decimal point).",
         _scs_text(lambda lines: [lines[0], _text_cell(lines[1], 1, "2,5"), *lines[2:]])),
    Case("scs_duplicate_id", "questionnaire", "the same participant twice", ValueError,
         (_SCS_FILE, "duplicate participant ID", "'sub-01'"),
         "Keep one row per participant (remove or merge the repeated row).", _scs(_duplicate_first)),
    Case("scs_no_id_column", "questionnaire", "no participant_id column", ValueError,
         (_SCS_FILE, "missing column 'participant_id'"),
         "Name the participant column participant_id (BIDS).", _scs(lambda t: t.rename(columns={"participant_id": "id"}))),
    Case("scs_empty_id", "questionnaire", "a row without a participant ID", ValueError,
         (_SCS_FILE, "column participant_id", "empty participant ID", "line(s) [2]"),
         "Fill in the ID or delete the row.", _scs(_set_cell("participant_id", ""))),
    Case("questionnaire_not_imaging", "dataset", "a participant in the questionnaire but not in the imaging data",
         ValueError, (_SCS_FILE, "participant sub-99", "not in participants.tsv"),
         "Remove the row, or add the participant to participants.tsv with their imaging data.",
         _raw(1, _extra_scs_row)),
    Case("imaging_not_questionnaire", "dataset", "a participant with imaging data but no questionnaire row",
         ValueError, (_SCS_FILE, "participant sub-02", "no row"),
         "Add the participant's answers (n/a where unknown) to phenotype/scs.tsv.", _raw(2, _drop_scs_row)),
    Case("scores_without_connectivity", "group statistics", "a scored participant with no connectivity values",
         UserWarning, ("participant(s)", "sub-03", "not in connectivity.tsv"),
         "Expected when the participant was excluded earlier (see exclusions.tsv); otherwise re-run the connectivity chapter.",
         _stats(["sub-01", "sub-02", "sub-03", "sub-04"], ["sub-01", "sub-02", "sub-04"])),
    Case("connectivity_without_scores", "group statistics", "connectivity values for a participant without scores",
         UserWarning, ("participant(s)", "sub-04", "not in scores.tsv"),
         "Add the participant's questionnaire, or accept the exclusion (it is listed in the results).",
         _stats(["sub-01", "sub-02", "sub-03"], ["sub-01", "sub-02", "sub-03", "sub-04"])),
    # events -------------------------------------------------------------------------------------
    Case("events_no_duration", "events", "an events file without a duration column", ValueError,
         ("_events.tsv", "participant sub-01", "columns missing: duration", "rule: onset, duration"),
         "Add the duration of every event in seconds (BIDS requires onset and duration).",
         _raw(1, _events_edit(_drop("duration")))),
    Case("events_negative_onset", "events", "a negative onset", ValueError,
         ("_events.tsv", "participant sub-01", "column onset", "row 1", "value -3", "non-negative"),
         "Onsets are seconds from the first volume; subtract the right offset (dummy scans).",
         _raw(1, _events_edit(_set_cell("onset", "-3")))),
    Case("events_nan_onset", "events", "a missing onset (n/a)", ValueError,
         ("_events.tsv", "participant sub-01", "column onset", "row 2", "non-negative number"),
         "Fill in the onset or delete the event.", _raw(1, _events_edit(_set_cell("onset", "n/a", row=1)))),
    Case("events_text_duration", "events", "a duration written as text", ValueError,
         ("_events.tsv", "participant sub-01", "column duration", "'eleven'", "positive number"),
         "Write durations as numbers of seconds.", _raw(1, _events_edit(_set_cell("duration", "eleven")))),
    Case("events_beyond_run", "events", "an event that ends after the last volume", ValueError,
         ("_events.tsv", "participant sub-01", "onset+duration", "after the run", "volumes x TR"),
         "Check the onsets' units (seconds, not milliseconds or volumes) and that the BOLD run is complete.",
         _raw(1, _events_edit(_set_cell("onset", "5000", row=-1)))),
    Case("events_unknown_condition", "events", "a trial_type not among the conditions (a typo)", ValueError,
         ("_events.tsv", "participant sub-01", "column trial_type", "unknown condition(s) ['negativ']", "rule: one of"),
         "Correct the label, or list it in the conditions parameter.",
         _raw(1, _events_edit(_set_cell("trial_type", "negativ")))),
    Case("events_condition_without_events", "events", "a condition that never occurs", ValueError,
         ("_events.tsv", "participant sub-01", "column trial_type", "'positive' never occurs"),
         "Check the labels; if the design really lacks the condition, remove it from the conditions parameter.",
         _raw(1, _events_edit(_relabel("positive", "neutral")))),
    Case("events_missing", "events", "a run without an events file (saved as .csv)", ValueError,
         ("_bold.nii.gz", "participant sub-01", "no events file", "_events.tsv beside the run",
          "task-feedback_events.tsv at the top level"),
         "Save the events as tab-separated <run>_events.tsv beside the run (or one task-<task>_events.tsv "
         "for every run at the top level).", _raw(1, _events_csv)),
    Case("effects_beyond_scan", "connectivity", "events beyond the end of the scan, passed straight to the "
         "connectivity code", ValueError, ("sub-01_task-feedback_events.tsv", "column onset", "beyond the scan", "scans × TR"),
         "As above: onsets in seconds within the run.", _effects(lambda t: t.assign(onset=t["onset"] + 1000))),
    Case("effects_condition_without_events", "connectivity", "a requested condition without events "
         "(connectivity code)", ValueError, ("sub-01_task-feedback_events.tsv", "condition(s) ['positive'] have no events", "trial_type values present"),
         "Remove the condition from conditions or fix the labels.", _effects(lambda t: t[t["trial_type"] != "positive"])),
    # images ---------------------------------------------------------------------------------------
    Case("bold_3d", "BOLD", "a 3-D BOLD image (one volume)", ValueError,
         ("_bold.nii.gz", "participant sub-01", "3-D", "must be 4-D"),
         "Use the 4-D run (merge the volumes, e.g. with nibabel.concat_images).", _raw(1, _bold_edit(_three_d))),
    Case("bold_truncated", "BOLD", "a truncated (incompletely copied) .nii.gz", ValueError,
         ("_bold.nii.gz", "participant sub-01", "compressed data are damaged", "truncated or corrupt",
          "EOFError"),
         "Copy or export the file again; compare its size or checksum with the source.", _raw(1, _cut_file(0.6))),
    Case("bold_gzip_corrupt", "BOLD", "a .nii.gz with damaged bytes", ValueError,
         ("_bold.nii.gz", "participant sub-01", "compressed data are damaged", "truncated or corrupt"),
         "Copy or export the file again.", _raw(1, _scramble_middle)),
    Case("bold_gzip_one_bit", "BOLD", "a .nii.gz with one bit flipped in the middle (nibabel alone reads it, "
         "with "
         "wrong values)", ValueError,
         ("_bold.nii.gz", "participant sub-01", "CRC check failed", "truncated or corrupt"),
         "Copy the file again from its source; validation decompresses every file to its end.",
         _raw(1, _flip_bit)),
    Case("bold_voxels_in_metres", "BOLD", "voxel sizes written in metres (0.003) where the header says mm",
         ValueError,
         ("_bold.nii.gz", "participant sub-01", "pixdim[1:4]", "0.003", "implausible", "metres"),
         "Re-convert from DICOM, or correct pixdim (and the affine) to millimetres.",
         _raw(1, _bold_edit(_zooms((0.003125, 0.003125, 0.004))))),
    Case("bold_voxels_too_large", "BOLD", "voxels larger than 10 mm", ValueError,
         ("_bold.nii.gz", "participant sub-01", "pixdim[1:4]", "implausible", "between 0.2 and 10 mm"),
         "Check the header's voxel sizes against the protocol.",
         _raw(1, _bold_edit(_zooms((31.25, 31.25, 40.0))))),
    Case("bold_two_files_one_run", "BOLD", "the same run twice, as .nii and .nii.gz", ValueError,
         ("_bold.nii.gz", "_bold.nii ", "two BOLD files for the same run",
          "rule: one image per session, acq and run"),
         "Delete one of the two files (they would be analysed twice).", _raw(1, _uncompressed_copy)),
    Case("bold_other_task", "BOLD", "the functional runs named with another task label", ValueError,
         ("participant sub-01", "no BOLD run of task 'feedback'", "task(s) ['faces']",
          "set the task parameter"),
         "Set the task parameter to the label in your file names (or rename the files).",
         _raw(1, _rename_task)),
    Case("bold_multi_echo", "BOLD", "a multi-echo run (echo-1, echo-2 …)", ValueError,
         ("echo-1", "multi-echo BOLD", "outside the contract", "one 4-D BOLD image per run"),
         "Combine the echoes first (e.g. tedana), then give one BOLD image per run.", _raw(1, _echo)),
    Case("bold_all_zero", "BOLD", "a BOLD run whose voxels are all 0", ValueError,
         ("_bold.nii.gz", "participant sub-01", "every voxel is 0", "rule: a BOLD run with signal"),
         "The conversion failed; convert the run again from the scanner data.", _raw(1, _bold_edit(_all_zero))),
    Case("bold_nan", "BOLD", "NaN values in the BOLD run", ValueError,
         ("_bold.nii.gz", "participant sub-01", "1 NaN/inf values", "voxel (1, 2, 3)", "volume 4"),
         "Raw data have no NaN; re-convert, or mask/interpolate the bad voxels.", _raw(1, _bold_edit(_with_nan))),
    Case("bold_tr_mismatch", "BOLD", "a header TR that disagrees with the sidecar", ValueError,
         ("_bold.nii.gz", "participant sub-01", "pixdim[4]", "TR 2 s", "RepetitionTime 3 s"),
         "Find the true TR (scanner protocol) and correct the header or the JSON sidecar.",
         _raw(1, _bold_edit(_other_tr))),
    Case("bold_other_grid", "BOLD", "one participant's BOLD on a different grid", ValueError,
         ("_bold.nii.gz", "participant sub-02", "grid", "differs from the other runs'",
          "rule: one acquisition grid"),
         "Check the acquisition protocol of that session; reslice or exclude the participant.",
         _raw(2, _bold_edit(_one_slice_less, which=1))),
    Case("bold_no_tr", "BOLD", "a sidecar without RepetitionTime", ValueError,
         ("_bold.json", "participant sub-01", "no field RepetitionTime", "positive number of seconds"),
         "Add RepetitionTime (seconds) to the sidecar.", _raw(1, _drop_tr)),
    Case("bold_tr_in_ms", "BOLD", "RepetitionTime in milliseconds (3000)", ValueError,
         ("_bold.json", "participant sub-01", "RepetitionTime is 3000", "looks like milliseconds", "e.g. 3)"),
         "Write the TR in seconds (3000 ms → 3).", _raw(1, _sidecar({"RepetitionTime": 3000}))),
    Case("bold_tr_text", "BOLD", "RepetitionTime written as text (\"3\")", ValueError,
         ("_bold.json", "participant sub-01", "the text '3'", "remove the quotes"),
         "Write numbers without quotes in JSON.", _raw(1, _sidecar({"RepetitionTime": "3"}))),
    Case("sidecar_json_syntax", "BOLD", "a sidecar edited by hand with a trailing comma", ValueError,
         ("_bold.json", "line 3, column 1", "invalid JSON", "check commas"),
         "Remove the comma before the closing brace (JSON allows none).", _raw(1, _trailing_comma)),
    Case("anat_no_orientation", "structural", "a structural whose sform_code and qform_code are both 0", ValueError,
         ("_T2w.nii.gz", "participant sub-01", "sform_code", "no scanner orientation"),
         "Re-convert from DICOM (dcm2niix) so the header carries the scanner orientation.",
         _raw(1, _anat_no_orientation)),
    Case("anat_misnamed", "structural", "a structural saved as sub-01_T2W.nii.gz (capital W)", ValueError,
         ("participant sub-01", "no structural image", "found but not taken", "sub-01_T2W.nii.gz",
          "suffix 'T2W'", "with this capitalisation"),
         "Rename the file (BIDS suffixes are case-sensitive: T1w, T2w).", _raw(1, _anat_upper_case)),
    Case("anat_no_orientation_preprocessing", "preprocessing", "the same structural met by preprocessing",
         ValueError, ("_T2w.nii.gz", "participant sub-01", "sform_code and qform_code are both 0"),
         "As above.", _preprocessing_structural),
    # derivatives and first level ------------------------------------------------------------------
    Case("confounds_missing_column", "connectivity", "a confounds TSV without rot_z", ValueError,
         ("confounds_timeseries.tsv", "participant sub-01", "missing realignment column(s) ['rot_z']",
          "rule: the confounds hold"),
         "Use fMRIPrep's confounds file (trans_x … rot_z), or rename your realignment columns.",
         _confounds(_drop("rot_z"))),
    Case("confounds_wrong_length", "connectivity", "a confounds TSV shorter than the BOLD run", ValueError,
         ("confounds_timeseries.tsv", "participant sub-01", "rows but the BOLD image has", "volumes",
          "mismatched lengths", "one confounds row per volume"),
         "The confounds belong to another run or lost rows; regenerate them with the BOLD.",
         _confounds(lambda t: t.iloc[:-5])),
    Case("confounds_missing_value", "connectivity", "an n/a inside a realignment column", ValueError,
         ("confounds_timeseries.tsv", "participant sub-01", "column trans_x", "row 3", "missing or non-numeric"),
         "Realignment parameters are defined for every volume; regenerate the file.",
         _confounds(_set_cell("trans_x", "n/a", row=3))),
    Case("roi_outside_brain", "connectivity", "an ROI that falls outside the brain mask (its voxels are all 0)",
         ValueError, ("desc-preproc_bold.nii.gz", "participant sub-01", "ROI 'vmpfc'", "lies outside the brain",
                      "0 or NaN in every volume", "rule: every ROI inside"),
         "Check that the BOLD is in the atlas space (MNI152NLin2009cAsym) and that the brain mask covers the ROI.",
         _roi_signal(lambda d: 0.0)),
    Case("roi_zero_variance", "connectivity", "an ROI whose signal does not vary", ValueError,
         ("desc-preproc_bold.nii.gz", "participant sub-01", "ROI 'vmpfc'", "signal has zero variance",
          "the value 500 in all", "rule: an ROI signal must vary"),
         "The data in the ROI were replaced or masked; check the preprocessing of this participant.",
         _roi_signal(lambda d: 500.0)),
    Case("all_scans_censored", "connectivity", "a condition whose weights are 0 in every scan (every scan removed; "
         "the pipeline has no motion censoring, so this is the closest real case)", ValueError,
         ("condition 'negative'", "zero in every scan"),
         "The condition's events do not overlap the run; check the events and the TR.", _all_zero_weights),
    # parameters and output ----------------------------------------------------------------------
    Case("params_unknown_key", "parameters", "a misspelt key in a params file", ValueError,
         ("my_params.yml", "unknown parameter 'weigthing'", "did you mean weighting"),
         "Correct the key (the parameters are listed in the table below).", _params({"weigthing": "hrf"})),
    Case("params_wrong_type", "parameters", "a number written as text", TypeError,
         ("my_params.yml", "parameter 'n_jobs'", "'2'", "has type str, expected int"),
         "Write numbers without quotes in YAML (n_jobs: 2).", _params({"n_jobs": "2"})),
    Case("params_bool_as_text", "parameters", "a yes/no option written as text", TypeError,
         ("my_params.yml", "parameter 'multiverse'", "expected bool"),
         "Write true or false (no quotes).", _params({"multiverse": "True"})),
    Case("params_value_not_allowed", "parameters", "a value outside the allowed choices", ValueError,
         ("my_params.yml", "parameter 'weighting'", "'gaussian'", "not allowed", "one of 'hrf', 'hanning', 'none'"),
         "Use one of the listed values.", _params({"weighting": "gaussian"})),
    Case("params_on_error_not_allowed", "parameters", "a failure policy other than stop or skip", ValueError,
         ("my_params.yml", "parameter 'on_error'", "'ignore'", "not allowed", "one of 'stop', 'skip'"),
         "Use stop (the default: the first failing participant stops the run) or skip (record it in exclusions.tsv).",
         _params({"on_error": "ignore"})),
    Case("params_out_of_range", "parameters", "a number out of range", ValueError,
         ("my_params.yml", "parameter 'n_boot'", "= 0", "out of range", "int ≥ 1"),
         "Use a value in the stated range.", _params({"n_boot": 0})),
    Case("params_bad_list", "parameters", "conditions given as one string instead of a list", TypeError,
         ("my_params.yml", "parameter 'conditions'", "expected list of str"),
         "Write a YAML list: conditions: [negative, neutral, positive].", _params({"conditions": "negative"})),
    Case("notebook_bad_value", "parameters", "a bad value injected into a notebook (papermill -p)", ValueError,
         ("notebook 03_connectivity", "parameter 'weighting'", "'gaussian'", "not allowed"),
         "Use one of the listed values; the notebook stops at its first cell, before any work.", _chapter_bad_value),
    Case("output_not_writable", "output", "an output folder that cannot be created or written", PermissionError,
         ("notebook 03_connectivity", "parameter 'output_dir'", "results.txt/outputs", "cannot create the output folder",
          "writable"),
         "Point output_dir at a folder you can write to.", _chapter_output_under_file),
)


def run_case(case: Case, dataset: str | Path, workdir: str | Path) -> BaseException | None:
    """Run ``case`` on a copy of ``dataset`` made in ``workdir``; return what it raised (None if nothing)."""
    work = Path(workdir) / case.id
    work.mkdir(parents=True, exist_ok=True)
    try:
        case.run(Path(dataset), work)
    except Exception as err:  # the point of the catalogue: capture the message the user sees
        return err
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return None


def matches(case: Case, err: BaseException | None) -> bool:
    """True if ``err`` is the documented error: same type and every key word in its message."""
    return err is not None and type(err) is case.error and all(word in str(err) for word in case.keywords)


def catalogue_table(dataset: str | Path, workdir: str | Path) -> pd.DataFrame:
    """Every case run on ``dataset``: stage, bad input, error type, the message seen, how to fix it.

    ``as documented`` says whether the error had the documented type and key words (the test
    module asserts it for every case); paths inside ``workdir`` are shown as ``…``.
    """
    rows = []
    for case in CASES:
        err = run_case(case, dataset, workdir)
        message = "(no error raised)" if err is None else str(err)
        for prefix in (str(Path(workdir).resolve()), str(workdir)):
            message = message.replace(prefix, "…")
        rows.append({"stage": case.stage, "bad input": case.bad_input,
                     "error": "none" if err is None else type(err).__name__, "message": message, "fix": case.fix,
                     "as documented": matches(case, err)})
    return pd.DataFrame(rows)
