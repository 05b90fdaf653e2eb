"""Tests of helpers.bids: raw BIDS as found in the wild, one complete error report, broken files.

The tiny twin is rewritten into layouts it never writes itself (:func:`rewrite_layout`: other IDs,
sessions, two runs, ``.nii``, T1w, sidecars inherited from the top level, other condition labels, no
participants.tsv, phenotype IDs without ``sub-``, extra events columns, no rating/word).
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from helpers.bids import (
    design_summary,
    load_dataset,
    motion_table,
    ratings_table,
    read_image,
    read_tsv,
    validate_dataset,
)
from helpers.layout import raw_paths, raw_runs

LABELS = {"negative": "face", "neutral": "house", "positive": "scrambled"}


def rewrite_layout(
    twin: Path,
    dst: Path,
    *,
    ids: dict[str, str] | None = None,
    session: str | None = "pre",
    runs: tuple[str, ...] = ("1", "2"),
    nii: bool = True,
    contrast: str = "T1w",
    inherit: bool = True,
    labels: dict[str, str] | None = None,
    participants_tsv: bool = False,
    phenotype_prefix: bool = False,
    drop_events: tuple[str, ...] = ("rating", "word"),
    task: str = "feedback",
) -> Path:
    """Copy the twin's raw data into another valid BIDS layout (the twin's own run is copied to every run).

    Parameters: ``ids`` old → new participant IDs; ``session`` (None: no ses- level); ``runs`` run
    labels (``()``: no run entity); ``nii`` uncompressed images; ``contrast`` of the structural;
    ``inherit`` moves RepetitionTime to a top-level ``task-<task>_bold.json``; ``labels`` renames
    trial types; ``participants_tsv`` keeps it (with bare IDs) or drops it; ``phenotype_prefix`` keeps
    ``sub-`` in phenotype/scs.tsv; ``drop_events`` columns removed (an extra ``response_time`` column is
    always added).
    """
    ids = ids or {"sub-01": "sub-A1", "sub-02": "sub-B2", "sub-03": "sub-C3"}
    dst.mkdir(parents=True)
    shutil.copy(twin / "dataset_description.json", dst)
    scs = read_tsv(twin / "phenotype" / "scs.tsv")
    scs["participant_id"] = [ids[p] if phenotype_prefix else ids[p][4:] for p in scs["participant_id"]]
    (dst / "phenotype").mkdir()
    scs.to_csv(dst / "phenotype" / "scs.tsv", sep="\t", index=False)
    if participants_tsv:
        parts = read_tsv(twin / "participants.tsv")
        parts["participant_id"] = [ids[p][4:] for p in parts["participant_id"]]
        parts.to_csv(dst / "participants.tsv", sep="\t", index=False)
    for old, new in ids.items():
        src = raw_paths(twin, old, task)
        meta = json.loads(src["bold_json"].read_text())
        if inherit:
            (dst / f"task-{task}_bold.json").write_text(
                json.dumps({"RepetitionTime": meta.pop("RepetitionTime")})
            )
        for run in runs or (None,):
            out = raw_paths(dst, new, task, session=session, run=run)
            out["bold"].parent.mkdir(parents=True, exist_ok=True)
            bold = out["bold"].with_suffix("") if nii else out["bold"]
            if nii:
                bold.write_bytes(gzip.decompress(src["bold"].read_bytes()))
            else:
                shutil.copy(src["bold"], bold)
            out["bold_json"].write_text(json.dumps(meta))
            events = read_tsv(src["events"]).drop(columns=list(drop_events))
            events["trial_type"] = events["trial_type"].replace(labels or {})
            events["response_time"] = 0.8
            events.to_csv(out["events"], sep="\t", index=False, na_rep="n/a")
        anat = raw_paths(dst, new, task, session=session)["t2w"]
        anat = anat.with_name(anat.name.replace("_T2w", f"_{contrast}"))
        anat.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src["t2w"], anat)
    return dst


@pytest.fixture()
def broken(tiny_twin, tmp_path):
    """A writable copy of the tiny twin (raw part only)."""
    dst = tmp_path / "copy"
    shutil.copytree(tiny_twin, dst, ignore=shutil.ignore_patterns("derivatives"))
    return dst


@pytest.fixture()
def foreign(tiny_twin, tmp_path):
    return rewrite_layout(tiny_twin, tmp_path / "foreign", labels=LABELS)


def test_twin_passes_and_loads(tiny_twin):
    validate_dataset(tiny_twin)
    ds = load_dataset(tiny_twin)
    assert ds.ids == ["sub-01", "sub-02", "sub-03"]
    assert [len(ds.runs[s]) for s in ds.ids] == [1, 1, 1]
    assert ds.first_run("sub-01").tr == 3.0 and ds.first_run("sub-01").label == ""
    assert len(ds.events("sub-02")) == 15
    assert ds.scs.shape == (3, 27)
    assert ds.structural["sub-01"][0].name == "sub-01_T2w.nii.gz"


def test_foreign_layout_passes_with_its_own_labels(foreign, tiny_twin):
    """Sessions, two .nii runs, T1w, inherited TR, bare phenotype IDs, no participants.tsv, no rating/word."""
    validate_dataset(foreign, conditions=list(LABELS.values()))
    with pytest.raises(ValueError, match=r"unknown condition\(s\) \['face', 'house', 'scrambled'\]"):
        validate_dataset(foreign)  # the paper's labels do not fit this dataset
    ds = load_dataset(foreign, conditions=list(LABELS.values()))
    assert ds.ids == ["sub-A1", "sub-B2", "sub-C3"]
    assert ds.scs["participant_id"].tolist() == ["sub-A1", "sub-B2", "sub-C3"]
    assert [r.label for r in ds.runs["sub-B2"]] == ["ses-pre_run-1", "ses-pre_run-2"]
    assert ds.runs["sub-B2"][1].bold.name == "sub-B2_ses-pre_task-feedback_run-2_bold.nii"
    assert ds.structural["sub-B2"][1] == "T1w"
    plain = load_dataset(tiny_twin)
    events = ds.events("sub-B2")
    assert len(events) == 2 * len(plain.events("sub-02"))
    assert events["run"].tolist() == ["ses-pre_run-1"] * 15 + ["ses-pre_run-2"] * 15
    design = design_summary(ds, conditions=list(LABELS.values()))["dataset"]
    twin_design = design_summary(plain)["dataset"]
    assert design["runs"] == "2" and twin_design["runs"] == "1"
    assert (
        design["events_per_condition"] == "10 / 10 / 10"
        and twin_design["events_per_condition"] == "5 / 5 / 5"
    )
    assert design["structural"].startswith("T1w, ") and design["tr_s"] == "3"
    assert design["female"] == "n/a" and design["participants"] == "3"  # no participants.tsv: no demographics
    assert ratings_table(ds).empty  # rating is optional
    assert motion_table(ds, "sub-A1") == (None, "none")


def test_ratings_over_two_runs_equal_one_run(tiny_twin, tmp_path):
    two = load_dataset(
        rewrite_layout(
            tiny_twin,
            tmp_path / "two",
            drop_events=(),
            participants_tsv=True,
            ids={f"sub-0{i}": f"sub-0{i}" for i in (1, 2, 3)},
        )
    )
    one = load_dataset(tiny_twin)
    r2, r1 = ratings_table(two), ratings_table(one)
    assert np.allclose(r2["rating"], r1["rating"]) and (r2["n"] == 2 * r1["n"]).all()
    assert two.participants["participant_id"].tolist() == [
        "sub-01",
        "sub-02",
        "sub-03",
    ]  # bare IDs in the TSV


def test_plain_layout_variants_pass(tiny_twin, tmp_path):
    """No session, no run entity, .nii.gz, T2w, sidecars beside the runs, sub- in the phenotype."""
    root = rewrite_layout(
        tiny_twin,
        tmp_path / "plain",
        session=None,
        runs=(),
        nii=False,
        contrast="T2w",
        inherit=False,
        phenotype_prefix=True,
        drop_events=("word",),
        participants_tsv=True,
    )
    validate_dataset(root)
    ds = load_dataset(root)
    assert [r.label for r in ds.runs["sub-A1"]] == [""]
    assert set(ratings_table(ds)["trial_type"]) == {"negative", "neutral", "positive"}


def test_every_problem_is_reported_once_with_file_participant_column_rule(broken):
    scs = read_tsv(broken / "phenotype/scs.tsv")
    scs.loc[1, "scs_07"] = 6
    scs.to_csv(broken / "phenotype/scs.tsv", sep="\t", index=False)
    side = broken / "sub-01/func/sub-01_task-feedback_bold.json"
    meta = json.loads(side.read_text())
    del meta["RepetitionTime"]
    side.write_text(json.dumps(meta))
    ev_path = broken / "sub-03/func/sub-03_task-feedback_events.tsv"
    ev = read_tsv(ev_path)
    ev.loc[0, "trial_type"] = "insult"
    ev.loc[2, "rating"] = 5
    ev.to_csv(ev_path, sep="\t", index=False)
    (broken / "sub-02/anat/sub-02_T2w.nii.gz").unlink()
    with pytest.raises(ValueError) as info:
        validate_dataset(broken)
    msg = str(info.value)
    assert "5 problem(s)" in msg
    assert "phenotype/scs.tsv: participant sub-02, column scs_07: value 6 is not an integer 1–5" in msg
    assert (
        "sub-01/func/sub-01_task-feedback_bold.nii.gz: participant sub-01: the sidecar(s) "
        "sub-01_task-feedback_bold.json have no field RepetitionTime"
    ) in msg
    assert "participant sub-03, column trial_type: unknown condition(s) ['insult']" in msg
    assert "participant sub-03, column rating, row 3: value 5 is not an integer 1–4" in msg
    assert "participant sub-02: no structural image" in msg


def test_three_d_bold_missing_columns_and_overlong_events(broken):
    bold = broken / "sub-02/func/sub-02_task-feedback_bold.nii.gz"
    img = nib.load(bold)
    nib.save(nib.Nifti1Image(np.asanyarray(img.dataobj)[..., 0], img.affine), bold)
    ev_path = broken / "sub-01/func/sub-01_task-feedback_events.tsv"
    ev = read_tsv(ev_path)
    ev.loc[len(ev) - 1, "duration"] = 500.0
    ev.drop(columns="trial_type").to_csv(ev_path, sep="\t", index=False)
    with pytest.raises(ValueError) as info:
        validate_dataset(broken)
    msg = str(info.value)
    assert "sub-02_task-feedback_bold.nii.gz: participant sub-02: image is 3-D, must be 4-D" in msg
    assert "participant sub-01: columns missing: trial_type (rule: onset, duration, trial_type" in msg
    assert "last event ends at" in msg and "after the run (180 s" in msg


def test_missing_tables_and_folder(broken):
    (broken / "phenotype/scs.tsv").unlink()
    shutil.rmtree(broken / "sub-03")
    with pytest.raises(ValueError) as info:
        validate_dataset(broken)
    msg = str(info.value)
    assert "phenotype/scs.tsv: missing" in msg and "sub-03/: participant sub-03: folder missing" in msg
    with pytest.raises(ValueError, match="does not exist"):
        validate_dataset(broken / "nowhere")


def test_files_under_other_valid_names_are_never_called_missing(foreign):
    """A run-less, session-less search would call these files missing; the message names what is there."""
    with pytest.raises(ValueError) as info:
        validate_dataset(foreign, task="rest", conditions=list(LABELS.values()))
    msg = str(info.value)
    assert "sub-A1/func/: participant sub-A1: no BOLD run of task 'rest'" in msg
    assert "this participant has task(s) ['feedback'] — set the task parameter" in msg
    assert "missing" not in msg


def test_damaged_gzip_fails_validation(broken):
    """Bytes changed in the middle of a .nii.gz: gzip's CRC fails (nibabel alone may read wrong values)."""
    bold = broken / "sub-02/func/sub-02_task-feedback_bold.nii.gz"
    data = bytearray(bold.read_bytes())
    data[len(data) // 2] ^= 0x01
    bold.write_bytes(bytes(data))
    with pytest.raises(
        ValueError,
        match=r"sub-02_task-feedback_bold.nii.gz: participant sub-02: the compressed "
        r"data are damaged \(BadGzipFile: CRC check failed\)",
    ):
        validate_dataset(broken)
    with pytest.raises(ValueError, match="CRC check failed"):
        read_image(bold)


def test_short_nii_fails(tiny_twin, tmp_path):
    root = rewrite_layout(tiny_twin, tmp_path / "nii", labels=LABELS)
    (run, _) = raw_runs(root, "sub-A1", "feedback")
    run.bold.write_bytes(run.bold.read_bytes()[:-5000])
    with pytest.raises(
        ValueError,
        match=r"sub-A1_ses-pre_task-feedback_run-1_bold.nii: participant sub-A1, "
        r"run ses-pre_run-1: not a readable NIfTI-1 image",
    ):
        validate_dataset(root, conditions=list(LABELS.values()))


def test_units_users_confuse(broken):
    """RepetitionTime in ms, a string TR, voxel sizes in metres and > 10 mm: each names its file."""
    side = broken / "sub-01/func/sub-01_task-feedback_bold.json"
    side.write_text(json.dumps({**json.loads(side.read_text()), "RepetitionTime": 3000}))
    side2 = broken / "sub-02/func/sub-02_task-feedback_bold.json"
    side2.write_text(json.dumps({**json.loads(side2.read_text()), "RepetitionTime": "3"}))
    for sub, zooms in (("sub-02", (0.003, 0.003, 0.004)), ("sub-03", (12.5, 12.5, 16.0))):
        path = broken / f"{sub}/func/{sub}_task-feedback_bold.nii.gz"
        img = nib.load(path)
        img.header.set_zooms(zooms + img.header.get_zooms()[3:])
        nib.save(nib.Nifti1Image(np.asanyarray(img.dataobj), None, img.header), path)
    with pytest.raises(ValueError) as info:
        validate_dataset(broken)
    msg = str(info.value)
    assert (
        "sub-01/func/sub-01_task-feedback_bold.json: participant sub-01: field RepetitionTime is 3000, "
        "which would be 50 minutes; it looks like milliseconds (rule: BIDS gives RepetitionTime in seconds, "
        "e.g. 3)"
    ) in msg
    assert "sub-02_task-feedback_bold.json: participant sub-02: field RepetitionTime is the text '3'" in msg
    assert (
        "sub-02_task-feedback_bold.nii.gz: participant sub-02, header field pixdim[1:4]: voxel size "
        "0.003 × 0.003 × 0.004 mm is implausible — metres or centimetres written as mm?"
    ) in msg
    assert (
        "sub-03_task-feedback_bold.nii.gz: participant sub-03, header field pixdim[1:4]: voxel size "
        "12.5 × 12.5 × 16 mm" in msg
    )


def test_inherited_sidecar_error_names_the_top_level_file(foreign):
    top = foreign / "task-feedback_bold.json"
    top.write_text('{"RepetitionTime": 3.0,,}')
    with pytest.raises(
        ValueError,
        match=r"1 problem\(s\)(.|\n)*task-feedback_bold.json: line 1, column 24: invalid "
        r"JSON \(Expecting property name",
    ):  # once, not once per participant
        validate_dataset(foreign, conditions=list(LABELS.values()))


def test_duplicate_run_files_named(foreign):
    (run, _) = raw_runs(foreign, "sub-C3", "feedback")
    shutil.copy(run.bold, run.bold.with_name(run.bold.name + ".gz"))
    with pytest.raises(
        ValueError,
        match=r"sub-C3_ses-pre_task-feedback_run-1_bold.nii and .*run-1_bold.nii.gz: "
        r"two BOLD files for the same run",
    ):
        validate_dataset(foreign, conditions=list(LABELS.values()))


def test_events_of_each_run_checked(foreign):
    (_, run2) = raw_runs(foreign, "sub-A1", "feedback")
    ev = read_tsv(run2.events)
    ev.loc[4, "onset"] = -1
    ev.to_csv(run2.events, sep="\t", index=False)
    with pytest.raises(
        ValueError,
        match=r"sub-A1_ses-pre_task-feedback_run-2_events.tsv: participant sub-A1, run "
        r"ses-pre_run-2, column onset, row 5: value -1 must be a non-negative",
    ):
        validate_dataset(foreign, conditions=list(LABELS.values()))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("participant_id\tage\r\nsub-01\t20\r\n", {"participant_id": ["sub-01"], "age": [20]}),
        ("\ufeffparticipant_id\tage\nsub-01\t20\n", {"participant_id": ["sub-01"], "age": [20]}),
        (
            "participant_id;age;score\n01;20;2,5\n02;21;3\n;;\n",
            {"participant_id": ["01", "02"], "age": [20, 21], "score": [2.5, 3.0]},
        ),
        ("participant_id,age\nsub-01,20\n", {"participant_id": ["sub-01"], "age": [20]}),
        (" participant_id \t age \nsub-01 \t 20.0\n\n\n", {"participant_id": ["sub-01"], "age": [20.0]}),
        (
            "participant_id\tage\tnote\t\nsub-01\tn/a\tok\t\n",
            {"participant_id": ["sub-01"], "age": [np.nan], "note": ["ok"]},
        ),
        ("onset\tword\n1,5\thässlich\n".encode("latin-1"), {"onset": [1.5], "word": ["hässlich"]}),
    ],
)
def test_read_tsv_spreadsheet_exports(tmp_path, text, expected):
    path = tmp_path / "table.tsv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    table = read_tsv(path)
    pd.testing.assert_frame_equal(table, pd.DataFrame(expected), check_dtype=False)
    if "participant_id" in table:  # IDs stay text ("01" keeps its zero)
        assert not pd.api.types.is_numeric_dtype(table["participant_id"])


