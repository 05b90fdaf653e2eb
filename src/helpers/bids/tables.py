"""Tables as users save them (TSV, CSV, spreadsheet exports): :func:`read_tsv`."""

from __future__ import annotations

import csv
import io
import logging
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")

log = logging.getLogger(__name__)


def _show(value) -> str:
    """A value as a user wrote it: numbers plainly (6, 2.5), text quoted ('six')."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


# --------------------------------------------------------------------------------------------- tables
def _decode(path: Path) -> str:
    """Text of a table: UTF-8 (with or without BOM); else Windows-1252/Latin-1, with a warning."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        log.warning(
            "%s: not UTF-8 (byte 0x%02x on line %d); read as Windows-1252/Latin-1 — BIDS asks for "
            "UTF-8, so save it as 'UTF-8' next time",
            path,
            data[err.start],
            line,
        )
        return data.decode("cp1252", errors="strict") if _cp1252_ok(data) else data.decode("latin-1")


def _cp1252_ok(data: bytes) -> bool:
    try:
        data.decode("cp1252")
        return True
    except UnicodeDecodeError:
        return False


def _separator(path: Path, header: str) -> str:
    """Tab, as BIDS requires; a header with no tab but ``;`` or ``,`` is a spreadsheet's CSV export."""
    if "\t" in header or not header.strip():
        return "\t"
    for sep, name in ((";", "semicolons"), (",", "commas")):
        if sep in header:
            log.warning(
                "%s: columns separated by %s, not tabs; read as such — BIDS asks for tab-separated "
                "values (in a spreadsheet program: save as 'Text (tab delimited)')",
                path,
                name,
            )
            return sep
    return "\t"


def _clean_column(col: pd.Series) -> pd.Series:
    """Numbers (``3``, ``3.0``, decimal commas ``2,5``) when every filled cell is one; else the text."""
    filled = col.dropna()
    if filled.empty:
        return col
    text = filled.astype(str)
    commas = text.str.match(_DECIMAL_COMMA.pattern)
    if commas.any() and (commas | text.str.match(_NUMBER.pattern)).all():
        col = col.where(col.isna(), col.astype(str).str.replace(",", ".", regex=False))
    num = pd.to_numeric(col, errors="coerce")
    return num if num.notna().sum() == len(filled) else col


def read_tsv(path: str | os.PathLike, text_columns=("participant_id",)) -> pd.DataFrame:
    """Read a BIDS table as a user may have saved it; ``ValueError`` naming file, line and rule otherwise.

    Accepted, because spreadsheet programs write them: a UTF-8 byte-order mark, Windows line ends,
    ``;`` or ``,`` instead of tabs (a warning is logged), decimal commas (``2,5``) in columns that are
    otherwise numbers, ``3.0`` for 3, spaces around headers and cells, empty trailing rows and
    columns, Windows-1252/Latin-1 text (warning logged).  ``n/a`` and empty cells are missing; a
    column is numeric when every filled cell is a number, else text.  ``text_columns`` (default
    ``participant_id``) always stay text.

    Parameters
    ----------
    path : path-like
        The table (``participants.tsv``, ``phenotype/scs.tsv``, ``*_events.tsv`` …).
    text_columns : sequence of str, default ("participant_id",)
        Columns never converted to numbers (IDs such as ``01`` keep their zeros).

    Returns
    -------
    DataFrame
        One row per non-empty line, text and numeric columns, missing values as NaN.

    Raises
    ------
    ValueError
        Empty file, a row with more cells than the header (file and line), or a header repeated.
    """
    path = Path(path)
    text = _decode(path).lstrip("\r\n")
    lines = text.splitlines()
    header = next((line for line in lines if line.strip()), "")
    if not header.strip():
        raise ValueError(
            f"{path}: the file is empty (rule: a header row with the column names, then one row per entry)"
        )
    sep = _separator(path, header)
    rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    width = len(rows[0])
    for number, row in enumerate(rows[1:], start=2):
        cells = len(row)
        while cells > width and not row[cells - 1].strip():  # trailing empty cells of a spreadsheet row
            cells -= 1
        if row and any(c.strip() for c in row) and cells != width:
            raise ValueError(
                f"{path}: line {number}: {cells} cells but the header has {width} columns (rule: every "
                "row has one cell per column, separated by tabs; write n/a for a missing value and "
                "check for a stray tab)"
            )
    table = pd.read_csv(
        io.StringIO(text),
        sep=sep,
        dtype=str,
        na_values=["n/a", ""],
        keep_default_na=False,
        skip_blank_lines=True,
        skipinitialspace=True,
        index_col=False,
    )
    table.columns = [str(c).strip() for c in table.columns]
    unnamed = [c for c in table.columns if c == "" or c.startswith("Unnamed:")]
    empty_unnamed = [c for c in unnamed if table[c].isna().all()]
    table = table.drop(columns=empty_unnamed)
    if any(c == "" or c.startswith("Unnamed:") for c in table.columns):
        raise ValueError(
            f"{path}: a column without a header holds values (rule: every column is named in the first row)"
        )
    dup = [c for c in table.columns if re.search(r"\.\d+$", c) and c.rsplit(".", 1)[0] in table.columns]
    if dup:
        raise ValueError(
            f"{path}: column {dup[0].rsplit('.', 1)[0]!r} appears twice in the header (rule: "
            "unique column names)"
        )
    table = table.apply(
        lambda c: c.str.strip() if c.dtype == object or pd.api.types.is_string_dtype(c) else c
    )
    table = table.replace("", np.nan).replace("n/a", np.nan)
    table = table.dropna(how="all").reset_index(drop=True)
    keep = set(text_columns)
    return table.apply(lambda c: c if c.name in keep else _clean_column(c))
