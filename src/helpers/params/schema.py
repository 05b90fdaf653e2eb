"""The declared parameters of every notebook (:data:`SCHEMA`) and the schema as a table for the book."""

from __future__ import annotations

import pandas as pd

from .declaration import Param
from .rules import (
    _bids_label,
    _item_pattern,
    _measure,
    _measures_text,
    _n_jobs,
    _outliers,
    _participant_label,
)

_PATH = "a path relative to the project root"

#: The declared parameters of every notebook (and of the runner: twin_*, execution_timeout).
SCHEMA: dict[str, Param] = {
    # --- data (book/spec_data_contract.md)
    "bids_dir": Param("path", f"BIDS dataset ({_PATH})"),
    "derivatives_dir": Param("path", f"fMRIPrep-style derivatives ({_PATH})"),
    "output_dir": Param(
        "path", f"where tables, figures and exclusions.tsv are written ({_PATH}; must be writable)"
    ),
    "preproc_dir": Param("path", f"where preprocessing writes its derivatives ({_PATH}; must be writable)"),
    "task": Param(
        "str",
        "BIDS task label of the functional run (letters and digits)",
        check=_bids_label,
        rule_text="letters and digits only",
    ),
    "conditions": Param("list[str]", "trial_type values of the events to model"),
    "seed": Param("int", "seed of the random number generators (twin, bootstrap, simulations)", low=0),
    "example_participant": Param(
        "str",
        "participant shown in the data chapter and (if analysable) as the connectivity worked example",
        check=_participant_label,
        rule_text="like sub-01",
    ),
    # --- questionnaire
    "item_pattern": Param(
        "str",
        "regular expression matching the SCS item columns; its one group captures the item number",
        check=_item_pattern,
        rule_text="a regular expression with exactly one group",
    ),
    "total_rule": Param("str", "rule for the SCS total score", choices=("subscale_mean", "item_mean")),
    "max_missing_per_subscale": Param(
        "int", "skipped items tolerated per subscale (prorated); 0: every item needed", low=0, high=3
    ),
    # --- preprocessing
    "fd_threshold": Param(
        "float", "mean framewise displacement (mm) above which a participant is excluded", low=0
    ),
    "run_preprocessing": Param("bool", "False: only inspect derivatives already in preproc_dir"),
    "preproc_resolution": Param(
        "float", "isotropic voxel size (mm) of the derivatives' MNI grid", low=0.5, high=10
    ),
    "template_resolution": Param(
        "float", "voxel size (mm) of the MNI template used for registration", low=0.5, high=10
    ),
    "on_error": Param(
        "str",
        "what a participant's failure does: stop the run, or skip the participant and record it "
        "in exclusions.tsv",
        choices=("stop", "skip"),
    ),
    # --- connectivity
    "weighting": Param(
        "str",
        "condition weights of the weighted correlation (CONN.md §2)",
        choices=("hrf", "hanning", "none"),
    ),
    "smoothed": Param("bool", "use the smoothed images for the ROI signals"),
    "multiverse": Param("bool", "also compute every alternative connectivity measure"),
    "n_jobs": Param(
        "int", "participants processed in parallel (-1: every core)", check=_n_jobs, rule_text="≥ 1 or -1"
    ),
    "backend": Param(
        "str", "execution backend for per-participant work", choices=("serial", "processes", "dask")
    ),
    "scheduler": Param("str", "Dask scheduler address or scheduler file; empty: a local cluster"),
    "cache": Param(
        "bool", "reuse cached per-participant results when inputs, parameters and code are unchanged"
    ),
    "outliers": Param(
        "str|dict",
        "outlier scans found by CONN's ART (helpers.outliers): 'none' (the paper's pipeline), a CONN "
        "preset applied by scrubbing, or thresholds {gs_z, fd_mm, method: scrub|censor, fd: conn|power}",
        check=_outliers,
        rule_text="'none', 'liberal', 'intermediate', 'conservative' or such a mapping",
    ),
    "max_outlier_fraction": Param(
        "float",
        "largest share of a condition's scans a participant may lose to outlier scans; above it the "
        "participant is excluded",
        low=0,
        high=1,
    ),
    "min_trials": Param(
        "int",
        "beta series: fewest trials of a condition entering its correlation (fewer: the "
        "participant gets no beta-series value, reason in exclusions.tsv)",
        low=2,
    ),
    "lss": Param(
        "str",
        "beta series: the other trials of each trial's model, one regressor per condition "
        "(separate) or one for all (lumped)",
        choices=("separate", "lumped"),
    ),
    "beta_outliers": Param(
        "str",
        "beta series: trials with outlying betas only counted (flag) or also left out of "
        "the correlation (censor)",
        choices=("flag", "censor"),
    ),
    "beta_outlier_z": Param(
        "float", "beta series: modified z score (median/MAD) above which a trial's beta is an outlier", low=0
    ),
    "gppi_max_vif": Param(
        "float",
        "gPPI: largest variance inflation factor of a condition's interaction term "
        "(above it: no gPPI value, reason in exclusions.tsv; .inf: no limit)",
        low=1,
    ),
    # --- results and robustness
    "measure": Param("str", "connectivity measure analysed", check=_measure, rule_text=_measures_text()),
    "alternative": Param(
        "str",
        "alternative hypothesis of the correlation tests",
        choices=("directional", "less", "greater", "two-sided"),
    ),
    "n_boot": Param("int", "bootstrap resamples", low=1),
    "n_sim": Param("int", "simulated replications", low=1),
    "n_draws": Param(
        "int",
        "re-simulated runs per participant for the reliability of the connectivity estimate (twin only)",
        low=2,
    ),
    "population_rho": Param(
        "float",
        "population correlation for the replication simulation (None: the twin's planted "
        "value, else the paper's)",
        low=-1,
        high=1,
        nullable=True,
    ),
    # --- the second study
    "n_compassion": Param("int", "participants in the compassion-training group", low=2),
    "n_memory": Param("int", "participants in the memory-training group", low=2),
    "null_effect": Param("bool", "simulate the training study without a training effect"),
    "grid_resolution": Param("float", "voxel size (mm) of the training study's MNI grid", low=0.5, high=10),
    # --- the runner
    "twin_participants": Param(
        "int",
        "generate a digital twin of this many participants at bids_dir "
        "(0 or None: use the data already there)",
        low=0,
        nullable=True,
    ),
    "twin_config": Param("path", f"YAML overrides of the twin's configuration ({_PATH})", nullable=True),
    "execution_timeout": Param("int", "seconds a notebook cell may run", low=1),
    "parallel_chapters": Param(
        "int",
        "chapters executed at once: 2 runs the chapters no other chapter reads (the training study, "
        "the bad-input catalogue) beside the others; 1 runs all in the book's order",
        low=1,
        high=2,
    ),
    # --- registration QC gates (helpers.preprocess.gates; the FD gate uses fd_threshold)
    "qc_policy": Param(
        "str",
        "participants flagged by the registration QC gates: exclude them (exclusions.tsv) "
        "or only report them",
        choices=("exclude", "report"),
    ),
    "qc_min_coreg_nmi": Param(
        "float",
        "lowest EPI-structural normalised mutual information after coregistration "
        "(1 = independent, 2 = identical)",
        low=1,
        high=2,
        nullable=True,
    ),
    "qc_min_norm_r": Param(
        "float",
        "lowest correlation of the normalised structural with the template",
        low=-1,
        high=1,
        nullable=True,
    ),
    "qc_min_brain_cover": Param(
        "float",
        "lowest fraction of each ROI inside the participant's brain mask",
        low=0,
        high=1,
        nullable=True,
    ),
    "qc_min_signal_cover": Param(
        "float",
        "lowest fraction of each ROI with usable EPI signal (tSNR ≥ qc_tsnr_fraction × the brain's median)",
        low=0,
        high=1,
        nullable=True,
    ),
    "qc_tsnr_fraction": Param(
        "float",
        "tSNR, as a fraction of the brain's median, below which a voxel's EPI signal is not usable",
        low=0,
        high=1,
    ),
    "qc_max_voxel_mm": Param("float", "largest BOLD voxel edge (mm) accepted", low=0, nullable=True),
    # --- denoising quality (helpers.denoise_qc; thresholds of its one-line verdicts)
    "qcfc_n_perm": Param(
        "int",
        "permutations of the QC-FC null (mean FD shuffled over participants; all when n! is smaller)",
        low=1,
    ),
    "qcfc_alpha": Param("float", "level of the QC-FC permutation tests", low=0, high=1),
    "qcfc_max_pct_significant": Param(
        "float",
        "largest % of edges whose QC-FC may reach p < qcfc_alpha for its verdict to pass",
        low=0,
        high=100,
    ),
    "denoise_min_dof": Param(
        "float", "smallest effective degrees of freedom of a condition for the dof verdict to pass", low=0
    ),
    "denoise_min_r_reduction": Param(
        "float",
        "smallest drop of the median |r| between ROIs (raw − denoised) for its verdict to pass",
        low=-1,
        high=1,
    ),
    "carpet_voxels": Param("int", "brain voxels drawn at random for the carpet plot", low=10),
    "parcellation": Param(
        "str",
        "atlas whose labels also serve as ROIs in a whole-brain view of the first level and its QC "
        "(None: only the paper's ROIs)",
        choices=("aal", "harvard_oxford"),
        nullable=True,
    ),
    "parcellation_labels": Param(
        "list[str]", "labels of the parcellation to use, as the atlas spells them (None: all)", nullable=True
    ),
    # --- who is analysed (helpers.exclusions)
    "exclusions_file": Param(
        "path",
        "your own exclusions: a TSV with columns participant_id and reason; "
        "those participants are left out of every group table and figure",
        nullable=True,
    ),
}


def schema_table() -> pd.DataFrame:
    """The schema as a table (parameter, type, rule, description) for the book."""
    rows = [(name, spec.kind, spec.rule(), spec.description) for name, spec in SCHEMA.items()]
    return pd.DataFrame(rows, columns=["parameter", "type", "rule", "description"])
