"""Reading SCS responses and checking them: one row per participant, one integer 1–5 per item.

Item columns are given explicitly or found with a regular expression whose single group captures
the item number (:data:`DEFAULT_PATTERN`); every value must be an integer 1–5 or missing, and
anything else raises ``ValueError`` naming the file (if known), the participant, the column and the
value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

#: Default item-column pattern: optional "scs", optional separator, the item number (leading zeros allowed).
DEFAULT_PATTERN = r"^scs[_ -]?0*([0-9]+)$"

#: The answers' range: 1 (almost never) – 5 (almost always).
_LOW, _HIGH = 1, 5


def read_scs(path: str | os.PathLike, id_column: str = "participant_id") -> pd.DataFrame:
    """Read a BIDS phenotype file such as ``phenotype/scs.tsv``.

    The file is read by :func:`helpers.bids.read_tsv`, so a table saved from a spreadsheet program
    works (BOM, Windows line ends, ``;``/``,`` separators, decimal commas, ``3.0``, spaces, empty
    trailing rows, Latin-1) or stops with the file, line and rule.  ``n/a`` and empty cells become
    missing; BIDS participant IDs written without ``sub-`` get it (``01`` → ``sub-01``, as in
    participants.tsv); the participant column becomes the index; ``attrs["source"]`` holds the file
    path so that later validation errors name the file.  Values are *not* checked here (the scoring
    functions do that).

    Parameters
    ----------
    path : path-like
        The TSV file.
    id_column : str, default "participant_id"
        The participant column (read as text; ``sub-`` is added only when it is ``participant_id``).

    Returns
    -------
    DataFrame
        Indexed by ``id_column``, one column per remaining column of the file.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the table cannot be read, the participant column is missing or holds duplicate or empty IDs.
    """
    from ..bids import read_tsv
    from ..layout.raw import with_sub

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: questionnaire file not found")
    df = read_tsv(path, text_columns=(id_column,))
    if id_column not in df.columns:
        raise ValueError(f"{path}: missing column {id_column!r} (found: {', '.join(df.columns)})")
    if df[id_column].isna().any():
        rows = [int(i) + 2 for i in np.flatnonzero(df[id_column].isna())]
        raise ValueError(f"{path}: column {id_column}: empty participant ID on line(s) {rows}")
    if id_column == "participant_id":
        df[id_column] = df[id_column].map(with_sub)
    _check_duplicates(df[id_column], source=str(path))
    df = df.set_index(id_column)
    df.attrs["source"] = str(path)
    return df


def _check_duplicates(ids: pd.Series | pd.Index, source: str | None) -> None:
    ids = pd.Series(ids)
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        first = dup.iloc[0]
        rows = [int(i) for i in np.flatnonzero(ids.to_numpy() == first)]
        raise ValueError(
            f"{_prefix(source)}duplicate participant ID {first!r} (rows {rows}); "
            f"all duplicated IDs: {sorted(map(str, dup.unique()))}"
        )


def _show(value) -> str:
    """A cell value as written in messages: numbers plainly (6, 2.5), anything else quoted ('abc')."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return f"{float(value):g}"
    return repr(str(value))


def _prefix(source: str | None) -> str:
    return f"{source}: " if source else ""


def _as_frame(responses, source: str | None) -> tuple[pd.DataFrame, str | None]:
    """Accept a DataFrame or a path (read with :func:`read_scs`); return it with its source name."""
    if isinstance(responses, (str, os.PathLike)):
        responses = read_scs(responses)
    if not isinstance(responses, pd.DataFrame):
        raise TypeError(f"responses must be a pandas DataFrame or a path, not {type(responses).__name__}")
    return responses, source or responses.attrs.get("source")


def resolve_item_columns(
    columns: Sequence[str],
    n_items: int = 26,
    item_columns: Sequence[str] | Mapping[int, str] | None = None,
    pattern: str | None = None,
    source: str | None = None,
) -> dict[int, str]:
    """Map item numbers 1…``n_items`` to column names.

    Parameters
    ----------
    columns : sequence of str
        The columns available in the response table.
    n_items : int, default 26
        26 for the SCS, 12 for the SCS-SF.
    item_columns : list, dict or None, default None
        A list of ``n_items`` column names in item order, a dict item number → column name, or
        ``None`` to detect the columns with ``pattern``.
    pattern : str or None, default None
        Regular expression (matched case-insensitively against the whole column name) with one
        group capturing the item number; ``None`` means :data:`DEFAULT_PATTERN`.
    source : str or None, default None
        A file name for error messages.

    Returns
    -------
    dict of int to str
        Item number → column name.

    Raises
    ------
    ValueError
        If the mapping is incomplete, names columns that do not exist, or (pattern detection) two
        columns claim the same item, or the numbers found are not exactly 1…``n_items``.  The message
        lists what was found.
    """
    columns = [str(c) for c in columns]
    if item_columns is None:
        mapping = _detect(columns, n_items, pattern or DEFAULT_PATTERN, source)
    elif isinstance(item_columns, Mapping):
        mapping = {int(k): str(v) for k, v in item_columns.items()}
        wrong = sorted(set(mapping) ^ set(range(1, n_items + 1)))
        if wrong:
            raise ValueError(
                f"{_prefix(source)}item_columns must map items 1–{n_items}; "
                f"wrong or missing item numbers: {wrong}"
            )
    else:
        names = [str(c) for c in item_columns]
        if len(names) != n_items:
            raise ValueError(f"{_prefix(source)}item_columns lists {len(names)} columns, expected {n_items}")
        mapping = dict(enumerate(names, start=1))
    absent = [c for c in mapping.values() if c not in columns]
    if absent:
        raise ValueError(f"{_prefix(source)}missing column(s) {absent} (available: {', '.join(columns)})")
    repeated = pd.Series(list(mapping.values()))
    if repeated.duplicated().any():
        raise ValueError(
            f"{_prefix(source)}column(s) {sorted(set(repeated[repeated.duplicated()]))} "
            "assigned to more than one item"
        )
    return dict(sorted(mapping.items()))


