"""Before/after ROI correlations, confound degrees of freedom and the denoising QC's one-line verdicts."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats

from .. import firstlevel as fl
from ..connectivity import condition_dof, condition_weights
from ..denoise import HIGHPASS, regress_and_filter, residual_dof
from ..style import counted, format_p, format_r
from .qcfc import MIN_QCFC_PARTICIPANTS

__all__ = [
    "REGRESSOR_KINDS",
    "edge_correlations",
    "regressor_kind",
    "design_dof",
    "participant_denoise_qc",
    "verdicts",
]

#: Kinds of denoising regressors counted by :func:`design_dof` (the constant and trend are added
#: by :func:`helpers.denoise.regress_and_filter`; "outliers" are spike/scrubbing columns).
REGRESSOR_KINDS = ("constant_trend", "motion", "compcor_wm", "compcor_csf", "effects", "outliers")


# --------------------------------------------------------------------------- before / after
def edge_correlations(timeseries: pd.DataFrame) -> pd.DataFrame:
    """Pearson r of every unordered ROI pair over all scans.

    Formula: r_ij = Σ_t x̃_i(t) x̃_j(t) / sqrt(Σ x̃_i² Σ x̃_j²), x̃ = x − mean(x).

    Parameters
    ----------
    timeseries : DataFrame (scans × ROIs)

    Returns
    -------
    DataFrame
        ``source, target, r``, one row per pair in the column order (source before target).
    """
    names = list(timeseries.columns)
    r = np.corrcoef(timeseries.to_numpy(float), rowvar=False)
    rows = [(names[i], names[j], float(r[i, j])) for i, j in itertools.combinations(range(len(names)), 2)]
    return pd.DataFrame(rows, columns=["source", "target", "r"])


def regressor_kind(column: str) -> str:
    """Kind of a :func:`helpers.firstlevel.denoising_design` column (one of :data:`REGRESSOR_KINDS`).

    ``wm_*`` → compcor_wm, ``csf_*`` → compcor_csf, the six realignment parameters and their
    derivatives → motion, ``effect_*`` → effects; any other column (fMRIPrep's
    ``non_steady_state_outlier_XX``, scrubbing spikes) → outliers.

    Parameters
    ----------
    column : str
        A design column name.

    Returns
    -------
    str
    """
    if column.startswith("wm_"):
        return "compcor_wm"
    if column.startswith("csf_"):
        return "compcor_csf"
    if column.removesuffix("_derivative1") in fl.MOTION_COLUMNS:
        return "motion"
    if column.startswith("effect_"):
        return "effects"
    return "outliers"


def design_dof(designs, weights=None) -> dict:
    """Regressors of the denoising design by kind, residual dof and each condition's effective dof.

    Formula: dof = Σ_runs (N_r − rank([1, X_r, trend])) (:func:`helpers.denoise.residual_dof`);
    effective dof of condition c = Σ_r (n_{c,r}/N_r)·dof_r (:func:`helpers.connectivity.condition_dof`,
    n_{c,r} = scans of run r where c has weight > 0).  The filter's loss is not subtracted (both are
    upper bounds, as in the first level).

    Parameters
    ----------
    designs : DataFrame or list of DataFrame
        Each run's denoising design (scans × regressors, without constant and trend).
    weights : DataFrame or list of DataFrame, default None
        Each run's condition weights (scans × conditions); default None: no per-condition dof.

    Returns
    -------
    dict
        ``n_scans``, ``n_<kind>`` for every kind in :data:`REGRESSOR_KINDS`, ``n_regressors``
        (their sum), ``dof`` and ``dof_<condition>``.
    """
    designs = [designs] if isinstance(designs, pd.DataFrame) else list(designs)
    counts = dict.fromkeys(REGRESSOR_KINDS, 0)
    dofs = []
    for design in designs:
        counts["constant_trend"] += 2
        for column in design.columns:
            counts[regressor_kind(str(column))] += 1
        dofs.append(residual_dof(len(design), design))
    out = {"n_scans": int(sum(len(d) for d in designs))}
    out |= {f"n_{kind}": n for kind, n in counts.items()}
    out["n_regressors"] = int(sum(counts.values()))
    out["dof"] = int(sum(dofs))
    if weights is not None:
        weights = [weights] if isinstance(weights, pd.DataFrame) else list(weights)
        out |= {f"dof_{c}": float(v) for c, v in condition_dof(weights, dofs).items()}
    return out


def _run_design(run, conditions, rois, rule=None):
    """One run's ROI series, events, design and kept scans; conditions absent from the run are left out of
    its design (an all-zero column adds nothing to the regression or its rank, book/spec_conn.md §7).
    Under an outlier ``rule`` the design is the first level's (scrubbing: its spike regressors) and
    censoring keeps only the scans it keeps; without one, every scan is kept."""
    present = [
        c
        for c in conditions
        if c in set(fl.read_events(run.events, conditions, require_all=False)["trial_type"])
    ]
    if rule is None:
        return (*fl.participant_design(run, present or list(conditions), rois), None)
    loaded = fl.load_runs(run, present or list(conditions), rois)[0]
    keep = ~loaded.outliers(rule) if rule.method == "censor" else None
    return loaded.roi_ts, loaded.events, loaded.design(rule), keep


def participant_denoise_qc(
    files,
    conditions=("negative", "neutral", "positive"),
    rois=None,
    band=HIGHPASS,
    weighting: str = "hrf",
    outliers=None,
) -> tuple[pd.DataFrame, dict]:
    """Before/after ROI correlations and degrees of freedom of one participant (its BOLD read once per run).

    Every run is denoised on its own, as the first level does (:func:`helpers.firstlevel.participant_design`
    for the design, :func:`helpers.denoise.regress_and_filter` for regression and CONN's filter); the
    runs are then stacked.  The raw series are each run's ROI means minus their run mean (so run
    offsets do not inflate r).

    Parameters
    ----------
    files : helpers.firstlevel.ParticipantFiles
    conditions : sequence of str, default ("negative", "neutral", "positive")
    rois : dict, default None
        ROI specification (:func:`helpers.atlas.roi_masks`); default None: the paper's.
    band : (float, float), default :data:`helpers.denoise.HIGHPASS` (0.008 Hz, ∞)
    weighting : str, default "hrf"
        Condition weights for the effective dof (:func:`helpers.connectivity.condition_weights`).
    outliers : str, dict or None, default None
        The connectivity stage's ``outliers`` parameter (:func:`helpers.outliers.parse_outliers`):
        scrubbing adds its spike regressors to the design (and to the dof count); censoring compares
        the kept scans only, denoised as the first level does (:func:`helpers.outliers.censor_denoise`).

    Returns
    -------
    (DataFrame, dict)
        ``participant_id, source, target, r_raw, r_denoised``; and :func:`design_dof`'s counts.
    """
    from ..outliers import censor_denoise, parse_outliers

    rule = parse_outliers(outliers) if isinstance(outliers, (str, dict)) else outliers
    raw, denoised, designs, weights = [], [], [], []
    for run in files.all_runs:
        roi_ts, events, design, keep = _run_design(run, conditions, rois, rule)
        if keep is None:
            raw.append(roi_ts - roi_ts.mean())
            denoised.append(regress_and_filter(roi_ts, design, run.tr, band))
        else:
            kept = roi_ts[keep]
            raw.append(kept - kept.mean())
            clean = censor_denoise(roi_ts.to_numpy(), design.to_numpy(), keep, run.tr, band)
            denoised.append(pd.DataFrame(clean[keep], columns=roi_ts.columns))
        designs.append(design)
        present = [c for c in conditions if (events["trial_type"] == c).any()]
        weights.append(
            condition_weights(events, len(roi_ts), run.tr, weighting, conditions=present).reindex(
                columns=list(conditions), fill_value=0.0
            )
        )
    before = edge_correlations(pd.concat(raw, ignore_index=True))
    after = edge_correlations(pd.concat(denoised, ignore_index=True))
    edges = before.rename(columns={"r": "r_raw"}).assign(r_denoised=after["r"].to_numpy())
    return edges.assign(participant_id=files.participant_id)[
        ["participant_id", "source", "target", "r_raw", "r_denoised"]
    ], design_dof(designs, weights)


# --------------------------------------------------------------------------- verdicts
def verdicts(
    edges: pd.DataFrame,
    per_participant: pd.DataFrame,
    summary: dict,
    *,
    alpha: float = 0.05,
    max_pct_significant: float = 5.0,
    min_dof: float = 20.0,
    min_r_reduction: float = 0.0,
    conditions=None,
) -> pd.DataFrame:
    """One line per score: its value, the rule, and pass/fail.

    * before/after: pooled median |r| raw − median |r| denoised ≥ ``min_r_reduction`` (default 0.0:
      denoising must not raise it);
    * QC-FC: the median-|QC-FC| permutation p ≥ ``alpha`` **and** the edges with permutation
      p < ``alpha`` are either at most ``max_pct_significant`` % (default 5: what chance alone gives at
      α = .05) or not more than chance allows: the one-sided binomial test of their count k among
      n edges against rate ``alpha``, P(X ≥ k | n, alpha), is at least ``alpha`` (with 9 edges one
      significant edge, 11 %, happens by chance 37 % of the time: 1 − .95⁹);
    * degrees of freedom: every participant's smallest condition dof ≥ ``min_dof`` (default 20; our
      choice, not a published standard: with fewer, a participant's z has an SE above ≈ 0.24).

    Parameters
    ----------
    edges : DataFrame
        :func:`participant_denoise_qc` rows of every participant (``r_raw``, ``r_denoised``).
    per_participant : DataFrame
        :func:`design_dof` rows (``dof_<condition>`` columns).
    summary : dict
        :func:`qc_fc`'s summary.
    alpha : float, default 0.05
        Level of the permutation tests.
    max_pct_significant : float, default 5.0
        Largest % of edges with p < ``alpha``.
    min_dof : float, default 20.0
        Smallest effective dof of a condition.
    min_r_reduction : float, default 0.0
        Smallest drop of the pooled median |r| (raw − denoised).
    conditions : sequence of str, default None
        Conditions whose dof are checked; default None: every ``dof_<c>`` column.

    Returns
    -------
    DataFrame
        ``score`` ("before/after", "QC-FC", "degrees of freedom"), ``value``, ``rule``, ``verdict``
        (``"pass"``, ``"fail"``, or ``"not computed"`` for QC-FC with fewer than
        :data:`MIN_QCFC_PARTICIPANTS` participants) and ``text``: the one-line verdict.
    """
    rows = []
    raw, den = float(np.median(np.abs(edges["r_raw"]))), float(np.median(np.abs(edges["r_denoised"])))
    ok = raw - den >= min_r_reduction
    rows.append(
        (
            "before/after",
            raw - den,
            f"median |r| raw − denoised ≥ {min_r_reduction:g}",
            ok,
            f"denoising {'lowered' if den < raw else 'did not lower'} the median |r| of the ROI pairs from "
            f"{format_r(raw, 2)} to {format_r(den, 2)}",
        )
    )
    pct, p_med = summary["pct_significant"], summary["p_median"]
    rule = (
        f"% edges p < {alpha:g} ≤ {max_pct_significant:g} or within chance (binomial p ≥ {alpha:g}), "
        f"and median-|QC-FC| p ≥ {alpha:g}"
    )
    if np.isfinite(pct):
        n_edges = int(summary["n_edges"])
        hits = int(round(pct / 100 * n_edges))
        chance = float(stats.binomtest(hits, n_edges, alpha, alternative="greater").pvalue) if hits else 1.0
        rows.append(
            (
                "QC-FC",
                pct,
                rule,
                (pct <= max_pct_significant or chance >= alpha) and p_med >= alpha,
                f"{pct:.0f} % of {n_edges} edge–condition values ({hits}) correlate with mean FD at "
                f"p < {alpha:g}, a count chance alone reaches with probability {format_p(chance)}; median "
                f"|QC-FC| = {format_r(summary['median_abs_qc_fc'], 2)}, permutation p = {format_p(p_med)}",
            )
        )
    else:
        rows.append(
            (
                "QC-FC",
                pct,
                rule,
                None,
                f"not computed: {counted(summary['n_participants'], 'participant')}, a "
                f"correlation across participants needs {MIN_QCFC_PARTICIPANTS}",
            )
        )
    cols = (
        [f"dof_{c}" for c in conditions]
        if conditions is not None
        else [c for c in per_participant.columns if c.startswith("dof_")]
    )
    lowest = per_participant[cols].min(axis=1)
    failing = per_participant.loc[lowest < min_dof, "participant_id"].tolist()
    rows.append(
        (
            "degrees of freedom",
            float(lowest.min()),
            f"every condition's effective dof ≥ {min_dof:g}",
            not failing,
            f"smallest effective dof of a condition: {lowest.min():.1f}; "
            + (
                f"{counted(len(failing), 'participant')} below {min_dof:g} ({', '.join(failing)})"
                if failing
                else f"no participant below {min_dof:g}"
            ),
        )
    )
    out = pd.DataFrame(rows, columns=["score", "value", "rule", "ok", "text"])
    out["verdict"] = ["not computed" if ok is None else "pass" if ok else "fail" for ok in out.pop("ok")]
    return out[["score", "value", "rule", "verdict", "text"]]
