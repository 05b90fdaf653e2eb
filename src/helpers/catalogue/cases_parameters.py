"""Bad chapter parameters, and an output folder that cannot be written.

One part of the catalogue's list, :data:`helpers.catalogue.cases.CASES`.
"""

from __future__ import annotations

from .breakers import (
    _chapter_bad_value,
    _chapter_output_under_file,
    _params,
)
from .case import Case

PARAMETER_CASES: tuple[Case, ...] = (
    Case(
        "params_unknown_key",
        "parameters",
        "a misspelt key in a params file",
        ValueError,
        ("my_params.yml", "unknown parameter 'weigthing'", "did you mean weighting"),
        "Correct the key (the parameters are listed in the table below).",
        _params({"weigthing": "hrf"}),
    ),
    Case(
        "params_wrong_type",
        "parameters",
        "a number written as text",
        TypeError,
        ("my_params.yml", "parameter 'n_jobs'", "'2'", "has type str, expected int"),
        "Write numbers without quotes in YAML (n_jobs: 2).",
        _params({"n_jobs": "2"}),
    ),
    Case(
        "params_bool_as_text",
        "parameters",
        "a yes/no option written as text",
        TypeError,
        ("my_params.yml", "parameter 'multiverse'", "expected bool"),
        "Write true or false (no quotes).",
        _params({"multiverse": "True"}),
    ),
    Case(
        "params_value_not_allowed",
        "parameters",
        "a value outside the allowed choices",
        ValueError,
        (
            "my_params.yml",
            "parameter 'weighting'",
            "'gaussian'",
            "not allowed",
            "one of 'hrf', 'hanning', 'none'",
        ),
        "Use one of the listed values.",
        _params({"weighting": "gaussian"}),
    ),
    Case(
        "params_on_error_not_allowed",
        "parameters",
        "a failure policy other than stop or skip",
        ValueError,
        ("my_params.yml", "parameter 'on_error'", "'ignore'", "not allowed", "one of 'stop', 'skip'"),
        "Use stop (the default: the first failing participant stops the run) or skip (record it in "
        "exclusions.tsv).",
        _params({"on_error": "ignore"}),
    ),
    Case(
        "params_out_of_range",
        "parameters",
        "a number out of range",
        ValueError,
        ("my_params.yml", "parameter 'n_boot'", "= 0", "out of range", "int ≥ 1"),
        "Use a value in the stated range.",
        _params({"n_boot": 0}),
    ),
    Case(
        "params_bad_list",
        "parameters",
        "conditions given as one string instead of a list",
        TypeError,
        ("my_params.yml", "parameter 'conditions'", "expected list of str"),
        "Write a YAML list: conditions: [negative, neutral, positive].",
        _params({"conditions": "negative"}),
    ),
    Case(
        "notebook_bad_value",
        "parameters",
        "a bad value injected into a notebook (papermill -p)",
        ValueError,
        ("notebook 03_connectivity", "parameter 'weighting'", "'gaussian'", "not allowed"),
        "Use one of the listed values; the notebook stops at its first cell, before any work.",
        _chapter_bad_value,
    ),
    Case(
        "output_not_writable",
        "output",
        "an output folder that cannot be created or written",
        PermissionError,
        (
            "notebook 03_connectivity",
            "parameter 'output_dir'",
            "results.txt/outputs",
            "cannot create the output folder",
            "writable",
        ),
        "Point output_dir at a folder you can write to.",
        _chapter_output_under_file,
    ),
)
