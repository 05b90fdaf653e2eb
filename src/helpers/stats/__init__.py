"""Group statistics: self-compassion scores × ROI-to-ROI connectivity (pingouin underneath).

The paper (Parrish et al., 2018) computed Pearson correlations across its 19
participants between an SCS score and a VMPFC–amygdala connectivity value
(Fisher z, a condition or a contrast of conditions).  Its hypotheses were
directional and every p it prints matches a **one-tailed** test (see
:func:`audit_reported_correlations`), so the default here is the paper's
hypothesised direction for the scale (:data:`helpers.paper.HYPOTHESISED_DIRECTION`:
``"less"`` for the self-compassion mean and the positive subscales, ``"greater"``
for Self-judgment, Isolation and Over-identification).  Pass
``alternative="two-sided"`` for the conventional test.

Inputs are the project's two tables (data contract: ``book/your_data.md``):

* ``scores.tsv`` — ``participant_id`` + one column per scale (``total``, ``self_kindness`` …);
* ``connectivity.tsv`` — ``participant_id, measure, condition, source, target, r, z``.

Participants are matched by ``participant_id``; anyone present in only one table
(or with a missing value) is excluded *with a warning* and listed in the result,
never dropped silently.

The modules: :mod:`~helpers.stats.names` (scales, ROI pairs, tails), :mod:`~helpers.stats.roles`
(a study's condition labels as the paper's roles), :mod:`~helpers.stats.inputs` (reading and pairing
the tables), :mod:`~helpers.stats.r_and_p` (r ↔ p, Fisher's interval),
:mod:`~helpers.stats.correlations` and :mod:`~helpers.stats.audit` (the reported statistics' check).
Everything is imported from ``helpers.stats`` itself.
"""

from .audit import audit_reported_correlations
from .correlations import correlate, correlate_values, correlation_table
from .inputs import paired_values, read_inputs
from .names import ALTERNATIVES, DEFAULT_MEASURE, resolve_alternative, resolve_pair, resolve_scale
from .r_and_p import fisher_ci, p_from_r, r_from_p
from .roles import ROLES, record_roles, role_contrasts

__all__ = [
    "ALTERNATIVES",
    "DEFAULT_MEASURE",
    "resolve_scale",
    "resolve_pair",
    "resolve_alternative",
    "paired_values",
    "correlate",
    "correlate_values",
    "correlation_table",
    "p_from_r",
    "r_from_p",
    "fisher_ci",
    "audit_reported_correlations",
    "read_inputs",
    "ROLES",
    "role_contrasts",
    "record_roles",
]
