"""The reliability of the connectivity estimate and the attenuation of the headline r, in prose whose
every number and verdict comes from the robustness chapter's table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .apa_style import apa


def _finite(t: dict, key: str) -> bool:
    return key in t and t[key] is not None and bool(np.isfinite(t[key]))


def attenuation_sentence(table: pd.Series | dict) -> str:
    """Planted, expected and observed headline r, with the verdict chosen by the numbers.

    One vocabulary with the data chapter: *planted, population* (``r_planted_population``, when
    present) and *planted, sample* (``r_planted``: among these participants); the reliability used is
    the *measured* one (``reliability``, among these participants).  The verdict says whether
    ``r_ours`` lies within ``[q_low, q_high]`` (and flags a range that includes zero as a weak test).
    With ``spearman`` the simulated expectation is set beside Spearman's and, with ``systematic_r``,
    the difference explained: the reliability counts as error every deviation of an estimate from
    the planted line, Spearman's formula assumes those deviations unrelated to the scores, and the
    simulation keeps them.

    Parameters
    ----------
    table : Series or dict
        One row of ``connectivity_reliability.tsv`` (``r_planted, reliability, expected, q_low, q_high,
        r_ours``; ``r_planted_population``, ``spearman`` and ``systematic_r`` are used when present
        and finite).

    Returns
    -------
    str
    """
    t = dict(table)
    within = t["q_low"] <= t["r_ours"] <= t["q_high"]
    position, edge = _position(t)
    verdict = (
        f"lies within the simulated range{position}: consistent with what the twin planted, once the "
        "measurement error of a single run is allowed for"
        + (", though near the edge of that range" if edge else "")
        if within
        else "lies outside the simulated range: measurement error alone does not explain the difference"
    )
    if within and t["q_low"] < 0 < t["q_high"]:
        verdict += " — and a range that includes zero makes this a weak test"
    planted = (
        f"The twin planted r = {apa(t['r_planted_population'])} in the population and "
        f"r = {apa(t['r_planted'])} among these participants (planted, sample)"
        if _finite(t, "r_planted_population")
        else f"The twin planted r = {apa(t['r_planted'])} among these participants (planted, sample)"
    )
    expected = (
        f"with the measured reliability of {apa(t['reliability'])}, simulating one run's estimates for "
        f"these participants gives an expected r = {apa(t['expected'])} (95 % of simulated runs between "
        f"{apa(t['q_low'])} and {apa(t['q_high'])})"
    )
    why = ""
    if _finite(t, "spearman"):
        expected += (
            f"; Spearman's formula (planted sample r × √measured reliability) gives {apa(t['spearman'])}"
        )
        if _finite(t, "systematic_r") and round(t["expected"], 2) != round(t["spearman"], 2):
            stronger = abs(t["expected"]) > abs(t["spearman"])
            why = (
                f" The simulation expects a {'stronger' if stronger else 'weaker'} correlation than "
                "Spearman's formula because the reliability counts as error everything in an estimate "
                "that the planted Neg − Neu coupling does not explain, and Spearman's formula assumes "
                "that part unrelated to the scores; here it is not: the participants' deviations from "
                f"the planted line correlate r = {apa(t['systematic_r'])} with the self-compassion mean "
                "(for example coupling of neighbouring events of the other conditions leaking into the "
                "estimate), and the simulation keeps them."
            )
    return f"{planted}; {expected}. Ours, r = {apa(t['r_ours'])}, {verdict}.{why}"


def _position(t: dict) -> tuple[str, bool]:
    """Where ours lies among the simulated runs (``ours_quantile``: the share of simulated r below ours),
    as ", higher than 90 % of the simulated runs", and whether that is in the outer tenth on either side."""
    if not _finite(t, "ours_quantile"):
        return "", False
    pct = round(100 * t["ours_quantile"])
    text = (
        f", higher than {pct} % of the simulated runs"
        if pct >= 50
        else f", lower than {100 - pct} % of the simulated runs"
    )
    return text, pct >= 90 or pct <= 10


def attenuation_summary(table: pd.Series | dict) -> str:
    """:func:`attenuation_sentence` in short, for the abstract and the key findings.

    "The twin planted r = −.56 among these participants; one run's measurement error (reliability .58)
    brings the expected r to −.48 (95 % of simulated runs between −.71 and −.20). Ours, r = −.31, lies
    within that range, higher than 90 % of the simulated runs."

    Parameters
    ----------
    table : Series or dict
        One row of ``connectivity_reliability.tsv`` (as :func:`attenuation_sentence`).

    Returns
    -------
    str
    """
    t = dict(table)
    within = t["q_low"] <= t["r_ours"] <= t["q_high"]
    where = f"lies within that range{_position(t)[0]}" if within else "lies outside that range"
    return (
        f"The twin planted r = {apa(t['r_planted'])} among these participants; one run's measurement error "
        f"(reliability {apa(t['reliability'])}) brings the expected r to {apa(t['expected'])} (95 % of "
        f"simulated runs between {apa(t['q_low'])} and {apa(t['q_high'])}). Ours, r = {apa(t['r_ours'])}, "
        f"{where}."
    )


def _draws_sentence(t: dict) -> str:
    """The re-simulated twins' r range, and whether every one of them is stronger or weaker than ours."""
    text = (
        f" The {t['draws']} re-simulated twins themselves give r from {apa(t['draws_r_min'])} to "
        f"{apa(t['draws_r_max'])} (mean {apa(t['draws_r_mean'])})"
    )
    lo, hi, ours = t["draws_r_min"], t["draws_r_max"], t["r_ours"]
    if lo <= ours <= hi:
        return text + ", a range that includes ours."
    closer_to_zero = ours > hi if t["draws_r_mean"] < 0 else ours < lo
    return text + f": every one of them {'stronger' if closer_to_zero else 'weaker'} than ours."


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
        f"; configured in the twin: {apa(t['reliability_config'])}"
        if np.isfinite(t["reliability_config"])
        else ""
    )
    latent = t["latent_paper"]
    impossible = abs(latent) > 1
    paper = (
        f"At the reliability measured with the population's spread ({apa(t['reliability_population'])}) "
        f"the paper's r = {apa(t['r_paper'])} implies a correlation of {apa(latent)} "
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
        "by the square root of its measure's configured reliability, so that by Spearman's formula the "
        "*estimated* correlations would match the paper's in expectation"
        + (
            f"; for the headline correlation the simulation above expects {apa(t['expected'])} against the "
            f"paper's {apa(t['r_paper'])}."
            if round(t["expected"], 2) != round(t["r_paper"], 2)
            else "."
        )
        if t["level"] == "observed"
        else "This twin was built with `coupling.level: latent`: the neural coupling itself carries the "
        "paper's values, so the estimated correlations are expected to be smaller than the paper's, by the "
        "square root of the reliability."
    )
    image = _image_sentence(t) if _finite(t, "image_sd_low") else ""
    return (
        f"Among these {t['n']} participants the Neg − Neu estimate has a measured reliability of "
        f"{apa(t['reliability'])} ({apa(t['reliability_population'])} measured with the population's "
        f"spread of planted values{config}); two runs of the same people would correlate at about "
        f"{apa(t['retest'])} (the same quantity, estimated from pairs of simulated runs). One run's error "
        f"(SD {t['error_sd']:.2f} in Fisher z) is what costs the correlation. {attenuation_sentence(t)}"
        f"{_draws_sentence(t)}{image}\n\n{paper} {level}"
    )


