"""Key findings and the sentences that state them are computed from the saved tables (hand-made
tables, hand-computed answers), so a prose claim cannot disagree with the numbers — also when the
twin plants no effect at all."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from helpers import findings
from helpers.findings import key_findings
from helpers.paper import table1 as paper_table1


@pytest.fixture
def outputs(tmp_path):
    tables = tmp_path / "tables"
    tables.mkdir()
    paper = paper_table1()
    # ours = the paper's r shifted by +0.1, except self-kindness shifted by +0.3 (sign flips to +.118)
    shift = [0.1, 0.3, 0.1, 0.1, 0.1, 0.1, 0.1]
    pd.DataFrame(
        {
            "column": paper["scale"],
            "r": paper["r"] + shift,
            "p": [0.01, 0.5, 0.04, 0.2, 0.3, 0.06, 0.049],
            "p_two_sided": [0.02, 0.9, 0.08, 0.4, 0.6, 0.12, 0.098],
            "n": 19,
        }
    ).to_csv(tables / "table1.tsv", sep="\t", index=False)
    pd.DataFrame(
        {"consistent": ["one-tailed"] * 3 + ["neither"], "p_two_tailed": [0.01, 0.2, 0.06, 0.3]}
    ).to_csv(tables / "audit.tsv", sep="\t", index=False)
    pd.DataFrame(
        {"power_one_tailed": [0.54, 0.2], "n_for_80_one_tailed": [37, 185], "n_for_80_two_tailed": [46, 234]}
    ).to_csv(tables / "sensitivity.tsv", sep="\t", index=False)
    pd.DataFrame({"r": [-0.5, -0.2, 0.1], "p": [0.01, 0.2, 0.6]}).to_csv(
        tables / "specification_curve.tsv", sep="\t", index=False
    )
    pd.DataFrame(
        {"key": ["total", "common_humanity"], "n": [19, 19], "r_min": [-0.6, -0.7], "r_max": [-0.3, -0.4]}
    ).to_csv(tables / "leave_one_out.tsv", sep="\t", index=False)
    pd.DataFrame(
        {"scale": ["total", "self_kindness"], "bf10": [0.58, 0.38], "bf10_two_sided": [0.41, 0.3]}
    ).to_csv(tables / "inference.tsv", sep="\t", index=False)
    return tmp_path


def test_key_findings_by_hand(outputs):
    f = key_findings(outputs)
    assert f["t1_rows"] == 7
    assert f["t1_mean_abs_diff"] == pytest.approx((6 * 0.1 + 0.3) / 7)
    assert f["t1_max_abs_diff"] == pytest.approx(0.3)
    # signs: the paper's r are -.402 -.182 .417 -.518 .070 -.321 .317;
    # shifted: -.302 .118 .517 -.418 .17 -.221 .417
    assert f["t1_sign_agree"] == 6
    assert (f["t1_sig_ours"], f["t1_sig_ours_two"], f["t1_sig_paper"]) == (3, 1, 3)
    assert f["headline_r"] == pytest.approx(-0.302) and f["headline_p_two"] == pytest.approx(0.02)
    assert (f["audit_n"], f["audit_one_tailed"], f["audit_two_tailed"], f["audit_neither"]) == (4, 3, 0, 1)
    assert f["audit_paper_sig_two"] == 1
    assert (f["headline_n80_one"], f["headline_n80_two"]) == (37, 46)
    assert f["spec_sentence"] == (
        "Across the 3 pipelines of the specification curve the headline correlation ranges from "
        "\u2212.50 to .10, and 1 of them reaches p < .05."
    )
    assert (
        f["loo_sentence"] == "Leaving out one participant at a time moves r between \u2212.60 and \u2212.30."
    )
    assert f["headline_bf_words"] == "anecdotal evidence for no correlation"  # BF10 = 0.58 < 1 favours H0
    assert (f["headline_n"], f["headline_bf10_two"]) == (19, 0.41)
    assert f["headline_bf_words_two"] == "anecdotal evidence for no correlation"
    assert f["pipelines_sentence"] == ""  # no table1_by_pipeline.tsv: one route only
    assert f["rel_summary"] == f["rel_sentence"]  # not the twin: both say so
    assert f["t1_sig_sentence"] == (
        "With the paper's one-tailed tests 3 of the 7 rows of Table 1 reach p < .05 here "
        "(1 of the 7 rows two-tailed), as many as the 3 in the paper."
    )
    assert "not the twin" in f["rel_sentence"] and "rel_reliability" not in f
    assert all(type(v) in (int, float, str) for v in f.values())  # plain values: glue formats them


def test_missing_table_names_the_file(tmp_path):
    (tmp_path / "tables").mkdir()
    with pytest.raises(ValueError, match=r"table1\.tsv is missing: run the results and robustness chapters"):
        key_findings(tmp_path)


# --------------------------------------------------------------------------- the sentences
@pytest.mark.parametrize(
    "bf10, words",
    [
        (0.58, "anecdotal evidence for no correlation"),
        (0.38, "anecdotal evidence for no correlation"),
        (0.30, "moderate evidence for no correlation"),
        (0.05, "strong evidence for no correlation"),
        (1.0, "no evidence either way"),
        (2.9, "anecdotal evidence for a correlation"),
        (3.0, "anecdotal evidence for a correlation"),
        (3.01, "moderate evidence for a correlation"),
        (12.0, "strong evidence for a correlation"),
        (50.0, "very strong evidence for a correlation"),
        (250.0, "extreme evidence for a correlation"),
        (1 / 250, "extreme evidence for no correlation"),
    ],
)
def test_bf_words_follow_lee_wagenmakers(bf10, words):
    assert findings.bf_evidence(bf10) == words


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_bf_words_refuse_impossible_values(bad):
    with pytest.raises(ValueError, match="positive number"):
        findings.bf_evidence(bad)


def test_apa_numbers():
    assert findings.apa(-0.19) == "−.19" and findings.apa(0.4271, 3) == ".427" and findings.apa(1.0) == "1.00"
    assert findings.apa(-0.001) == ".00"  # no "−.00"
    assert findings.apa_p(0.0004) == "p < .001" and findings.apa_p(0.218) == "p = .218"


def _table1(r, n=19):
    return pd.DataFrame({"column": ["total", "self_kindness", "common_humanity"], "r": r, "n": n})


def test_recovery_null_twin_everything_within():
    """A twin that plants no effect: ours scatter around 0, every planted 0 lies in its interval."""
    planted = pd.Series(0.0, index=["total", "self_kindness", "common_humanity"])
    rec = findings.recovery(_table1([0.05, -0.12, 0.2]), planted)
    assert rec["within"].all()
    assert findings.recovery_sentence(rec).startswith(
        "Every one of the 3 planted correlations lies within the 95 % confidence interval"
    )
    # the sign count: planted 0 has no sign, so no estimate "has the planted sign"
    assert findings.recovery_sentence(rec).endswith("0 of the 3 estimates have the planted sign.")


def test_recovery_detects_a_failure_and_a_partial_success():
    planted = pd.Series([-0.43, -0.2, -0.5], index=["total", "self_kindness", "common_humanity"])
    # r = .6 at n = 19: Fisher interval about [.19, .83], far from -.43
    none = findings.recovery(_table1([0.6, 0.7, 0.65]), planted)
    assert not none["within"].any()
    assert "did not recover" in findings.recovery_sentence(none)
    part = findings.recovery(_table1([-0.19, 0.7, -0.4]), planted)
    assert part["within"].tolist() == [True, False, True]
    lo, hi = part.loc[0, ["ci_low", "ci_high"]]
    z, half = np.arctanh(-0.19), 1.959964 / 4  # SE = 1/sqrt(19 - 3)
    assert (lo, hi) == pytest.approx((np.tanh(z - half), np.tanh(z + half)), abs=1e-5)
    assert findings.recovery_sentence(part).startswith("2 of the 3 planted correlations lie within")


def test_recovery_names_missing_planted_rows():
    with pytest.raises(ValueError, match=r"no planted value for Table 1 row\(s\) \['self_kindness'\]"):
        findings.recovery(_table1([0.1, 0.1, 0.1]), pd.Series(0.0, index=["total", "common_humanity"]))


@pytest.mark.parametrize(
    "n_sig, n_two, n_paper, text",
    [
        (
            0,
            0,
            3,
            "no row of Table 1 reaches p < .05 here (no row two-tailed), fewer than the 3 in the paper.",
        ),
        (1, 0, 3, "1 of the 7 rows of Table 1 reaches p < .05 here (no row two-tailed), fewer than"),
        (7, 7, 3, "every row of Table 1 reaches p < .05 here (every row two-tailed), more than the 3"),
    ],
)
def test_significance_sentence_counts(n_sig, n_two, n_paper, text):
    assert text in findings.significance_sentence(n_sig, 7, n_two, n_paper)


def _rel_row(r_ours):
    return {
        "r_planted": -0.427,
        "reliability": 0.2,
        "expected": -0.19,
        "q_low": -0.45,
        "q_high": 0.08,
        "r_ours": r_ours,
        "latent_paper": -0.9,
    }


def test_attenuation_sentence_numbers_and_verdict():
    inside = findings.attenuation_sentence(_rel_row(-0.19))
    assert (
        "planted r = −.43" in inside and "reliability of .20" in inside and "between −.45 and .08" in inside
    )
    assert "Ours, r = −.19, lies within the simulated range" in inside
    outside = findings.attenuation_sentence(_rel_row(0.3))
    assert "lies outside the simulated range" in outside and "recovers" not in outside


def test_attenuation_sentence_one_vocabulary_and_why_simulation_and_spearman_differ():
    """The 19-participant twin's numbers (build of 26 Nov): population −.537, sample −.556, measured .58."""
    row = {
        **_rel_row(-0.312),
        "r_planted_population": -0.537,
        "r_planted": -0.556,
        "reliability": 0.582,
        "expected": -0.479,
        "q_low": -0.707,
        "q_high": -0.201,
        "spearman": -0.424,
        "systematic_r": -0.317,
    }
    text = findings.attenuation_sentence(row)
    assert text.startswith(
        "The twin planted r = −.54 in the population and r = −.56 among these participants "
        "(planted, sample); with the measured reliability of .58"
    )
    assert "Spearman's formula (planted sample r × √measured reliability) gives −.42" in text
    assert "The simulation expects a stronger correlation than Spearman's formula" in text
    assert "correlate r = −.32 with the self-compassion mean" in text
    weaker = findings.attenuation_sentence({**row, "expected": -0.38, "systematic_r": 0.2})
    assert "expects a weaker correlation" in weaker
    same = findings.attenuation_sentence({**row, "expected": -0.4241})
    assert "The simulation expects" not in same


