"""How robust are the paper's correlations?  Resampling, power and multiverse helpers.

What the paper did not report: bootstrap CIs, robust correlations, a false
discovery rate over the subscale family, sensitivity/power at n = 19, the
sampling distribution of r in replications, leave-one-out influence and a
specification curve over connectivity pipelines.  Plotting lives in
:mod:`helpers.figures`; these functions return numbers and DataFrames.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg

from . import paper
from .stats import (
    DEFAULT_MEASURE,
    correlate,
    correlate_values,
    correlation_table,
    p_from_r,
    paired_values,
    resolve_alternative,
    resolve_scale,
)

__all__ = [
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
    "describe_measure",
    "planted_rho",
    "synthetic_study",
]


def describe_measure(measure: str) -> str:
    """Readable description of a connectivity ``measure``, from the measure registry
    (:func:`helpers.firstlevel.describe_measure`; ``nilearn_<strategy>`` names its strategy); an
    unregistered name is returned as it is.

    Parameters
    ----------
    measure : str
        A measure name (e.g. ``"weighted_hrf"``).

    Returns
    -------
    str
    """
    from .firstlevel.measures import describe_measure as registered

    return registered(measure)


#: pingouin.corr methods compared in the robustness chapter (Pernet et al. 2013; Wilcox 1994).
ROBUST_METHODS = ("pearson", "spearman", "shepherd", "skipped", "percbend", "bicor")


def bootstrap_ci(
    x, y, *, n_boot: int = 5000, seed: int = 2018, confidence: float = 0.95, method: str = "bca"
) -> tuple[float, float]:
    """Bootstrap CI of Pearson's r, resampling participants (pairs) with replacement.

    Uses :func:`pingouin.compute_bootci` (bias-corrected and accelerated by
    default; Efron & Tibshirani 1993, ch. 14) with ``numpy`` seeding for determinism.

    Parameters
    ----------
    x, y : array-like of float
        Paired values, one per participant.
    n_boot : int, default 5000
        Bootstrap resamples.
    seed : int, default 2018
        Random seed.
    confidence : float, default 0.95
        Coverage of the interval.
    method : str, default "bca"
        pingouin's interval method (``"bca"``, ``"per"``, ``"basic"``, ``"norm"``).

    Returns
    -------
    tuple of float
        (low, high).
    """
    low, high = pg.compute_bootci(
        np.asarray(x, float),
        np.asarray(y, float),
        func="pearson",
        method=method,
        paired=True,
        confidence=confidence,
        n_boot=n_boot,
        seed=seed,
        decimals=6,
    )
    return float(low), float(high)


@contextlib.contextmanager
def _global_numpy_seed(seed: int):
    """Seed numpy's legacy global RNG (pingouin's Shepherd bootstrap uses it), then restore it."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def robust_correlations(
    x, y, alternative: str = "two-sided", methods: Sequence[str] = ROBUST_METHODS, *, seed: int = 2018
) -> pd.DataFrame:
    """The same correlation by several estimators (:func:`pingouin.corr` ``method=``).

    Shepherd's pi and the skipped correlation remove bivariate outliers
    (bootstrapped Mahalanobis distance / minimum covariance determinant) before
    Spearman's rho; the percentage-bend and biweight midcorrelations down-weight
    extreme marginals (Pernet, Wilcox & Rousselet 2013).  Shepherd's bootstrap is
    seeded with ``seed``.  pingouin's caveat that its MCD (scikit-learn) differs
    slightly from the Matlab toolbox's (LIBRA) is acknowledged here, not re-warned.

    Parameters
    ----------
    x, y : array-like of float
        Paired values, one per participant.
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        The test.
    methods : sequence of str, default :data:`ROBUST_METHODS`
        pingouin ``method`` names, one row each.
    seed : int, default 2018
        Seed of Shepherd's bootstrap.

    Returns
    -------
    DataFrame
        One row per method: ``method, n, r, p, alternative, outliers, note``.  A method that cannot be
        computed on the sample (a singular covariance on very few participants; Shepherd's pi left
        with too few points) gives r = p = NaN and says so in ``note``, instead of stopping the chapter.
    """
    rows = []
    for method in methods:
        with warnings.catch_warnings(), _global_numpy_seed(seed):
            warnings.filterwarnings(
                "ignore", message="The skipped correlation relies on the Minimum Covariance"
            )
            try:
                res = pg.corr(
                    np.asarray(x, float), np.asarray(y, float), alternative=alternative, method=method
                )
            except np.linalg.LinAlgError as err:  # e.g. the MCD of a skipped correlation on 4 points
                rows.append(
                    {
                        "method": method,
                        "n": int(np.isfinite(np.asarray(x, float)).sum()),
                        "r": np.nan,
                        "p": np.nan,
                        "alternative": alternative,
                        "outliers": 0,
                        "note": f"not computable on this sample ({err})",
                    }
                )
                continue
        p_col = "p_val" if "p_val" in res.columns else "p-val"
        r, p = float(res["r"].iloc[0]), float(res[p_col].iloc[0])
        rows.append(
            {
                "method": method,
                "n": int(res["n"].iloc[0]),
                "r": r,
                "p": p,
                "alternative": alternative,
                "outliers": int(res["outliers"].iloc[0]) if "outliers" in res.columns else 0,
                "note": "" if np.isfinite(r) and np.isfinite(p) else "not computable on this sample",
            }
        )
    return pd.DataFrame(rows)


