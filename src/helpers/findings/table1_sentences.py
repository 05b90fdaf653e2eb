"""Table 1 against what the twin planted and against the paper's significance, in sentences whose
verdicts the numbers choose."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..stats import fisher_ci
from ..tables import PIPELINE_PHRASES
from .apa_style import apa, apa_p


def recovery(ours: pd.DataFrame, planted: pd.Series, level: float = 0.95) -> pd.DataFrame:
    """Does each planted correlation lie within the confidence interval of our estimate?

    Parameters
    ----------
    ours : DataFrame
        ``column`` (score), ``r``, ``n`` (Table 1 as saved).
    planted : Series
        Planted correlation per score (the twin's ``sample`` column: the value among these participants).
    level : float, default 0.95
        Coverage of the two-sided Fisher-z confidence interval (:func:`helpers.stats.fisher_ci`).

    Returns
    -------
    DataFrame
        ``column, r, planted, ci_low, ci_high, within, same_sign`` (``within``: the planted value lies in
        the closed interval).

    Raises
    ------
    ValueError
        A row of ``ours`` has no planted value.
    """
    missing = sorted(set(ours["column"]) - set(planted.index))
    if missing:
        raise ValueError(
            f"no planted value for Table 1 row(s) {missing} (planted values: {list(planted.index)})"
        )
    out = ours[["column", "r", "n"]].copy()
    out["planted"] = planted.loc[out["column"]].to_numpy(float)
    ci = [fisher_ci(r, int(n), level) for r, n in zip(out["r"], out["n"])]
    out["ci_low"], out["ci_high"] = [c[0] for c in ci], [c[1] for c in ci]
    out["within"] = (out["planted"] >= out["ci_low"]) & (out["planted"] <= out["ci_high"])
    out["same_sign"] = np.sign(out["planted"]) == np.sign(out["r"])
    return out.drop(columns="n")


def recovery_sentence(rec: pd.DataFrame, what: str = "planted correlations") -> str:
    """One sentence saying how many planted values our estimates recover (from :func:`recovery`).

    Parameters
    ----------
    rec : DataFrame
        The result of :func:`recovery` (columns ``within`` and ``same_sign`` are counted).
    what : str, default "planted correlations"
        How the sentence names the planted values.

    Returns
    -------
    str
        The verdict (all, none or some within their confidence intervals) and the count of matching signs.
    """
    n, within, signs = len(rec), int(rec["within"].sum()), int(rec["same_sign"].sum())
    if within == n:
        verdict = (
            f"every one of the {n} {what} lies within the 95 % confidence interval of our "
            "estimate, so the data are consistent with what the twin planted"
        )
    elif within == 0:
        verdict = (
            f"none of the {n} {what} lies within the 95 % confidence interval of our "
            "estimate: the pipeline did not recover what the twin planted"
        )
    else:
        verdict = (
            f"{within} of the {n} {what} lie within the 95 % confidence interval of our "
            f"estimate and {n - within} outside it: the pipeline recovered the planted values only in part"
        )
    return f"{verdict[0].upper()}{verdict[1:]}; {signs} of the {n} estimates have the planted sign."


def table1_recovery_sentence(ours: pd.DataFrame, planted: pd.DataFrame | None) -> str:
    """Table 1 against the correlations the twin leads us to expect, in one sentence.

    The expected values are the ``expected`` column of ``tables/planted_correlations.tsv`` (the planted
    sample value times √reliability), for the right amygdala and Neg − Neu rows.

    Parameters
    ----------
    ours : DataFrame
        Table 1 as saved (``column, r, n``).
    planted : DataFrame or None
        The planted table (columns ``side, measure, score, expected``); None for data that are not the twin.

    Returns
    -------
    str
        :func:`recovery_sentence` of the comparison, or a sentence saying there are no planted values.

    Raises
    ------
    ValueError
        A Table 1 row has no planted value (:func:`recovery`).
    """
    if planted is None:
        return "These data are not the digital twin, so there are no planted values to compare Table 1 with."
    rows = planted[(planted["side"] == "amygdala_r") & (planted["measure"] == "negative-neutral")]
    rec = recovery(ours, rows.set_index("score")["expected"])
    return recovery_sentence(
        rec,
        "correlations the twin leads us to expect (planted, sample × √configured reliability)",
    )


def _rows_reaching(k: int, n: int) -> tuple[str, str]:
    """The count phrase ("no row", "every row", "k of the n rows") and its verb ("reaches"/"reach")."""
    rows = "no row" if k == 0 else "every row" if k == n else f"{k} of the {n} rows"
    return rows, "reaches" if k <= 1 or k == n else "reach"


def significance_sentence(n_sig: int, n_rows: int, n_sig_two: int, n_sig_paper: int) -> str:
    """How many Table 1 rows reach p < .05 here (one- and two-tailed) against the paper.

    Parameters
    ----------
    n_sig : int
        Our rows with p < .05 under the paper's one-tailed tests.
    n_rows : int
        Rows of Table 1.
    n_sig_two : int
        Our rows with two-tailed p < .05.
    n_sig_paper : int
        The paper's rows with p < .05.

    Returns
    -------
    str
    """

    def rows(k):
        return _rows_reaching(k, n_rows)[0]

    paper = "as many as" if n_sig == n_sig_paper else "fewer than" if n_sig < n_sig_paper else "more than"
    verb = _rows_reaching(n_sig, n_rows)[1]
    return (
        f"With the paper's one-tailed tests {rows(n_sig)} of Table 1 {verb} "
        f"p < .05 here ({rows(n_sig_two)} two-tailed), {paper} the {n_sig_paper} in the paper."
    )


def planted_sentence(planted: pd.DataFrame | None) -> str:
    """What the twin planted for the headline correlation, from :func:`helpers.reliability.expected_observed`.

    Parameters
    ----------
    planted : DataFrame or None
        The planted table (``side, measure, score, level, target, planted, reliability, expected`` and,
        when present, ``sample`` and ``match``); None: not a twin.

    Returns
    -------
    str
        The paper's r, the planted r in the population and among these participants (sample), and
        the r a pipeline is expected to estimate with the configured reliability, for the
        self-compassion mean × Neg − Neu VMPFC–right amygdala row.
    """
    if planted is None:
        return "These data are not the digital twin, so there are no planted values."
    row = planted[
        (planted["side"] == "amygdala_r")
        & (planted["measure"] == "negative-neutral")
        & (planted["score"] == "total")
    ]
    if row.empty:
        return (
            "The twin's planted table has no row for the self-compassion mean and Neg − Neu right amygdala "
            "coupling."
        )
    t = row.iloc[0]
    has_sample = "sample" in t.index and np.isfinite(t["sample"])
    how = (
        f"the paper's value divided by the square root of the configured reliability, {apa(t['reliability'])}"
        if t["level"] == "observed"
        else "the paper's value itself"
    )
    drawn = (
        " its participants are a random sample from that population, and"
        if t.get("match", "sample") == "population"
        else ""
    )
    sample = (
        f";{drawn} among these participants the neural coupling carries r = {apa(t['sample'], 3)} "
        "(planted, sample)."
        if has_sample
        else "."
    )
    base = "sample" if has_sample else "population"
    return (
        f"This twin was built with coupling.level: {t['level']}. For the headline correlation — the "
        f"self-compassion mean with Neg − Neu VMPFC–right amygdala coupling — the paper reports "
        f"r = {apa(t['target'], 3)}. The twin's coupling model plants r = {apa(t['planted'], 3)} in the "
        f"population (planted, population: {how}){sample} With the configured reliability of "
        f"{apa(t['reliability'])} a pipeline is expected to estimate r = {apa(t['expected'], 3)} (planted "
        f"{base} r × √configured reliability; the robustness chapter measures the reliability among these "
        "participants and simulates the expectation)."
    )


def pipelines_sentence(by_pipeline: pd.DataFrame | None, alpha: float = 0.05) -> str:
    """Table 1 from the other preprocessing routes, beside the one the book reports, in one sentence each.

    "From our own preprocessing of the raw images instead, the headline correlation is r = −.375
    (p = .057), and 2 of the 7 rows of Table 1 reach p < .05."  Empty when there is no other route.

    Parameters
    ----------
    by_pipeline : DataFrame or None
        ``tables/table1_by_pipeline.tsv``: one row per Table 1 scale (the headline first), columns
        ``"<pipeline>: r"`` and ``"<pipeline>: p"`` (p for the chosen test), the reported pipeline first.
    alpha : float, default 0.05
        Significance level.

    Returns
    -------
    str
    """
    if by_pipeline is None:
        return ""
    names = [c[: -len(": r")] for c in by_pipeline.columns if c.endswith(": r")]
    out = []
    for name in names[1:]:
        r, p = by_pipeline[f"{name}: r"], by_pipeline[f"{name}: p"]
        k, n = int((p < alpha).sum()), len(p)
        rows, verb = _rows_reaching(k, n)
        out.append(
            f"From {PIPELINE_PHRASES.get(name, name)} instead, the headline correlation is "
            f"r = {apa(r.iloc[0], 3)} ({apa_p(p.iloc[0])}), and {rows} of Table 1 {verb} p < {apa(alpha)}."
        )
    return " ".join(out)