def test_attenuation_summary_and_where_ours_lies_among_the_simulated_runs():
    """The 19-participant twin's numbers (cold build of 26 Nov): ours above 89.6 % of the runs."""
    row = {**_rel_row(-0.312), "r_planted": -0.556, "reliability": 0.582, "expected": -0.479}
    row.update(q_low=-0.707, q_high=-0.201, ours_quantile=0.89575)
    assert findings.attenuation_summary(row) == (
        "The twin planted r = −.56 among these participants; one run's measurement error (reliability .58) "
        "brings the expected r to −.48 (95 % of simulated runs between −.71 and −.20). Ours, r = −.31, lies "
        "within that range, higher than 90 % of the simulated runs."
    )
    full = findings.attenuation_sentence(row)
    assert "lies within the simulated range, higher than 90 % of the simulated runs: consistent with" in full
    assert full.endswith("is allowed for, though near the edge of that range.")
    central = findings.attenuation_sentence({**row, "ours_quantile": 0.4})
    assert "lower than 60 % of the simulated runs: consistent with" in central and "edge" not in central
    assert "lower than 95 % of the simulated runs" in findings.attenuation_summary(
        {**row, "ours_quantile": 0.05}
    )
    assert findings.attenuation_summary({**row, "r_ours": 0.1}).endswith(
        "Ours, r = .10, lies outside that range."
    )


