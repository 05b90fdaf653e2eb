"""The connectivity chapter's worked example (:func:`helpers.firstlevel.worked_example`)."""

from __future__ import annotations

import pytest
from foreign import TASK, make_foreign

from helpers import firstlevel as fl

CONDITIONS = ["face", "house", "scrambled"]


@pytest.fixture(scope="module")
def split_study(tiny_twin, tmp_path_factory):
    """The tiny twin (60 scans a run) in a foreign layout; sub-03, renamed sub-s11 (first in sorted
    order), cut into two runs of fewer scans than CONN's 30 regressors."""
    study = tmp_path_factory.mktemp("worked") / "study"
    cuts = make_foreign(tiny_twin, study, split=("sub-03",))
    assert cuts["sub-03"].scans < 30
    return study, study / "derivatives" / "fmriprep", cuts["sub-03"].scans


def test_the_first_participant_is_the_example_when_it_can_be_denoised(tiny_twin):
    deriv = tiny_twin / "derivatives" / "twin-fmriprep"
    worked = fl.worked_example(
        tiny_twin, deriv, ["sub-02", "sub-01"], "feedback", ["negative", "neutral", "positive"]
    )
    assert worked.files.participant_id == "sub-02" and worked.passed_over == {}
    assert len(worked.roi_ts) == len(worked.design) == 60
    assert fl.passed_over_sentence(worked) == ""


def test_a_participant_whose_run_cannot_carry_the_design_is_passed_over_with_its_reason(split_study):
    study, deriv, scans = split_study
    participants = fl.list_participants(study, deriv)
    assert participants[0] == "sub-s11"
    worked = fl.worked_example(study, deriv, participants, TASK, CONDITIONS)
    assert worked.files.participant_id == "sub-s37"
    assert list(worked.passed_over) == ["sub-s11"]
    assert f"30 regressors for {scans} scans" in worked.passed_over["sub-s11"]
    assert worked.passed_over["sub-s11"].startswith("ValueError: ")
    sentence = fl.passed_over_sentence(worked)
    assert sentence.startswith("sub-s11 cannot serve as the worked example (ValueError: ")
    assert sentence.endswith(
        "The figures of this section show sub-s37, the first participant whose runs can all be denoised."
    )


def test_no_participant_that_can_serve_is_an_error_naming_each(split_study, tmp_path):
    study, deriv, scans = split_study
    with pytest.raises(
        ValueError,
        match=rf"runs can all be denoised \(sub-s11: ValueError: .*{scans} scans.*; sub-nobody: ",
    ):
        fl.worked_example(study, deriv, ["sub-s11", "sub-nobody"], TASK, CONDITIONS)
    with pytest.raises(ValueError, match="no participants in .* to choose the worked example from"):
        fl.worked_example(study, deriv, [], TASK, CONDITIONS)


def test_the_example_participant_parameter_is_tried_first(split_study):
    study, deriv, _ = split_study
    participants = fl.list_participants(study, deriv)
    worked = fl.worked_example(study, deriv, participants, TASK, CONDITIONS, first="sub-s74")
    assert worked.files.participant_id == "sub-s74" and worked.passed_over == {}
    worked = fl.worked_example(study, deriv, ["sub-s37", "sub-s74"], TASK, CONDITIONS, first="sub-s99")
    assert worked.files.participant_id == "sub-s37"
    assert list(worked.passed_over) == ["sub-s99"] and "sub-s99" in worked.passed_over["sub-s99"]
