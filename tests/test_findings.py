"""Key findings are computed from the saved tables (hand-made tables, hand-computed answers)."""

import pandas as pd
import pytest

from helpers.findings import key_findings
from helpers.paper import table1 as paper_table1


@pytest.fixture
def outputs(tmp_path):
    tables = tmp_path / "tables"
    tables.mkdir()
    paper = paper_table1()
    # ours = the paper's r shifted by +0.1, except self-kindness shifted by +0.3 (sign flips to +.118)
    shift = [0.1, 0.3, 0.1, 0.1, 0.1, 0.1, 0.1]
    pd.DataFrame({"column": paper["scale"], "r": paper["r"] + shift,
                  "p": [0.01, 0.5, 0.04, 0.2, 0.3, 0.06, 0.049],
                  "p_two_sided": [0.02, 0.9, 0.08, 0.4, 0.6, 0.12, 0.098]}).to_csv(tables / "table1.tsv", sep="\t", index=False)
    pd.DataFrame({"consistent": ["one-tailed"] * 3 + ["neither"], "p_two_tailed": [0.01, 0.2, 0.06, 0.3]}).to_csv(
        tables / "audit.tsv", sep="\t", index=False)
    pd.DataFrame({"power_one_tailed": [0.54, 0.2], "n_for_80_one_tailed": [37, 185],
                  "n_for_80_two_tailed": [46, 234]}).to_csv(tables / "sensitivity.tsv", sep="\t", index=False)
    pd.DataFrame({"r": [-0.5, -0.2, 0.1], "p": [0.01, 0.2, 0.6]}).to_csv(tables / "specification_curve.tsv", sep="\t", index=False)
    pd.DataFrame({"key": ["total", "common_humanity"], "r_min": [-0.6, -0.7], "r_max": [-0.3, -0.4]}).to_csv(
        tables / "leave_one_out.tsv", sep="\t", index=False)
    return tmp_path


def test_key_findings_by_hand(outputs):
    f = key_findings(outputs)
    assert f["t1_rows"] == 7
    assert f["t1_mean_abs_diff"] == pytest.approx((6 * 0.1 + 0.3) / 7)
    assert f["t1_max_abs_diff"] == pytest.approx(0.3)
    # signs: the paper's r are -.402 -.182 .417 -.518 .070 -.321 .317; shifted: -.302 .118 .517 -.418 .17 -.221 .417
    assert f["t1_sign_agree"] == 6
    assert (f["t1_sig_ours"], f["t1_sig_ours_two"], f["t1_sig_paper"]) == (3, 1, 3)
    assert f["headline_r"] == pytest.approx(-0.302) and f["headline_p_two"] == pytest.approx(0.02)
    assert (f["audit_n"], f["audit_one_tailed"], f["audit_two_tailed"], f["audit_neither"]) == (4, 3, 0, 1)
    assert f["audit_paper_sig_two"] == 1
    assert (f["headline_n80_one"], f["headline_n80_two"]) == (37, 46)
    assert (f["spec_n"], f["spec_r_min"], f["spec_r_max"], f["spec_n_sig"]) == (3, -0.5, 0.1, 1)
    assert (f["loo_r_min"], f["loo_r_max"]) == (-0.6, -0.3)
    assert all(type(v) in (int, float, str) for v in f.values())   # plain values: glue formats them


def test_missing_table_names_the_file(tmp_path):
    (tmp_path / "tables").mkdir()
    with pytest.raises(ValueError, match=r"table1\.tsv is missing: run the results and robustness chapters"):
        key_findings(tmp_path)
