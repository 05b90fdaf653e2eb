"""helpers.robustness: power, Monte-Carlo, bootstrap, robust r, BH, leave-one-out, multiverse."""

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats as sps

from helpers import paper
from helpers.robustness import (
    benjamini_hochberg,
    bootstrap_ci,
    detectable_r,
    inference_table,
    influence_summary,
    leave_one_out,
    monte_carlo_r,
    n_required,
    robust_correlations,
    robust_sentence,
    robust_table,
    sensitivity_table,
    specification_curve,
    synthetic_study,
)
from helpers.stats import correlate


@pytest.fixture(scope="module")
def study():
    return synthetic_study(
        n=19, rho={"weighted_hrf": -0.4, "weighted_none": -0.25, "beta_series": 0.1}, seed=7
    )


def test_synthetic_study_follows_the_contract_and_plants_exact_r(study):
    scores, conn = study
    assert list(scores.columns) == [
        "participant_id",
        "self_kindness",
        "self_judgment",
        "common_humanity",
        "isolation",
        "mindfulness",
        "over_identification",
        "total",
    ]
    assert list(conn.columns) == ["participant_id", "measure", "condition", "source", "target", "r", "z"]
    assert set(conn["condition"]) == {
        "negative",
        "neutral",
        "positive",
        "negative-neutral",
        "positive-neutral",
    }
    assert conn.loc[conn["condition"].str.contains("-"), "r"].isna().all()
    wide = conn.query("measure == 'weighted_hrf' and source == 'vmpfc' and target == 'amygdala_r'").pivot(
        index="participant_id", columns="condition", values="z"
    )
    np.testing.assert_allclose(wide["negative-neutral"], wide["negative"] - wide["neutral"], atol=1e-12)
    assert np.corrcoef(scores["total"], wide["negative-neutral"])[0, 1] == pytest.approx(-0.4, abs=1e-12)


def test_power_helpers_match_known_values():
    # sensitivity at n = 19, 80 % power, alpha .05 (G*Power: ~.54 one-tailed, ~.59 two-tailed)
    assert detectable_r(19, alternative="less") == pytest.approx(0.541, abs=2e-3)
    assert detectable_r(19) == pytest.approx(0.595, abs=2e-3)
    assert n_required(-0.402, alternative="less") == 37
    assert n_required(0.3) == 85  # textbook: r = .3, 80 %, two-tailed -> 85
    table = sensitivity_table({"SC mean": -0.402})
    assert table.loc[0, "power_one_tailed"] == pytest.approx(0.54, abs=0.01)
    assert table.loc[0, "n_for_80_two_tailed"] == 46


def test_monte_carlo_agrees_with_analytic_power_and_is_deterministic():
    mc = monte_carlo_r(-0.402, 19, n_sim=20000, seed=1, alternative="less")
    assert mc["power"] == pytest.approx(0.54, abs=0.02)  # pingouin.power_corr: .543
    # E[r] ≈ ρ (1 − (1 − ρ²) / 2n)  (Fisher 1915): r is biased slightly toward 0
    assert mc["r"].mean() == pytest.approx(-0.402 * (1 - (1 - 0.402**2) / 38), abs=0.005)
    assert mc["r_quantiles"][0] < -0.7 and mc["r_quantiles"][2] > -0.05
    assert (
        monte_carlo_r(-0.402, 19, n_sim=500, seed=1)["r"].tolist()
        == monte_carlo_r(-0.402, 19, n_sim=500, seed=1)["r"].tolist()
    )
    null = monte_carlo_r(0.0, 19, n_sim=20000, seed=2, alternative="two-sided")
    assert null["power"] == pytest.approx(0.05, abs=0.006)  # type I error rate


def test_bootstrap_ci_is_seeded_and_brackets_r(study):
    scores, conn = study
    x = scores["total"]
    y = conn.query(
        "measure == 'weighted_hrf' and condition == 'negative-neutral' and source == 'vmpfc' "
        "and target == 'amygdala_r'"
    )["z"]
    low, high = bootstrap_ci(x, y, n_boot=2000, seed=3)
    assert low < -0.4 < high and high - low > 0.2
    assert (low, high) == bootstrap_ci(x, y, n_boot=2000, seed=3)