def test_key_findings_with_the_reliability_table(outputs):
    row = _rel_row(-0.2)
    pd.DataFrame([row]).to_csv(outputs / "tables" / "connectivity_reliability.tsv", sep="\t", index=False)
    f = key_findings(outputs)
    assert (f["rel_reliability"], f["rel_expected"], f["rel_latent_paper"]) == (0.2, -0.19, -0.9)
    assert f["rel_sentence"] == findings.attenuation_sentence(row)
    assert f["rel_summary"] == findings.attenuation_summary(row)


def test_null_twin_prose_agrees_with_its_tables(outputs):
    """Tables of a twin without any planted effect: every sentence must say so, with the tables' numbers."""
    tables = outputs / "tables"
    paper = paper_table1()
    pd.DataFrame(
        {
            "column": paper["scale"],
            "r": [0.03, -0.1, 0.08, 0.12, -0.05, 0.0, 0.02],
            "p": [0.45, 0.66, 0.37, 0.7, 0.58, 0.5, 0.47],
            "p_two_sided": [0.9] * 7,
            "n": 19,
        }
    ).to_csv(tables / "table1.tsv", sep="\t", index=False)
    pd.DataFrame({"scale": ["total"], "bf10": [0.29], "bf10_two_sided": [0.2]}).to_csv(
        tables / "inference.tsv", sep="\t", index=False
    )
    pd.DataFrame(
        [
            {
                "r_planted": 0.0,
                "reliability": 0.2,
                "expected": 0.0,
                "q_low": -0.3,
                "q_high": 0.3,
                "r_ours": 0.03,
                "latent_paper": -0.9,
            }
        ]
    ).to_csv(tables / "connectivity_reliability.tsv", sep="\t", index=False)
    f = key_findings(outputs)
    assert f["t1_sig_sentence"].startswith(
        "With the paper's one-tailed tests no row of Table 1 reaches p < .05"
    )
    assert f["headline_bf_words"] == "moderate evidence for no correlation"
    assert "planted r = .00" in f["rel_sentence"] and "Ours, r = .03, lies within" in f["rel_sentence"]
    # the number printed for ours is the table's, in APA style
    assert re.search(r"Ours, r = (\S+),", f["rel_sentence"]).group(1) == findings.apa(f["headline_r"])


