"""Scoring and reliability of the Self-Compassion Scale (SCS, Neff 2003) and its short form.

The short form is the SCS-SF (Raes et al. 2011).

The item key, the scoring rules and the reasons for the choices made here are in
``book/spec_scs.md``; in short:

* 26 items answered 1 (almost never) – 5 (almost always); six subscales, three of them
  (self-judgment, isolation, over-identification) keyed negatively.
* Subscale score = mean of the subscale's **raw** items (negative subscales are *not* reversed,
  as in Parrish et al. 2018, Table 1).
* Total, rule ``"subscale_mean"`` (Neff's current instructions, our default): mean of the six
  subscale means after reversing the negative ones as ``6 − x``.
  Rule ``"item_mean"`` (an older scoring sheet): mean of the 26 items after reversing the negative
  items.  The two differ because the subscales have 4 or 5 items, so under ``"subscale_mean"`` an
  item of a 4-item subscale weighs 1/24 and an item of a 5-item subscale 1/30.

Responses are a table with one row per participant and one column per item.  Item columns are
given explicitly (``item_columns``) or found with a regular expression whose single group captures
the item number (default :data:`DEFAULT_PATTERN`, which matches ``scs_01``, ``scs_1``, ``SCS1``,
``SCS-01``…).  Every value must be an integer 1–5 or missing; anything else raises ``ValueError``
naming the file (if known), the participant, the column and the value.  Missing answers are never
filled silently: see the ``missing`` parameter of :func:`score_scs`.

The package's modules: :mod:`~helpers.scs.key` (the item key), :mod:`~helpers.scs.items` (reading
and checking the responses), :mod:`~helpers.scs.scoring` (the scores) and
:mod:`~helpers.scs.consistency` (α and ω).
"""

from __future__ import annotations

from .consistency import PAPER_ALPHA, alpha_comparison, omega_total, reliability, reliability_table
from .items import _HIGH as _HIGH  # the answers' range, private but read by tests
from .items import _LOW as _LOW
from .items import DEFAULT_PATTERN, item_matrix, read_scs, resolve_item_columns
from .key import NEGATIVE_SUBSCALES, SCALE_LABELS, SCS_KEY, SCS_SF_KEY, SUBSCALES, item_key_table
from .scoring import (
    TOTAL_RULES,
    MissingItemsWarning,
    compare_total_rules,
    missing_report,
    score_scs,
    score_scs_sf,
    summarise_total_rules,
)

__all__ = [
    "SUBSCALES",
    "SCS_KEY",
    "NEGATIVE_SUBSCALES",
    "SCS_SF_KEY",
    "PAPER_ALPHA",
    "DEFAULT_PATTERN",
    "TOTAL_RULES",
    "MissingItemsWarning",
    "read_scs",
    "item_key_table",
    "resolve_item_columns",
    "item_matrix",
    "score_scs",
    "score_scs_sf",
    "reliability",
    "alpha_comparison",
    "omega_total",
    "compare_total_rules",
    "summarise_total_rules",
    "missing_report",
    "reliability_table",
    "SCALE_LABELS",
]
