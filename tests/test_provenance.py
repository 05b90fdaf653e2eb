"""Numbered tables: DataFrames as Markdown pipe tables, glued by ``Chapter.table``."""

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
        r"| Self\-compassion mean | −\.402\* | \-0\.19 | 19 |",
        r"| Isolation | \.070 |  | 18 |",
    ]


def test_p_bounds_and_dashes_count_as_numbers():
    md = markdown_table(pd.DataFrame({"p": ["< .001", "—", ".04*"], "rule": ["a", "b", "c"]}))
    assert md.splitlines()[1] == "|---:|---|"


@pytest.mark.parametrize("text", ["$x$ and *y*", "<b>bold</b>", "a | b", "{glue:text}`key`", "[link](x)", "_x_ \\ `c`"])
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
    assert obj.data == "| scale | r |\n|---|---:|\n| total | 0\\.12 |\n"
    assert (tmp_path / "out" / "t.tsv").read_text() == "scale\tr\ntotal\t0.123456\n"
    assert chapter.outputs == ["out/t.tsv"]
