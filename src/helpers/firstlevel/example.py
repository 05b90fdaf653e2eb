"""The connectivity chapter's worked example: the participant whose design and denoising it shows.

The chapter draws one participant's denoising design, condition weights, gPPI variance inflation
and carpet before and after denoising, from its first run. That participant must be one the stage
can denoise: with ``on_error = "skip"`` the stage leaves out a participant whose runs cannot carry
the design (for instance a run with fewer scans than regressors), and the figures must neither fail
on it nor show a participant the analysis left out. :func:`worked_example` takes the first
participant, in the listed order, every one of whose runs loads and can be denoised; the page
says who was passed over and why (:func:`passed_over_sentence`). The exclusion itself is made, and
recorded, by the stage alone (:func:`helpers.firstlevel.run_connectivity`).
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from ..denoise import regress_and_filter
from ..execution import failure_reason
from .inputs import ParticipantFiles, find_participant_files
from .signals import load_runs

__all__ = ["WorkedExample", "worked_example", "passed_over_sentence"]


class WorkedExample(NamedTuple):
    """One participant's first run, ready for the chapter's figures.

    ``files`` (every run), ``roi_ts`` (scans × ROIs), ``events``, ``design`` (the denoising design
    without constant and trend) and ``passed_over`` (participant → reason, for those listed before it
    that could not serve).
    """

    files: ParticipantFiles
    roi_ts: pd.DataFrame
    events: pd.DataFrame
    design: pd.DataFrame
    passed_over: dict


def worked_example(
    bids_dir, derivatives_dir, participants, task: str, conditions, smoothed: bool = False, first=None
) -> WorkedExample:
    """The first of ``participants`` every one of whose runs loads and can be denoised.

    Each participant in turn: its files are located (:func:`find_participant_files`), every run's ROI
    series and design built (:func:`load_runs`) and regressed and filtered
    (:func:`helpers.denoise.regress_and_filter`), the stage's first steps. A participant for whom any
    of this raises is passed over, with the reason (:func:`helpers.execution.failure_reason`). The
    stage may still leave the example out by a later rule (a condition's residual degrees of
    freedom, outlier scans); only the stage's exclusions count (``exclusions.tsv``).

    Parameters
    ----------
    bids_dir, derivatives_dir : path
        The raw dataset (events) and the fMRIPrep-style derivatives.
    participants : sequence of str
        Candidates, in the order to try them (the chapter passes them sorted).
    task : str
        BIDS task label.
    conditions : sequence of str
        Modelled conditions.
    smoothed : bool, default False
        Read the smoothed images (as the stage's ``smoothed``).
    first : str or None, default None
        The participant to try before the others (the ``example_participant`` parameter); None: none.

    Returns
    -------
    WorkedExample

    Raises
    ------
    ValueError
        ``participants`` is empty, or none of them can serve; the message gives each one's reason.
    """
    if not participants:
        raise ValueError(
            f"worked_example: no participants in {derivatives_dir} to choose the worked example from"
        )
    passed_over = {}
    order = [first, *(p for p in participants if p != first)] if first else list(participants)
    for participant in order:
        try:
            files = find_participant_files(bids_dir, derivatives_dir, participant, task, smoothed=smoothed)
            runs = load_runs(files, conditions, rois=None)
            for run in runs:
                regress_and_filter(run.roi_ts, run.full, run.files.tr)
        except Exception as err:  # any failure passes the participant over; the reason is shown
            passed_over[participant] = failure_reason(err)
            continue
        return WorkedExample(files, runs[0].roi_ts, runs[0].events, runs[0].full, passed_over)
    reasons = "; ".join(f"{p}: {why}" for p, why in passed_over.items())
    raise ValueError(f"worked_example: no participant's runs can all be denoised ({reasons})")


def passed_over_sentence(example: WorkedExample) -> str:
    """Markdown naming who could not be the worked example and why; "" when it is the first listed.

    Parameters
    ----------
    example : WorkedExample

    Returns
    -------
    str
    """
    if not example.passed_over:
        return ""
    reasons = "; ".join(
        f"{p} cannot serve as the worked example ({why})" for p, why in example.passed_over.items()
    )
    return (
        f"{reasons}. The figures of this section show "
        f"{example.files.participant_id}, the first participant whose runs can all be denoised."
    )
