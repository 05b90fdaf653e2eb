"""The specification pages (book/spec_*.md) say what the code does: every typed number is checked here.

The pages are prose, not executed notebooks, so their tables are typed; these tests read the tables
back and compare each value with the code it describes (helpers.scs, helpers.paper, the twin's
configuration, the pipeline's defaults), and check that every test the CONN page cites exists.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import connectivity, denoise, firstlevel, paper, scs
from helpers.preprocess.pipeline import DEFAULTS as PREPROCESS_DEFAULTS
from helpers.simulate import load_config, model

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
SPEC_PAGES = ("spec_conn", "spec_scs", "spec_paper")


def tables(page: str) -> dict[str, pd.DataFrame]:
    """Every ``{table}`` of a page, by its ``:name:``, as strings (backticks stripped)."""
    text = (BOOK / f"{page}.md").read_text()
    out = {}
    for name, body in re.findall(r"^:name: (\S+)\n\n((?:\|.*\|\n)+)", text, re.M):
        rows = [
            [cell.strip().replace("`", "") for cell in line.strip().strip("|").split("|")]
            for line in body.splitlines()
        ]
        out[name] = pd.DataFrame(rows[2:], columns=rows[0])
    return out


def number(text: str) -> float:
    """A number as typed on the pages: '−.402' (typographic minus, no leading zero) → -0.402."""
    text = text.replace("−", "-")
    return float("0" + text if text.startswith(".") else text.replace("-.", "-0."))


def numbers(text: str) -> list[float]:
    return [number(t) for t in re.findall(r"−?\d*\.?\d+", text)]


def test_number_parsing():
    assert number("−.402") == -0.402 and number(".913") == 0.913 and number("3.125") == 3.125
    assert numbers("64 × 64 × 36") == [64, 64, 36] and numbers("18–27") == [18, 27]


def test_the_pages_are_in_the_appendix():
    toc = (ROOT / "_toc.yml").read_text()
    appendix = toc[toc.index("caption: Appendix") :]
    for page in SPEC_PAGES:
        assert f"file: book/{page}\n" in appendix, f"book/{page}.md is not in the Appendix part of _toc.yml"


# --------------------------------------------------------------------------- SCS
def _items(text: str) -> tuple[int, ...]:
    return tuple(int(i) for i in text.split(","))


def test_scs_key_is_the_codes_key():
    key = tables("spec_scs")["tbl-spec-scs-key"]
    assert list(key["column in scores.tsv"]) == list(scs.SUBSCALES)
    assert {row["column in scores.tsv"]: _items(row["items"]) for _, row in key.iterrows()} == scs.SCS_KEY
    negative = set(key.loc[key["keyed"] == "negative", "column in scores.tsv"])
    assert negative == scs.NEGATIVE_SUBSCALES
    assert set(key["keyed"]) == {"positive", "negative"}
    assert sorted(i for items in scs.SCS_KEY.values() for i in items) == list(range(1, 27))
    n_negative = sum(len(scs.SCS_KEY[s]) for s in scs.NEGATIVE_SUBSCALES)
    assert n_negative == 13 and "the 13 items" in (BOOK / "spec_scs.md").read_text()


def test_scs_short_form_key_is_the_codes_key():
    key = tables("spec_scs")["tbl-spec-scs-sf-key"]
    labels = {v: k for k, v in scs.SCALE_LABELS.items()}
    assert {labels[row["subscale"]]: _items(row["items"]) for _, row in key.iterrows()} == scs.SCS_SF_KEY
    assert {labels[s] for s in key.loc[key["keyed"] == "negative", "subscale"]} == scs.NEGATIVE_SUBSCALES


def test_scs_scoring_rules_on_the_page_hold():
    """The page's worked rules: total = mean of oriented subscale means; item weights 1/24 and 1/30."""
    ones = pd.DataFrame(np.full((1, 26), 3), columns=[f"scs_{i:02d}" for i in range(1, 27)])
    base = scs.score_scs(ones)["total"].iloc[0]
    for item, weight in ((4, 1 / 24), (5, 1 / 30)):  # item 4: isolation (4 items, negative); 5: self-kindness
        bumped = ones.copy()
        bumped[f"scs_{item:02d}"] = 4
        delta = scs.score_scs(bumped)["total"].iloc[0] - base
        assert delta == pytest.approx(weight * (-1 if item == 4 else 1))
        assert scs.score_scs(bumped, total="item_mean")["total"].iloc[0] - base == pytest.approx(
            (-1 if item == 4 else 1) / 26
        )


# --------------------------------------------------------------------------- the paper
def test_alphas_are_the_papers():
    alpha = tables("spec_paper")["tbl-spec-paper-alpha"]
    assert {row["scale"]: number(row["α"]) for _, row in alpha.iterrows()} == paper.ALPHAS


