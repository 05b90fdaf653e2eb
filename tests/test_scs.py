"""Tests for helpers.scs: hand-worked scores, properties, validation errors, reliability.

The example file tests/data/scs_example.tsv holds six made-up participants (IDs sub-exampleNN);
their expected scores are worked out by hand in the comments below (item key: SCS.md).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from helpers.scs import (
    PAPER_ALPHA,
    SCS_KEY,
    SUBSCALES,
    MissingItemsWarning,
    alpha_comparison,
    compare_total_rules,
    item_key_table,
    omega_total,
    read_scs,
    reliability,
    score_scs,
    score_scs_sf,
    summarise_total_rules,
)

EXAMPLE = Path(__file__).parent / "data" / "scs_example.tsv"
COLS = [f"scs_{i:02d}" for i in range(1, 27)]
NEG_ITEMS = {1, 8, 11, 16, 21, 4, 13, 18, 25, 2, 6, 20, 24}


def frame(rows, columns=COLS, ids=None) -> pd.DataFrame:
    ids = ids or [f"sub-{i + 1:02d}" for i in range(len(rows))]
    return pd.DataFrame(np.asarray(rows), columns=columns, index=pd.Index(ids, name="participant_id"))


@pytest.fixture
def example():
    return read_scs(EXAMPLE)


# ------------------------------------------------------------------ hand-worked examples

# Expected subscale means (SK, SJ, CH, IS, MI, OI) and totals (subscale_mean, item_mean).
HAND = {
    # every item 3
    "sub-example01": ((3, 3, 3, 3, 3, 3), 3.0, 3.0),
    # positive items 5, negative items 1: reversed negatives are 5 too
    "sub-example02": ((5, 1, 5, 1, 5, 1), 5.0, 5.0),
    # self-kindness items 5, all else 3: (5+3+3+3+3+3)/6 vs (5·5 + 21·3)/26 = 88/26
    "sub-example03": ((5, 3, 3, 3, 3, 3), 20 / 6, 88 / 26),
    # item i = ((i−1) mod 5) + 1.  SK 5,12,19,23,26 → 5,2,4,3,1 = 3.0; SJ 1,8,11,16,21 → 1,3,1,1,1 = 1.4;
    # CH 3,7,10,15 → 3,2,5,5 = 3.75; IS 4,13,18,25 → 4,3,3,5 = 3.75; MI 9,14,17,22 → 4,4,2,2 = 3.0;
    # OI 2,6,20,24 → 2,1,5,4 = 3.0.  subscale_mean = (3 + 4.6 + 3.75 + 2.25 + 3 + 3)/6 = 19.6/6;
    # item_mean: positive sum 15+15+12 = 42, negative raw sum 7+15+12 = 34 → reversed 13·6 − 34 = 44 → 86/26
    "sub-example04": ((3.0, 1.4, 3.75, 3.75, 3.0, 3.0), 19.6 / 6, 86 / 26),
    # SK 3,3,3,3,3; SJ 2,3,5,4,5 = 3.8; CH 2,2,3,3 = 2.5; IS 4,4,4,4; MI 2,2,2,2; OI 4,4,4,4
    # subscale_mean = (3 + 2.2 + 2.5 + 2 + 2 + 2)/6 = 13.7/6; item_mean: positive 15+10+8 = 33,
    # negative raw 19+16+16 = 51 → reversed 78 − 51 = 27 → 60/26
    "sub-example06": ((3.0, 3.8, 2.5, 4.0, 2.0, 4.0), 13.7 / 6, 60 / 26),
}


@pytest.mark.parametrize("pid", sorted(HAND))
def test_hand_worked_scores(example, pid):
    subs, t_sub, t_item = HAND[pid]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingItemsWarning)  # sub-example05 skipped an item
        a = score_scs(example)
        b = score_scs(example, total="item_mean")
    assert list(a.columns) == [*SUBSCALES, "total"]
    np.testing.assert_allclose(a.loc[pid, list(SUBSCALES)].to_numpy(float), subs, atol=1e-12)
    assert a.loc[pid, "total"] == pytest.approx(t_sub, abs=1e-12)
    assert b.loc[pid, "total"] == pytest.approx(t_item, abs=1e-12)
    pd.testing.assert_frame_equal(a[list(SUBSCALES)], b[list(SUBSCALES)])


def test_rules_differ_only_through_unequal_subscale_lengths(example):
    diff = compare_total_rules(example.drop(index="sub-example05"))["difference"]
    assert diff.loc["sub-example01"] == 0 and diff.loc["sub-example02"] == 0
    assert diff.loc["sub-example03"] == pytest.approx(20 / 6 - 88 / 26)
    summary = summarise_total_rules(compare_total_rules(example.drop(index="sub-example05")))
    assert summary["n"] == 5
    assert summary["max_abs_difference"] == pytest.approx(88 / 26 - 20 / 6)
    # totals 3, 5, 3.33, 3.27, 2.28 and 3, 5, 3.38, 3.31, 2.31 have the same order
    assert summary["rank_changes"] == 0 and summary["spearman_rho"] == pytest.approx(1.0)


def test_missing_item_default_gives_nan_and_warns(example):
    with pytest.warns(MissingItemsWarning, match=r"sub-example05: 1 of 5 items missing in self_kindness"):
        s = score_scs(example)
    assert np.isnan(s.loc["sub-example05", "self_kindness"]) and np.isnan(s.loc["sub-example05", "total"])
    assert s.loc["sub-example05", "self_judgment"] == 4.0
    assert s.drop(index="sub-example05").notna().all().all()


def test_missing_item_prorated_when_allowed(example):
    with pytest.warns(MissingItemsWarning, match="prorated"):
        s = score_scs(example, missing=1)
        t = score_scs(example, missing=1, total="item_mean")
    # all answered items are 4: SK = 4; subscale_mean = (4+2+4+2+4+2)/6 = 3;
    # item_mean = (12 answered positive items · 4 + 13 reversed negatives · 2)/25 = 74/25
    assert s.loc["sub-example05", "self_kindness"] == 4.0
    assert s.loc["sub-example05", "total"] == pytest.approx(3.0)
    assert t.loc["sub-example05", "total"] == pytest.approx(74 / 25)


def test_short_form_hand_worked():
    cols = [f"scs_{i}" for i in range(1, 13)]
    # items 1…12 = 1,2,3,4,5,1,2,3,4,5,1,2; negative items 1,4,8,9,11,12 = 1,4,3,4,1,2 → reversed
    # 5,2,3,2,5,4 (sum 21); positive items 2,3,5,6,7,10 = 2,3,5,1,2,5 (sum 18) → 39/12
    cyc = [((i - 1) % 5) + 1 for i in range(1, 13)]
    neg = {1, 4, 8, 9, 11, 12}
    best = [1 if i in neg else 5 for i in range(1, 13)]
    sf = score_scs_sf(frame([cyc, [3] * 12, best], columns=cols))
    assert list(sf.columns) == ["total"]
    np.testing.assert_allclose(sf["total"], [39 / 12, 3.0, 5.0])


def test_custom_pattern_and_explicit_mappings(example):
    data = example.drop(index="sub-example05")
    renamed = data.rename(columns={c: f"u{int(c[4:])}" for c in COLS})
    expected = score_scs(data)
    pd.testing.assert_frame_equal(score_scs(renamed, pattern=r"^u(\d+)$"), expected)
    shuffled = [f"u{i}" for i in range(1, 27)]
    pd.testing.assert_frame_equal(score_scs(renamed, item_columns=shuffled), expected)
    pd.testing.assert_frame_equal(
        score_scs(renamed, item_columns={i: f"u{i}" for i in range(1, 27)}), expected
    )


def test_path_input_and_participant_column(example):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingItemsWarning)
        from_path = score_scs(EXAMPLE)
        from_column = score_scs(example.reset_index())
        from_frame = score_scs(example)
    pd.testing.assert_frame_equal(from_path, from_frame)
    np.testing.assert_allclose(from_column.to_numpy(), from_path.to_numpy())


def test_item_key_covers_each_item_once():
    key = item_key_table()
    items = sorted(int(i) for s in key["items"] for i in s.split(","))
    assert items == list(range(1, 27))
    assert set(key.loc[key["keyed"] == "negative", "subscale"]) == {
        "self_judgment",
        "isolation",
        "over_identification",
    }


# ------------------------------------------------------------------ properties

responses = hnp.arrays(np.int64, st.tuples(st.integers(1, 8), st.just(26)), elements=st.integers(1, 5))


@settings(max_examples=40, deadline=None)
@given(responses, st.sampled_from(["subscale_mean", "item_mean"]))
def test_reversing_all_items_maps_total_to_six_minus_total(x, rule):
    t = score_scs(frame(x), total=rule)
    r = score_scs(frame(6 - x), total=rule)
    np.testing.assert_allclose(r["total"], 6 - t["total"], atol=1e-12)
    np.testing.assert_allclose(r[list(SUBSCALES)], 6 - t[list(SUBSCALES)], atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(responses, st.sampled_from(["subscale_mean", "item_mean"]))
def test_scores_stay_within_one_to_five(x, rule):
    s = score_scs(frame(x), total=rule)
    assert ((s >= 1) & (s <= 5)).all().all()


@settings(max_examples=40, deadline=None)
@given(responses, st.randoms(use_true_random=False))
def test_permuting_rows_permutes_results(x, rnd):
    df = frame(x)
    order = list(df.index)
    rnd.shuffle(order)
    pd.testing.assert_frame_equal(score_scs(df.loc[order]), score_scs(df).loc[order])


@settings(max_examples=40, deadline=None)
@given(responses, st.randoms(use_true_random=False))
def test_reordering_columns_changes_nothing(x, rnd):
    df = frame(x)
    cols = list(df.columns)
    rnd.shuffle(cols)
    pd.testing.assert_frame_equal(score_scs(df[cols]), score_scs(df))


# ------------------------------------------------------------------ bad input


def write_variant(tmp_path, edit) -> Path:
    lines = EXAMPLE.read_text().splitlines()
    lines = edit(lines)
    p = tmp_path / "scs.tsv"
    p.write_text("\n".join(lines) + "\n")
    return p


def set_cell(lines, row, item, value):
    cells = lines[row].split("\t")
    cells[item] = value
    lines[row] = "\t".join(cells)
    return lines


@pytest.mark.parametrize(
    "value, rule",
    [
        ("6", "is outside 1–5"),
        ("0", "is outside 1–5"),
        ("abc", "is not a number"),
        ("2.5", "is not an integer 1–5"),
    ],
)
def test_bad_values_name_file_participant_column_value(tmp_path, value, rule):
    path = write_variant(tmp_path, lambda ls: set_cell(ls, 3, 7, value))  # sub-example03, scs_07
    for fn in (score_scs, score_scs_sf, reliability):
        with pytest.raises(ValueError) as err:
            fn(path) if fn is not score_scs_sf else fn(path, item_columns=COLS[:12])
        msg = str(err.value)
        assert str(path) in msg and "participant sub-example03" in msg and "column scs_07" in msg
        assert (f"value '{value}'" if value == "abc" else f"value {value}") in msg
        assert rule in msg


def test_bad_value_in_dataframe_names_participant_and_column():
    x = np.full((3, 26), 3)
    x[1, 12] = 7
    with pytest.raises(ValueError, match="participant sub-02, column scs_13: value 7 is outside 1–5"):
        score_scs(frame(x), source="phenotype/scs.tsv")


def test_duplicate_participant_ids(tmp_path):
    path = write_variant(tmp_path, lambda ls: [*ls, ls[2]])
    with pytest.raises(ValueError, match=r"scs\.tsv: duplicate participant ID 'sub-example02'"):
        read_scs(path)
    df = frame(np.full((3, 26), 3), ids=["sub-01", "sub-02", "sub-01"])
    with pytest.raises(ValueError, match="duplicate participant ID 'sub-01'"):
        score_scs(df)
    with pytest.raises(ValueError, match="duplicate participant ID 'sub-01'"):
        score_scs(df.reset_index())


def test_missing_column_is_named(tmp_path):
    path = write_variant(
        tmp_path, lambda ls: ["\t".join(c for j, c in enumerate(l.split("\t")) if j != 13) for l in ls]
    )
    with pytest.raises(
        ValueError, match=r"scs\.tsv: item columns matching .*found 25 .*missing items \[13\]"
    ):
        score_scs(path)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['scs_13'\]"):
        score_scs(read_scs(path), item_columns=COLS)
    with pytest.raises(ValueError, match="missing column 'participant_id'"):
        read_scs(write_variant(tmp_path, lambda ls: [ls[0].replace("participant_id", "subject"), *ls[1:]]))


def test_ambiguous_columns_are_refused(example):
    df = example.assign(SCS1=example["scs_01"])
    with pytest.raises(ValueError, match=r"ambiguous \(item 1: scs_01, SCS1\)"):
        score_scs(df)


def test_unexpected_item_numbers_are_refused(example):
    with pytest.raises(ValueError, match=r"unexpected items \[27\]"):
        score_scs(example.assign(scs_27=3))


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(total="sum"), "total must be one of"),
        (dict(missing=-1), "missing must be 'complete' or a non-negative integer"),
        (dict(item_columns=COLS[:25]), "item_columns lists 25 columns, expected 26"),
        (
            dict(item_columns={i: c for i, c in enumerate(COLS[:25], 1)}),
            r"wrong or missing item numbers: \[26\]",
        ),
        (dict(item_columns=[COLS[0]] * 26), "assigned to more than one item"),
        (dict(pattern=r"^scs_\d+$"), "exactly one group"),
    ],
)
def test_bad_options(example, kwargs, words):
    with pytest.raises(ValueError, match=words):
        score_scs(example, **kwargs)


def test_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="DataFrame or a path"):
        score_scs(np.full((2, 26), 3))


# ------------------------------------------------------------------ reliability


def test_cronbach_alpha_against_hand_computation():
    # Common-humanity items (3, 7, 10, 15) of four participants:
    #   [1,2,3,2], [2,3,3,3], [3,3,4,4], [4,5,5,4]
    # item variances (n−1): 5/3, 4.75/3, 2.75/3, 2.75/3 → sum 15.25/3
    # row sums 8, 11, 14, 18 → variance 54.75/3
    # α = 4/3 · (1 − 15.25/54.75)
    ch = np.array([[1, 2, 3, 2], [2, 3, 3, 3], [3, 3, 4, 4], [4, 5, 5, 4]])
    x = np.random.default_rng(0).integers(1, 6, size=(4, 26))
    x[:, [i - 1 for i in SCS_KEY["common_humanity"]]] = ch
    rel = reliability(frame(x)).set_index("scale")
    assert rel.loc["common_humanity", "alpha"] == pytest.approx(4 / 3 * (1 - 15.25 / 54.75), abs=1e-12)
    assert rel.loc["common_humanity", "n_items"] == 4 and rel.loc["common_humanity", "n_participants"] == 4
    lo, hi = rel.loc["common_humanity", ["alpha_ci_low", "alpha_ci_high"]]
    assert lo < rel.loc["common_humanity", "alpha"] < hi
    assert list(rel.index) == ["total", *SUBSCALES]
    assert rel.loc["total", "n_items"] == 26
    assert np.isnan(rel.loc["total", "omega_total"])  # 26 items, 4 participants: not estimable


def test_total_alpha_uses_reversed_items():
    # Two latent-consistent participants groups: high self-compassion answers 5 on positive and
    # 1 on negative items, low the opposite.  After reversal every item agrees → α = 1.
    hi = [1 if i in NEG_ITEMS else 5 for i in range(1, 27)]
    lo = [5 if i in NEG_ITEMS else 1 for i in range(1, 27)]
    mid = [2 if i in NEG_ITEMS else 4 for i in range(1, 27)]
    rel = reliability(frame([hi, lo, mid, hi])).set_index("scale")
    assert rel.loc["total", "alpha"] == pytest.approx(1.0)


def test_omega_recovers_planted_one_factor_model():
    # x_j = λ_j f + e_j, var(f) = 1, var(e_j) = 1 − λ_j²  →  ω = (Σλ)² / ((Σλ)² + Σ(1 − λ²)) = 9 / 12.1
    lam = np.array([0.8, 0.7, 0.6, 0.5, 0.4])
    rng = np.random.default_rng(1)
    f = rng.standard_normal((5000, 1))
    x = f * lam + rng.standard_normal((5000, 5)) * np.sqrt(1 - lam**2)
    assert omega_total(x) == pytest.approx(9 / 12.1, abs=0.015)
    assert np.isnan(omega_total(x[:, :2]))  # two items: one-factor model not identified
    assert np.isnan(omega_total(x[:4]))  # fewer participants than items


def test_alpha_comparison_table():
    rel = pd.DataFrame(
        {
            "scale": ["total", "isolation"],
            "alpha": [0.9, 0.5],
            "alpha_ci_low": [0.85, 0.2],
            "alpha_ci_high": [0.95, 0.65],
        }
    )
    cmp = alpha_comparison(rel).set_index("scale")
    assert cmp.loc["total", "paper_alpha"] == PAPER_ALPHA["total"] == 0.913
    assert cmp.loc["isolation", "difference"] == pytest.approx(0.5 - 0.669)
    assert cmp.loc["total", "paper_in_ci"] and not cmp.loc["isolation", "paper_in_ci"]


# ------------------------------------------------------------------ the chapter


@pytest.mark.slow
def test_chapter_runs_on_the_example_and_writes_scores(tmp_path):
    """Execute notebooks/01_questionnaire.ipynb on a BIDS folder holding only the example file."""
    import papermill

    bids = tmp_path / "bids"
    (bids / "phenotype").mkdir(parents=True)
    (bids / "phenotype" / "scs.tsv").write_bytes(EXAMPLE.read_bytes())
    out = tmp_path / "out"
    root = Path(__file__).resolve().parents[1]
    papermill.execute_notebook(
        str(root / "notebooks" / "01_questionnaire.ipynb"),
        str(tmp_path / "run.ipynb"),
        parameters=dict(bids_dir=str(bids), output_dir=str(out)),
        cwd=str(root),
        progress_bar=False,
    )
    scores = pd.read_csv(out / "scores.tsv", sep="\t", na_values="n/a", index_col=0)
    assert list(scores.reset_index().columns) == ["participant_id", *SUBSCALES, "total"]
    assert scores.loc["sub-example04", "total"] == pytest.approx(19.6 / 6)
    assert np.isnan(scores.loc["sub-example05", "total"])
    rel = pd.read_csv(out / "reliability.tsv", sep="\t", na_values="n/a")
    assert list(rel["scale"]) == ["total", *SUBSCALES]


# ------------------------------------------------------------------ questionnaires saved from a spreadsheet


def _spreadsheet(lines: list[str], sep: str, decimal_comma: bool) -> list[str]:
    out = []
    for line in lines:
        cells = line.split("\t")
        if decimal_comma:
            cells = [f"{c},0" if c.isdigit() else c for c in cells]
        out.append(sep.join(cells))
    return out


@pytest.mark.parametrize(
    "variant",
    [
        "bom_crlf",
        "semicolon_decimal_comma",
        "comma_floats",
        "spaces_blank_rows",
        "latin1_note",
        "ids_without_sub",
    ],
)
def test_spreadsheet_exports_score_like_the_original(tmp_path, example, variant):
    """The hand-worked example saved as a spreadsheet program would: the same scores, or nothing."""
    lines = EXAMPLE.read_text().splitlines()
    encoding, newline = "utf-8", "\n"
    if variant == "bom_crlf":
        lines[0], newline = "\ufeff" + lines[0], "\r\n"
    elif variant == "semicolon_decimal_comma":
        lines = _spreadsheet(lines, ";", True) + [";" * 26, ";" * 26]
    elif variant == "comma_floats":
        lines = [",".join(f"{c}.0" if c.isdigit() else c for c in line.split("\t")) for line in lines]
    elif variant == "spaces_blank_rows":
        lines = ["\t".join(f" {c} " for c in line.split("\t")) for line in lines] + ["", "\t" * 26, ""]
    elif variant == "latin1_note":
        lines = [f"{line}\t{'Bemerkung' if i == 0 else 'müde'}" for i, line in enumerate(lines)]
        encoding = "latin-1"
    else:
        lines = [line.replace("sub-example", "example", 1) for line in lines]
    path = tmp_path / "scs.tsv"
    path.write_bytes(newline.join(lines).encode(encoding) + newline.encode())
    read = read_scs(path)
    assert list(read.index) == list(example.index)
    pd.testing.assert_frame_equal(score_scs(read), score_scs(example))


def test_spreadsheet_errors_name_file_and_line(tmp_path):
    lines = EXAMPLE.read_text().splitlines()
    lines[3] += "\t4"  # a stray cell on line 4
    path = tmp_path / "scs.tsv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"scs\.tsv: line 4: 28 cells but the header has 27 columns"):
        read_scs(path)
    semicolons = "\n".join(_spreadsheet(EXAMPLE.read_text().splitlines(), ";", False))
    path.write_text(semicolons.replace(";3;", ";3,5;", 1))
    with pytest.raises(
        ValueError,
        match=r"scs\.tsv: participant sub-example01, column scs_0\d: value 3.5 is "
        r"not an integer 1–5",
    ):
        score_scs(read_scs(path))