def test_robust_correlations_flag_a_planted_outlier():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(19)
    y = rng.standard_normal(19)
    x[0], y[0] = 8.0, 8.0  # one wild point makes Pearson look strong
    table = robust_correlations(x, y).set_index("method")
    assert table.loc["pearson", "r"] > 0.6
    assert abs(table.loc["skipped", "r"]) < 0.4 and table.loc["skipped", "outliers"] >= 1
    assert abs(table.loc["shepherd", "r"]) < 0.4
    assert table.loc["spearman", "r"] == pytest.approx(sps.spearmanr(x, y).statistic)
    assert table.equals(robust_correlations(x, y).set_index("method"))  # Shepherd's bootstrap is seeded
    assert (table["note"] == "").all()


def test_robust_correlations_on_four_participants_say_what_cannot_be_computed():
    """A pilot of 4: Shepherd's bootstrapped covariance is singular. The methods that work give their
    values (Pearson's equals scipy's) and the others are NaN with a note, instead of stopping the chapter."""
    x, y = np.array([0.1, 0.5, 0.2, 0.9]), np.array([0.3, 0.2, 0.8, 0.1])
    table = robust_correlations(x, y).set_index("method")
    assert table.loc["pearson", "r"] == pytest.approx(sps.pearsonr(x, y).statistic)
    failed = table[table["note"] != ""]
    assert "shepherd" in failed.index and failed["r"].isna().all() and failed["p"].isna().all()
    assert failed["note"].str.startswith("not computable on this sample").all()
    assert (table.loc[table["note"] == "", "r"].notna()).all()


def test_benjamini_hochberg_hand_worked():
    reject, adjusted = benjamini_hochberg([0.01, 0.04, 0.03, 0.2])
    np.testing.assert_allclose(adjusted, [0.04, 0.16 / 3, 0.16 / 3, 0.2])
    assert reject.tolist() == [True, False, False, False]


def test_leave_one_out_matches_direct_recomputation(study):
    scores, conn = study
    loo = leave_one_out(scores, conn, "total", "negative-neutral")
    assert len(loo) == 19 and loo.attrs["r_all"] == pytest.approx(-0.4, abs=1e-12)
    drop = loo.iloc[4]["participant_id"]
    direct = correlate(
        scores[scores["participant_id"] != drop],
        conn[conn["participant_id"] != drop],
        "total",
        "negative-neutral",
    )
    assert loo.iloc[4]["r_without"] == pytest.approx(direct["r"], rel=1e-12)
    np.testing.assert_allclose(loo["delta_r"], loo["r_without"] + 0.4, atol=1e-12)


def test_specification_curve_covers_every_measure_present(study):
    scores, conn = study
    curve = specification_curve(scores, conn)
    assert curve["measure"].tolist() == ["weighted_hrf", "weighted_none", "beta_series"]  # sorted by r
    np.testing.assert_allclose(curve["r"], [-0.4, -0.25, 0.1], atol=1e-12)
    assert curve["is_default"].tolist() == [True, False, False]
    assert (curve["alternative"] == "less").all()


def test_paper_alphas_are_the_reported_ones():
    assert paper.ALPHAS["total"] == 0.913 and len(paper.ALPHAS) == 7
    assert pd.Series(paper.HYPOTHESISED_DIRECTION).value_counts().to_dict() == {"less": 4, "greater": 3}


