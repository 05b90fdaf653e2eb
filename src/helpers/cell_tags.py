"""Which code cells a reader of the book sees: tags for the executed notebooks, decided from the code.

A chapter shows its one helper call per step; the cells that only keep books (store numbers for the
prose with ``glue``, register files, import, set the plotting backend, print the provenance footer)
are hidden. The rule reads each cell's syntax tree (:func:`classify`):

* a **step** calls something imported from ``helpers`` (other than :class:`~helpers.provenance.Chapter`):
  the cell stays visible, unless more than half of its statements are ``glue`` calls (it only looks
  values up for the prose);
* a **bookkeeping** cell has no step and at least one bookkeeping statement (``import``, a magic
  such as ``%matplotlib``, ``glue(...)``, ``Chapter(...)``, ``chapter.footer()``/``output``/
  ``input``/``stage``/``table``/``figure`` without a helper call in their arguments, ``warnings``/
  ``logging`` settings); its other
  statements are plain assignments or loops around those. It gets ``remove-cell`` when it shows
  nothing (glue's records render nothing), else ``remove-input`` (the footer stays, its code goes);
* a visible cell longer than :data:`LONG_CELL` lines that draws with matplotlib gets
  ``hide-input`` (a "show code" toggle).

Cells that do not parse (cell magics, shell escapes) are left alone.
"""

from __future__ import annotations

import ast
import re

__all__ = ["helper_names", "classify", "tag_cells", "LONG_CELL", "BOOKKEEPING_METHODS"]

#: Methods of the chapter object that only keep books.
BOOKKEEPING_METHODS = {"footer", "output", "input", "stage", "table", "figure"}
#: Visible plotting cells longer than this many lines get a "show code" toggle.
LONG_CELL = 12
_MAGIC = re.compile(r"^\s*[%!]")
_PLOTTING = re.compile(r"\b(plt|ax|axes|fig)\.\w+\(")
#: Modules whose calls only configure the session (``warnings.simplefilter``, ``logging.getLogger``).
_SETTINGS_MODULES = {"warnings", "logging"}
_KEEP = {"remove-cell", "remove-input", "hide-input", "hide-cell", "hide-output", "remove-output"}


def helper_names(sources: list[str]) -> set[str]:
    """Names bound by ``import helpers…``/``from helpers… import …`` anywhere in ``sources``.

    Parameters
    ----------
    sources : list of str
        Code cells' sources (IPython magics are skipped; cells that do not parse are ignored).

    Returns
    -------
    set of str
        The bound names, except ``Chapter`` (provenance bookkeeping, not an analysis step).
    """
    names = set()
    for source in sources:
        try:
            tree = ast.parse("\n".join(line for line in source.splitlines() if not _MAGIC.match(line)))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "helpers":
                names |= {a.asname or a.name for a in node.names}
            elif isinstance(node, ast.Import):
                names |= {
                    a.asname or a.name.split(".")[0] for a in node.names if a.name.split(".")[0] == "helpers"
                }
    return names - {"Chapter"}


def _root(func: ast.expr) -> str | None:
    while isinstance(func, ast.Attribute):
        func = func.value
    return func.id if isinstance(func, ast.Name) else None


def _is_step(node: ast.AST, helpers: set[str]) -> bool:
    return any(isinstance(n, ast.Call) and _root(n.func) in helpers for n in ast.walk(node))


def _is_bookkeeping(stmt: ast.stmt) -> bool:
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return True
    value = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else None
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    if isinstance(func, ast.Name):
        return func.id in ("glue", "Chapter")
    if _root(func) in _SETTINGS_MODULES:
        return True
    return (
        isinstance(func, ast.Attribute)
        and func.attr in BOOKKEEPING_METHODS
        and isinstance(func.value, ast.Name)
        and func.value.id == "chapter"
    )


def _plumbing(stmt: ast.stmt) -> bool:
    """Assignments, loops and conditionals whose bodies are bookkeeping or plumbing too."""
    if _is_bookkeeping(stmt) or isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Pass)):
        return True
    if isinstance(stmt, (ast.For, ast.If, ast.With)):
        return all(_plumbing(s) for s in stmt.body + getattr(stmt, "orelse", []))
    return False


def _any_bookkeeping(stmts: list[ast.stmt]) -> bool:
    for s in stmts:
        if _is_bookkeeping(s):
            return True
        if isinstance(s, (ast.For, ast.If, ast.With)) and _any_bookkeeping(s.body + getattr(s, "orelse", [])):
            return True
    return False


def _flatten(stmts: list[ast.stmt]) -> list[ast.stmt]:
    out = []
    for s in stmts:
        if isinstance(s, (ast.For, ast.If, ast.With)):
            out += _flatten(s.body + getattr(s, "orelse", []))
        else:
            out.append(s)
    return out


def _is_glue(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Name)
        and stmt.value.func.id == "glue"
    )


def classify(source: str, helpers: set[str]) -> str:
    """``"bookkeeping"``, ``"step"``, ``"long-plot"`` or ``"other"`` for one code cell (module docstring).

    Parameters
    ----------
    source : str
        The cell's source (a cell that does not parse is ``"other"``).
    helpers : set of str
        Names bound to helpers in the notebook (:func:`helper_names`).

    Returns
    -------
    str
    """
    lines = source.splitlines()
    magic = any(_MAGIC.match(line) for line in lines)
    try:
        tree = ast.parse("\n".join(line for line in lines if not _MAGIC.match(line)))
    except SyntaxError:
        return "other"
    body = tree.body
    plumbing = all(_plumbing(s) for s in body)
    flat = _flatten(body)
    # mostly glue: a lookup of reference values (even through a helper) that only feeds the prose
    if plumbing and flat and 2 * sum(_is_glue(s) for s in flat) > len(flat):
        return "bookkeeping"
    if _is_step(tree, helpers):
        return "step"
    if (magic or _any_bookkeeping(body)) and plumbing:
        return "bookkeeping"
    if len([line for line in lines if line.strip()]) > LONG_CELL and _PLOTTING.search(source):
        return "long-plot"
    return "other"


def _shows_something(cell) -> bool:
    """Whether a cell has an output that renders.

    Glue's records (mime ``application/papermill.record/*``) do not.
    """
    for out in cell.get("outputs", []):
        if out.get("output_type") in ("stream", "error"):
            return True
        if any(not mime.startswith("application/papermill.record") for mime in out.get("data", {})):
            return True
    return False


def tag_cells(nb) -> dict[int, str]:
    """Add the reader-facing tags to ``nb``'s code cells in place; returns ``{cell index: tag added}``.

    Bookkeeping cells get ``remove-input`` when they show something, else ``remove-cell``; long
    plotting cells get ``hide-input``.  Cells already tagged for display (``remove-*``, ``hide-*``,
    ``parameters``) keep their tags.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook (modified in place).

    Returns
    -------
    dict of int to str
    """
    code = [c for c in nb.cells if c.cell_type == "code"]
    helpers = helper_names([c.source for c in code])
    added = {}
    for i, cell in enumerate(nb.cells):
        tags = cell.metadata.setdefault("tags", [])
        if cell.cell_type != "code" or _KEEP & set(tags) or {"parameters", "injected-parameters"} & set(tags):
            continue
        kind = classify(cell.source, helpers)
        tag = {
            "bookkeeping": "remove-input" if _shows_something(cell) else "remove-cell",
            "long-plot": "hide-input",
        }.get(kind)
        if tag:
            tags.append(tag)
            added[i] = tag
    return added
