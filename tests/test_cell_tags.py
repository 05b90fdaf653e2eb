"""Which code cells the book shows (helpers.cell_tags), on small fake executed notebooks, and which
cells of the book's own notebooks a run on the twin or on user data keeps (their condition tags)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers.cell_tags import classify, helper_names, tag_cells
from helpers.runner import _hide_parameter_cells

IMPORTS = (
    "%matplotlib inline\nfrom pathlib import Path\nfrom myst_nb import glue\n"
    "from helpers import tables, figures as F\n"
)
GLUE_RECORD = new_output(
    "display_data",
    data={"application/papermill.record/text/plain": "1"},
    metadata={"scrapbook": {"name": "k"}},
)
HTML = new_output("display_data", data={"text/html": "<b>provenance</b>", "text/plain": "<HTML>"})


def _nb(*cells):
    return new_notebook(cells=[new_markdown_cell("# Chapter"), *cells])


def test_helper_names_follow_the_imports_and_aliases():
    sources = [
        IMPORTS,
        "import helpers.stats as hs\nimport helpers.io\nfrom helpers.provenance import Chapter",
    ]
    assert helper_names(sources) == {"tables", "F", "hs", "helpers"}


def test_classify_by_syntax():
    helpers = {"tables", "F"}
    assert classify(IMPORTS + "out = Path('x')\nglue('n', 19, display=False)", helpers) == "bookkeeping"
    assert (
        classify(
            "mine = t.set_index('c')\nfor c in ('a', 'b'):\n"
            "    glue(f'r_{c}', mine.loc[c, 'r'], display=False)",
            helpers,
        )
        == "bookkeeping"
    )
    assert classify("chapter.footer()", helpers) == "bookkeeping"
    assert classify("chapter.output(write_tsv(df, 'a.tsv'))", helpers) == "bookkeeping"
    # a lookup through a helper that only feeds glue is bookkeeping too
    lookup = (
        "mine, theirs = ours.set_index('c'), tables.reference()\nfor c in cols:\n"
        "    glue(f'r_{c}', mine.loc[c, 'r'])\n    glue(f'p_{c}', theirs.loc[c, 'p'])\nglue('n', 8)"
    )
    assert classify(lookup, helpers) == "bookkeeping"
    # the one helper call per step stays, even when it also glues or registers
    assert classify("ours = tables.table1(s, c)\nglue('r', float(ours.r[0]))", helpers) == "step"
    assert classify("chapter.table('k', tables.render_table1(ours))", helpers) == "step"
    assert classify("fig = F.figure1(s, c)\nchapter.figure('f', fig, 'figure1')", helpers) == "step"
    # plain pandas with no bookkeeping call is shown; so is a cell that does not parse
    assert classify("wide = df.pivot(index='a', columns='b')", helpers) == "other"
    assert classify("%%bash\necho hi", helpers) == "other"
    plot = "fig, ax = plt.subplots()\n" + "".join(f"ax.plot(x, y{i})\n" for i in range(12))
    assert classify(plot, helpers) == "long-plot"
    assert classify("fig, ax = plt.subplots()\nax.plot(x, y)", helpers) == "other"


def test_tag_cells_removes_silent_bookkeeping_and_keeps_outputs_of_the_rest():
    nb = _nb(
        new_code_cell(IMPORTS + "glue('k', 1, display=False)", outputs=[GLUE_RECORD]),
        new_code_cell("ours = tables.table1(s, c)"),
        new_code_cell("chapter.footer()", outputs=[HTML]),
        new_code_cell("x = 1", metadata={"tags": ["hide-cell"]}),
    )
    assert tag_cells(nb) == {1: "remove-cell", 3: "remove-input"}
    assert nb.cells[2].metadata["tags"] == [] and nb.cells[4].metadata["tags"] == ["hide-cell"]


def test_the_runner_tags_an_executed_notebook_on_disk(tmp_path):
    nb = _nb(
        new_code_cell("output_dir = 'build'", metadata={"tags": ["parameters"]}),
        new_code_cell("output_dir = 'other'", metadata={"tags": ["injected-parameters"]}),
        new_code_cell(IMPORTS + "glue('k', 1, display=False)", outputs=[GLUE_RECORD]),
        new_code_cell("F.figure1(s, c)"),
    )
    path = tmp_path / "01_x.ipynb"
    nbformat.write(nb, path)
    _hide_parameter_cells(path)
    tags = [c.metadata.get("tags") for c in nbformat.read(path, as_version=4).cells[1:]]
    assert tags == [["parameters", "hide-cell"], ["injected-parameters", "hide-cell"], ["remove-cell"], []]


# --- the book's own notebooks: which cells a user's data keeps ----------------------------------

ROOT = Path(__file__).resolve().parents[1]
#: Pairs of cell tags that never hold together (see helpers.runner.cells.CELL_CONDITIONS).
EXCLUSIVE = [("twin-only", "user-data-only"), ("our-preprocessing-only", "no-preprocessing-only")]


def _figure_captions(nb) -> dict[str, list[set[str]]]:
    """Glue key of each ``{glue:figure}`` → the tag sets of the markdown cells that caption it."""
    out: dict[str, list[set[str]]] = {}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for key in re.findall(r"\{glue:figure\}\s+(\S+)", cell.source):
                out.setdefault(key, []).append(set(cell.metadata.get("tags", [])))
    return out


def _exclusive(a: set[str], b: set[str]) -> bool:
    return any((x in a and y in b) or (y in a and x in b) for x, y in EXCLUSIVE)


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.stem)
def test_a_figure_has_one_caption_per_run_and_an_honest_one_without_truth(path):
    """Two captions of one figure never both survive a run; a figure that falls back to the
    "no planted ground truth" placeholder outside twin-only cells has a user-data-only caption,
    and its twin caption (which describes planted values) is twin-only."""
    nb = nbformat.read(path, as_version=4)
    captions = _figure_captions(nb)
    for key, tag_sets in captions.items():
        for i, a in enumerate(tag_sets):
            for b in tag_sets[i + 1 :]:
                assert _exclusive(a, b), f"{path.name}: {key} has two captions that can both be shown"
    for cell in nb.cells:
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type != "code" or "plot_no_truth()" not in cell.source or "twin-only" in tags:
            continue
        for key in re.findall(r"chapter\.figure\(\s*\"(\w+)\"", cell.source):
            tag_sets = captions.get(key, [])
            assert any("user-data-only" in t for t in tag_sets), (
                f"{path.name}: {key} lacks a caption for user data"
            )
            assert all("twin-only" in t or "user-data-only" in t for t in tag_sets), (
                f"{path.name}: a caption of {key} is shown on every dataset although the figure is a "
                "placeholder without planted truth"
            )


def test_twin_only_robustness_prose_is_tagged():
    """The reviewer's cases: the attenuation caption's planted correlation and the twin's configuration."""
    nb = nbformat.read(ROOT / "notebooks" / "05_robustness.ipynb", as_version=4)
    for phrase in ("planted in the twin", "The twin's configuration"):
        cells = [c for c in nb.cells if phrase in c.source]
        assert cells and all("twin-only" in c.metadata.get("tags", []) for c in cells), phrase