def test_inference_table_adds_cis_bayes_factors_and_bh(study):
    scores, conn = study
    table = inference_table(scores, conn, n_boot=1000, seed=1)
    assert table["scale"].tolist() == [s for s, _ in paper.SCALES]
    total = table.iloc[0]
    assert total["r"] == pytest.approx(-0.4, abs=1e-12)
    assert total["boot_low"] < -0.4 < total["boot_high"]
    assert total["bf10"] == pytest.approx(pg.bayesfactor_pearson(-0.4, 19, alternative="less"), rel=1e-9)
    assert total["bf10"] > total["bf10_two_sided"]  # a correct directional prediction earns evidence
    assert np.isnan(total["q"])
    sub = table.iloc[1:]
    np.testing.assert_allclose(sub["q"], benjamini_hochberg(sub["p"])[1])
    assert (sub["q"] >= sub["p"] - 1e-15).all()


def test_robust_table_stacks_keys(study):
    scores, conn = study
    table = robust_table(
        scores,
        conn,
        [("total", "negative-neutral"), ("self_judgment", "negative")],
        methods=("pearson", "spearman"),
    )
    assert table[["scale", "method"]].values.tolist() == [
        ["total", "pearson"],
        ["total", "spearman"],
        ["self_judgment", "pearson"],
        ["self_judgment", "spearman"],
    ]
    assert table.loc[0, "r"] == pytest.approx(-0.4, abs=1e-12)
    assert table["alternative"].tolist() == ["less", "less", "greater", "greater"]


def test_influence_summary_finds_the_planted_outlier(study):
    scores, conn = study
    scores = scores.copy()
    scores.loc[scores["participant_id"] == "sub-04", "total"] = 9.0  # one extreme score
    loo = leave_one_out(scores, conn, "total", "negative-neutral")
    summary = influence_summary({"total": loo}).iloc[0]
    assert summary["most_influential"] == "sub-04"
    assert 0 <= summary["n_significant"] <= 19 and summary["n"] == 19


def test_describe_measure():
    from helpers.robustness import describe_measure

    assert describe_measure("weighted_hrf").startswith("the paper's")
    assert "'motion'" in describe_measure("nilearn_motion")
    assert describe_measure("custom") == "custom"


def test_planted_rho_reads_the_twin_truth(tmp_path):
    from helpers.robustness import planted_rho

    assert planted_rho(tmp_path) is None
    truth = tmp_path / "derivatives" / "twin-truth"
    truth.mkdir(parents=True)
    pd.DataFrame(
        {
            "side": ["amygdala_r", "amygdala_l"],
            "measure": ["negative-neutral"] * 2,
            "score": ["total"] * 2,
            "target": [-0.402, -0.263],
            "planted": [-0.41, -0.27],
        }
    ).to_csv(truth / "population_correlations.tsv", sep="\t", index=False)
    assert planted_rho(tmp_path) == -0.41
    assert planted_rho(tmp_path, target="amygdala_l") == -0.27
    assert planted_rho(tmp_path, condition="negative") is None


def _provenance(folder, **params):
    import json

    (folder / "provenance").mkdir(parents=True, exist_ok=True)
    (folder / "provenance" / "03_connectivity.json").write_text(json.dumps({"parameters": params}))


def test_outlier_sentence_says_what_the_connectivity_chapter_was_asked_for(tmp_path):
    from helpers.robustness import outlier_sentence

    assert "parameters are not recorded" in outlier_sentence(tmp_path)
    _provenance(tmp_path, multiverse=False, outliers="none")
    assert outlier_sentence(tmp_path) == (
        'The connectivity chapter ran with `multiverse = False` and `outliers = "none"`: it computed no '
        "outlier-scan branch, so the curve has none."
    )
    # the default book's build: the multiverse was asked for, by code older than the outlier branches
    _provenance(tmp_path, multiverse=True)
    text = outlier_sentence(tmp_path)
    assert text.startswith(
        "The connectivity chapter ran with `multiverse = True` and no `outliers` parameter, which asks for "
        "outlier-scan branches, yet wrote no outlier_scans.tsv"
    )
    assert "multiverse = False" not in text
    _provenance(tmp_path, multiverse=False, outliers="liberal")
    assert '`multiverse = False` and `outliers = "liberal"`, which asks for' in outlier_sentence(tmp_path)


