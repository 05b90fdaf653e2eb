"""helpers.stats: r ↔ p, the reported-statistics audit, correlate() on planted data."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from helpers import paper
from helpers.robustness import synthetic_study
from helpers.stats import (
    audit_reported_correlations,
    correlate,
    correlation_table,
    fisher_ci,
    p_from_r,
    r_from_p,
)


@pytest.fixture(scope="module")
def study():
    return synthetic_study(n=19, rho=-0.4, seed=3)


# --------------------------------------------------------------------------- p_from_r / r_from_p
def test_p_from_r_reproduces_the_papers_headline_one_tailed_p():
    assert p_from_r(-0.402, 19, "less") == pytest.approx(0.044, abs=5e-4)
    assert p_from_r(-0.402, 19, "two-sided") == pytest.approx(0.088, abs=5e-4)
    assert p_from_r(-0.402, 19, "greater") == pytest.approx(1 - 0.04399, abs=1e-4)


def test_p_from_r_matches_scipy_pearsonr_on_data():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(12)
    y = 0.3 * x + rng.standard_normal(12)
    res = sps.pearsonr(x, y)
    assert p_from_r(res.statistic, 12) == pytest.approx(res.pvalue, rel=1e-10)


def test_r_from_p_inverts_p_from_r():
    for alt, tail in (("two-sided", "two-sided"), ("greater", "one-sided")):
        p = p_from_r(0.3, 25, alt)
        assert r_from_p(p, 25, tail) == pytest.approx(0.3, abs=1e-10)


def test_critical_r_at_n19_matches_the_known_values():
    assert r_from_p(0.05, 19, "one-sided") == pytest.approx(0.389, abs=5e-4)
    assert r_from_p(0.05, 19, "two-sided") == pytest.approx(0.456, abs=5e-4)


def test_p_from_r_rejects_tiny_n_and_bad_alternative():
    with pytest.raises(ValueError, match="n ≥ 3"):
        p_from_r(0.5, 2)
    with pytest.raises(ValueError, match="alternative"):
        p_from_r(0.5, 10, "one-tailed")


def test_fisher_ci_hand_worked():
    # z = atanh(.5) = .5493, SE = 1/4, 1.95996 * .25 = .48999 -> tanh(.0593), tanh(1.0393)
    low, high = fisher_ci(0.5, 19)
    assert low == pytest.approx(np.tanh(np.arctanh(0.5) - 1.959964 / 4), abs=1e-6)
    assert high == pytest.approx(0.7776, abs=1e-4)


# --------------------------------------------------------------------------- the audit
def test_audit_classifies_the_papers_15_pairs():
    audit = audit_reported_correlations(paper.audit_input())
    assert len(audit) == 15
    left = audit["label"].str.contains("left amygdala, Neg − Neu")
    assert left.sum() == 1
    assert (audit.loc[~left, "consistent"] == "one-tailed").all()
    row = audit.loc[left].iloc[0]
    assert (row["r"], row["p"], row["consistent"]) == (-0.263, 0.165, "neither")
    assert row["p_one_tailed"] == pytest.approx(0.138, abs=1e-3)
    assert row["r_for_p_one_tailed"] == pytest.approx(0.236, abs=1e-3)
    assert row["r_for_p_two_tailed"] == pytest.approx(0.332, abs=1e-3)
    assert audit.loc[~left, "r_for_p_one_tailed"].isna().all()
    assert not audit["matches_two_tailed"].any()


def test_audit_with_df_18_matches_nothing():
    table = paper.audit_input().assign(n=20)  # the text's "r(18)" read literally
    assert (audit_reported_correlations(table)["consistent"] == "neither").all()


def test_audit_allows_for_rounding_of_r_and_p():
    # r = .4015 printed as .402 (or .401); its exact p, rounded, must still count as consistent
    p_exact = p_from_r(0.4015, 19, "greater")
    table = pd.DataFrame(
        {"label": ["a", "b"], "r": [0.402, 0.401], "p": [round(p_exact, 3)] * 2, "n": [19, 19]}
    )
    assert (audit_reported_correlations(table)["consistent"] == "one-tailed").all()
    # but a p three rounding steps away is not
    table["p"] = round(p_exact, 3) + 0.003
    assert (audit_reported_correlations(table)["consistent"] == "neither").all()


def test_audit_two_tailed_row():
    table = pd.DataFrame({"label": ["x"], "r": [-0.402], "p": [0.088], "n": [19]})
    assert audit_reported_correlations(table)["consistent"].item() == "two-tailed"


def test_audit_rejects_missing_p():
    table = pd.DataFrame({"label": ["x"], "r": [0.044], "p": [np.nan], "n": [19]})
    with pytest.raises(ValueError, match="exact p"):
        audit_reported_correlations(table)


# --------------------------------------------------------------------------- correlate
def test_correlate_recovers_planted_correlation(study):
    scores, conn = study
    res = correlate(scores, conn, "total", "negative-neutral", ("vmpfc", "amygdala_r"))
    assert res["n"] == 19
    assert res["r"] == pytest.approx(-0.4, abs=1e-12)
    assert res["alternative"] == "less"  # the paper's hypothesis for the mean
    assert res["p"] == pytest.approx(p_from_r(-0.4, 19, "less"), rel=1e-9)
    assert res["p_two_sided"] == pytest.approx(2 * res["p"], rel=1e-9)
    assert res["ci95_low"] < -0.4 < res["ci95_high"]
    assert res["excluded"] == {}


def test_correlate_accepts_labels_string_pairs_and_two_sided(study):
    scores, conn = study
    res = correlate(
        scores, conn, "Self-compassion mean", "negative-neutral", "amygdala_r-vmpfc", alternative="two-sided"
    )
    assert res["r"] == pytest.approx(-0.4, abs=1e-12)
    assert res["p"] == pytest.approx(p_from_r(-0.4, 19), rel=1e-9)


def test_directional_default_is_greater_for_negative_subscales(study):
    scores, conn = study
    res = correlate(scores, conn, "self_judgment", "negative-neutral", ("vmpfc", "amygdala_r"))
    assert res["alternative"] == "greater"
    assert res["p"] == pytest.approx(p_from_r(res["r"], 19, "greater"), rel=1e-9)


def test_correlate_reports_missing_participants(study):
    scores, conn = study
    scores = scores[scores["participant_id"] != "sub-05"]
    conn = conn[conn["participant_id"] != "sub-07"]
    with pytest.warns(UserWarning, match="excluded 2 participant") as rec:
        res = correlate(scores, conn, "total", "negative-neutral", ("vmpfc", "amygdala_r"))
    assert "sub-05" in str(rec[0].message) and "sub-07" in str(rec[0].message)
    assert res["n"] == 17
    assert set(res["excluded"]) == {"sub-05", "sub-07"}
    assert "not in scores.tsv" in res["excluded"]["sub-05"]
    assert "not in connectivity.tsv" in res["excluded"]["sub-07"]


def test_correlate_reports_missing_values(study):
    scores, conn = study
    scores = scores.copy()
    scores.loc[scores["participant_id"] == "sub-02", "total"] = np.nan
    with pytest.warns(UserWarning, match="sub-02: scores.tsv: column total is missing"):
        res = correlate(scores, conn, "total", "negative-neutral", ("vmpfc", "amygdala_r"))
    assert res["n"] == 18


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(contrast="negative-positive"), "condition 'negative-positive' not found"),
        (dict(measure="gppi"), "measure 'gppi' not found"),
        (dict(pair=("vmpfc", "insula")), "no rows for pair vmpfc→insula"),
        (dict(scale="kindness"), "unknown scale 'kindness'"),
        (dict(alternative="one-tailed"), "alternative must be one of"),
    ],
)
def test_correlate_bad_arguments_name_the_problem(study, kwargs, message):
    scores, conn = study
    args = dict(scale="total", contrast="negative-neutral", pair=("vmpfc", "amygdala_r")) | kwargs
    with pytest.raises(ValueError, match=message):
        correlate(scores, conn, **args)


def test_correlate_rejects_duplicated_participants(study):
    scores, conn = study
    with pytest.raises(ValueError, match=r"scores.tsv: participant\(s\) \['sub-01'\] appear more than once"):
        correlate(pd.concat([scores, scores.iloc[:1]]), conn, "total", "negative-neutral")


def test_correlation_table_rows_and_planted_value(study):
    scores, conn = study
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = correlation_table(
            scores,
            conn,
            contrasts=("negative-neutral", "negative"),
            pairs=(("vmpfc", "amygdala_r"), ("vmpfc", "amygdala_l")),
        )
    assert len(table) == 2 * 2 * 7
    assert list(table["scale"][:7]) == [s for s, _ in paper.SCALES]
    key = table.query("scale == 'total' and contrast == 'negative-neutral' and target == 'amygdala_r'")
    assert key["r"].item() == pytest.approx(-0.4, abs=1e-12)


def test_read_inputs_round_trip_and_clear_error(study, tmp_path):
    from helpers.io import write_tsv
    from helpers.stats import read_inputs

    scores, conn = study
    with pytest.raises(FileNotFoundError, match="scores.tsv: not found .*01_questionnaire"):
        read_inputs(tmp_path)
    write_tsv(scores, tmp_path / "scores.tsv")
    write_tsv(conn, tmp_path / "connectivity.tsv")
    s2, c2, excl = read_inputs(tmp_path)
    assert excl.empty and list(excl.columns) == ["participant_id", "stage", "reason"]
    assert c2["r"].isna().sum() == conn["r"].isna().sum()  # "n/a" is read back as missing
    res = correlate(s2, c2, "total", "negative-neutral")
    assert res["r"] == pytest.approx(-0.4, abs=1e-9)


def test_correlate_rejects_non_numeric_scores_naming_participant(study):
    scores, conn = study
    scores = scores.astype({"total": object})
    scores.loc[scores["participant_id"] == "sub-03", "total"] = "high"
    with pytest.raises(
        ValueError, match=r"scores.tsv: column total must be numeric; participant\(s\) sub-03 \('high'\)"
    ):
        correlate(scores, conn, "total", "negative-neutral")


def test_participant_present_in_both_with_both_values_missing_is_listed(study):
    scores, conn = study
    scores, conn = scores.copy(), conn.copy()
    scores.loc[scores["participant_id"] == "sub-09", "total"] = np.nan
    conn.loc[conn["participant_id"] == "sub-09", "z"] = np.nan
    with pytest.warns(UserWarning, match="sub-09"):
        res = correlate(scores, conn, "total", "negative-neutral")
    assert res["n"] == 18 and "sub-09" in res["excluded"]
