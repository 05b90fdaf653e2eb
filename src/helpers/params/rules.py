"""Rules of the schema beyond type, choices and range (:attr:`helpers.params.Param.check`).

Each rule takes the value and returns the problem in words, or None.  The measure and outlier rules
import their modules only when called, so the schema never loads heavy compute modules.
"""

from __future__ import annotations

import re


def _bids_label(value: str) -> str | None:
    return None if re.fullmatch(r"[A-Za-z0-9]+", value) else "is not a BIDS label"


def _participant_label(value: str) -> str | None:
    return None if re.fullmatch(r"sub-[A-Za-z0-9]+", value) else "is not a participant ID"


def _item_pattern(value: str) -> str | None:
    try:
        groups = re.compile(value).groups
    except re.error as err:
        return f"is not a valid regular expression ({err})"
    return None if groups == 1 else f"has {groups} groups"


def _n_jobs(value: int) -> str | None:
    return None if value >= 1 or value == -1 else "is neither ≥ 1 nor -1"


def _measure(value: str) -> str | None:
    from ..firstlevel.measures import is_measure  # the registry: numpy/pandas only, no nibabel or nilearn

    return None if is_measure(value) else "is not a connectivity measure"


def _outliers(value) -> str | None:
    from ..outliers import parse_outliers

    try:
        parse_outliers(value, where="outliers")
    except ValueError as err:
        return f"is not an outlier choice ({str(err).removeprefix('outliers: ')})"
    return None


def _measures_text() -> str:
    return (
        "a registered connectivity measure (helpers.firstlevel.measures_table(); nilearn_<strategy> included)"
    )
