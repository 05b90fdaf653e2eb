"""helpers.layout.raw / .entities: BIDS names, the inheritance principle and run discovery.

Real-world layouts come from bids-standard/bids-examples (tests/data/bids_examples, see its README);
the expected values below were read off those files by hand (and agree with pybids 0.22's
``BIDSLayout.get_metadata`` on all 412 BOLD runs of the six full datasets, checked once when the
module was written).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.layout import raw_paths, raw_runs, structural
from helpers.layout.entities import inherited_metadata, nearest_file, parse_entities, read_json
from helpers.layout.raw import RawRun, near_misses, participants, phenotype_file

EXAMPLES = Path(__file__).parent / "data" / "bids_examples"

# dataset, task, labels of sub-01's runs, their TRs, first run's events (relative), structural (relative)
CASES = [
    (
        "ds001",
        "balloonanalogrisktask",
        ["run-01", "run-02", "run-03"],
        [2.0] * 3,
        "sub-01/func/sub-01_task-balloonanalogrisktask_run-01_events.tsv",
        "sub-01/anat/sub-01_T1w.nii.gz",
    ),
    (
        "ds005",
        "mixedgamblestask",
        ["run-01", "run-02", "run-03"],
        [2.0] * 3,
        "sub-01/func/sub-01_task-mixedgamblestask_run-01_events.tsv",
        "sub-01/anat/sub-01_T1w.nii.gz",
    ),
    (
        "ds114",
        "fingerfootlips",
        ["ses-retest", "ses-test"],
        [2.5, 2.5],
        "task-fingerfootlips_events.tsv",
        "sub-01/ses-retest/anat/sub-01_ses-retest_T1w.nii.gz",
    ),
    (
        "ds000117",
        "facerecognition",
        [f"ses-mri_run-{i:02d}" for i in range(1, 10)],
        [2.0] * 9,
        "sub-01/ses-mri/func/sub-01_ses-mri_task-facerecognition_run-01_events.tsv",
        "sub-01/ses-mri/anat/sub-01_ses-mri_acq-mprage_T1w.nii.gz",
    ),
    (
        "7t_trt",
        "rest",
        [
            "ses-1_acq-fullbrain_run-1",
            "ses-1_acq-fullbrain_run-2",
            "ses-1_acq-prefrontal",
            "ses-2_acq-fullbrain_run-1",
            "ses-2_acq-fullbrain_run-2",
            "ses-2_acq-prefrontal",
        ],
        [3.0, 3.0, 4.0, 3.0, 3.0, 4.0],
        None,
        "sub-01/ses-1/anat/sub-01_ses-1_T1w.nii.gz",
    ),
    (
        "synthetic",
        "nback",
        ["ses-01_run-01", "ses-01_run-02", "ses-02_run-01", "ses-02_run-02"],
        [2.5] * 4,
        "task-nback_events.tsv",
        "sub-01/ses-01/anat/sub-01_ses-01_T1w.nii",
    ),
]


@pytest.mark.parametrize("dataset, task, labels, trs, events, anat", CASES, ids=[c[0] for c in CASES])
def test_bids_examples_runs(dataset, task, labels, trs, events, anat):
    root = EXAMPLES / dataset
    assert participants(root) == ["sub-01", "sub-02"]
    runs = raw_runs(root, "sub-01", task)
    assert [r.label for r in runs] == labels
    assert [r.tr for r in runs] == trs
    assert all(r.participant == "sub-01" and r.task == task for r in runs)
    first = runs[0]
    assert (first.events.relative_to(root).as_posix() if first.events else None) == events
    assert first.bold.is_file() and parse_entities(first.bold)["suffix"] == "bold"
    path, contrast = structural(root, "sub-01")
    assert (path.relative_to(root).as_posix(), contrast) == (anat, "T1w")
    assert raw_runs(root, "sub-01", "no-such-task") == []


def test_bids_examples_entities_and_acq_metadata():
    runs = raw_runs(EXAMPLES / "7t_trt", "sub-02", "rest")
    prefrontal = [r for r in runs if r.acq == "prefrontal"]
    assert [(r.session, r.acq, r.run) for r in prefrontal] == [
        ("1", "prefrontal", None),
        ("2", "prefrontal", None),
    ]
    assert prefrontal[0].sources["RepetitionTime"].name == "task-rest_acq-prefrontal_bold.json"
    ds117 = raw_runs(EXAMPLES / "ds000117", "sub-01", "facerecognition")[0]
    top = json.loads((EXAMPLES / "ds000117" / "task-facerecognition_bold.json").read_text())
    assert ds117.metadata == top  # no run-level sidecar: everything inherited from the top level
    anat, _ = structural(EXAMPLES / "ds000117", "sub-01")
    meta, sources = inherited_metadata(anat, EXAMPLES / "ds000117")
    # the top-level acq-mprage_T1w.json, overridden field by field by the participant's own sidecar
    own = json.loads(anat.with_name("sub-01_ses-mri_acq-mprage_T1w.json").read_text())
    common = json.loads((EXAMPLES / "ds000117" / "acq-mprage_T1w.json").read_text())
    assert meta == {**common, **own}
    assert {p.name for p in sources.values()} <= {"acq-mprage_T1w.json", "sub-01_ses-mri_acq-mprage_T1w.json"}


@pytest.mark.parametrize(
    "name, expected",
    [
        (
            "sub-01_ses-2_task-faces_acq-mb_run-01_bold.nii.gz",
            {
                "sub": "01",
                "ses": "2",
                "task": "faces",
                "acq": "mb",
                "run": "01",
                "suffix": "bold",
                "extension": ".nii.gz",
            },
        ),
        (
            "task-rest_acq-fullbrain_bold.json",
            {"task": "rest", "acq": "fullbrain", "suffix": "bold", "extension": ".json"},
        ),
        ("sub-A1_T1w.nii", {"sub": "A1", "suffix": "T1w", "extension": ".nii"}),
        ("participants.tsv", {"suffix": "participants", "extension": ".tsv"}),
        ("dataset_description.json", None),
        ("sub-01_run-1_run-2_bold.nii.gz", None),
        ("sub-01_task-a b_bold.nii.gz", None),
        ("sub-01 task-x_bold.nii.gz", None),
    ],
)
def test_parse_entities(name, expected):
    assert parse_entities(name) == expected


def _touch(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _json(path: Path, value: dict) -> Path:
    return _touch(path, json.dumps(value))


def test_inheritance_most_specific_wins(tmp_path):
    """Top level < participant level < run level; a sidecar of another task or run never applies."""
    root = tmp_path
    bold = _touch(root / "sub-01/ses-1/func/sub-01_ses-1_task-x_run-2_bold.nii.gz")
    _json(root / "task-x_bold.json", {"RepetitionTime": 2.0, "EchoTime": 0.03, "TaskName": "x"})
    _json(root / "task-x_acq-mb_bold.json", {"RepetitionTime": 0.8})  # other acq: not applicable
    _json(root / "task-y_bold.json", {"RepetitionTime": 9.0})  # other task
    _json(root / "sub-01/sub-01_task-x_bold.json", {"EchoTime": 0.025})
    _json(
        root / "sub-01/ses-1/func/sub-01_ses-1_task-x_run-1_bold.json", {"RepetitionTime": 7.0}
    )  # other run
    _json(root / "sub-01/ses-1/func/sub-01_ses-1_task-x_run-2_bold.json", {"SliceTiming": [0, 1]})
    _json(root / "task-x_events.json", {"RepetitionTime": 5.0})  # other suffix
    meta, sources = inherited_metadata(bold, root)
    assert meta == {"RepetitionTime": 2.0, "EchoTime": 0.025, "TaskName": "x", "SliceTiming": [0, 1]}
    assert sources["RepetitionTime"] == root / "task-x_bold.json"
    assert sources["EchoTime"] == root / "sub-01/sub-01_task-x_bold.json"
    # two applicable files at one level (allowed before BIDS 1.7): the one with more entities wins
    _json(root / "task-x_run-2_bold.json", {"RepetitionTime": 2.5})
    assert inherited_metadata(bold, root)[0]["RepetitionTime"] == 2.5


def test_events_nearest_file(tmp_path):
    root = tmp_path
    b1 = _touch(root / "sub-01/func/sub-01_task-x_run-1_bold.nii")
    b2 = _touch(root / "sub-01/func/sub-01_task-x_run-2_bold.nii")
    top = _touch(root / "task-x_events.tsv", "onset\tduration\n")
    own = _touch(root / "sub-01/func/sub-01_task-x_run-2_events.tsv", "onset\tduration\n")
    _touch(root / "sub-01/func/sub-01_task-y_run-1_events.tsv")  # another task's events never apply
    assert nearest_file(b1, root, "events", ".tsv") == top
    assert nearest_file(b2, root, "events", ".tsv") == own
    top.unlink()
    assert nearest_file(b1, root, "events", ".tsv") is None


def test_runs_sorted_numerically_and_nii(tmp_path):
    root = tmp_path
    _json(root / "task-x_bold.json", {"RepetitionTime": 1.5})
    for run in ("10", "2", "1"):
        _touch(root / f"sub-01/func/sub-01_task-x_run-{run}_bold.nii")
    runs = raw_runs(root, "01", "x")  # the bare label works too
    assert [r.run for r in runs] == ["1", "2", "10"]
    assert [r.label for r in runs] == ["run-1", "run-2", "run-10"]
    assert all(r.bold.suffix == ".nii" and r.tr == 1.5 and r.events is None for r in runs)


def test_single_plain_run_label_is_empty(tmp_path):
    _touch(tmp_path / "sub-01/func/sub-01_task-x_bold.nii.gz")
    (run,) = raw_runs(tmp_path, "sub-01", "x")
    assert (run.label, run.session, run.acq, run.run) == ("", None, None, None)


def test_two_files_for_one_run_refused(tmp_path):
    a = _touch(tmp_path / "sub-01/func/sub-01_task-x_run-1_bold.nii.gz")
    b = _touch(tmp_path / "sub-01/func/sub-01_task-x_run-1_bold.nii")
    with pytest.raises(ValueError, match="two BOLD files for the same run") as err:
        raw_runs(tmp_path, "sub-01", "x")
    assert a.name in str(err.value) and b.name in str(err.value)


def test_multi_echo_refused(tmp_path):
    _touch(tmp_path / "sub-01/func/sub-01_task-x_echo-1_bold.nii.gz")
    with pytest.raises(ValueError, match=r"sub-01_task-x_echo-1_bold.nii.gz: entity echo-1: multi-echo"):
        raw_runs(tmp_path, "sub-01", "x")


@pytest.mark.parametrize(
    "value, message",
    [
        (3000, r"task-x_bold.json: field RepetitionTime is 3000.*milliseconds.*e\.g\. 3\b"),
        ("3", r"task-x_bold.json: field RepetitionTime is the text '3', not a number.*remove the quotes"),
        (0, r"task-x_bold.json: field RepetitionTime is 0 \(rule: a positive number of seconds\)"),
        (True, r"task-x_bold.json: field RepetitionTime is True"),
    ],
)
def test_repetition_time_units_and_types(tmp_path, value, message):
    _json(tmp_path / "task-x_bold.json", {"RepetitionTime": value})
    _touch(tmp_path / "sub-01/func/sub-01_task-x_bold.nii.gz")
    (run,) = raw_runs(tmp_path, "sub-01", "x")
    with pytest.raises(ValueError, match=message):
        _ = run.tr


def test_repetition_time_missing_names_the_bold(tmp_path):
    bold = _touch(tmp_path / "sub-01/func/sub-01_task-x_bold.nii.gz")
    (run,) = raw_runs(tmp_path, "sub-01", "x")
    with pytest.raises(ValueError, match="no JSON sidecar applies") as err:
        _ = run.tr
    assert str(err.value).startswith(str(bold))
    _json(tmp_path / "task-x_bold.json", {"TaskName": "x"})
    (run,) = raw_runs(tmp_path, "sub-01", "x")
    with pytest.raises(ValueError, match="the sidecar\\(s\\) task-x_bold.json have no field RepetitionTime"):
        _ = run.tr


def test_json_syntax_error_names_line_and_column(tmp_path):
    path = _touch(tmp_path / "task-x_bold.json", '{\n  "RepetitionTime": 2.0,\n  "TaskName": "x",\n}\n')
    with pytest.raises(ValueError, match=r"task-x_bold.json: line 4, column 1: invalid JSON"):
        read_json(path)
    _touch(tmp_path / "sub-01/func/sub-01_task-x_bold.nii.gz")
    with pytest.raises(ValueError, match="line 4, column 1"):  # while finding runs, too
        raw_runs(tmp_path, "sub-01", "x")
    _touch(path, "\ufeff" + json.dumps({"RepetitionTime": 2}))  # a BOM from a Windows editor is fine
    assert read_json(path) == {"RepetitionTime": 2}


def test_participants_without_tsv_and_without_prefix(tmp_path):
    for sub in ("sub-02", "sub-10", "sub-01"):
        (tmp_path / sub).mkdir()
    (tmp_path / "sub-03.txt").write_text("")
    assert participants(tmp_path) == ["sub-01", "sub-02", "sub-10"]
    _touch(tmp_path / "participants.tsv", "participant_id\tage\n10\t30\nsub-01\t22\n10\t30\n")
    assert participants(tmp_path) == ["sub-10", "sub-01"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no participants.tsv and no sub-\\* folders"):
        participants(empty)


def test_structural_prefers_t2w_and_first_session(tmp_path):
    _touch(tmp_path / "sub-01/ses-2/anat/sub-01_ses-2_T1w.nii.gz")
    _touch(tmp_path / "sub-01/ses-1/anat/sub-01_ses-1_T1w.nii")
    assert structural(tmp_path, "sub-01") == (tmp_path / "sub-01/ses-1/anat/sub-01_ses-1_T1w.nii", "T1w")
    _touch(tmp_path / "sub-01/ses-2/anat/sub-01_ses-2_T2w.nii.gz")
    assert structural(tmp_path, "sub-01") == (tmp_path / "sub-01/ses-2/anat/sub-01_ses-2_T2w.nii.gz", "T2w")
    _touch(tmp_path / "sub-02/anat/sub-03_T1w.nii.gz")  # another participant's name in the folder: not theirs
    assert structural(tmp_path, "sub-02") is None


def test_phenotype_file_message_lists_folder(tmp_path):
    _touch(tmp_path / "phenotype/SCS.csv")
    with pytest.raises(ValueError, match=r"phenotype/scs.tsv: missing .*it holds SCS.csv"):
        phenotype_file(tmp_path)
    path = _touch(tmp_path / "phenotype/scs.tsv")
    assert phenotype_file(tmp_path) == path


@pytest.mark.parametrize("entities", [{}, {"session": "1", "run": "2"}, {"acq": "mb", "run": "01"}])
def test_raw_paths_round_trip(tmp_path, entities):
    """What raw_paths names, raw_runs and structural find again with the same entities."""
    paths = raw_paths(tmp_path, "sub-07", "feedback", **entities)
    for key in ("bold", "events", "t2w"):
        _touch(paths[key])
    _json(paths["bold_json"], {"RepetitionTime": 3.0})
    (run,) = raw_runs(tmp_path, "sub-07", "feedback")
    assert run == RawRun(
        "sub-07",
        "feedback",
        entities.get("session"),
        entities.get("acq"),
        entities.get("run"),
        paths["bold"],
        paths["events"],
        {},
    )
    assert run.tr == 3.0
    assert structural(tmp_path, "sub-07") == (paths["t2w"], "T2w")
    if "session" in entities:
        assert paths["t2w"].name == "sub-07_ses-1_T2w.nii.gz" and paths["bold"].parent.parent.name == "ses-1"


@pytest.mark.parametrize(
    "rel, task, why",
    [
        ("sub-01/anat/sub-01_T1W.nii.gz", None, "suffix 'T1W' (rule: T2w or T1w, with this capitalisation)"),
        ("sub-01/anat/sub-01_T1w.img", None, "extension '.img' (rule: .nii or .nii.gz)"),
        ("sub-01/anat/sub-1_T1w.nii.gz", None, "names participant sub-1 (rule: files of sub-01 are named"),
        ("sub-01/func/sub-01_T2w.nii.gz", None, "in sub-01/func/ (rule: in sub-01/[ses-<s>/]anat/)"),
        ("sub-01/anat/sub-01_task-x_bold.nii.gz", "x", "in sub-01/anat/ (rule: in sub-01/[ses-<s>/]func/)"),
        ("sub-01/func/sub-01_task_x_bold.nii.gz", "x", "not a BIDS name"),
        ("sub-01/func/sub-01_task-X_bold.nii.gz", "x", "task 'X', not 'x' (the task parameter must match"),
    ],
)
def test_near_misses_say_why_a_file_was_not_taken(tmp_path, rel, task, why):
    _touch(tmp_path / rel)
    _touch(tmp_path / "sub-01/anat/sub-01_T1w.json")  # a sidecar is never a near miss
    finder = structural if task is None else (lambda root, sub: raw_runs(root, sub, task) or None)
    assert finder(tmp_path, "sub-01") is None
    (miss,) = near_misses(tmp_path, "sub-01", task)
    assert miss.startswith(f"{rel}: {why}")


def test_repetition_time_with_one_sidecar_path(tmp_path):
    """Callers with one known sidecar (derivatives) pass its path instead of the sources mapping."""
    from helpers.layout.raw import repetition_time

    side, bold = tmp_path / "x_bold.json", tmp_path / "x_bold.nii.gz"
    assert repetition_time({"RepetitionTime": 2}, side, bold) == 2.0
    with pytest.raises(ValueError, match=r"x_bold.json: field RepetitionTime is 2000, .*milliseconds"):
        repetition_time({"RepetitionTime": 2000}, side, bold)
    with pytest.raises(ValueError, match=r"x_bold.nii.gz: no JSON sidecar applies"):
        repetition_time({}, None, bold)
