"""helpers.tables: Table 1 in the paper's order, formatting, comparison with the paper."""

import numpy as np
import pandas as pd
import pytest

from helpers import paper
from helpers.robustness import synthetic_study
from helpers.stats import p_from_r
from helpers.tables import (
    compare_with_paper,
    format_p,
    format_r,
    marker,
    render_comparison,
    render_table1,
    table1,
)

PAPER_ORDER = [
    "Self-compassion mean",
    "Self-kindness",
    "Self-judgment",
    "Common humanity",
    "Isolation",
    "Mindfulness",
    "Over-identification",
]


@pytest.fixture(scope="module")
def study():
    return synthetic_study(n=19, rho=-0.45, seed=11)


def test_paper_table1_rows_and_values():
    ref = paper.table1()
    assert ref["label"].tolist() == PAPER_ORDER
    assert ref.loc[0, ["r", "p", "marker"]].tolist() == [-0.402, 0.044, "*"]
    assert ref["marker"].tolist() == ["*", "", "*", "*", "", "†", "†"]


def test_reported_correlations_has_15_exact_pairs_and_one_inequality():
    rep = paper.reported_correlations()
    assert len(rep) == 16 and rep["p"].notna().sum() == 15
    assert rep.loc[rep["p"].isna(), "p_text"].item() == "> .05"
    assert len(paper.audit_input()) == 15


def test_table1_order_values_and_markers(study):
    scores, conn = study
    ours = table1(scores, conn)
    assert ours["scale"].tolist() == PAPER_ORDER
    first = ours.iloc[0]
    assert first["r"] == pytest.approx(-0.45, abs=1e-12)
    assert first["p"] == pytest.approx(p_from_r(-0.45, 19, "less"), rel=1e-9)
    assert first["p_two_sided"] == pytest.approx(p_from_r(-0.45, 19), rel=1e-9)
    assert first["marker"] == "*" and first["marker_two_sided"] == "†"  # .027 one-tailed, .053 two-tailed
    assert (ours["n"] == 19).all()


def test_render_table1_puts_paper_and_ours_side_by_side(study):
    scores, conn = study
    shown = render_table1(table1(scores, conn))
    assert shown.index.tolist() == PAPER_ORDER
    assert shown.loc["Self-compassion mean", ("Paper", "r")] == "−.402*"
    assert shown.loc["Common humanity", ("Paper", "p (one-tailed)")] == ".012"
    assert shown.loc["Self-compassion mean", ("Ours", "r")] == "−.450*"
    assert shown.loc["Self-compassion mean", ("Ours", "p (two-tailed)")] == ".053†"


def test_render_table1_two_tailed_heading(study):
    scores, conn = study
    shown = render_table1(table1(scores, conn, alternative="two-sided"))
    assert ("Ours", "p (two-tailed)") in shown.columns and ("Ours", "p (one-tailed)") not in shown.columns


@pytest.mark.parametrize("value, text", [(-0.402, "−.402"), (0.07, ".070"), (-0.0001, ".000"), (np.nan, "—")])
def test_format_r(value, text):
    assert format_r(value) == text


@pytest.mark.parametrize("value, text", [(0.044, ".044"), (0.0004, "< .001"), (1.0, "1.000"), (np.nan, "—")])
def test_format_p(value, text):
    assert format_p(value) == text


def test_marker_thresholds():
    assert [marker(p) for p in (0.049, 0.05, 0.099, 0.1, np.nan)] == ["*", "†", "†", "", ""]


def test_compare_with_paper_covers_every_text_result(study):
    scores, conn = study
    comp = compare_with_paper(scores, conn)
    assert len(comp) == 9
    neg = comp.query("condition == 'negative' and scale == 'total'").iloc[0]
    assert (neg["paper_r"], neg["paper_p"]) == (-0.458, 0.024)
    assert neg["alternative"] == "less" and neg["n"] == 19
    shown = render_comparison(comp)
    assert shown.loc["SC mean × right amygdala, Neutral", ("Paper", "p")] == "> .05"


def test_table1_by_pipeline_puts_pipelines_side_by_side():
    from helpers import tables
    from helpers.robustness import synthetic_study

    scores, conn = synthetic_study(19, -0.5, seed=3)
    shifted = conn.assign(z=conn["z"] * 2.0)  # a rescaled pipeline: same r, same p
    out = tables.table1_by_pipeline(scores, {"a": conn, "b": shifted})
    ref = tables.table1(scores, conn)
    assert list(out.columns) == ["scale", "a: r", "a: p", "b: r", "b: p"]
    assert out["a: r"].tolist() == pytest.approx(ref["r"].tolist())
    assert out["b: r"].tolist() == pytest.approx(ref["r"].tolist())


def test_route_agreement_participant_by_participant(study):
    from helpers.tables import route_agreement, route_agreement_sentence

    scores, conn = study
    other = conn.copy()
    key = (
        (other["condition"] == "negative-neutral")
        & (other["source"] == "vmpfc")
        & (other["target"] == "amygdala_r")
    )
    ids = sorted(other.loc[key, "participant_id"])
    shift = {pid: 0.1 * (1 if i % 2 else -1) for i, pid in enumerate(ids)}  # ±0.1 in turn
    other.loc[key, "z"] += other.loc[key, "participant_id"].map(shift)
    other = other[other["participant_id"] != ids[-1]]  # one participant missing from the second route
    table = route_agreement(scores, {"ideal derivatives": conn, "our preprocessing": other})
    ref = conn[key].set_index("participant_id")["z"].loc[ids[:-1]]
    moved = ref + pd.Series(shift).loc[ids[:-1]]
    row = table.iloc[0]
    assert (row["pipeline"], row["n"]) == ("our preprocessing", len(ids) - 1)
    assert row["mean_abs_diff"] == pytest.approx(0.1)
    assert row["r"] == pytest.approx(np.corrcoef(ref, moved)[0, 1])
    assert row["sd_reference"] == pytest.approx(ref.std(ddof=1))
    text = route_agreement_sentence(table)
    assert text.startswith(
        "Table 1 correlates each participant's connectivity with a score, so the closer test of a "
        "preprocessing route is that connectivity itself. Participant by participant, the Neg − Neu "
        "VMPFC–right amygdala connectivity from our own preprocessing of the raw images correlates r = "
    )
    assert text.endswith("so they bound from above what the registration of the other route costs.")
    assert f"({len(ids) - 1} participants); the two differ by 0.10 on average" in text
    assert route_agreement_sentence(route_agreement(scores, {"ideal derivatives": conn})) == ""