def test_robust_by_method_keeps_outlier_counts_integers(study):
    from helpers.robustness import robust_by_method, robust_table

    scores, conn = study
    long = robust_table(scores, conn, [("total", "negative-neutral"), ("total", "negative")])
    wide = robust_by_method(long)
    assert all(str(t) == "Int64" for t in wide["outliers"].dtypes)
    shepherd = long[(long["condition"] == "negative") & (long["method"] == "shepherd")].iloc[0]
    assert wide.loc[("total", "negative"), ("outliers", "shepherd")] == int(shepherd["outliers"])
    assert wide.loc[("total", "negative"), ("r", "shepherd")] == round(float(shepherd["r"]), 3)
    assert wide["outliers"].to_string().count(".") == 0
    from helpers.mdtable import markdown_table

    row = markdown_table(wide).splitlines()[-1]  # as the book shows it: counts without ".0"
    assert row.endswith(" | ".join(str(int(v)) for v in wide["outliers"].iloc[-1]) + " |")


def test_loo_significance_remains_or_becomes():
    from helpers.robustness import loo_significance

    assert loo_significance({"n": 19, "p_all": 0.03, "n_significant": 1}) == (
        "1 of the 19 leave-one-out samples remains significant"
    )
    assert loo_significance({"n": 19, "p_all": 0.03, "n_significant": 17}) == (
        "17 of the 19 leave-one-out samples remain significant"
    )
    assert loo_significance({"n": 19, "p_all": 0.09, "n_significant": 1}) == (
        "1 of the 19 leave-one-out samples becomes significant"
    )
    assert loo_significance({"n": 19, "p_all": 0.09, "n_significant": 0}) == (
        "0 of the 19 leave-one-out samples become significant"
    )


def _first(study, n):
    """The first ``n`` participants of the synthetic study (scores and connectivity)."""
    scores, conn = study
    keep = scores["participant_id"].iloc[:n]
    return scores[scores["participant_id"].isin(keep)], conn[conn["participant_id"].isin(keep)]


def test_leave_one_out_with_four_participants_correlates_each_three(study):
    scores, conn = _first(study, 4)
    loo = leave_one_out(scores, conn, "total", "negative-neutral")
    assert len(loo) == 4 and loo.attrs["n"] == 4
    for _, row in loo.iterrows():
        rest = scores["participant_id"] != row["participant_id"]
        direct = correlate(scores[rest], conn, "total", "negative-neutral")
        assert direct["n"] == 3 and row["r_without"] == pytest.approx(direct["r"], rel=1e-12)


def test_leave_one_out_with_three_participants_says_why_there_is_none(study):
    from helpers.figures import influence_figure
    from helpers.robustness import loo_paragraph, loo_range_sentence

    scores, conn = _first(study, 3)
    loo = leave_one_out(scores, conn, "total", "negative-neutral")
    assert loo.empty and list(loo.columns) == [
        "participant_id",
        "x",
        "y",
        "r_without",
        "p_without",
        "delta_r",
    ]
    assert loo.attrs["n"] == 3
    assert loo.attrs["r_all"] == pytest.approx(correlate(scores, conn, "total", "negative-neutral")["r"])
    row = influence_summary({"total": loo}).iloc[0]
    assert row["n"] == 3 and np.isnan(row["r_min"]) and pd.isna(row["n_significant"])
    why = (
        "With 3 participants no one can be left out: each sample would keep 2, and a correlation "
        "needs at least 3, so leave-one-out needs at least 4."
    )
    assert loo_paragraph(row) == loo_range_sentence(row) == why
    texts = [t.get_text().replace("\n", " ") for t in influence_figure(loo).axes[0].texts]
    assert texts == ["Not computed: leave-one-out needs at least 4 participants; the data have 3."]
    with pytest.raises(ValueError, match="2 participant\\(s\\) with both .* needs at least 3"):
        leave_one_out(*_first(study, 2), "total", "negative-neutral")