def test_table1_is_the_papers():
    page = tables("spec_paper")["tbl-spec-paper-table1"]
    code = paper.table1()
    assert list(page["scale"]) == list(code["scale"])
    np.testing.assert_array_equal(page["r"].map(number), code["r"])
    np.testing.assert_array_equal(page["p"].map(number), code["p"])


def test_text_results_are_the_papers():
    page = tables("spec_paper")["tbl-spec-paper-text"]
    code = paper.reported_correlations().query("where == 'text'").reset_index(drop=True)
    assert (code["source"] == "vmpfc").all()
    for column in ("scale", "condition", "target"):
        assert list(page[column]) == list(code[column])
    np.testing.assert_array_equal(page["r"].map(number), code["r"])
    assert list(page["p as printed"]) == list(code["p_text"])
    assert len(code) == 9 and "nine more correlations" in (BOOK / "spec_paper.md").read_text()


def _design_values() -> dict[str, list[float] | list[str]]:
    """The code's value for each row of the design table, in the page's units."""
    cfg = load_config()
    demo, timing, grid, events = cfg["demographics"], cfg["timing"], cfg["grid"], cfg["events"]
    extreme = pd.DataFrame({"trial_type": ["negative", "positive"]})
    rng = np.random.default_rng(0)
    low = model.ratings(extreme, -100.0, cfg["ratings"], rng).min()
    high = model.ratings(extreme, 100.0, cfg["ratings"], rng).max()
    return {
        "participants": [paper.N],
        "women": [round(demo["female_fraction"] * paper.N), paper.N],
        "mean age (years)": [demo["age_mean"]],
        "age range (years)": [demo["age_min"], demo["age_max"]],
        "feedback words per condition": [events["per_condition"]],
        "conditions": list(cfg["conditions"]),
        "time per word (s)": [min(events["durations"]), max(events["durations"])],
        'rating of "How do you feel?"': [low, high],
        "repetition time (s)": [timing["tr"]],
        "volumes in the run": [timing["n_volumes"]],
        "echo time (ms)": [timing["echo_time"] * 1000],
        "flip angle (degrees)": [timing["flip_angle"]],
        "functional matrix (voxels)": grid["func_shape"],
        "functional voxel size (mm)": grid["func_zooms"],
        "structural matrix (voxels)": grid["anat_shape"],
        "structural voxel size (mm)": grid["anat_zooms"],
        "normalised voxel size (mm)": [grid["mni_resolution"]],
        "smoothing kernel FWHM (mm)": [PREPROCESS_DEFAULTS["smoothing_fwhm"]],
        "high-pass cut-off (Hz)": [denoise.HIGHPASS[0]],
    }


def test_design_values_are_the_codes():
    page = tables("spec_paper")["tbl-spec-paper-design"].set_index("quantity")
    expected = _design_values()
    assert list(page.index) == list(expected)
    for quantity, value in expected.items():
        typed = page.loc[quantity, "value"]
        if isinstance(value[0], str):
            assert [v.strip() for v in typed.split(",")] == value, quantity
        else:
            assert numbers(typed) == pytest.approx(value), quantity
    assert math.isinf(denoise.HIGHPASS[1])  # "f > 0.008 Hz": a high-pass, no upper edge


def test_second_study_group_sizes_are_the_default_parameters():
    import yaml

    text = (BOOK / "spec_paper.md").read_text()
    params = yaml.safe_load((ROOT / "notebooks/params/default.yml").read_text())
    sizes = re.search(r"\((\d+) and (\d+) participants in secondary reports", text).groups()
    assert [int(n) for n in sizes] == [params["n_compassion"], params["n_memory"]]


# --------------------------------------------------------------------------- CONN
def _test_names() -> set[str]:
    return {
        name
        for path in (ROOT / "tests").glob("test_*.py")
        for name in re.findall(r"^def (test_\w+)", path.read_text(), re.M)
    }


def test_every_test_the_conn_page_cites_exists():
    text = (BOOK / "spec_conn.md").read_text()
    cited = set(re.findall(r"`(test_\w+)`", text))
    assert len(cited) >= 40, f"only {len(cited)} tests cited"
    missing = sorted(cited - _test_names())
    assert not missing, f"book/spec_conn.md cites tests that do not exist: {missing}"