@pytest.mark.parametrize(
    "text, message",
    [
        ("", r"table.tsv: the file is empty"),
        ("onset\tduration\n1\t2\t3\n", r"table.tsv: line 2: 3 cells but the header has 2 columns"),
        ("onset\tduration\tonset\n1\t2\t3\n", r"table.tsv: column 'onset' appears twice"),
        ("onset\t\n1\t2\n", r"table.tsv: a column without a header holds values"),
    ],
)
def test_read_tsv_refuses_with_file_line_and_rule(tmp_path, text, message):
    path = tmp_path / "table.tsv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_tsv(path)


def test_a_condition_may_be_absent_from_one_run_not_from_all(foreign):
    runs = raw_runs(foreign, "sub-A1", "feedback")
    for run in runs:
        ev = read_tsv(run.events)
        ev[ev["trial_type"] != "scrambled"].to_csv(run.events, sep="\t", index=False)
        if run is runs[0]:
            validate_dataset(foreign, conditions=list(LABELS.values()))  # run 2 still has it
    with pytest.raises(ValueError) as info:
        validate_dataset(foreign, conditions=list(LABELS.values()))
    assert (
        "sub-A1/ses-pre/func/sub-A1_ses-pre_task-feedback_run-1_events.tsv, sub-A1/ses-pre/func/"
        "sub-A1_ses-pre_task-feedback_run-2_events.tsv: participant sub-A1, column trial_type: condition "
        "'scrambled' never occurs in any run"
    ) in str(info.value)
    assert "1 problem(s)" in str(info.value)


