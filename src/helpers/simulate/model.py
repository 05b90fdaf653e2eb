"""Participant-level generative model of the twin (tabular, no images), gathered in one namespace.

The parts live in their own modules; this one re-exports them, so the build and the tests can call
``model.scs_items``, ``model.planted_coupling``, ``model.event_sequence`` … as one model:

* :mod:`helpers.simulate.sample` — demographics, SCS answers, scores and their population moments;
* :mod:`helpers.simulate.coupling` — the planted VMPFC–amygdala coupling and its target correlations;
* :mod:`helpers.simulate.task` — the task run's events and ratings;
* :mod:`helpers.simulate.config_key` — hashable config keys of the in-process caches
  (``_freeze``/``_thaw`` here).

Formulas are stated in the docstrings and in the default ``config.yaml``; design facts come from
book/spec_paper.md, the SCS key from book/spec_scs.md.
"""

from __future__ import annotations

# the build and helpers.reliability key their caches with model._freeze / model._thaw
from .config_key import freeze as _freeze  # noqa: F401
from .config_key import thaw as _thaw  # noqa: F401
from .coupling import (
    coupling_weights,
    implied_correlations,
    latent_targets,
    match_sample,
    planted_coupling,
    sample_correlations,
)
from .sample import (
    SCORES,  # noqa: F401 (model.SCORES: helpers.reliability and the tests)
    demographics,
    item_columns,
    score,
    score_matrix,
    scs_items,
    scs_population,
)
from .task import event_sequence, ratings

__all__ = [
    "item_columns",
    "demographics",
    "scs_items",
    "score",
    "score_matrix",
    "scs_population",
    "coupling_weights",
    "implied_correlations",
    "latent_targets",
    "planted_coupling",
    "sample_correlations",
    "match_sample",
    "event_sequence",
    "ratings",
]
