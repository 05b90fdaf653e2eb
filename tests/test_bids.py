"""Tests of helpers.bids: loading by entities and validation with one complete error report."""

from __future__ import annotations

import json
import shutil

import nibabel as nib
import numpy as np
import pytest

from helpers.bids import load_dataset, participant_files, read_tsv, validate_dataset


@pytest.fixture()
def broken(tiny_twin, tmp_path):
    """A writable copy of the tiny twin (raw part only)."""
    dst = tmp_path / "copy"
    shutil.copytree(tiny_twin, dst, ignore=shutil.ignore_patterns("derivatives"))
    return dst


def test_twin_passes_and_loads(tiny_twin):
    validate_dataset(tiny_twin)
    ds = load_dataset(tiny_twin)
    assert ds.ids == ["sub-01", "sub-02", "sub-03"]
    assert ds.tr == {s: 3.0 for s in ds.ids}
    assert len(ds.events("sub-02")) == 15
    assert ds.scs.shape == (3, 27)
    assert participant_files(tiny_twin, "sub-01")["anat"].name == "sub-01_T2w.nii.gz"


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
    assert "sub-01/func/sub-01_task-feedback_bold.json: participant sub-01, field RepetitionTime" in msg
    assert "participant sub-03, column trial_type: unknown condition(s) ['insult']" in msg
    assert "participant sub-03, column rating, row 3: value 5 is not an integer 1–4" in msg
    assert "participant sub-02: structural missing" in msg


def test_three_d_bold_missing_columns_and_overlong_events(broken):
    bold = broken / "sub-02/func/sub-02_task-feedback_bold.nii.gz"
    img = nib.load(bold)
    nib.save(nib.Nifti1Image(np.asanyarray(img.dataobj)[..., 0], img.affine), bold)
    ev_path = broken / "sub-01/func/sub-01_task-feedback_events.tsv"
    ev = read_tsv(ev_path)
    ev.loc[len(ev) - 1, "duration"] = 500.0
    ev.drop(columns="word").to_csv(ev_path, sep="\t", index=False)
    parts = read_tsv(broken / "participants.tsv").drop(columns="sex")
    parts.to_csv(broken / "participants.tsv", sep="\t", index=False)
    with pytest.raises(ValueError) as info:
        validate_dataset(broken)
    msg = str(info.value)
    assert "participants.tsv: column sex missing" in msg
    assert "sub-02_task-feedback_bold.nii.gz: participant sub-02: image is 3-D, must be 4-D" in msg
    assert "participant sub-01: columns missing: word" in msg
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
