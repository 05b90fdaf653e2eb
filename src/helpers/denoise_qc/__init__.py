"""Denoising quality: what CONN's QA plots, QC-FC benchmarks and XCP-D reports show about a denoising.

Five scores, one helper each, all on the denoising the first level uses (the same regressors from
:func:`helpers.firstlevel.participant_design`, the same regression and filter
:func:`helpers.denoise.regress_and_filter`):

* **before/after** (:func:`edge_correlations`, :func:`participant_denoise_qc`): every ROI pair's
  Pearson r over all scans of the minimally preprocessed ROI signals and of the denoised ones, per
  participant — CONN's "QA denoising" histogram (Whitfield-Gabrieli & Nieto-Castanon 2012): a
  confound shared by the whole brain (motion, physiology, scanner drift) shifts the raw
  distribution to positive values; after a good denoising it is narrower and nearer zero;
* **QC-FC** (:func:`qc_fc`): across participants, the correlation of each connection's analysed
  value with the participant's mean framewise displacement (Power et al. 2012; Ciric et al. 2017;
  Parkes et al. 2018), with a permutation null (FD shuffled across participants) giving a p per
  edge and for the summary (median |QC-FC|); and its dependence on the distance between ROI
  centroids (:func:`roi_distances`, :func:`distance_dependence`);
* **carpet** (:func:`carpet_data`, :func:`plot_carpet`): voxels × time of one participant,
  z-scored, before and after the same regression and filter applied voxel-wise (Power 2017);
* **degrees of freedom** (:func:`design_dof`): scans, regressors of the denoising design by kind,
  the residual dof, and each condition's effective dof of the weighted GLM
  (:func:`helpers.connectivity.condition_dof`);
* **verdicts** (:func:`verdicts`): one line per score against thresholds that are parameters.

:func:`run_denoise_qc` runs them for a whole sample and writes ``denoise_qc.tsv`` (one row per
participant), ``qc_fc.tsv`` (one row per edge and condition) and ``denoise_qc_verdicts.tsv``
beside ``connectivity.tsv``.

Which connectivity enters QC-FC: the **analysed measure per condition** (default ``weighted_hrf``,
read from ``connectivity.tsv``), not an all-scans correlation.  The question QC-FC answers is
whether between-participant differences in motion leave a trace in the values the group statistics
use; in this task design those are the condition-weighted correlations, and an all-scans
correlation (the resting-state convention) would average over the conditions the paper compares.
"""

from .carpet import carpet_data, plot_carpet
from .plots import plot_before_after, plot_dof, plot_qc_fc, plot_qc_fc_distance
from .qcfc import (
    MIN_QCFC_PARTICIPANTS,
    distance_dependence,
    distance_sentence,
    qc_fc,
    qc_fc_sentence,
    roi_distances,
)
from .run import DenoiseQC, run_denoise_qc, span_text
from .scores import (
    REGRESSOR_KINDS,
    design_dof,
    edge_correlations,
    participant_denoise_qc,
    regressor_kind,
    verdicts,
)

__all__ = [
    "REGRESSOR_KINDS",
    "edge_correlations",
    "regressor_kind",
    "design_dof",
    "participant_denoise_qc",
    "verdicts",
    "MIN_QCFC_PARTICIPANTS",
    "qc_fc",
    "roi_distances",
    "distance_dependence",
    "qc_fc_sentence",
    "distance_sentence",
    "carpet_data",
    "plot_carpet",
    "DenoiseQC",
    "run_denoise_qc",
    "span_text",
    "plot_before_after",
    "plot_qc_fc",
    "plot_qc_fc_distance",
    "plot_dof",
]
