"""The reliability of the connectivity estimate and the attenuation of the headline r, in prose whose
every number and verdict comes from the robustness chapter's table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .apa_style import apa


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
