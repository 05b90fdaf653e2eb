"""The reproduction's key numbers, read back from the saved tables (``<output_dir>/tables/*.tsv``), and
where the images behind them came from."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from ..paper import table1 as paper_table1
from ..paths import resolve
from ..robustness.influence import loo_range_sentence
from ..robustness.multiverse import curve_sentence
from .apa_style import bf_evidence
from .reliability_sentences import attenuation_sentence, attenuation_summary
from .table1_sentences import pipelines_sentence, significance_sentence

#: The tables the findings are read from (written by the results and robustness chapters).
TABLES = ("table1", "audit", "sensitivity", "specification_curve", "leave_one_out", "inference")


#: Written by the robustness chapter (:mod:`helpers.reliability`); optional (twin only).
RELIABILITY_TABLE = "connectivity_reliability"


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
        ``headline_n``: its participants; ``headline_bf10``, ``headline_bf_words`` (:func:`bf_evidence`)
        and their two-sided ``headline_bf10_two``, ``headline_bf_words_two``;
        ``audit_n``, ``audit_one_tailed``, ``audit_two_tailed``, ``audit_neither``: classification of
        the paper's reported r/p pairs; ``audit_paper_sig_two``: reported pairs still below ``alpha``
        two-tailed; ``headline_power``, ``headline_n80_one``, ``headline_n80_two``: power of the
        paper's headline r at its n and the n needed for 80 % power;
        ``spec_sentence``: the specification curve's range of the headline r and how many pipelines
        reach ``alpha`` (:func:`helpers.robustness.curve_sentence`); ``loo_sentence``: its
        leave-one-out range, or why there is none (:func:`helpers.robustness.loo_range_sentence`);
        ``data_source``: the images Table 1 came from (:func:`data_source`);
        ``pipelines_sentence``: Table 1 from the other preprocessing routes of
        ``table1_by_pipeline.tsv``, when there is one (else empty; :func:`pipelines_sentence`).
        With the robustness chapter's ``connectivity_reliability.tsv`` (twin only) also
        ``rel_reliability``, ``rel_planted``, ``rel_expected``, ``rel_q_low``, ``rel_q_high``,
        ``rel_latent_paper`` (the latent r the paper's headline r implies), ``rel_sentence``
        (:func:`attenuation_sentence`) and ``rel_summary`` (:func:`attenuation_summary`, its short
        form); otherwise both say that there is no planted value.

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
        "headline_n": int(ours.loc["total", "n"]),
        "headline_bf10": float(inference.loc["total", "bf10"]),
        "headline_bf_words": bf_evidence(float(inference.loc["total", "bf10"])),
        "headline_bf10_two": float(inference.loc["total", "bf10_two_sided"]),
        "headline_bf_words_two": bf_evidence(float(inference.loc["total", "bf10_two_sided"])),
        "audit_n": int(len(audit)),
        "audit_one_tailed": int((audit["consistent"] == "one-tailed").sum()),
        "audit_two_tailed": int((audit["consistent"] == "two-tailed").sum()),
        "audit_neither": int((audit["consistent"] == "neither").sum()),
        "audit_paper_sig_two": int((audit["p_two_tailed"] < alpha).sum()),
        "headline_power": float(headline["power_one_tailed"]),
        "headline_n80_one": int(headline["n_for_80_one_tailed"]),
        "headline_n80_two": int(headline["n_for_80_two_tailed"]),
        "spec_sentence": curve_sentence(spec, alpha),
        "loo_sentence": loo_range_sentence(loo.loc["total"]),
        "data_source": data_source(output_dir),
        "pipelines_sentence": pipelines_sentence(
            _read(folder, "table1_by_pipeline") if (folder / "table1_by_pipeline.tsv").is_file() else None,
            alpha,
        ),
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
                "rel_summary": attenuation_summary(rel),
            }
        )
    else:
        out["rel_sentence"] = out["rel_summary"] = (
            "These data are not the twin, so there is no planted value to compare with; the "
            "robustness chapter measures the reliability of the connectivity estimate only on the twin."
        )
    return out
