"""Bad task events (``*_events.tsv``) and condition effects: columns, values, conditions, timing.

One part of the catalogue's list, :data:`helpers.catalogue.cases.CASES`.
"""

from __future__ import annotations

from .breakers import (
    _drop,
    _effects,
    _events_csv,
    _events_edit,
    _raw,
    _relabel,
    _set_cell,
)
from .case import Case

EVENT_CASES: tuple[Case, ...] = (
    Case(
        "events_no_duration",
        "events",
        "an events file without a duration column",
        ValueError,
        ("_events.tsv", "participant sub-01", "columns missing: duration", "rule: onset, duration"),
        "Add the duration of every event in seconds (BIDS requires onset and duration).",
        _raw(1, _events_edit(_drop("duration"))),
    ),
    Case(
        "events_negative_onset",
        "events",
        "a negative onset",
        ValueError,
        ("_events.tsv", "participant sub-01", "column onset", "row 1", "value -3", "non-negative"),
        "Onsets are seconds from the first volume; subtract the right offset (dummy scans).",
        _raw(1, _events_edit(_set_cell("onset", "-3"))),
    ),
    Case(
        "events_nan_onset",
        "events",
        "a missing onset (n/a)",
        ValueError,
        ("_events.tsv", "participant sub-01", "column onset", "row 2", "non-negative number"),
        "Fill in the onset or delete the event.",
        _raw(1, _events_edit(_set_cell("onset", "n/a", row=1))),
    ),
    Case(
        "events_text_duration",
        "events",
        "a duration written as text",
        ValueError,
        ("_events.tsv", "participant sub-01", "column duration", "'eleven'", "positive number"),
        "Write durations as numbers of seconds.",
        _raw(1, _events_edit(_set_cell("duration", "eleven"))),
    ),
    Case(
        "events_beyond_run",
        "events",
        "an event that ends after the last volume",
        ValueError,
        ("_events.tsv", "participant sub-01", "onset+duration", "after the run", "volumes x TR"),
        "Check the onsets' units (seconds, not milliseconds or volumes) and that the BOLD run is complete.",
        _raw(1, _events_edit(_set_cell("onset", "5000", row=-1))),
    ),
    Case(
        "events_unknown_condition",
        "events",
        "a trial_type not among the conditions (a typo)",
        ValueError,
        (
            "_events.tsv",
            "participant sub-01",
            "column trial_type",
            "unknown condition(s) ['negativ']",
            "rule: one of",
        ),
        "Correct the label, or list it in the conditions parameter.",
        _raw(1, _events_edit(_set_cell("trial_type", "negativ"))),
    ),
    Case(
        "events_condition_without_events",
        "events",
        "a condition that never occurs",
        ValueError,
        ("_events.tsv", "participant sub-01", "column trial_type", "'positive' never occurs"),
        "Check the labels; if the design really lacks the condition, remove it from the conditions "
        "parameter.",
        _raw(1, _events_edit(_relabel("positive", "neutral"))),
    ),
    Case(
        "events_missing",
        "events",
        "a run without an events file (saved as .csv)",
        ValueError,
        (
            "_bold.nii.gz",
            "participant sub-01",
            "no events file",
            "_events.tsv beside the run",
            "task-feedback_events.tsv at the top level",
        ),
        "Save the events as tab-separated <run>_events.tsv beside the run (or one task-<task>_events.tsv "
        "for every run at the top level).",
        _raw(1, _events_csv),
    ),
    Case(
        "effects_beyond_scan",
        "connectivity",
        "events beyond the end of the scan, passed straight to the connectivity code",
        ValueError,
        ("sub-01_task-feedback_events.tsv", "column onset", "beyond the scan", "scans × TR"),
        "As above: onsets in seconds within the run.",
        _effects(lambda t: t.assign(onset=t["onset"] + 1000)),
    ),
    Case(
        "effects_condition_without_events",
        "connectivity",
        "a requested condition without events (connectivity code)",
        ValueError,
        (
            "sub-01_task-feedback_events.tsv",
            "condition(s) ['positive'] have no events",
            "trial_type values present",
        ),
        "Remove the condition from conditions or fix the labels.",
        _effects(lambda t: t[t["trial_type"] != "positive"]),
    ),
)