def _detect(columns: list[str], n_items: int, pattern: str, source: str | None) -> dict[int, str]:
    regex = re.compile(pattern, flags=re.IGNORECASE)
    if regex.groups != 1:
        raise ValueError(f"item pattern {pattern!r} must have exactly one group capturing the item number")
    found: dict[int, list[str]] = {}
    for col in columns:
        m = regex.fullmatch(col)
        if m:
            found.setdefault(int(m.group(1)), []).append(col)
    where = f"{_prefix(source)}item columns matching {pattern!r}"
    clashes = {k: v for k, v in found.items() if len(v) > 1}
    if clashes:
        text = "; ".join(f"item {k}: {', '.join(v)}" for k, v in sorted(clashes.items()))
        raise ValueError(f"{where} are ambiguous ({text}); pass item_columns explicitly")
    missing = sorted(set(range(1, n_items + 1)) - set(found))
    extra = sorted(set(found) - set(range(1, n_items + 1)))
    if missing or extra:
        shown = ", ".join(found[k][0] for k in sorted(found)) or "none"
        raise ValueError(
            f"{where}: expected items 1–{n_items}, found {len(found)} ({shown}); "
            f"missing items {missing}, unexpected items {extra}"
        )
    return {k: v[0] for k, v in found.items()}


def _participants(responses: pd.DataFrame, id_column: str) -> pd.Series:
    """Participant labels by row position: ``responses[id_column]`` if present, else the index."""
    ids = responses[id_column] if id_column in responses.columns else responses.index
    return pd.Series(np.asarray(ids))


def item_matrix(
    responses,
    n_items: int = 26,
    item_columns=None,
    pattern: str | None = None,
    source: str | None = None,
    id_column: str = "participant_id",
) -> pd.DataFrame:
    """Validated item responses: a float DataFrame indexed like ``responses``, columns 1…``n_items``.

    Every cell must be missing or an integer 1–5 (strings such as ``"3"`` are accepted).
    Participants are named in messages by ``responses[id_column]`` if that column exists, else by the
    index; duplicated participants are an error.

    Parameters
    ----------
    responses : DataFrame or path
        One row per participant, one column per item (other columns are ignored).  A path is read
        with :func:`read_scs`.
    n_items : int, default 26
        Number of items (26: SCS, 12: SCS-SF).
    item_columns : list, dict or None, default None
        Item columns (see :func:`resolve_item_columns`); None detects them with ``pattern``.
    pattern : str or None, default None
        Regular expression with one group capturing the item number; None means :data:`DEFAULT_PATTERN`.
    source : str or None, default None
        A file name for error messages (default: ``responses.attrs["source"]``).
    id_column : str, default "participant_id"
        Column naming the participants in messages (else the index).

    Returns
    -------
    DataFrame
        Float responses (NaN where missing), columns the item numbers 1…``n_items``.

    Raises
    ------
    ValueError
        Naming file, participant, column and value for each of (at most five) offending cells:
        non-numeric, not an integer, or outside 1–5; also for duplicate participant IDs and for
        missing/ambiguous item columns (see :func:`resolve_item_columns`).
    TypeError
        ``responses`` is neither a DataFrame nor a path.
    """
    responses, source = _as_frame(responses, source)
    ids = _participants(responses, id_column)
    _check_duplicates(ids, source)
    mapping = resolve_item_columns(responses.columns, n_items, item_columns, pattern, source)
    raw = responses[list(mapping.values())]
    values = raw.apply(pd.to_numeric, errors="coerce").astype(float)
    problems = []
    for col in raw.columns:
        for row in np.flatnonzero(raw[col].notna().to_numpy()):
            v, x = raw[col].iloc[row], values[col].iloc[row]
            if np.isnan(x):
                rule = "is not a number"
            elif x != np.round(x):
                rule = f"is not an integer {_LOW}–{_HIGH}"
            elif not _LOW <= x <= _HIGH:
                rule = f"is outside {_LOW}–{_HIGH}"
            else:
                continue
            problems.append(f"participant {ids.iloc[row]}, column {col}: value {_show(v)} {rule}")
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ValueError(_prefix(source) + "; ".join(problems[:5]) + more)
    values.columns = list(mapping)
    values.index = responses.index
    return values
