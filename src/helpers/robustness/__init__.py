"""How robust are the paper's correlations?  Resampling, power and multiverse helpers.

What the paper did not report: bootstrap CIs, robust correlations, a false
discovery rate over the subscale family, sensitivity/power at n = 19, the
sampling distribution of r in replications, leave-one-out influence and a
specification curve over connectivity pipelines.  Plotting lives in
:mod:`helpers.figures`; these functions return numbers and DataFrames.

The modules: :mod:`~helpers.robustness.estimators` (bootstrap, robust estimators, FDR),
:mod:`~helpers.robustness.power` (sensitivity, power, Monte Carlo), :mod:`~helpers.robustness.influence`
(leave-one-out), :mod:`~helpers.robustness.multiverse` (the specification curve),
:mod:`~helpers.robustness.chapter_tables` (the chapter's tables) and :mod:`~helpers.robustness.planted`
(the twin's planted value, synthetic studies).  Everything is imported from ``helpers.robustness`` itself.
"""

from .chapter_tables import (
    inference_table,
    interval_phrase,
    interval_sentence,
    robust_by_method,
    robust_sentence,
    robust_table,
)
from .estimators import ROBUST_METHODS, benjamini_hochberg, bootstrap_ci, robust_correlations
from .influence import (
    influence_summary,
    leave_one_out,
    loo_paragraph,
    loo_range_sentence,
    loo_significance,
)
from .multiverse import curve_sentence, describe_measure, outlier_sentence, specification_curve
from .planted import planted_rho, synthetic_study
from .power import detectable_r, monte_carlo_r, n_required, sensitivity_table

__all__ = [
    "curve_sentence",
    "interval_phrase",
    "interval_sentence",
    "robust_sentence",
    "ROBUST_METHODS",
    "bootstrap_ci",
    "robust_correlations",
    "benjamini_hochberg",
    "detectable_r",
    "n_required",
    "sensitivity_table",
    "monte_carlo_r",
    "leave_one_out",
    "specification_curve",
    "inference_table",
    "robust_table",
    "outlier_sentence",
    "influence_summary",
    "loo_paragraph",
    "loo_range_sentence",
    "loo_significance",
    "robust_by_method",
    "describe_measure",
    "planted_rho",
    "synthetic_study",
]
