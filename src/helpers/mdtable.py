"""A displayed DataFrame as a Markdown pipe table, for numbered tables in the book.

Sphinx numbers a table ("Table N: caption", ``{numref}``) only when it is a real table node.
A DataFrame's HTML output is raw HTML, so a chapter glues the table as Markdown instead
(:meth:`helpers.provenance.Chapter.table`) and its prose pastes it inside a ``{table}`` directive::

    ````{table} Caption of the table.
    :name: tbl-label

    ```{glue:md} key
    :format: myst
    ```
    ````

pandas does the formatting (a ``Styler``'s ``format``/``hide`` or the DataFrame's own display);
:func:`helpers.style.journal_cells` then gives the cells the book's style (human column labels,
APA numbers) and this module lays them out as Markdown. A table without rows becomes a one-cell
table that says so (a header over nothing reads as a broken table).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pandas as pd
from pandas.io.formats.style import Styler

from .style import journal_cells

__all__ = ["markdown_table", "table_cells", "labelled_index", "EMPTY"]

#: What an empty table says by default (``Chapter.table(..., empty=...)`` says it better).
EMPTY = "None: the table has no rows."

#: Every ASCII punctuation character: escaped, so a cell is literal text (no emphasis, roles, math or HTML).
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
#: A number as displayed: optional bound (``< .001``), sign, exponent, per cent or significance marker.
_NUMBER = re.compile(r"^([<>≤≥]\s*)?[-+−]?(\d[\d,]*)?\.?\d+(e[-+]?\d+)?\s*[%*†]*$", re.IGNORECASE)
#: A displayed interval such as ``[.91, .99]`` (aligned like a number).
_INTERVAL = re.compile(r"^\[[^\[\]]*\d[^\[\]]*\]$")
_MISSING = {"", "n/a", "nan", "–", "—"}


class _Cells(HTMLParser):
    """Texts of the header and body rows of the first ``<table>`` in a pandas HTML rendering."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.head: list[list[str]] = []
        self.body: list[list[str]] = []
        self.index_width = 0  # leading <th> cells of the first body row: the index levels
        self._rows = self.head
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._span = 1
        self._leading_th = True

    def handle_starttag(self, tag, attrs):
        if tag in ("thead", "tbody"):
            self._rows = self.head if tag == "thead" else self.body
        elif tag == "tr":
            self._row, self._leading_th = [], True
        elif tag in ("th", "td") and self._row is not None:
            self._cell, self._span = [], int(dict(attrs).get("colspan") or 1)
            if tag == "td":
                self._leading_th = False
            elif self._leading_th and self._rows is self.body and not self.body:
                self.index_width += 1

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            text = " ".join("".join(self._cell).split())  # also turns &nbsp; and line breaks into spaces
            self._row.extend([text] * self._span)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def labelled_index(frame: pd.DataFrame) -> bool:
    """Whether ``frame``'s index carries information (anything but an unnamed ``RangeIndex``).

    Parameters
    ----------
    frame : DataFrame

    Returns
    -------
    bool
    """
    return not (isinstance(frame.index, pd.RangeIndex) and frame.index.name is None)


def table_cells(frame: pd.DataFrame | Styler, na_rep: str = "") -> tuple[list[str], list[list[str]]]:
    """Header and body cells of ``frame`` exactly as pandas displays them.

    Parameters
    ----------
    frame : DataFrame or Styler
        A ``Styler`` keeps its formats and hidden index/columns; a DataFrame is shown with its
        index unless that is an unnamed ``RangeIndex`` (row numbers carry no information).
    na_rep : str, default ""
        Text for missing values of a DataFrame (a ``Styler`` uses its own ``na_rep``).

    Returns
    -------
    header : list of str
        One name per column: the index level names, then each column's levels joined by spaces
        (a two-level ``("Ours", "r")`` column becomes ``"Ours r"``).
    body : list of list of str
        One list of cell texts per row, whitespace collapsed.

    Raises
    ------
    TypeError
        ``frame`` is neither a DataFrame nor a Styler.
    """
    if isinstance(frame, Styler):
        html = frame.to_html(exclude_styles=True, sparse_index=False, sparse_columns=False)
    elif isinstance(frame, pd.DataFrame):
        frame = frame.replace(r"\s*[\r\n\t]\s*", " ", regex=True)  # to_html would print them as \\n
        html = frame.to_html(index=labelled_index(frame), sparsify=False, na_rep=na_rep)
    else:
        raise TypeError(f"a table must be a pandas DataFrame or Styler, not {type(frame).__name__}")
    cells = _Cells()
    cells.feed(html)
    width = max((len(r) for r in cells.head + cells.body), default=0)
    head = [r + [""] * (width - len(r)) for r in cells.head] or [[""] * width]
    header = [
        head[-1][i] if i < cells.index_width else " ".join(r[i] for r in head if r[i]) for i in range(width)
    ]
    return header, [r + [""] * (width - len(r)) for r in cells.body]


def _escape(text: str) -> str:
    return _PUNCTUATION.sub(r"\\\1", text)


def markdown_table(
    frame: pd.DataFrame | Styler, na_rep: str = "", *, journal: bool = True, empty: str = EMPTY
) -> str:
    """``frame`` as a Markdown pipe table (literal cell text; numeric columns right-aligned).

    Every ASCII punctuation character is backslash-escaped, so a cell such as ``0.04*`` or
    ``$x$`` is shown as written under any Markdown flavour. A column is right-aligned when
    every non-missing cell looks like a number (markers ``*``/``†`` and ``%`` allowed).

    Parameters
    ----------
    frame : DataFrame or Styler
        The table as pandas displays it.
    na_rep : str, default ""
        Text for missing values of a DataFrame.
    journal : bool, default True
        Apply :func:`helpers.style.journal_cells` (labels, APA numbers); ``False`` keeps pandas' text.
    empty : str, default :data:`EMPTY`
        The sentence shown when ``frame`` has no rows, in one cell under the column labels
        (e.g. ``"No participant was excluded."``).

    Returns
    -------
    str
        The pipe table, ending with a newline.

    Raises
    ------
    ValueError
        ``frame`` has no columns (a pipe table needs at least one).
    """
    header, body = table_cells(frame, na_rep=na_rep)
    if not header:
        raise ValueError("a table needs at least one column")
    if journal:
        header, body = journal_cells(header, body)
    if not body:
        names = ", ".join(h for h in header if h)
        return f"| {_escape(names)} |\n|---|\n| {_escape(empty)} |\n"
    numeric = [
        any(r[i] not in _MISSING for r in body)
        and all(r[i] in _MISSING or _NUMBER.match(r[i]) or _INTERVAL.match(r[i]) for r in body)
        for i in range(len(header))
    ]
    lines = [
        "| " + " | ".join(_escape(h) for h in header) + " |",
        "|" + "|".join("---:" if n else "---" for n in numeric) + "|",
    ]
    lines += ["| " + " | ".join(_escape(c) for c in row) + " |" for row in body]
    return "\n".join(lines) + "\n"
