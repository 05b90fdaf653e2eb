"""Words for code names: the header a reader sees for a column, and the spelled-out cell names."""

from __future__ import annotations

#: Column code names → the header a reader sees (units in parentheses).
LABELS = {
    "participant_id": "Participant",
    "participants": "Participants",
    "region": "Region",
    "dice_min": "Dice, lowest",
    "dice_mean": "Dice, mean",
    "dice_missed": "Dice below target",
    "error_mean_mm": "Error, mean (mm)",
    "error_max_mm": "Error, largest (mm)",
    "error_missed": "Error above target",
    "n": "n",
    "count": "n",
    "mean": "M",
    "std": "SD",
    "sd": "SD",
    "min": "Min",
    "max": "Max",
    "25%": "Q1",
    "50%": "Median",
    "75%": "Q3",
    "median": "Median",
    "unique": "Distinct",
    "top": "Most frequent",
    "freq": "n (most frequent)",
    "r": "r",
    "p": "p",
    "p_two_sided": "p (two-tailed)",
    "p_one_sided": "p (one-tailed)",
    "p_unc": "p (uncorrected)",
    "p_corr": "p (corrected)",
    "p_bonferroni": "p (Bonferroni)",
    "p_fdr": "p (FDR)",
    "p_holm": "p (Holm)",
    "ci95_low": "95 % CI low",
    "ci95_high": "95 % CI high",
    "ci95": "95 % CI",
    "bf10": "BF₁₀",
    "power": "Power",
    "rho": "ρ",
    "cohen_d": "Cohen's d",
    "hedges_g": "Hedges' g",
    "hedges": "Hedges' g",
    "np2": "η²p",
    "dof": "df",
    "df1": "df₁",
    "df2": "df₂",
    "T": "t",
    "F": "F",
    "age": "Age (years)",
    "age_mean": "Mean age (years)",
    "age_sd": "SD of age (years)",
    "sex": "Sex",
    "scale": "Scale",
    "score": "Score",
    "subscale": "Subscale",
    "condition": "Condition",
    "contrast": "Contrast",
    "measure": "Measure",
    "method": "Method",
    "description": "Description",
    "target": "Target",
    "planted": "Planted",
    "sample": "Sample",
    "side": "Side",
    "source": "Source",
    "roi": "ROI",
    "label": "Label",
    "keyed": "Keyed",
    "items": "Items",
    "short_form_items": "Items (short form)",
    "item": "Item",
    "paper": "Paper",
    "dataset": "Dataset",
    "ours": "Ours",
    "alternative": "H₁",
    "marker": "",
    "status": "Status",
    "path": "File",
    "bytes": "Size (bytes)",
    "sha256": "SHA-256",
    "chapter": "Chapter",
    "stage": "Stage",
    "reason": "Reason",
    "seconds": "Time (s)",
    "wall_seconds": "Time (s)",
    "fd_mean": "Mean FD (mm)",
    "fd_max": "Max FD (mm)",
    "mean_fd": "Mean FD (mm)",
    "max_fd": "Max FD (mm)",
    "n_volumes": "Volumes",
    "n_events": "Events",
    "n_excluded": "Excluded",
    "setting": "Setting",
    "value": "Value",
    "note": "Note",
    "default": "Default",
    "type": "Type",
    "rule": "Rule",
    "parameter": "Parameter",
    "video": "Video",
    "group": "Group",
    "session": "Session",
    "effect": "Effect",
    "A": "A",
    "B": "B",
    "Contrast": "Contrast",
    "estimate": "Estimate",
    "se": "SE",
    "z": "z",
    "t": "t",
    "r_without": "r without",
    "r_all": "r (all)",
    "delta_r": "Δr",
    "is_default": "Paper's pipeline",
    "paper_r": "Paper r",
    "paper_p": "Paper p",
    "paper_p_text": "Paper p",
    # robustness chapter
    "p_one_tailed": "p (one-tailed)",
    "p_two_tailed": "p (two-tailed)",
    "consistent": "Consistent with",
    "r_for_p_one_tailed": "|r| implied by p (one-tailed)",
    "r_for_p_two_tailed": "|r| implied by p (two-tailed)",
    "boot_low": "Bootstrap CI low",
    "boot_high": "Bootstrap CI high",
    "bf10_two_sided": "BF₁₀ (two-tailed)",
    "q": "q (FDR)",
    "q_two_sided": "q (FDR, two-tailed)",
    "significant_after_bh": "Significant (FDR)",
    "power_one_tailed": "Power (one-tailed)",
    "power_two_tailed": "Power (two-tailed)",
    "n_for_80_one_tailed": "n for 80 % power (one-tailed)",
    "n_for_80_two_tailed": "n for 80 % power (two-tailed)",
    "key": "Scale",
    "p_all": "p (all)",
    "r_min": "r (min)",
    "r_max": "r (max)",
    "most_influential": "Most influential",
    "max_abs_delta": "Max |Δr|",
    "n_significant": "n significant",
    # training study
    "change_compassion": "Change (compassion)",
    "change_memory": "Change (memory)",
    "claim": "Claim",
    "abstract": "Abstract",
    "twin (planted)": "Twin (planted)",
    "null twin": "Null twin",
    # data and questionnaire chapters
    "difference": "Difference",
    "n_items": "n items",
    # preprocessing accuracy
    "realign_rms_mm": "Realignment error (mm)",
}
#: Second words of two-level headers such as ``"r spearman"`` (a pivot of methods).
_METHODS = {
    "pearson": "Pearson",
    "spearman": "Spearman",
    "shepherd": "Shepherd's pi",
    "skipped": "skipped",
    "percbend": "percentage bend",
    "bicor": "biweight midcorrelation",
    "kendall": "Kendall",
}