def test_spreadsheet_fallbacks_are_logged(tmp_path, caplog):
    path = tmp_path / "participants.tsv"
    path.write_bytes("participant_id;note\n01;müde\n".encode("latin-1"))
    with caplog.at_level("WARNING", logger="helpers.bids"):
        assert read_tsv(path)["note"].tolist() == ["müde"]
    assert "participants.tsv: not UTF-8 (byte 0xfc on line 2); read as Windows-1252/Latin-1" in caplog.text
    assert "participants.tsv: columns separated by semicolons, not tabs" in caplog.text


def test_the_contract_page_states_the_code_s_limits():
    """book/spec_data_contract.md types a few limits; they must be the code's."""
    from helpers import bids, scs
    from helpers.layout import raw

    text = (Path(__file__).resolve().parents[1] / "book" / "spec_data_contract.md").read_text()
    lo, hi = bids.VOXEL_MM
    assert text.count(f"voxel sizes {lo:g}–{hi:g} mm") == 2
    assert f"a value above {raw._MAX_TR_S:g} (milliseconds" in text
    assert f"rating range, {bids.RATING_RANGE[0]}–{bids.RATING_RANGE[1]} by default" in text
    assert f"answers integers {scs._LOW}–{scs._HIGH} or `n/a`" in text


def test_motion_of_a_later_run_from_fmriprep_confounds(foreign):
    """Confounds of the run asked for, found by its entities in any derivatives/* folder."""
    from helpers.layout import derivative_paths

    ds = load_dataset(foreign, conditions=list(LABELS.values()))
    run2 = ds.runs["sub-B2"][1]
    path = derivative_paths(
        foreign / "derivatives" / "fmriprep", "sub-B2", "feedback", session="pre", run="2"
    )
    path["confounds"].parent.mkdir(parents=True)
    pd.DataFrame({"trans_x": [0.0, 0.1], "framewise_displacement": [np.nan, 0.2]}).to_csv(
        path["confounds"], sep="\t", index=False, na_rep="n/a"
    )
    motion, source = motion_table(ds, "sub-B2", run2)
    assert source == path["confounds"].relative_to(foreign).as_posix()
    assert source.endswith("ses-pre/func/sub-B2_ses-pre_task-feedback_run-2_desc-confounds_timeseries.tsv")
    assert motion["trans_x"].tolist() == [0.0, 0.1] and np.isnan(motion["framewise_displacement"][0])
    assert motion_table(ds, "sub-B2") == (None, "none")  # run 1 has no confounds


