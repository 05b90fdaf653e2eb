"""Numbered tables and figures: DataFrames as Markdown pipe tables in the book's style, glued by
``Chapter.table``; figures glued by ``Chapter.figure`` as SVG and a high-resolution PNG."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

from helpers.mdtable import markdown_table, table_cells
from helpers.provenance import Chapter


def _table1_like() -> pd.DataFrame:
    out = pd.DataFrame(
        {("Paper", "r"): ["−.402*", ".070"], ("Ours", "r"): [-0.19, np.nan], ("Ours", "n"): [19, 18]},
        index=pd.Index(["Self-compassion mean", "Isolation"], name="SCS scale"),
    )
    out.columns = pd.MultiIndex.from_tuples(out.columns)
    return out


def test_two_level_columns_and_named_index_are_flattened():
    header, body = table_cells(_table1_like())
    assert header == ["SCS scale", "Paper r", "Ours r", "Ours n"]
    assert body == [["Self-compassion mean", "−.402*", "-0.19", "19"], ["Isolation", ".070", "", "18"]]


def test_styler_keeps_its_formats_and_hidden_index():
    frame = pd.DataFrame({"scale": ["total", "kindness"], "r": [0.123456, np.nan], "p": [0.0004, 0.5]})
    styler = frame.style.format({"r": "{:.3f}", "p": "{:.2g}"}, na_rep="n/a").hide(axis="index")
    header, body = table_cells(styler)
    assert header == ["scale", "r", "p"]
    assert body == [["total", "0.123", "0.0004"], ["kindness", "n/a", "0.5"]]


def test_row_numbers_are_dropped_but_a_named_index_is_kept():
    assert table_cells(pd.DataFrame({"a": [1, 2]}))[0] == ["a"]
    assert table_cells(pd.DataFrame({"a": [1, 2]}).rename_axis("row"))[0] == ["row", "a"]


def test_markdown_is_a_pipe_table_with_numbers_right_aligned():
    md = markdown_table(_table1_like())
    assert md.splitlines() == [
        r"| SCS scale | Paper r | Ours r | Ours n |",
        "|---|---:|---:|---:|",
        r"| Self\-compassion mean | −\.402\* | −\.19 | 19 |",
        r"| Isolation | \.070 |  | 18 |",
    ]


def test_p_bounds_and_dashes_count_as_numbers():
    md = markdown_table(pd.DataFrame({"p": ["< .001", "—", ".04*"], "rule": ["a", "b", "c"]}))
    assert md.splitlines()[1] == "|---:|---|"


@pytest.mark.parametrize(
    "text", ["$x$ and *y*", "<b>bold</b>", "a | b", "{glue:text}`key`", "[link](x)", "_x_ \\ `c`"]
)
def test_cells_render_literally_even_with_markup_characters(text):
    md = MarkdownIt("commonmark").enable("table").use(dollarmath_plugin)
    html = md.render(markdown_table(pd.DataFrame({"cell": [text]})))
    cell = re.search(r"<td>(.*?)</td>", html, re.S).group(1)
    assert cell == text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_line_breaks_in_a_cell_become_spaces():
    frame = pd.DataFrame({"message": ["line one\n  line two"]})
    assert table_cells(frame)[1] == table_cells(frame.style.hide(axis="index"))[1] == [["line one line two"]]


def test_only_frames_are_tables():
    with pytest.raises(TypeError, match="DataFrame or Styler, not dict"):
        markdown_table({"a": 1})
    with pytest.raises(ValueError, match="at least one column"):
        markdown_table(pd.DataFrame())


def test_chapter_table_glues_markdown_and_writes_the_full_precision_data(tmp_path, monkeypatch):
    import myst_nb

    glued = {}
    monkeypatch.setattr(myst_nb, "glue", lambda key, obj, display=True: glued.update({key: (obj, display)}))
    monkeypatch.setenv("HELPERS_PROJECT_ROOT", str(tmp_path))
    chapter = Chapter("test", params={"output_dir": str(tmp_path / "out")}, output_dir=tmp_path / "out")
    frame = pd.DataFrame({"scale": ["total"], "r": [0.123456]})
    styler = frame.style.format(precision=2).hide(axis="index")
    assert chapter.table("tbl_key", styler, tmp_path / "out" / "t.tsv") is None

    obj, display = glued["tbl_key"]
    assert display is False
    assert obj.data == "| Scale | r |\n|---|---:|\n| Self\\-compassion \\(total\\) | \\.12 |\n"
    assert (tmp_path / "out" / "t.tsv").read_text() == "scale\tr\ntotal\t0.123456\n"
    assert chapter.outputs == ["out/t.tsv"]


def test_journal_style_labels_and_apa_numbers():
    frame = pd.DataFrame(
        {
            "scale": ["total", "isolation"],
            "r": [-0.1903, 0.0704],
            "p": [0.2181, 0.00004],
            "p_two_sided": [0.4362, 0.0000],
            "bf10": [0.58, 12.5],
            "n": [19.0, 18.0],
            "ci95_low": [-0.6, 0.01],
            "age_mean": [21.5, 20.25],
        }
    )
    header, body = table_cells(frame)
    from helpers.style import journal_cells

    header, body = journal_cells(header, body)
    assert header == ["Scale", "r", "p", "p (two-tailed)", "BF₁₀", "n", "95 % CI low", "Mean age (years)"]
    assert body[0][:7] == ["Self-compassion (total)", "−.190", ".218", ".436", "0.58", "19", "−.60"]
    assert body[1][:4] == ["Isolation", ".070", "< .001", "< .001"]  # never "p 0.000"


def test_a_styler_rounded_p_of_zero_prints_as_a_bound():
    md = markdown_table(pd.DataFrame({"p": [0.0001, 0.049]}).style.format(precision=3))
    assert r"\< \.001" in md and r"\.049" in md and "0\\.000" not in md


def test_an_empty_table_says_so_in_a_sentence():
    empty = pd.DataFrame(columns=["participant_id", "stage", "reason"])
    md = markdown_table(empty, empty="No participant was excluded.")
    assert md.splitlines() == [
        "| Participant\\, Stage\\, Reason |",
        "|---|",
        "| No participant was excluded\\. |",
    ]


def test_chapter_figure_glues_the_saved_svg_and_a_200_dpi_png(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import myst_nb
    from IPython.core.formatters import format_display_data
    from PIL import Image

    glued = {}
    monkeypatch.setattr(myst_nb, "glue", lambda key, obj, display=True: glued.update({key: obj}))
    monkeypatch.setenv("HELPERS_PROJECT_ROOT", str(tmp_path))
    chapter = Chapter("test", params={"output_dir": str(tmp_path / "out")}, output_dir=tmp_path / "out")
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [1, 0])
    later, _ = plt.subplots()  # a figure a helper returned for a later cell
    chapter.figure("fig_key", fig, tmp_path / "out" / "figures" / "f")
    assert chapter.outputs == ["out/figures/f.png", "out/figures/f.svg"]
    bundle, _ = format_display_data(glued["fig_key"])
    assert bundle["image/svg+xml"].startswith("<svg")
    with Image.open(tmp_path / "out" / "figures" / "f.png") as png:
        assert png.width >= 4 * 200 * 0.9  # 4 inches at 200 dpi (tight bounding box trims a little)
    assert not plt.get_fignums(), (
        "open figures must be closed (else the inline backend shows them uncaptioned)"
    )
    chapter.figure("later_key", later, tmp_path / "out" / "figures" / "later")  # still usable
    assert (tmp_path / "out" / "figures" / "later.svg").is_file()


def test_intervals_align_like_numbers_and_lose_their_leading_zeros():
    md = markdown_table(pd.DataFrame({"scale": ["a"], "95 % CI of α": ["[0.91, 0.99]"]}))
    assert md.splitlines()[1:] == ["|---|---:|", r"| a | \[\.91\, \.99\] |"]


def test_per_region_accuracy_columns_get_their_kind_and_region_in_words():
    from helpers.style import label

    assert label("r_smoothed_amygdala_l") == "r (smoothed), Left amygdala"
    assert label("dice_abs_amygdala_r") == "Dice (source coordinates), Right amygdala"  # not "Dice, abs_…"
    assert label("dice_vmpfc") == "Dice, VMPFC"
    assert label("error_mm_vmpfc") == "Error (mm), VMPFC"
    assert label("realign_rms_mm") == "Realignment error (mm)"
    assert label("dice_min") == "Dice, lowest" and label("dice_unknown") == "dice_unknown"
