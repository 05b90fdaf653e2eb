"""Notebooks are committed without outputs, and each declares its parameters."""

import ast
import json
from pathlib import Path

import pytest

from helpers.runner import book_notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_outputs(path):
    nb = json.loads(path.read_text())
    dirty = [i for i, c in enumerate(nb["cells"]) if c.get("outputs") or c.get("execution_count")]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_declares_parameters(path):
    nb = json.loads(path.read_text())
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: expected exactly one cell tagged 'parameters'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_parameter_is_one_line_with_its_help(path):
    """``name = value  # help`` on one line: Papermill reads a default and its help only from that form.

    A formatter that wraps a long line (``ruff format`` does, past 110 characters) turns it into
    ``name = (\n    value  # help\n)``: Papermill then reports the default as ``(value)`` and no help.
    Shorten the comment (or put the detail on a comment line above) instead.
    """
    import papermill as pm

    nb = json.loads(path.read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    tree = ast.parse("".join(cell["source"]))
    wrapped = [ast.unparse(s).split("=")[0].strip() for s in tree.body if s.lineno != s.end_lineno]
    assert not wrapped, f"{path.name}: parameters cell, {wrapped} span several lines (rule: one line each)"
    no_help = [name for name, spec in pm.inspect_notebook(str(path)).items() if not spec["help"].strip()]
    assert not no_help, f"{path.name}: parameters {no_help} have no '# help' comment on their line"


def test_every_book_notebook_has_a_source():
    for stem in book_notebooks(ROOT):
        assert (ROOT / "notebooks" / f"{stem}.ipynb").is_file(), f"_toc.yml lists {stem} without a source"
