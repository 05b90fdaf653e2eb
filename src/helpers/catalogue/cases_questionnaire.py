"""Bad questionnaires (``phenotype/scs.tsv``), and questionnaire and imaging that do not match.

One part of the catalogue's list, :data:`helpers.catalogue.cases.CASES`.
"""

from __future__ import annotations

from .breakers import (
    _drop,
    _drop_scs_row,
    _duplicate_first,
    _extra_scs_row,
    _raw,
    _scs,
    _scs_text,
    _set_cell,
    _small_group,
    _stats,
    _text_cell,
)
from .case import Case

_SCS_FILE = "phenotype/scs.tsv"
_RULE_SCS = "outside 1–5"

QUESTIONNAIRE_CASES: tuple[Case, ...] = (
    Case(
        "scs_out_of_range",
        "questionnaire",
        "an SCS answer of 6 (the scale is 1–5)",
        ValueError,
        (_SCS_FILE, "participant sub-02", "column scs_07", "value 6", _RULE_SCS),
        "Correct the answer in phenotype/scs.tsv (1 almost never … 5 almost always), or write n/a if "
        "unknown.",
        _scs(_set_cell("scs_07", "6", row=1)),
    ),
    Case(
        "scs_non_numeric",
        "questionnaire",
        "a text answer ('often') in an item column",
        ValueError,
        (_SCS_FILE, "participant sub-01", "column scs_03", "'often'", "not a number"),
        "Recode text answers to 1–5 (or n/a).",
        _scs(_set_cell("scs_03", "often")),
    ),
    Case(
        "scs_not_integer",
        "questionnaire",
        "a fractional answer (2.5)",
        ValueError,
        (_SCS_FILE, "participant sub-01", "column scs_11", "2.5", "not an integer"),
        "Answers are whole numbers 1–5; check how the file was exported.",
        _scs(_set_cell("scs_11", "2.5")),
    ),
    Case(
        "scs_missing_column",
        "questionnaire",
        "an item column missing (scs_26)",
        ValueError,
        (_SCS_FILE, "scs_", "missing items [26]"),
        "Add the missing item column, or pass item_columns / item_pattern if the columns are named "
        "differently.",
        _scs(_drop("scs_26")),
    ),
    Case(
        "scs_stray_cell",
        "questionnaire",
        "a row with one cell more than the header (a stray tab)",
        ValueError,
        (_SCS_FILE, "line 3", "28 cells but the header has 27 columns", "one cell per column"),
        "Delete the extra cell (or name its column in the header).",
        _scs_text(lambda lines: [*lines[:2], lines[2] + "\t4", *lines[3:]]),
    ),
    Case(
        "scs_decimal_comma",
        "questionnaire",
        "answers exported with a decimal comma, one of them 2,5",
        ValueError,
        (_SCS_FILE, "participant sub-01", "value 2.5", "not an integer"),
        "Answers are whole numbers 1–5 (a decimal comma is read as a decimal point).",
        _scs_text(lambda lines: [lines[0], _text_cell(lines[1], 1, "2,5"), *lines[2:]]),
    ),
    Case(
        "scs_duplicate_id",
        "questionnaire",
        "the same participant twice",
        ValueError,
        (_SCS_FILE, "duplicate participant ID", "'sub-01'"),
        "Keep one row per participant (remove or merge the repeated row).",
        _scs(_duplicate_first),
    ),
    Case(
        "scs_no_id_column",
        "questionnaire",
        "no participant_id column",
        ValueError,
        (_SCS_FILE, "missing column 'participant_id'"),
        "Name the participant column participant_id (BIDS).",
        _scs(lambda t: t.rename(columns={"participant_id": "id"})),
    ),
    Case(
        "scs_empty_id",
        "questionnaire",
        "a row without a participant ID",
        ValueError,
        (_SCS_FILE, "column participant_id", "empty participant ID", "line(s) [2]"),
        "Fill in the ID or delete the row.",
        _scs(_set_cell("participant_id", "")),
    ),
    Case(
        "questionnaire_not_imaging",
        "dataset",
        "a participant in the questionnaire but not in the imaging data",
        ValueError,
        (_SCS_FILE, "participant sub-99", "not in participants.tsv"),
        "Remove the row, or add the participant to participants.tsv with their imaging data.",
        _raw(1, _extra_scs_row),
    ),
    Case(
        "imaging_not_questionnaire",
        "dataset",
        "a participant with imaging data but no questionnaire row",
        ValueError,
        (_SCS_FILE, "participant sub-02", "no row"),
        "Add the participant's answers (n/a where unknown) to phenotype/scs.tsv.",
        _raw(2, _drop_scs_row),
    ),
    Case(
        "scores_without_connectivity",
        "group statistics",
        "a scored participant with no connectivity values",
        UserWarning,
        ("participant(s)", "sub-03", "not in connectivity.tsv"),
        "Expected when the participant was excluded earlier (see exclusions.tsv); otherwise re-run the "
        "connectivity chapter.",
        _stats(["sub-01", "sub-02", "sub-03", "sub-04"], ["sub-01", "sub-02", "sub-04"]),
    ),
    Case(
        "connectivity_without_scores",
        "group statistics",
        "connectivity values for a participant without scores",
        UserWarning,
        ("participant(s)", "sub-04", "not in scores.tsv"),
        "Add the participant's questionnaire, or accept the exclusion (it is listed in the results).",
        _stats(["sub-01", "sub-02", "sub-03"], ["sub-01", "sub-02", "sub-03", "sub-04"]),
    ),
    Case(
        "group_too_small",
        "group statistics",
        "exclusions leave fewer than 3 participants (here two runs too short for the design)",
        ValueError,
        ("2 participant(s) left", "sub-02, sub-04", "at least 3", "sub-01 (connectivity:", "25 scans"),
        "Read the reasons. A run with fewer scans than the design's regressors (30 with three "
        "conditions) cannot be denoised: move it out of the dataset and keep the participant's other "
        "runs. A participant left out by a rule or by your exclusions file can be let back in.",
        _small_group,
    ),
)
