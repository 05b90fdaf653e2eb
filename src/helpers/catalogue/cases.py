"""The catalogue itself: every bad input a re-executor can give, with the message and the fix.

The cases are written by kind of input, one module each, and listed here in the order the chapter
shows them (``notebooks/98_bad_input.ipynb``):

* :mod:`~helpers.catalogue.cases_questionnaire` — the SCS file, and questionnaire and imaging that
  do not match;
* :mod:`~helpers.catalogue.cases_events` — task events and condition effects;
* :mod:`~helpers.catalogue.cases_images` — BOLD runs, their sidecars, the structural;
* :mod:`~helpers.catalogue.cases_derivatives` — confounds, ROI signals, censoring at the first level;
* :mod:`~helpers.catalogue.cases_parameters` — chapter parameters and the output folder.
"""

from __future__ import annotations

from .case import Case
from .cases_derivatives import DERIVATIVE_CASES
from .cases_events import EVENT_CASES
from .cases_images import IMAGE_CASES
from .cases_parameters import PARAMETER_CASES
from .cases_questionnaire import QUESTIONNAIRE_CASES

__all__ = ["CASES"]

CASES: tuple[Case, ...] = (
    *QUESTIONNAIRE_CASES,
    *EVENT_CASES,
    *IMAGE_CASES,
    *DERIVATIVE_CASES,
    *PARAMETER_CASES,
)
