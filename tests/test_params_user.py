"""Parameters that follow the data (helpers.params.resolve_params) and params files typed by hand."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers.params import describe_data, load_params_file, resolve_params


# --------------------------------------------------------------------------- params files
@pytest.mark.parametrize(
    "text, exc, match",
    [
        (
            "bids_dir: /data\n\toutput_dir: out\n",
            ValueError,
            r"p.yml, line 2: the line is indented with a tab",
        ),
        (
            "bids_dir: /data\n output_dir: out\n",
            ValueError,
            r"p.yml, line 2, column \d+: not valid YAML .*rule: one 'name: value'",
        ),
        ("conditions: [face, house\ntask: x\n", ValueError, r"p.yml, line \d, column \d+: not valid YAML"),
        (
            "bids_dir: /data\nconditions: face, house\n",
            TypeError,
            r"p.yml, line 2: parameter 'conditions' = 'face, house' is one string, expected list of str "
            r"\(write a list: \[face, house\]\)",
        ),
        ("conditions: face\n", TypeError, r"line 1: parameter 'conditions' = 'face' is one string"),
        (
            "task: feedback\nseed: 1\ntask: faces\n",
            ValueError,
            r"line 3: 'task' is given twice \(also on line 1\)",
        ),
        ("fd_threshold: 0.5 mm\n", TypeError, r"line 1: parameter 'fd_threshold' = '0.5 mm' has type str"),
        ("- bids_dir: /data\n", ValueError, r"expected a mapping of name: value, got list"),
    ],
)
def test_a_params_file_typed_by_hand_gets_file_line_and_rule(tmp_path, text, exc, match):
    f = tmp_path / "p.yml"
    f.write_text(text)
    with pytest.raises(exc, match=match):
        load_params_file(f)


def test_a_good_params_file_reads_back(tmp_path):
    f = tmp_path / "p.yml"
    f.write_text("# mine\nbids_dir: /data  # comment\nconditions: [face, house, scrambled]\n")
    assert load_params_file(f) == {"bids_dir": "/data", "conditions": ["face", "house", "scrambled"]}
    windows = tmp_path / "w.yml"  # saved by a Windows editor: byte-order mark, CRLF line ends
    windows.write_bytes("\ufeffbids_dir: D:/data\r\nconditions: [face, house]\r\n".encode("utf-8"))
    assert load_params_file(windows) == {"bids_dir": "D:/data", "conditions": ["face", "house"]}
    (tmp_path / "e.yml").write_text("# only comments\n")
    assert load_params_file(tmp_path / "e.yml") == {}


# --------------------------------------------------------------------------- resolving
def test_the_twin_gets_the_twin_defaults(tmp_path):
    p = resolve_params({"twin_participants": 8}, tmp_path)
    assert p["bids_dir"] == "build/data/twin"
    assert p["derivatives_dir"] == "build/data/twin/derivatives/twin-fmriprep"
    assert p["example_participant"] == "sub-01" and p["exclusions_file"] is None


def _raw_copy(twin: Path, dest: Path) -> Path:
    """The tiny twin without any derivatives, participants renamed: a raw dataset nobody here wrote."""
    shutil.copytree(twin, dest, ignore=shutil.ignore_patterns("derivatives"))
    for old, new in (("sub-01", "sub-pilot07"), ("sub-02", "sub-pilot09"), ("sub-03", "sub-pilot11")):
        for f in sorted((dest / old).rglob("*"), reverse=True):
            if f.is_file():
                f.rename(f.with_name(f.name.replace(old, new)))
        (dest / old).rename(dest / new)
    (dest / "participants.tsv").unlink()
    (dest / "dataset_description.json").write_text('{"Name": "pilot", "BIDSVersion": "1.9.0"}')
    return dest


def test_raw_user_data_reads_our_preprocessing_and_its_own_participants(tiny_twin, tmp_path):
    bids = _raw_copy(tiny_twin, tmp_path / "study")
    p = resolve_params({"bids_dir": str(bids), "output_dir": "build/study"}, tmp_path)
    assert p["preproc_dir"] == "build/study/preproc"
    assert p["derivatives_dir"] == p["preproc_dir"]  # never the twin's
    assert "run_preprocessing" not in p  # the chapter's default: it runs
    assert p["example_participant"] == "sub-pilot07"  # the first one found
    assert p["task"] == "feedback"
    assert p["exclusions_file"] is None and p["twin_config"] is None
    assert describe_data(bids, p["derivatives_dir"]).startswith(f"the dataset at {bids}")


def test_an_example_participant_the_data_do_not_have_is_named(tiny_twin, tmp_path):
    bids = _raw_copy(tiny_twin, tmp_path / "study")
    with pytest.raises(
        ValueError,
        match=r"parameter 'example_participant' = 'sub-01' is not a participant "
        r"of .*\(sub-pilot07, sub-pilot09, sub-pilot11\)",
    ):
        resolve_params({"bids_dir": str(bids), "example_participant": "sub-01"}, tmp_path)


def test_fmriprep_derivatives_inside_the_dataset_skip_preprocessing(tiny_twin, tmp_path):
    bids = tmp_path / "study"
    shutil.copytree(tiny_twin, bids)
    p = resolve_params({"bids_dir": "study"}, tmp_path)
    assert p["derivatives_dir"] == "study/derivatives/twin-fmriprep"
    assert p["run_preprocessing"] is False
    assert p["output_dir"] == "build/studies/study"


@pytest.mark.parametrize(
    "key, value",
    [
        ("derivatives_dir", "build/data/twin/derivatives/twin-fmriprep"),
        ("output_dir", "build/outputs"),
        ("preproc_dir", "build/data/preproc/"),
        ("bids_dir", "build/data/twin-hard"),
    ],
)
def test_user_data_never_meets_a_twin_path(tiny_twin, tmp_path, key, value):
    bids = _raw_copy(tiny_twin, tmp_path / "study")
    (tmp_path / "build/data/twin-hard").mkdir(parents=True)
    params = {"bids_dir": str(bids), key: value}
    with pytest.raises(ValueError, match=f"parameter '{key}' = .* points into the digital twin's location"):
        resolve_params(params, tmp_path)


def test_user_data_without_a_dataset_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no bids_dir and no twin_participants"):
        resolve_params({"output_dir": "x"}, tmp_path)
    with pytest.raises(ValueError, match="parameter 'bids_dir' = 'nowhere': no such folder"):
        resolve_params({"bids_dir": "nowhere"}, tmp_path)