def benjamini_hochberg(pvals, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Benjamini–Hochberg (1995) FDR: (reject, adjusted p) via :func:`pingouin.multicomp`.

    Adjusted p_(i) = min_{j ≥ i} (m / j) p_(j) over the sorted p values.

    Parameters
    ----------
    pvals : array-like of float
        The p values of the family.
    alpha : float, default 0.05
        False discovery rate.

    Returns
    -------
    tuple of numpy.ndarray
        (reject: bool per p, adjusted p).
    """
    reject, adjusted = pg.multicomp(np.asarray(pvals, float), alpha=alpha, method="fdr_bh")
    return np.asarray(reject, bool), np.asarray(adjusted, float)


def _power_alternative(alternative: str) -> str:
    # pingouin.power_corr works with |r|: a one-tailed test is its "greater" case.
    return "two-sided" if alternative == "two-sided" else "greater"


def detectable_r(
    n: int = paper.N, power: float = 0.8, alpha: float = 0.05, alternative: str = "two-sided"
) -> float:
    """Smallest |ρ| detectable with probability ``power`` (sensitivity analysis).

    Solved by :func:`pingouin.power_corr` (Fisher-z approximation, Cohen 1988 ch. 3).

    Parameters
    ----------
    n : int, default :data:`helpers.paper.N`
        Sample size (19, the paper's).
    power : float, default 0.8
        Probability of detection.
    alpha : float, default 0.05
        Significance level.
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        The test (a one-sided test is solved for |ρ|).

    Returns
    -------
    float
    """
    return float(pg.power_corr(n=n, power=power, alpha=alpha, alternative=_power_alternative(alternative)))


def n_required(r: float, power: float = 0.8, alpha: float = 0.05, alternative: str = "two-sided") -> int:
    """Participants needed to detect |ρ| = |r| with ``power`` (rounded up; :func:`pingouin.power_corr`).

    Parameters
    ----------
    r : float
        Effect size.
    power : float, default 0.8
        Probability of detection.
    alpha : float, default 0.05
        Significance level.
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        The test.

    Returns
    -------
    int
    """
    n = pg.power_corr(r=abs(r), power=power, alpha=alpha, alternative=_power_alternative(alternative))
    return int(np.ceil(n))


def sensitivity_table(
    effects: Mapping[str, float], n: int = paper.N, power: float = 0.8, alpha: float = 0.05
) -> pd.DataFrame:
    """Power at ``n`` and the n for ``power``, one- and two-tailed, for each named effect size.

    Parameters
    ----------
    effects : mapping of str to float
        Label → effect size r.
    n : int, default :data:`helpers.paper.N`
        Sample size (19, the paper's).
    power : float, default 0.8
        Target power for the required n.
    alpha : float, default 0.05
        Significance level.

    Returns
    -------
    DataFrame
        One row per effect.
    """
    rows = []
    for label, r in effects.items():
        row = {"effect": label, "r": r}
        for alt, tag in (("greater", "one_tailed"), ("two-sided", "two_tailed")):
            row[f"power_{tag}"] = float(pg.power_corr(r=abs(r), n=n, alpha=alpha, alternative=alt))
            row[f"n_for_{int(power * 100)}_{tag}"] = n_required(r, power, alpha, alt)
        rows.append(row)
    return pd.DataFrame(rows)


def monte_carlo_r(
    rho: float,
    n: int = paper.N,
    *,
    n_sim: int = 20000,
    seed: int = 2018,
    alpha: float = 0.05,
    alternative: str = "less",
) -> dict:
    """Sampling distribution of Pearson's r for samples of ``n`` from a bivariate normal with ρ.

    Each replication draws n pairs with correlation ρ (x = e₁, y = ρ e₁ + √(1−ρ²) e₂),
    computes r and its p (:func:`helpers.stats.p_from_r`); the share with p < α
    estimates the power of an exact replication.

    Parameters
    ----------
    rho : float
        Population correlation.
    n : int, default :data:`helpers.paper.N`
        Sample size (19, the paper's).
    n_sim : int, default 20000
        Replications.
    seed : int, default 2018
        Random seed.
    alpha : float, default 0.05
        Significance level.
    alternative : {"two-sided", "less", "greater"}, default "less"
        The test.

    Returns
    -------
    dict
        ``rho, n, n_sim, alternative, alpha, r`` (array of simulated r), ``p`` (array),
        ``power`` (share significant), ``power_se`` (binomial SE) and ``r_quantiles``
        (2.5 %, 50 %, 97.5 %).
    """
    rng = np.random.default_rng(seed)
    e = rng.standard_normal((n_sim, n, 2))
    x = e[..., 0]
    y = rho * e[..., 0] + np.sqrt(1 - rho**2) * e[..., 1]
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    r = (xc * yc).sum(1) / np.sqrt((xc**2).sum(1) * (yc**2).sum(1))
    p = p_from_r(r, n, alternative)
    power = float(np.mean(p < alpha))
    return {
        "rho": rho,
        "n": n,
        "n_sim": n_sim,
        "alternative": alternative,
        "alpha": alpha,
        "r": r,
        "p": p,
        "power": power,
        "power_se": float(np.sqrt(power * (1 - power) / n_sim)),
        "r_quantiles": tuple(float(q) for q in np.quantile(r, [0.025, 0.5, 0.975])),
    }


def leave_one_out(
    scores: pd.DataFrame,
    connectivity: pd.DataFrame,
    scale: str,
    contrast: str,
    pair=("vmpfc", "amygdala_r"),
    alternative: str = "directional",
    *,
    measure: str = DEFAULT_MEASURE,
) -> pd.DataFrame:
    """r and p with each participant left out in turn (jackknife influence).

    Parameters
    ----------
    scores : DataFrame
        ``scores.tsv`` as read by pandas.
    connectivity : DataFrame
        ``connectivity.tsv`` as read by pandas.
    scale : str
        ``scores.tsv`` column or the paper's label (:func:`helpers.stats.resolve_scale`).
    contrast : str
        A ``condition`` of ``connectivity.tsv`` (e.g. ``"negative-neutral"``).
    pair : (source, target), default ("vmpfc", "amygdala_r")
        The ordered ROI pair.
    alternative : {"directional", "less", "greater", "two-sided"}, default "directional"
        The test; ``"directional"``: the paper's hypothesised direction for the scale
        (:func:`helpers.stats.resolve_alternative`).
    measure : str, default :data:`helpers.stats.DEFAULT_MEASURE`
        ``measure`` of ``connectivity.tsv`` (``"weighted_hrf"``, the paper's).

    Returns
    -------
    DataFrame
        ``participant_id, x, y, r_without, p_without, delta_r`` (r_without − r_all);
        ``.attrs`` holds ``r_all``, ``p_all`` and the resolved ``alternative``.
    """
    data = paired_values(scores, connectivity, scale, contrast, pair, measure=measure)
    alt = resolve_alternative(
        alternative, resolve_scale(scale, [c for c in scores.columns if c != "participant_id"])
    )
    full = correlate_values(data["x"], data["y"], alt)
    rows = []
    for i in range(len(data)):
        rest = data.drop(index=data.index[i])
        res = correlate_values(rest["x"], rest["y"], alt)
        rows.append(
            {
                "participant_id": data["participant_id"].iloc[i],
                "x": data["x"].iloc[i],
                "y": data["y"].iloc[i],
                "r_without": res["r"],
                "p_without": res["p"],
                "delta_r": res["r"] - full["r"],
            }
        )
    out = pd.DataFrame(rows)
    out.attrs.update(r_all=full["r"], p_all=full["p"], alternative=alt)
    return out


def specification_curve(
    scores: pd.DataFrame,
    connectivity: pd.DataFrame,
    scale: str = "total",
    contrast: str = "negative-neutral",
    pair=("vmpfc", "amygdala_r"),
    alternative: str = "directional",
    measures: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The key correlation under every connectivity ``measure`` present (Simonsohn et al. 2020).

    Parameters
    ----------
    scores : DataFrame
        ``scores.tsv`` as read by pandas.
    connectivity : DataFrame
        ``connectivity.tsv`` as read by pandas.
    scale : str, default "total"
        ``scores.tsv`` column or the paper's label (:func:`helpers.stats.resolve_scale`).
    contrast : str, default "negative-neutral"
        A ``condition`` of ``connectivity.tsv``.
    pair : (source, target), default ("vmpfc", "amygdala_r")
        The ordered ROI pair.
    alternative : {"directional", "less", "greater", "two-sided"}, default "directional"
        The test; ``"directional"``: the paper's hypothesised direction for the scale
        (:func:`helpers.stats.resolve_alternative`).
    measures : sequence of str, default None
        The measures, in order; None: every measure of ``connectivity``.

    Returns
    -------
    DataFrame
        One :func:`helpers.stats.correlate` row per measure, sorted by r, with
        ``is_default`` marking the paper's pipeline and ``rank`` the position.
    """
    if measures is None:
        measures = list(dict.fromkeys(connectivity["measure"].dropna()))
    rows = []
    for measure in measures:
        row = correlate(scores, connectivity, scale, contrast, pair, alternative, measure=measure)
        row["excluded"] = "; ".join(row["excluded"])
        rows.append(row)
    out = pd.DataFrame(rows).sort_values("r", kind="stable").reset_index(drop=True)
    out["is_default"] = out["measure"] == DEFAULT_MEASURE
    out["rank"] = np.arange(1, len(out) + 1)
    return out


def outlier_sentence(output_dir) -> str:
    """Sentences on the scans the outlier branches flagged and on who each branch left out.

    From ``outlier_scans.tsv``: the share of each participant's weighted scans flagged by ART
    (:mod:`helpers.outliers`), pooled over conditions, its mean over participants and its maximum
    (with who).  From ``exclusions.tsv``: for each branch measure, the participants left out of it
    (stages ``connectivity/<branch>``, e.g. too few residual degrees of freedom, and
    ``outliers/<branch>``, too many scans lost).  Without the table (no outlier choice in the
    connectivity chapter) the sentence says so.

    Parameters
    ----------
    output_dir : path-like
        The connectivity chapter's output folder (:func:`helpers.layout.outputs`).

    Returns
    -------
    str
    """
    from .exclusions import read_exclusions
    from .layout import outputs

    out = outputs(output_dir)
    if not out.outlier_scans.is_file():
        return (
            "The connectivity chapter computed no outlier-scan branch (`multiverse = False` and "
            '`outliers = "none"`), so the curve has none.'
        )
    lost = pd.read_csv(out.outlier_scans, sep="\t")
    lost["rule"] = lost["outliers"].str.rsplit("-", n=1).str[0]  # scrubbing and censoring share the flags
    flagged = lost.drop_duplicates(["participant_id", "rule", "condition"])
    parts = []
    for label, rows in flagged.groupby("rule", sort=True):
        share = rows.groupby("participant_id")[["n_lost", "n_scans"]].sum()
        share = share["n_lost"] / share["n_scans"]
        parts.append(
            f"with CONN's {label} thresholds (global-signal z {rows['gs_z'].iloc[0]:g}, motion "
            f"{rows['fd_mm'].iloc[0]:g} mm) ART flags on average {share.mean():.1%} of a participant's "
            f"weighted scans, at most {share.max():.1%} ({share.idxmax()})"
        )
    text = "Outlier scans: " + "; ".join(parts) + "."
    rows = read_exclusions(out.exclusions)
    left = []
    for branch in [m for m in dict.fromkeys(lost["measure"]) if m != "all"]:
        who = sorted(
            set(
                rows.loc[
                    rows["stage"].isin([f"connectivity/{branch}", f"outliers/{branch}"]), "participant_id"
                ]
            )
        )
        left.append(f"{branch} {len(who)}" + (f" ({', '.join(who)})" if who else ""))
    if left:
        text += (
            " Participants left out of a branch (too few residual degrees of freedom once the scans are "
            "gone, or too many scans lost; exclusions.tsv): " + ", ".join(left) + "."
        )
    return text


def inference_table(
    scores: pd.DataFrame,
    connectivity: pd.DataFrame,
    scales: Sequence[str] | None = None,
    contrast: str = "negative-neutral",
    pair=("vmpfc", "amygdala_r"),
    alternative: str = "directional",
    *,
    measure: str = DEFAULT_MEASURE,
    n_boot: int = 5000,
    seed: int = 2018,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Table 1's correlations with everything the paper did not report.

    For each scale: r, p for ``alternative`` and two-tailed, the analytic
    (Fisher z) and bootstrap 95 % CIs, JZS Bayes factors BF₁₀ for the directional
    and the two-sided hypotheses (:func:`pingouin.bayesfactor_pearson`, Wetzels &
    Wagenmakers 2012), and Benjamini–Hochberg adjusted p values (q) across the
    six subscales (the total is a separate, primary test: q is NaN there).

    Parameters
    ----------
    scores : DataFrame
        ``scores.tsv`` as read by pandas.
    connectivity : DataFrame
        ``connectivity.tsv`` as read by pandas.
    scales : sequence of str, default None
        The scales, in order; None: the paper's (:data:`helpers.paper.SCALES`).
    contrast : str, default "negative-neutral"
        A ``condition`` of ``connectivity.tsv``.
    pair : (source, target), default ("vmpfc", "amygdala_r")
        The ordered ROI pair.
    alternative : {"directional", "less", "greater", "two-sided"}, default "directional"
        The test; ``"directional"``: the paper's hypothesised direction for the scale
        (:func:`helpers.stats.resolve_alternative`).
    measure : str, default :data:`helpers.stats.DEFAULT_MEASURE`
        ``measure`` of ``connectivity.tsv`` (``"weighted_hrf"``, the paper's).
    n_boot : int, default 5000
        Bootstrap resamples (:func:`bootstrap_ci`).
    seed : int, default 2018
        Random seed of the bootstrap.
    alpha : float, default 0.05
        False discovery rate (:func:`benjamini_hochberg`).

    Returns
    -------
    DataFrame
        ``scale, n, r, p, alternative, p_two_sided, ci95_low, ci95_high, boot_low, boot_high,
        bf10, bf10_two_sided, q, q_two_sided, significant_after_bh``.
    """
    scales = [s for s, _ in paper.SCALES] if scales is None else list(scales)
    table = correlation_table(
        scores, connectivity, scales, (contrast,), (pair,), alternative, measure=measure
    )
    two = correlation_table(scores, connectivity, scales, (contrast,), (pair,), "two-sided", measure=measure)
    table["bf10_two_sided"] = two["bf10"].to_numpy()
    boots = []
    for scale in scales:
        data = paired_values(scores, connectivity, scale, contrast, pair, measure=measure)
        boots.append(bootstrap_ci(data["x"], data["y"], n_boot=n_boot, seed=seed))
    table[["boot_low", "boot_high"]] = np.array(boots)
    family = (table["scale"] != "total").to_numpy()
    for p_col, q_col in (("p", "q"), ("p_two_sided", "q_two_sided")):
        table[q_col] = np.nan
        if family.any():
            table.loc[family, q_col] = benjamini_hochberg(table.loc[family, p_col], alpha)[1]
    table["significant_after_bh"] = table["q"] < alpha
    return table[
        [
            "scale",
            "n",
            "r",
            "p",
            "alternative",
            "p_two_sided",
            "ci95_low",
            "ci95_high",
            "boot_low",
            "boot_high",
            "bf10",
            "bf10_two_sided",
            "q",
            "q_two_sided",
            "significant_after_bh",
        ]
    ]


def robust_table(
    scores: pd.DataFrame,
    connectivity: pd.DataFrame,
    keys: Sequence[tuple[str, str]],
    pair=("vmpfc", "amygdala_r"),
    alternative: str = "directional",
    *,
    measure: str = DEFAULT_MEASURE,
    methods: Sequence[str] = ROBUST_METHODS,
    seed: int = 2018,
) -> pd.DataFrame:
    """:func:`robust_correlations` for several (scale, condition) keys, stacked (long format).

    Parameters
    ----------
    scores : DataFrame
        ``scores.tsv`` as read by pandas.
    connectivity : DataFrame
        ``connectivity.tsv`` as read by pandas.
    keys : sequence of (scale, condition)
        The correlations to compute.
    pair : (source, target), default ("vmpfc", "amygdala_r")
        The ordered ROI pair.
    alternative : {"directional", "less", "greater", "two-sided"}, default "directional"
        The test; ``"directional"``: the paper's hypothesised direction for the scale
        (:func:`helpers.stats.resolve_alternative`).
    measure : str, default :data:`helpers.stats.DEFAULT_MEASURE`
        ``measure`` of ``connectivity.tsv`` (``"weighted_hrf"``, the paper's).
    methods : sequence of str, default :data:`ROBUST_METHODS`
        pingouin ``method`` names.
    seed : int, default 2018
        Seed of Shepherd's bootstrap.

    Returns
    -------
    DataFrame
        The :func:`robust_correlations` rows of every key.
    """
    parts = []
    for scale, condition in keys:
        data = paired_values(scores, connectivity, scale, condition, pair, measure=measure)
        col = resolve_scale(scale, [c for c in scores.columns if c != "participant_id"])
        part = robust_correlations(
            data["x"], data["y"], resolve_alternative(alternative, col), methods, seed=seed
        )
        part.insert(0, "condition", condition)
        part.insert(0, "scale", col)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def influence_summary(loos: Mapping[str, pd.DataFrame], alpha: float = 0.05) -> pd.DataFrame:
    """One row per :func:`leave_one_out` result: r with everyone, the range without one, the most influential.

    Parameters
    ----------
    loos : mapping of str to DataFrame
        Key → :func:`leave_one_out` result.
    alpha : float, default 0.05
        Significance level for ``n_significant``.

    Returns
    -------
    DataFrame
        ``key, n, r_all, p_all, r_min, r_max, most_influential`` (the participant whose
        removal moves r most), ``max_abs_delta`` and ``n_significant`` (leave-one-out
        samples with p < ``alpha``, out of n).
    """
    rows = []
    for key, loo in loos.items():
        top = loo.loc[loo["delta_r"].abs().idxmax()]
        rows.append(
            {
                "key": key,
                "n": len(loo),
                "r_all": loo.attrs["r_all"],
                "p_all": loo.attrs["p_all"],
                "r_min": loo["r_without"].min(),
                "r_max": loo["r_without"].max(),
                "most_influential": top["participant_id"],
                "max_abs_delta": abs(top["delta_r"]),
                "n_significant": int((loo["p_without"] < alpha).sum()),
            }
        )
    return pd.DataFrame(rows)


def planted_rho(
    bids_dir, scale: str = "total", condition: str = "negative-neutral", target: str = "amygdala_r"
) -> float | None:
    """The digital twin's planted population correlation, or None if ``bids_dir`` is not a twin.

    Reads ``derivatives/twin-truth/population_correlations.tsv`` (written by
    :mod:`helpers.simulate`): the row whose values include ``scale``, ``condition``
    and ``target``; its ``planted`` column.

    Parameters
    ----------
    bids_dir : path-like
        The BIDS dataset.
    scale : str, default "total"
        The scale.
    condition : str, default "negative-neutral"
        The condition or contrast.
    target : str, default "amygdala_r"
        The target ROI.

    Returns
    -------
    float or None
    """
    path = Path(bids_dir) / "derivatives" / "twin-truth" / "population_correlations.tsv"
    if not path.is_file():
        return None
    table = pd.read_csv(path, sep="\t")
    if "planted" not in table.columns:
        return None
    text = table.drop(columns="planted").astype(str)
    hit = table[
        text.isin([scale]).any(axis=1) & text.isin([condition]).any(axis=1) & text.isin([target]).any(axis=1)
    ]
    return float(hit["planted"].iloc[0]) if len(hit) == 1 else None


# --------------------------------------------------------------------------- synthetic inputs
def _with_exact_correlation(x: np.ndarray, rho: float, rng: np.random.Generator) -> np.ndarray:
    """A standardised vector whose *sample* correlation with ``x`` is exactly ``rho``."""
    zx = (x - x.mean()) / x.std()
    e = rng.standard_normal(len(x))
    e = e - e.mean() - (e @ zx) / (zx @ zx) * zx
    e /= e.std()
    return rho * zx + np.sqrt(1 - rho**2) * e


def synthetic_study(
    n: int = paper.N,
    rho: float | Mapping[str, float] = -0.4,
    *,
    seed: int = 0,
    rois: Sequence[str] = ("vmpfc", "amygdala_l", "amygdala_r"),
    key_pair: tuple[str, str] = ("vmpfc", "amygdala_r"),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Small ``scores.tsv`` / ``connectivity.tsv`` tables with a planted correlation.

    For tests, exercises and dry runs before real outputs exist.  The sample
    correlation between ``total`` and the Neg − Neu Fisher z of ``key_pair``
    (both directions) is *exactly* ``rho`` (or ``rho[measure]`` for each measure
    when a mapping is given); everything else is random.

    Parameters
    ----------
    n : int, default :data:`helpers.paper.N`
        Participants (19, the paper's).
    rho : float or mapping of str to float, default -0.4
        The planted correlation, or measure → correlation.
    seed : int, default 0
        Random seed.
    rois : sequence of str, default ("vmpfc", "amygdala_l", "amygdala_r")
        ROIs of the connectivity table.
    key_pair : (source, target), default ("vmpfc", "amygdala_r")
        The pair carrying the planted correlation.

    Returns
    -------
    scores, connectivity : DataFrame
        In the formats of ``book/spec_data_contract.md``.
    """
    rng = np.random.default_rng(seed)
    rhos = dict(rho) if isinstance(rho, Mapping) else {DEFAULT_MEASURE: float(rho)}
    ids = [f"sub-{i:02d}" for i in range(1, n + 1)]
    total = 3.0 + 0.5 * rng.standard_normal(n)
    scores = pd.DataFrame({"participant_id": ids})
    for col, _ in paper.SCALES[1:]:
        sub = total + 0.4 * rng.standard_normal(n)
        scores[col] = np.clip(6 - sub if paper.HYPOTHESISED_DIRECTION[col] == "greater" else sub, 1, 5)
    scores["total"] = total
    pairs = [(a, b) for i, a in enumerate(rois) for b in rois[i + 1 :]]
    rows = []
    for measure, r_planted in rhos.items():
        for a, b in pairs:
            neutral = 0.2 + 0.15 * rng.standard_normal(n)
            positive = neutral + 0.15 * rng.standard_normal(n)
            if {a, b} == set(key_pair):
                diff = 0.15 * _with_exact_correlation(total, r_planted, rng)
            else:
                diff = 0.15 * rng.standard_normal(n)
            z = {
                "negative": neutral + diff,
                "neutral": neutral,
                "positive": positive,
                "negative-neutral": diff,
                "positive-neutral": positive - neutral,
            }
            for cond, values in z.items():
                r = np.full(n, np.nan) if "-" in cond else np.tanh(values)
                for src, tgt in ((a, b), (b, a)):
                    rows.append(
                        pd.DataFrame(
                            {
                                "participant_id": ids,
                                "measure": measure,
                                "condition": cond,
                                "source": src,
                                "target": tgt,
                                "r": r,
                                "z": values,
                            }
                        )
                    )
    return scores, pd.concat(rows, ignore_index=True)