def test_conn_constants_on_the_page_are_the_codes():
    text = (BOOK / "spec_conn.md").read_text()
    assert connectivity.MICROTIME_BINS == 10 and r"\delta = T_R/10" in text
    assert connectivity.PADDING_SECONDS == 100 and r"\lceil 100/\delta \rceil" in text
    assert connectivity.SPM_HRF_PARAMS == (6, 16, 1, 1, 6, 0, 32) and "p = (6, 16, 1, 1, 6, 0, 32)" in text
    assert connectivity.WEIGHTINGS == ("hrf", "hanning", "none")
    assert denoise.HIGHPASS == (0.008, math.inf) and r"[0.008, \infty)" in text
    assert firstlevel.BANDPASS == (0.008, 0.09) and "[0.008, 0.09)" in text


def test_pages_cited_in_the_code_exist():
    """Docstrings and comments point to book pages that exist."""
    cited = {
        m for path in (ROOT / "src").rglob("*.py") for m in re.findall(r"book/(\w+)\.md", path.read_text())
    }
    assert cited, "no docstring cites a book page"
    missing = sorted(p for p in cited if not (BOOK / f"{p}.md").is_file())
    assert not missing, f"the code cites book pages that do not exist: {missing}"
    sections = {
        (page, k)
        for path in (ROOT / "src").rglob("*.py")
        for page, k in re.findall(r"book/(spec_\w+)\.md §(\d+)", path.read_text())
    }
    absent = sorted(
        (p, k) for p, k in sections if not re.search(rf"^## {k}\. ", (BOOK / f"{p}.md").read_text(), re.M)
    )
    assert not absent, f"the code cites sections the pages do not have: {absent}"


def test_scaling_page_prose_agrees_with_its_table_and_links_chapters():
    text = (BOOK / "scaling.md").read_text()
    # chapter files' prefixes are not the rendered chapter numbers: chapters are linked by {doc}
    assert not re.search(r"\bchapters? \d", text)
    for stem in ("02_preprocessing", "03_connectivity", "06_training_study"):
        assert f"<../build/notebooks/{stem}>`" in text
    table = tables("scaling")["tbl-scaling-measured"]
    wall = table["wall (s)"].astype(float)
    largest = pd.to_numeric(table["largest process (GB)"], errors="coerce")
    growth = table[table["stage"].str.contains("growth pass")]
    assert dict(zip(growth["N"].astype(int), wall[growth.index])) == {15: 4.4, 30: 8.6, 60: 17.4}
    prose = text.split("What these numbers show:")[1]
    first_level = table["stage"].str.startswith("first level") & largest.notna()
    assert f"exceeded\n  {largest[first_level].max():.2f} GB" in prose
    assert f"largest process of all, {largest.max():.2f} GB" in prose
    serial60 = wall[(table["N"] == "60") & (table["stage"] == "first level, serial")].item()
    assert f"(17.4 s against {serial60:.1f} s)" in prose


def test_intro_lists_every_part_of_the_table_of_contents():
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    intro = (BOOK / "intro.md").read_text()
    assert "Chapters are added as they are completed" not in intro
    for part in toc["parts"]:
        assert f"**{part['caption']}.**" in intro, part["caption"]
    linked = set(re.findall(r"\{doc\}`(?:[^`<]*<)?([^`>]+)>?`", intro))
    stems = {Path(target).name for target in linked}
    for part in toc["parts"][2:]:  # the parts after the reproduction: every page linked
        for chapter in part["chapters"]:
            assert Path(chapter["file"]).name in stems, chapter["file"]


def test_spec_pages_name_things_as_the_code_does():
    import json

    import yaml

    # the missing-answers rule: the book's parameter and its default, as the questionnaire chapter sets it
    scs_page = (BOOK / "spec_scs.md").read_text()
    nb = json.loads((ROOT / "notebooks" / "01_questionnaire.ipynb").read_text())
    params = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    default = re.search(r"max_missing_per_subscale = (\d+)", "".join(params["source"])).group(1)
    assert f"`max_missing_per_subscale = {default}` (default)" in scs_page
    assert '`"complete"` (default)' not in scs_page
    # the second study's ratings: every measure of the training twin's configuration
    config = yaml.safe_load((ROOT / "src" / "helpers" / "training" / "config.yaml").read_text())
    paper_page = (BOOK / "spec_paper.md").read_text()
    for measure in config["measures"]:
        assert measure.replace("_affect", "").replace("_", " ") in paper_page.split("## The second study")[1]
    # the rounding test's onset, as the test writes it
    conn_page = (BOOK / "spec_conn.md").read_text()
    source = (ROOT / "tests" / "test_connectivity.py").read_text()
    onset = re.search(
        r"def test_condition_effects_round_half_away_from_zero.*?events\(\(([\d.]+),", source, re.S
    )
    assert f"an onset of {float(onset.group(1)):g} s is exactly 1.5 bins" in conn_page
    assert "onset of exactly 2.5 bins" not in conn_page