def _image_sentence(t: dict) -> str:
    """The check of the ROI-voxel shortcut against the images, verdict by the intervals of
    :func:`helpers.reliability.image_check` (mean's must contain 0, SD's must contain 1)."""

    def num(x):
        return f"{x:.2f}".replace("-", "−")

    text = (
        f" The images' estimates, as deviations from each participant's mean re-simulated estimate in "
        f"units of one run's error, have mean {num(t['image_mean_z'])} (95 % CI {num(t['image_mean_low'])} "
        f"to {num(t['image_mean_high'])}) and SD {num(t['image_sd_z'])} (95 % CI {num(t['image_sd_low'])} "
        f"to {num(t['image_sd_high'])}); a shortcut that behaves like the images gives 0 and 1."
    )
    shifted = not t["image_mean_low"] <= 0 <= t["image_mean_high"]
    noisier, cleaner = t["image_sd_low"] > 1, t["image_sd_high"] < 1
    if not (shifted or noisier or cleaner):
        return (
            text
            + " Both intervals contain these values: the check finds no difference between the shortcut and "
            "the images."
        )
    parts = []
    if noisier:
        parts.append(
            f"the images are noisier than the shortcut (about {t['image_sd_z'] ** 2:.1f} times its error "
            f"variance), so the reliability above is an upper bound for them; with the images' error it "
            f"would be about {apa(t['reliability_images'])}"
        )
    if cleaner:
        parts.append(
            "the images carry less error than the shortcut, so the reliability above is a lower bound "
            f"for them; with the images' error it would be about {apa(t['reliability_images'])}"
        )
    if shifted:
        parts.append(
            "the images' estimates are shifted against the shortcut's, which leaves correlations unchanged "
            "only if every participant is shifted alike"
        )
    return text + " The shortcut does not reproduce the images: " + "; ".join(parts) + "."