#: Per-region score columns ``<kind>_<region>`` of the preprocessing accuracy table, longest first.
_PER_REGION = {
    "r_preproc": "r",
    "r_smoothed": "r (smoothed)",
    "dice_abs": "Dice (source coordinates)",
    "dice": "Dice",
    "error_mm": "Error (mm)",
}

#: Whole-cell code names (row labels, conditions, regions) → words.
CELL_LABELS = {
    "negative-neutral": "Neg − Neu",
    "positive-neutral": "Pos − Neu",
    "negative": "Negative",
    "neutral": "Neutral",
    "positive": "Positive",
    "amygdala_r": "Right amygdala",
    "amygdala_l": "Left amygdala",
    "vmpfc": "VMPFC",
    "self_kindness": "Self-kindness",
    "self_judgment": "Self-judgment",
    "common_humanity": "Common humanity",
    "isolation": "Isolation",
    "mindfulness": "Mindfulness",
    "over_identification": "Over-identification",
    "two-sided": "r ≠ 0",
    "less": "r < 0",
    "greater": "r > 0",
    "positive_affect": "Positive affect",
    "negative_affect": "Negative affect",
    "empathy": "Empathy",
    "mofc": "mOFC",
    "vta": "VTA",
    "amcc": "aMCC",
    "anterior_insula": "Anterior insula",
    "putamen": "Putamen",
    "pallidum": "Pallidum",
    # rows of the data chapter's design table
    "age_mean": "Mean age (years)",
    "age_range": "Age range (years)",
    "tr_s": "TR (s)",
    "voxel_mm": "Voxel size (mm)",
    "events_per_condition": "Events per condition",
    "event_duration_s": "Event duration (s)",
    "female": "Female",
    "volumes": "Volumes",
    "matrix": "Matrix (voxels)",
    "structural": "Structural scan",
}


def method_name(method: str) -> str:
    """The name of a correlation estimator in words: ``"shepherd"`` → ``"Shepherd's pi"``.

    Parameters
    ----------
    method : str
        A pingouin ``method`` name (:data:`helpers.robustness.ROBUST_METHODS`); an unknown one is
        returned unchanged.

    Returns
    -------
    str
    """
    return _METHODS.get(method, method)


def label(name: str) -> str:
    """The header a reader sees for column ``name`` (a code name, or a label that is already human).

    Parameters
    ----------
    name : str
        A column name: a key of :data:`LABELS`, ``"r <method>"`` / ``"p <method>"`` (e.g.
        ``"r spearman"`` → ``"r (Spearman)"``), or anything else (returned unchanged).

    Returns
    -------
    str
        The display label.
    """
    if name in LABELS:
        return LABELS[name]
    for prefix, kind in _PER_REGION.items():  # "error_mm_vmpfc" -> "Error (mm), VMPFC"
        region = name.removeprefix(f"{prefix}_")
        if region != name and region in CELL_LABELS:
            return f"{kind}, {CELL_LABELS[region]}"
    first, _, rest = name.partition(" ")
    if first in ("r", "p") and rest in _METHODS:  # "r spearman" -> "r (Spearman)"
        return f"{first} ({_METHODS[rest]})"
    return name