@pytest.mark.parametrize(
    "generator, words",
    [
        ("helpers.simulate", "the digital twin's ideal derivatives"),
        ("helpers.preprocess", "our own preprocessing"),
        ("fMRIPrep", "fMRIPrep's preprocessing"),
    ],
)
def test_data_source_read_from_provenance(tmp_path, generator, words):
    deriv = tmp_path / "deriv"
    deriv.mkdir()
    (deriv / "dataset_description.json").write_text(json.dumps({"GeneratedBy": [{"Name": generator}]}))
    (tmp_path / "provenance").mkdir()
    (tmp_path / "provenance" / "03_connectivity.json").write_text(
        json.dumps({"parameters": {"derivatives_dir": str(deriv)}})
    )
    assert findings.data_source(tmp_path).startswith(words)


def test_data_source_without_provenance(tmp_path):
    assert "unknown origin" in findings.data_source(tmp_path)


# --------------------------------------------------------------------------- prose that is not generated
ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def _markdown(notebook):
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / f"{notebook}.ipynb", as_version=4)
    return "\n".join(c["source"] for c in nb.cells if c["cell_type"] == "markdown")


def _without_glue(text):
    return re.sub(r"\{glue:[a-z]+\}`[^`]*`", "GLUED", text)


def test_teaching_answers_type_no_result_numbers():
    """Instructors' notes say what to look for; any number in them that depends on data is glued."""
    text = (ROOT / "book" / "teaching.md").read_text()
    notes = re.findall(r"```\{admonition\}[^\n]*\n(.*?)```", text, flags=re.S)
    assert len(notes) == 8
    for note in notes:
        typed = re.findall(r"(?<![\d.])[−-]?\.\d{2,}", _without_glue(note))
        assert not typed, (
            f"typed result numbers {typed} in a teaching answer: glue them or say what to look for"
        )
    assert "stay close to the paper" not in text


