"""Key findings of the reproduction and the sentences that state them, read back from the saved tables.

The results and discussion chapters state these numbers in prose; computing them here from the
saved tables (``<output_dir>/tables/*.tsv``) keeps every number in the book traceable to a file
listed on the book's checksum page, and every *claim* — agreement with the planted values,
significance counts, the strength of evidence — chosen by the numbers, not typed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .paper import table1 as paper_table1
from .paths import resolve
from .stats import fisher_ci
from .style import format_p, format_r

__all__ = [
    "key_findings",
    "apa_strings",
    "TABLES",
    "apa",
    "apa_p",
    "bf_evidence",
    "recovery",
    "recovery_sentence",
    "table1_recovery_sentence",
    "significance_sentence",
    "attenuation_sentence",
    "reliability_paragraph",
    "planted_sentence",
    "data_source",
    "RELIABILITY_TABLE",
]

#: The tables the findings are read from (written by the results and robustness chapters).
TABLES = ("table1", "audit", "sensitivity", "specification_curve", "leave_one_out", "inference")
#: Written by the robustness chapter (:mod:`helpers.reliability`); optional (twin only).
RELIABILITY_TABLE = "connectivity_reliability"

#: Lee & Wagenmakers (2013, Table 7.1, after Jeffreys 1961): lower bounds of BF10 and their label.
_BF_LABELS = (
    (100.0, "extreme"),
    (30.0, "very strong"),
    (10.0, "strong"),
    (3.0, "moderate"),
    (1.0, "anecdotal"),
)


def apa(x: float, digits: int = 2) -> str:
    """APA style for a number bounded by 1 (r, p): no leading zero, a true minus sign: −.19, .05, 1.00.

    Parameters
    ----------
    x : float
        The value (None or non-finite gives ``"—"``).
    digits : int, default 2
        Decimal places (:func:`helpers.style.format_r`).

    Returns
    -------
    str
    """
    return format_r(x, digits)


def apa_p(p: float) -> str:
    """``p = .034``, ``p < .001`` (APA: three decimals, never "p = .000"; :func:`helpers.style.format_p`).

    Parameters
    ----------
    p : float
        The p value.

    Returns
    -------
    str
        ``"p = <value>"``, or ``"p < .001"`` below the printed precision.
    """
    text = format_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def bf_evidence(bf10: float) -> str:
    """Words for a Bayes factor BF10 after Lee & Wagenmakers (2013): which hypothesis and how strongly.

    BF10 > 1 favours a correlation (H1), BF10 < 1 no correlation (H0), symmetrically in 1/BF10:
    1–3 anecdotal, 3–10 moderate, 10–30 strong, 30–100 very strong, > 100 extreme; exactly 1 is no
    evidence either way.  E.g. 0.58 → "anecdotal evidence for no correlation".

    Parameters
    ----------
    bf10 : float
        Bayes factor of H1 (a correlation) over H0.

    Returns
    -------
    str
        E.g. ``"moderate evidence for a correlation"``.

    Raises
    ------
    ValueError
        ``bf10`` is not a finite positive number.
    """
    if not np.isfinite(bf10) or bf10 <= 0:
        raise ValueError(f"a Bayes factor must be a positive number, got {bf10}")
    if bf10 == 1:
        return "no evidence either way"
    strength = max(bf10, 1 / bf10)
    label = next(name for bound, name in _BF_LABELS if strength > bound)
    return f"{label} evidence for {'a correlation' if bf10 > 1 else 'no correlation'}"


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
        "correlations the twin leads us to expect (planted, times the square root of "
        "the estimate's reliability)",
    )


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
        return "no row" if k == 0 else "every row" if k == n_rows else f"{k} of the {n_rows} rows"

    paper = "as many as" if n_sig == n_sig_paper else "fewer than" if n_sig < n_sig_paper else "more than"
    verb = "reaches" if n_sig <= 1 or n_sig == n_rows else "reach"
    return (
        f"With the paper's one-tailed tests {rows(n_sig)} of Table 1 {verb} "
        f"p < .05 here ({rows(n_sig_two)} two-tailed), {paper} the {n_sig_paper} in the paper."
    )


def attenuation_sentence(table: pd.Series | dict) -> str:
    """Planted, expected and observed headline r in one sentence, with the verdict chosen by the numbers.

    The verdict says whether ``r_ours`` lies within ``[q_low, q_high]`` (and flags a range that
    includes zero as a weak test).

    Parameters
    ----------
    table : Series or dict
        One row of ``connectivity_reliability.tsv`` (``r_planted, reliability, expected, q_low, q_high,
        r_ours``; ``spearman`` is quoted when present and finite).

    Returns
    -------
    str
    """
    t = dict(table)
    within = t["q_low"] <= t["r_ours"] <= t["q_high"]
    verdict = (
        "lies within that range: the pipeline recovers what the twin planted, once the measurement "
        "error of a single run is allowed for"
        if within
        else "lies outside that range: measurement error alone does not explain the difference"
    )
    if within and t["q_low"] < 0 < t["q_high"]:
        verdict += " — though a range that includes zero makes this a weak test"
    spearman = (
        f"; Spearman's formula alone gives {apa(t['spearman'])}"
        if "spearman" in t and np.isfinite(t["spearman"])
        else ""
    )
    return (
        f"The twin planted r = {apa(t['r_planted'])}; with a reliability of {apa(t['reliability'])} the "
        f"correlation expected from the estimated connectivity is r = {apa(t['expected'])} "
        f"(95 % of draws between {apa(t['q_low'])} and {apa(t['q_high'])}{spearman}), and ours, "
        f"r = {apa(t['r_ours'])}, {verdict}."
    )


def reliability_paragraph(table: pd.Series | dict | None) -> str:
    """The robustness chapter's reliability findings as Markdown, every number and verdict from ``table``.

    Parameters
    ----------
    table : Series, dict or None
        One row of ``connectivity_reliability.tsv`` (:func:`helpers.reliability.twin_attenuation`), or None
        for data that are not a twin.

    Returns
    -------
    str
        Two paragraphs (reliability, attenuation, the check of the shortcut against the images; the paper's
        implied latent r and the twin's ``coupling.level``), or one sentence when ``table`` is None.
    """
    if table is None:
        return (
            "These data are not the digital twin: there is no planted coupling, so the reliability of the "
            "connectivity estimate cannot be measured by re-simulation here. A second run of the same "
            "people, or split halves of the events, would be needed."
        )
    t = dict(table)
    config = (
        f"; the twin's configuration assumes {apa(t['reliability_config'])}"
        if np.isfinite(t["reliability_config"])
        else ""
    )
    latent = t["latent_paper"]
    impossible = abs(latent) > 1
    paper = (
        f"At this reliability the paper's r = {apa(t['r_paper'])} implies a correlation of {apa(latent)} "
        "with the neural coupling itself"
        + (
            ": more than 1 in size, which no coupling can have — the paper's estimates "
            "must have been more reliable than the twin's, or its r overestimates the "
            "population value."
            if impossible
            else "."
        )
    )
    level = (
        "This twin was built with `coupling.level: observed`: it planted each of the paper's values divided "
        "by the square root of its measure's reliability, so that the *estimated* correlations match the "
        "paper's in expectation."
        if t["level"] == "observed"
        else "This twin was built with `coupling.level: latent`: the neural coupling itself carries the "
        "paper's values, so the estimated correlations are expected to be smaller than the paper's, by the "
        "square root of the reliability."
    )
    # z-scores of the same model: mean within 3 standard errors of 0, SD near 1
    image_ok = abs(t["image_mean_z"]) < 3 / np.sqrt(t["image_n"]) and 0.6 < t["image_sd_z"] < 1.5
    mean_z = f"{t['image_mean_z']:.2f}".replace("-", "−")
    image = (
        f"Standardised by each participant's re-simulated runs, the estimates from the images have mean "
        f"{mean_z} and SD {t['image_sd_z']:.2f} (0 and 1 if the shortcut behaves like the "
        f"images), and {t['image_within']:.0%} lie within ±1.96: "
        + (
            "the shortcut reproduces the images' behaviour."
            if image_ok
            else "the shortcut does not behave like the images, so treat the numbers here with caution."
        )
    )
    return (
        f"Among these {t['n']} participants the Neg − Neu estimate has a reliability of "
        f"{apa(t['reliability'])} ({apa(t['reliability_population'])} with the population's spread of "
        f"planted values{config}); two runs of the same people would correlate at about "
        f"{apa(t['retest'])}. One run's error (SD {t['error_sd']:.2f} in Fisher z) is what costs the "
        f"correlation. {attenuation_sentence(t)} "
        f"The {t['draws']} re-simulated twins themselves give r from {apa(t['draws_r_min'])} to "
        f"{apa(t['draws_r_max'])} (mean {apa(t['draws_r_mean'])}). {image}\n\n{paper} {level}"
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
        The paper's r, the planted r among these participants and the r a pipeline is expected to
        estimate, for the self-compassion mean × Neg − Neu VMPFC–right amygdala row.
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
    sample = t["sample"] if "sample" in t.index else t["planted"]
    planted_value = (
        "the paper's value divided by the square root of the measure's reliability"
        if t["level"] == "observed"
        else "the paper's value itself"
    )
    how = (
        planted_value
        if t.get("match", "sample") == "sample"
        else f"a random sample from a population whose correlation is r = {apa(t['planted'], 3)}, "
        f"{planted_value}"
    )
    return (
        f"This twin was built with coupling.level: {t['level']}. For the headline correlation — the "
        f"self-compassion mean with Neg − Neu VMPFC–right amygdala coupling — the paper reports "
        f"r = {apa(t['target'], 3)}; the neural coupling of these participants carries r = {apa(sample, 3)} "
        f"({how}); with a reliability of {apa(t['reliability'])} a pipeline is expected to estimate "
        f"r = {apa(t['expected'], 3)}."
    )


def data_source(output_dir: str | os.PathLike) -> str:
    """Which images the connectivity (and so Table 1) came from, as a phrase.

    Read from the connectivity chapter's provenance (``provenance/03_connectivity.json``:
    ``derivatives_dir``) and that folder's ``dataset_description.json`` (``GeneratedBy[0].Name``:
    ``helpers.simulate``, ``helpers.preprocess`` or fMRIPrep; otherwise the folder's name).

    Parameters
    ----------
    output_dir : path-like
        The book's output folder.

    Returns
    -------
    str
        E.g. ``"our own preprocessing of the raw images"``; a phrase of unknown origin when the provenance
        file is missing.
    """
    prov = Path(output_dir) / "provenance" / "03_connectivity.json"
    if not prov.is_file():
        return "connectivity of unknown origin (the connectivity chapter's provenance is missing)"
    deriv = resolve(json.loads(prov.read_text())["parameters"]["derivatives_dir"])
    desc = deriv / "dataset_description.json"
    generator = ""
    if desc.is_file():
        generated = json.loads(desc.read_text()).get("GeneratedBy") or [{}]
        generator = str(generated[0].get("Name", ""))
    if generator == "helpers.simulate":
        return (
            "the digital twin's ideal derivatives (the images a perfect preprocessing would give, "
            "not the raw files)"
        )
    if generator == "helpers.preprocess":
        return "our own preprocessing of the raw images"
    if generator.lower().startswith("fmriprep"):
        return "fMRIPrep's preprocessing of the raw images"
    return f"the preprocessed images in {deriv.name}"


def apa_strings(found: dict) -> dict[str, str]:
    """APA-formatted copies (key + ``_apa``) of the correlations and p values in :func:`key_findings`.

    r to two decimals without the leading zero (−.19), p as ``p = .218`` or ``p < .001``.

    Parameters
    ----------
    found : dict
        The result of :func:`key_findings`; only float values whose key names an r (``*_r``, ``*_r_min``,
        ``*_r_max``, ``*_r_two``, the ``rel_*`` correlations) or a p (``*_p``, ``*_p_two``) are copied.

    Returns
    -------
    dict of str to str
    """
    out = {}
    for key, value in found.items():
        if not isinstance(value, float):
            continue
        if key.endswith(("_r", "_r_min", "_r_max", "_r_two")) or key in (
            "rel_planted",
            "rel_expected",
            "rel_q_low",
            "rel_q_high",
            "rel_latent_paper",
        ):
            out[f"{key}_apa"] = apa(value)
        elif key.endswith(("_p", "_p_two")):
            out[f"{key}_apa"] = apa_p(value)
    return out


def _read(folder: Path, name: str) -> pd.DataFrame:
    path = folder / f"{name}.tsv"
    if not path.is_file():
        raise ValueError(
            f"{path} is missing: run the results and robustness chapters first "
            f"(the discussion reads {', '.join(t + '.tsv' for t in TABLES)})"
        )
    return pd.read_csv(path, sep="\t", na_values="n/a")


def key_findings(output_dir: str | os.PathLike, alpha: float = 0.05) -> dict[str, float | int | str]:
    """Summary numbers of the reproduction and the sentences that state them (plain values, ready to glue).

    Parameters
    ----------
    output_dir : path-like
        The book's output folder; its ``tables/`` must hold the results and robustness chapters' tables.
    alpha : float, default 0.05
        Significance level for the counts of significant rows.

    Returns
    -------
    dict
        ``t1_rows``: rows of Table 1; ``t1_mean_abs_diff``: mean |r_ours − r_paper| over them;
        ``t1_max_abs_diff``; ``t1_sign_agree``: rows whose r has the paper's sign;
        ``t1_sig_ours`` / ``t1_sig_ours_two`` / ``t1_sig_paper``: rows with p < ``alpha``
        (ours one-tailed as the paper, ours two-tailed, the paper's); ``t1_sig_sentence``;
        ``headline_r`` / ``headline_p`` / ``headline_p_two``: our self-compassion mean row;
        ``paper_headline_r`` / ``paper_headline_p``: the paper's;
        ``headline_bf10``, ``headline_bf_words`` (:func:`bf_evidence`);
        ``audit_n``, ``audit_one_tailed``, ``audit_two_tailed``, ``audit_neither``: classification of
        the paper's reported r/p pairs; ``audit_paper_sig_two``: reported pairs still below ``alpha``
        two-tailed; ``headline_power``, ``headline_n80_one``, ``headline_n80_two``: power of the
        paper's headline r at its n and the n needed for 80 % power;
        ``spec_n``, ``spec_r_min``, ``spec_r_max``, ``spec_n_sig``: the specification curve;
        ``loo_r_min``, ``loo_r_max``: leave-one-out range of the headline r;
        ``data_source``: the images Table 1 came from (:func:`data_source`).
        With the robustness chapter's ``connectivity_reliability.tsv`` (twin only) also
        ``rel_reliability``, ``rel_planted``, ``rel_expected``, ``rel_q_low``, ``rel_q_high``,
        ``rel_latent_paper`` (the latent r the paper's headline r implies), ``rel_sentence``;
        otherwise ``rel_sentence`` says that there is no planted value.

    Raises
    ------
    ValueError
        A table the discussion reads is missing (the message names the chapters that write them).
    """
    folder = Path(output_dir) / "tables"
    ours = _read(folder, "table1").set_index("column")
    paper = paper_table1().set_index("scale").loc[ours.index]
    diff = (ours["r"] - paper["r"]).abs()
    audit = _read(folder, "audit")
    sens = _read(folder, "sensitivity")
    spec = _read(folder, "specification_curve")
    loo = _read(folder, "leave_one_out").set_index("key")
    inference = _read(folder, "inference").set_index("scale")
    headline = sens.iloc[0]
    sig = (
        int((ours["p"] < alpha).sum()),
        int((ours["p_two_sided"] < alpha).sum()),
        int((paper["p"] < alpha).sum()),
    )
    out = {
        "t1_rows": int(len(ours)),
        "t1_mean_abs_diff": float(diff.mean()),
        "t1_max_abs_diff": float(diff.max()),
        "t1_sign_agree": int(((ours["r"] > 0) == (paper["r"] > 0)).sum()),
        "t1_sig_ours": sig[0],
        "t1_sig_ours_two": sig[1],
        "t1_sig_paper": sig[2],
        "t1_sig_sentence": significance_sentence(sig[0], len(ours), sig[1], sig[2]),
        "paper_headline_r": float(paper.loc["total", "r"]),
        "paper_headline_p": float(paper.loc["total", "p"]),
        "headline_r": float(ours.loc["total", "r"]),
        "headline_p": float(ours.loc["total", "p"]),
        "headline_p_two": float(ours.loc["total", "p_two_sided"]),
        "headline_bf10": float(inference.loc["total", "bf10"]),
        "headline_bf_words": bf_evidence(float(inference.loc["total", "bf10"])),
        "audit_n": int(len(audit)),
        "audit_one_tailed": int((audit["consistent"] == "one-tailed").sum()),
        "audit_two_tailed": int((audit["consistent"] == "two-tailed").sum()),
        "audit_neither": int((audit["consistent"] == "neither").sum()),
        "audit_paper_sig_two": int((audit["p_two_tailed"] < alpha).sum()),
        "headline_power": float(headline["power_one_tailed"]),
        "headline_n80_one": int(headline["n_for_80_one_tailed"]),
        "headline_n80_two": int(headline["n_for_80_two_tailed"]),
        "spec_n": int(len(spec)),
        "spec_r_min": float(spec["r"].min()),
        "spec_r_max": float(spec["r"].max()),
        "spec_n_sig": int((spec["p"] < alpha).sum()),
        "loo_r_min": float(loo.loc["total", "r_min"]),
        "loo_r_max": float(loo.loc["total", "r_max"]),
        "data_source": data_source(output_dir),
    }
    rel_path = folder / f"{RELIABILITY_TABLE}.tsv"
    if rel_path.is_file():
        rel = pd.read_csv(rel_path, sep="\t").iloc[0]
        out.update(
            {
                "rel_reliability": float(rel["reliability"]),
                "rel_planted": float(rel["r_planted"]),
                "rel_expected": float(rel["expected"]),
                "rel_q_low": float(rel["q_low"]),
                "rel_q_high": float(rel["q_high"]),
                "rel_latent_paper": float(rel["latent_paper"]),
                "rel_sentence": attenuation_sentence(rel),
            }
        )
    else:
        out["rel_sentence"] = (
            "These data are not the twin, so there is no planted value to compare with; the "
            "robustness chapter measures the reliability of the connectivity estimate only on the twin."
        )
    return out
