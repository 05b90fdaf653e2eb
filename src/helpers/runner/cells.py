"""Cells kept for this run's data (tags of :data:`CELL_CONDITIONS`), glue references the prose uses,
and the tags that hide bookkeeping cells on the executed page."""

from __future__ import annotations

import re
from pathlib import Path

from ..params import twin_requested

#: Cell tags that keep a cell only for some data: tag → the condition (on the run's
#: :func:`run_conditions`) under which the cell stays. The others are dropped before execution,
#: so they neither run nor appear.
CELL_CONDITIONS = {
    "twin-only": "twin",
    "user-data-only": "user_data",
    "our-preprocessing-only": "our_preprocessing",
    "no-preprocessing-only": "no_preprocessing",
    "parcellation-only": "parcellation",
}


def _hide_parameter_cells(path: Path) -> None:
    """Collapse Papermill's injected cell (this run's values) and the defaults cell (every key the
    chapter takes, with its meaning: the page lists them as the notebook does); hide the bookkeeping
    cells and fold long plotting code (:func:`helpers.cell_tags.tag_cells`)."""
    import nbformat

    from ..cell_tags import tag_cells

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if ("injected-parameters" in tags or "parameters" in tags) and "hide-cell" not in tags:
            tags.append("hide-cell")
    tag_cells(nb)
    nbformat.write(nb, path)


def run_conditions(params: dict, root: Path) -> dict[str, bool]:
    """Which data this run analyses, for :data:`CELL_CONDITIONS`.

    ``twin`` / ``user_data``: the params ask for the twin or not. ``our_preprocessing``: our
    preprocessing runs, or its output is what the connectivity chapter analyses, or (the twin) its
    derivatives are already in ``preproc_dir`` to inspect; otherwise the chapters read someone
    else's derivatives, e.g. fMRIPrep's (``no_preprocessing``) — and an earlier run's preprocessing
    of the same data is not shown as if it were analysed. ``parcellation``: the params request one.

    Parameters
    ----------
    params : dict
        The resolved parameters (``run_preprocessing``, ``preproc_dir``, ``derivatives_dir`` are read).
    root : pathlib.Path
        The project root (the folder holding ``_config.yml``).

    Returns
    -------
    dict of str to bool
        ``twin``, ``user_data``, ``our_preprocessing``, ``no_preprocessing``; ``parcellation``: an atlas
        parcellation is requested (the connectivity chapter's whole-brain figures exist only then).
    """
    twin = twin_requested(params)
    preproc = root / str(params.get("preproc_dir", "build/data/preproc"))
    analysed = params.get("derivatives_dir") is not None and Path(params["derivatives_dir"]) == Path(
        params.get("preproc_dir", "")
    )
    inspect = twin and preproc.is_dir() and any(preproc.glob("sub-*"))
    ours = bool(params.get("run_preprocessing", True)) or analysed or inspect
    return {
        "twin": twin,
        "user_data": not twin,
        "our_preprocessing": ours,
        "no_preprocessing": not ours,
        "parcellation": params.get("parcellation") is not None,
    }


def select_cells(nb, conditions: dict[str, bool]):
    """Drop the cells of ``nb`` whose :data:`CELL_CONDITIONS` tags do not hold; returns ``nb``.

    A cell with several such tags stays only when every one holds.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook (modified in place).
    conditions : dict of str to bool
        The result of :func:`run_conditions`.

    Returns
    -------
    nbformat.NotebookNode
        ``nb``.
    """

    def keep(cell) -> bool:
        tags = cell.get("metadata", {}).get("tags", [])
        return all(conditions[CELL_CONDITIONS[t]] for t in tags if t in CELL_CONDITIONS)

    nb.cells = [cell for cell in nb.cells if keep(cell)]
    return nb


#: A glue reference in Markdown: ``{glue:text}`key:fmt```, ``{glue}`key```, ```{glue:figure} key``; a
#: reference to another page's key (``path::key``) is checked by Sphinx, not here.
GLUE_REF = re.compile(r"\{glue(?::[a-z]+)?\}`([^`]+)`|```\{glue:(?:figure|math|md)\}\s+(\S+)")


def missing_glue_keys(nb) -> list[tuple[str, str]]:
    """(first line of the Markdown cell, key) of every glue reference in ``nb`` that no output glued.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        An executed notebook; references are found with :data:`GLUE_REF` (cross-notebook ``::`` ones
        are skipped).

    Returns
    -------
    list of (str, str)
        Empty when every reference was glued.
    """
    glued = {
        out.get("metadata", {}).get("scrapbook", {}).get("name")
        for cell in nb.cells
        for out in cell.get("outputs", [])
    }
    refs = [
        (cell.source.strip().splitlines()[0][:50], a or b)
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for a, b in GLUE_REF.findall(cell.source)
    ]
    keys = [(line, target.split(":")[0]) for line, target in refs if "::" not in target]
    return [(line, key) for line, key in keys if key not in glued]