@pytest.mark.parametrize(
    "notebook, stale",
    [
        ("04_results", "Agreement shows that the pipeline recovers"),
        ("07_discussion", "Re-computed from the raw files"),
        ("05_robustness", "values between 1 and 3 are\nconventionally read as weak"),
    ],
)
def test_stale_hand_typed_claims_are_gone(notebook, stale):
    assert stale not in _markdown(notebook)


def test_claims_of_agreement_and_evidence_are_glued():
    """The sentences that judge agreement, significance and evidence come from helpers.findings."""
    assert "{glue:md}`res_recovery_sentence`" in _markdown("04_results")
    assert "{glue:md}`res_t1_sig_sentence`" in _markdown("04_results")
    for key in ("rob_total_bf_words", "rob_total_bf_words_two"):
        assert f"{{glue:text}}`{key}`" in _markdown("05_robustness")
    discussion = _markdown("07_discussion")
    keys = ("data_source", "headline_bf_words", "headline_bf_words_two", "t1_sig_sentence", "rel_summary")
    for key in keys + ("pipelines_sentence",):
        assert f"{{glue:md}}`{key}_md`" in discussion
    abstract = (ROOT / "book" / "abstract.md").read_text()
    for key in keys + ("pipelines_sentence",):
        assert f"{{glue:text}}`/build/notebooks/07_discussion.ipynb::{key}:s`" in abstract


def test_the_outliers_column_the_text_cites_is_shown():
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "05_robustness.ipynb", as_version=4)
    assert "the `outliers` column counts" in _markdown("05_robustness")
    table_cell = next(c["source"] for c in nb.cells if 'chapter.table("rob_robust_tbl"' in c["source"])
    # the wide table whose outliers columns tests/test_robustness.py checks
    assert "robustness.robust_by_method(robust)" in table_cell


def _planted_table(level, match):
    return pd.DataFrame(
        [
            {
                "side": "amygdala_r",
                "measure": "negative-neutral",
                "score": "total",
                "target": -0.402,
                "planted": -0.53,
                "sample": -0.585,
                "level": level,
                "match": match,
                "reliability": 0.56,
                "expected": -0.585 * np.sqrt(0.56),
            }
        ]
    )


def test_planted_sentence_follows_how_the_twin_planted():
    observed = findings.planted_sentence(_planted_table("observed", "sample"))
    assert "coupling.level: observed" in observed
    assert (
        "plants r = −.530 in the population (planted, population: the paper's value divided by the square "
        "root of the configured reliability, .56); among these participants the neural coupling carries "
        "r = −.585 (planted, sample). With the configured reliability of .56 a pipeline is expected to "
        "estimate r = −.438 (planted sample r × √configured reliability;"
    ) in observed
    latent = findings.planted_sentence(_planted_table("latent", "population"))
    assert (
        "plants r = −.530 in the population (planted, population: the paper's value itself); its "
        "participants are a random sample from that population, and among these participants"
    ) in latent
    no_sample = findings.planted_sentence(_planted_table("latent", "population").drop(columns="sample"))
    assert "(planted, population: the paper's value itself). With the configured" in no_sample
    assert findings.planted_sentence(None).startswith("These data are not the digital twin")