def test_loo_paragraph_by_hand():
    from helpers.robustness import loo_paragraph

    row = {
        "n": 19,
        "r_min": -0.6123,
        "r_max": -0.3831,
        "max_abs_delta": 0.1042,
        "p_all": 0.02,
        "n_significant": 17,
    }
    assert loo_paragraph(row) == (
        "Without any single participant, r stays between \u2212.612 and \u2212.383; the most influential "
        "participant moves it by .104. 17 of the 19 leave-one-out samples remain significant with the "
        "chosen test."
    )


def test_curve_sentence_counts_and_says_when_there_is_no_curve():
    from helpers.robustness import curve_sentence

    curve = pd.DataFrame({"r": [-0.61, -0.4, -0.21], "p": [0.003, 0.04, 0.2]})
    assert curve_sentence(curve) == (
        "Across the 3 pipelines of the specification curve the headline correlation ranges from "
        "\u2212.61 to \u2212.21, and 2 of them reach p < .05."
    )
    assert curve_sentence(curve.iloc[:1]).startswith("Only the paper's connectivity pipeline was computed")


def test_interval_sentence_on_the_inference_table_with_19_and_3_participants(study):
    from helpers.robustness import interval_phrase, interval_sentence
    from helpers.style import format_r

    scores, conn = study
    total = inference_table(scores, conn, n_boot=1000, seed=1).iloc[0]
    # Fisher by hand: tanh(atanh(−.4) ± 1.96/√16) = −.7229, .0662
    assert (total["ci95_low"], total["ci95_high"]) == pytest.approx((-0.7229, 0.0662), abs=1e-4)
    boot = f"{format_r(total['boot_low'], 2)} to {format_r(total['boot_high'], 2)}"
    assert interval_sentence(total) == (
        f"Its 95 % interval runs from −.72 to .07 (bootstrap: {boot}): the width of this interval, "
        "more than the p value, shows how precisely 19 participants pin the correlation down."
    )
    assert interval_phrase(total) == "a 95 % interval from −.72 to .07"
    few = inference_table(*_first(study, 3), n_boot=200, seed=1).iloc[0]
    assert interval_phrase(few) == "no 95 % interval (3 participants; it needs at least 4)"
    assert few["n"] == 3 and np.isnan(few["ci95_low"])
    assert interval_sentence(few) == (
        "With 3 participants there is no 95 % interval: Fisher's needs at least 4, and 3 pairs allow only "
        "10 distinct bootstrap resamples, too few for a bootstrap interval."
    )
    # the multisets of 4 pairs, counted by hand: C(7, 4) = 35
    row = pd.Series(dict(n=4, ci95_low=np.nan, ci95_high=np.nan, boot_low=-0.9, boot_high=0.2))
    assert interval_sentence(row).endswith("−.90 to .20, rests on only 35 distinct resamples of 4 pairs.")


def _robust_rows(r, p):
    methods = ["pearson", "spearman", "shepherd", "skipped", "percbend", "bicor"]
    return pd.DataFrame({"method": methods[: len(r)], "r": r, "p": p})


def test_robust_sentence_counts_only_the_estimators_that_returned_a_value():
    rows = _robust_rows([-0.41, -0.35, np.nan, -0.30, -0.38, -0.29], [0.04, 0.07, np.nan, 0.1, 0.06, 0.11])
    assert robust_sentence(rows) == (
        "For the main correlation the 5 estimators that returned a value give r between −.410 and −.290; "
        "1 of 5 reaches p < .05. Shepherd's pi returned none with these data."
    )
    full = _robust_rows([-0.41, -0.35, -0.33], [0.04, 0.03, 0.2])
    assert robust_sentence(full) == (
        "For the main correlation the 3 estimators give r between −.410 and −.330; 2 of 3 reach p < .05."
    )
    one = _robust_rows([0.2, np.nan, np.nan], [0.3, np.nan, np.nan])
    assert robust_sentence(one) == (
        "For the main correlation only Pearson returned a value, r = .200, which does not reach p < .05. "
        "Spearman and Shepherd's pi returned none with these data."
    )
    assert (
        robust_sentence(_robust_rows([np.nan], [np.nan]))
        == "For the main correlation no estimator returned a value."
    )