def test_events_from_a_spreadsheet_validate_and_model_as_the_original(broken):
    """Events saved by a spreadsheet (semicolons, decimal commas, CRLF): validated, and read by the first
    level with the same onsets as the original."""
    from helpers.firstlevel import read_events

    path = broken / "sub-01/func/sub-01_task-feedback_events.tsv"
    original = read_events(path, list(LABELS))
    table = read_tsv(path).assign(onset=lambda t: t["onset"] + 0.25)
    text = table.to_csv(sep=";", index=False, lineterminator="\r\n", na_rep="n/a", decimal=",")
    path.write_bytes(text.encode("utf-8"))
    assert "0,25;" in text
    validate_dataset(broken)
    shifted = read_events(path, list(LABELS))
    assert np.allclose(shifted["onset"], original["onset"] + 0.25)
    assert shifted["trial_type"].tolist() == original["trial_type"].tolist()


def test_sample_summary_reports_the_sample_as_a_journal_would():
    from helpers.bids import sample_summary

    table = pd.DataFrame(
        {
            "participant_id": ["sub-01", "sub-02", "sub-03", "sub-04"],
            "age": [18, 20, "n/a", 25],
            "sex": ["F", "male", "female", "M"],
        }
    )
    got = sample_summary(table)["value"].to_dict()
    assert got == {
        "Participants": "4",
        "Women": "2 (50 %)",
        "Age, M (SD)": "21.0 (3.6)",
        "Age range": "18–25",
    }
    bare = sample_summary(table[["participant_id"]])["value"].to_dict()
    assert bare == {"Participants": "4", "Women": "n/a", "Age, M (SD)": "n/a", "Age range": "n/a"}