def test_reliability_paragraph_says_when_no_latent_correlation_fits():
    row = {
        **_rel_row(-0.19),
        "n": 19,
        "draws": 10,
        "retest": 0.2,
        "reliability_population": 0.15,
        "reliability_config": float("nan"),
        "level": "latent",
        "error_sd": 0.4,
        "draws_r_mean": -0.15,
        "draws_r_min": -0.5,
        "draws_r_max": 0.2,
        "image_n": 19,
        "image_mean_z": -0.1,
        "image_mean_low": -0.58,
        "image_mean_high": 0.38,
        "image_sd_z": 1.0,
        "image_sd_low": 0.76,
        "image_sd_high": 1.48,
        "image_within": 0.95,
        "reliability_images": 0.15,
        "r_paper": -0.402,
        "latent_paper": -0.402 / np.sqrt(0.15),
    }
    text = findings.reliability_paragraph(row)
    assert "implies a correlation of −1.04" in text and "more than 1 in size" in text
    assert "configured in the twin" not in text and "coupling.level: latent" in text
    assert "mean −0.10 (95 % CI −0.58 to 0.38) and SD 1.00 (95 % CI 0.76 to 1.48)" in text
    assert "Both intervals contain these values: the check finds no difference" in text
    # ours (−.19) lies inside the re-simulated twins' range (−.50 to .20); latent level: no Spearman clause
    assert "give r from −.50 to .20 (mean −.15), a range that includes ours." in text
    assert "by Spearman's formula" not in text
    outside = findings.reliability_paragraph({**row, "draws_r_max": -0.3, "draws_r_mean": -0.4})
    assert "give r from −.50 to −.30 (mean −.40): every one of them stronger than ours." in outside
    observed = findings.reliability_paragraph({**row, "level": "observed", "expected": -0.48})
    assert observed.endswith(
        "so that by Spearman's formula the *estimated* correlations would match the paper's in "
        "expectation; for the headline correlation the simulation above expects −.48 against the "
        "paper's −.40."
    )
    biased = findings.reliability_paragraph(
        {**row, "image_mean_z": 2.5, "image_mean_low": 2.0, "image_mean_high": 3.0, "latent_paper": -0.6}
    )
    assert "The shortcut does not reproduce the images: the images' estimates are shifted" in biased
    assert "more than 1" not in biased and "noisier" not in biased
    # the 19-participant book's old statistic, SD 1.37 at n = 19: CI 1.03 to 2.02 excludes 1
    noisy = findings.reliability_paragraph(
        {**row, "image_sd_z": 1.37, "image_sd_low": 1.03, "image_sd_high": 2.02, "reliability_images": 0.11}
    )
    assert (
        "the images are noisier than the shortcut (about 1.9 times its error variance), so the reliability "
        "above is an upper bound for them; with the images' error it would be about .11."
    ) in noisy and "reproduces" not in noisy
    assert "not the digital twin" in findings.reliability_paragraph(None)


def test_counts_agree_with_their_words():
    from helpers.findings import agrees, counted

    assert counted(1, "variant") == "1 variant"
    assert counted(0, "variant") == "0 variants"
    assert counted(9, "variant") == "9 variants"
    assert counted(1, "sample", "samples") == "1 sample"
    assert agrees(1, "gives", "give") == "gives"
    assert agrees(2, "gives", "give") == "give"
    assert agrees(1, "reaches", "reach") == "reaches"


def test_pipelines_sentence_reports_table1_from_the_other_routes():
    table = pd.DataFrame(
        {
            "scale": ["Self-compassion mean", "Self-kindness", "Self-judgment"],
            "ideal derivatives: r": [-0.312, -0.125, 0.2],
            "ideal derivatives: p": [0.097, 0.31, 0.2],
            "our preprocessing: r": [-0.37497, -0.16, 0.44],
            "our preprocessing: p": [0.0568, 0.25, 0.029],
            "fMRIPrep: r": [-0.5, -0.6, 0.7],
            "fMRIPrep: p": [0.01, 0.003, 0.0004],
        }
    )
    assert findings.pipelines_sentence(table) == (
        "From our own preprocessing of the raw images instead, the headline correlation is r = −.375 "
        "(p = .057), and 1 of the 3 rows of Table 1 reaches p < .05. From fMRIPrep instead, the headline "
        "correlation is r = −.500 (p = .010), and every row of Table 1 reaches p < .05."
    )
    assert findings.pipelines_sentence(table.iloc[:, :3]) == ""  # only the reported route
    assert findings.pipelines_sentence(None) == ""
