"""Scoring and reliability of the Self-Compassion Scale (SCS, Neff 2003) and its short form.

The short form is the SCS-SF (Raes et al. 2011).

The item key, the scoring rules and the reasons for the choices made here are in
``book/spec_scs.md``; in short:

* 26 items answered 1 (almost never) – 5 (almost always); six subscales, three of them
  (self-judgment, isolation, over-identification) keyed negatively.
* Subscale score = mean of the subscale's **raw** items (negative subscales are *not* reversed,
  as in Parrish et al. 2018, Table 1).
* Total, rule ``"subscale_mean"`` (Neff's current instructions, our default): mean of the six
  subscale means after reversing the negative ones as ``6 − x``.
  Rule ``"item_mean"`` (an older scoring sheet): mean of the 26 items after reversing the negative
  items.  The two differ because the subscales have 4 or 5 items, so under ``"subscale_mean"`` an
  item of a 4-item subscale weighs 1/24 and an item of a 5-item subscale 1/30.

Responses are a table with one row per participant and one column per item.  Item columns are
given explicitly (``item_columns``) or found with a regular expression whose single group captures
the item number (default :data:`DEFAULT_PATTERN`, which matches ``scs_01``, ``scs_1``, ``SCS1``,
``SCS-01``…).  Every value must be an integer 1–5 or missing; anything else raises ``ValueError``
naming the file (if known), the participant, the column and the value.  Missing answers are never
filled silently: see the ``missing`` parameter of :func:`score_scs`.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .paper import ALPHAS as PAPER_ALPHA  # Cronbach's α reported by Parrish et al. (2018)

__all__ = [
    "SUBSCALES",
    "SCS_KEY",
    "NEGATIVE_SUBSCALES",
    "SCS_SF_KEY",
    "PAPER_ALPHA",
    "DEFAULT_PATTERN",
    "TOTAL_RULES",
    "MissingItemsWarning",
    "read_scs",
    "item_key_table",
    "resolve_item_columns",
    "item_matrix",
    "score_scs",
    "score_scs_sf",
    "reliability",
    "alpha_comparison",
    "omega_total",
    "compare_total_rules",
    "summarise_total_rules",
    "missing_report",
    "reliability_table",
    "SCALE_LABELS",
]

#: Subscale names in the order used for every output table.
SUBSCALES = (
    "self_kindness",
    "self_judgment",
    "common_humanity",
    "isolation",
    "mindfulness",
    "over_identification",
)

#: SCS item key (Neff 2003; book/spec_scs.md): subscale → item numbers (1-based).
SCS_KEY: dict[str, tuple[int, ...]] = {
    "self_kindness": (5, 12, 19, 23, 26),
    "self_judgment": (1, 8, 11, 16, 21),
    "common_humanity": (3, 7, 10, 15),
    "isolation": (4, 13, 18, 25),
    "mindfulness": (9, 14, 17, 22),
    "over_identification": (2, 6, 20, 24),
}

#: Negatively keyed subscales (reversed as 6 − x for the total only).
NEGATIVE_SUBSCALES = frozenset({"self_judgment", "isolation", "over_identification"})

#: SCS-SF item key (Raes et al. 2011; book/spec_scs.md): subscale → item numbers of the 12-item form.
SCS_SF_KEY: dict[str, tuple[int, ...]] = {
    "self_kindness": (2, 6),
    "self_judgment": (11, 12),
    "common_humanity": (5, 10),
    "isolation": (4, 8),
    "mindfulness": (3, 7),
    "over_identification": (1, 9),
}

#: Human-readable scale names for tables and figures.
SCALE_LABELS: dict[str, str] = {
    "total": "Self-compassion (total)",
    "self_kindness": "Self-kindness",
    "self_judgment": "Self-judgment",
    "common_humanity": "Common humanity",
    "isolation": "Isolation",
    "mindfulness": "Mindfulness",
    "over_identification": "Over-identification",
}

#: Default item-column pattern: optional "scs", optional separator, the item number (leading zeros allowed).
DEFAULT_PATTERN = r"^scs[_ -]?0*([0-9]+)$"

#: The two rules for the total score (see the module docstring).
TOTAL_RULES = ("subscale_mean", "item_mean")

_LOW, _HIGH = 1, 5


class MissingItemsWarning(UserWarning):
    """A score was set to NaN (or prorated) because a participant skipped items."""


# --------------------------------------------------------------------------------------------
# Reading and validation
# --------------------------------------------------------------------------------------------


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
    from .bids import read_tsv
    from .layout.raw import with_sub

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


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------


def _max_missing(missing: str | int) -> int:
    if missing == "complete":
        return 0
    if isinstance(missing, (int, np.integer)) and not isinstance(missing, bool) and missing >= 0:
        return int(missing)
    raise ValueError(f"missing must be 'complete' or a non-negative integer, not {missing!r}")


def _prorated_means(
    items: pd.DataFrame, key: Mapping[str, Sequence[int]], k: int, ids: pd.Series
) -> pd.DataFrame:
    """Mean of each scale's answered items if at most ``k`` are missing, else NaN (with a warning)."""
    out = {}
    for scale, numbers in key.items():
        block = items[list(numbers)]
        n_missing = block.isna().sum(axis=1).to_numpy()
        out[scale] = block.mean(axis=1, skipna=True).where(n_missing <= k)
        for row in np.flatnonzero(n_missing):
            skipped = [i for i in numbers if np.isnan(block.iloc[row][i])]
            action = "prorated from the answered items" if n_missing[row] <= k else "set to NaN"
            warnings.warn(
                f"participant {ids.iloc[row]}: {n_missing[row]} of {len(numbers)} items missing in "
                f"{scale} (items {skipped}); {scale} score {action} "
                f"(missing={k if k else 'complete'!r})",
                MissingItemsWarning,
                stacklevel=3,
            )
    return pd.DataFrame(out, index=items.index)


def score_scs(
    responses,
    item_columns=None,
    total: str = "subscale_mean",
    *,
    pattern: str | None = None,
    missing: str | int = "complete",
    source: str | None = None,
    id_column: str = "participant_id",
) -> pd.DataFrame:
    """Score the 26-item Self-Compassion Scale (Neff 2003; key and rules in book/spec_scs.md).

    Parameters
    ----------
    responses : DataFrame or path
        One row per participant, one column per item (other columns are ignored).  A path is read
        with :func:`read_scs`.
    item_columns : list, dict or None, default None
        Item columns (see :func:`resolve_item_columns`); ``None`` detects them with ``pattern``.
    total : {"subscale_mean", "item_mean"}, default "subscale_mean"
        ``"subscale_mean"``: total = (SK + (6 − SJ) + CH + (6 − IS) + MI + (6 − OI)) / 6.
        ``"item_mean"``: total = mean over the 26 items of x (positive items) or 6 − x (negative items).
    pattern : str or None, default None
        Regular expression with one group capturing the item number (:func:`resolve_item_columns`);
        None means :data:`DEFAULT_PATTERN`.
    missing : "complete" or int, default "complete"
        ``"complete"``: a subscale score needs all its items, otherwise it is NaN.
        An integer k: a subscale may lack up to k items and is then the mean of the answered items
        (prorating).  Either way a :class:`MissingItemsWarning` names each participant and subscale
        with missing answers.  The total is NaN whenever any subscale score is NaN; under
        ``"item_mean"`` it is otherwise the mean of the answered (reversed) items.
    source : str, default None
        A file name for error messages (defaults to ``responses.attrs["source"]``).
    id_column : str, default "participant_id"
        Column naming the participants in messages (else the index).

    Returns
    -------
    DataFrame
        Indexed like ``responses``; columns :data:`SUBSCALES` (means of raw items, negative
        subscales *not* reversed) and ``total``.

    Raises
    ------
    ValueError
        Unknown ``total`` or ``missing``, or invalid responses or item columns (:func:`item_matrix`).
    """
    if total not in TOTAL_RULES:
        raise ValueError(f"total must be one of {TOTAL_RULES}, not {total!r}")
    k = _max_missing(missing)
    responses, source = _as_frame(responses, source)
    items = item_matrix(responses, 26, item_columns, pattern, source, id_column)
    scores = _prorated_means(items, SCS_KEY, k, _participants(responses, id_column))
    if total == "subscale_mean":
        oriented = pd.DataFrame(
            {s: 6 - scores[s] if s in NEGATIVE_SUBSCALES else scores[s] for s in SUBSCALES}
        )
        scores["total"] = oriented.mean(axis=1, skipna=False)
    else:
        reversed_items = _reverse(items, SCS_KEY)
        scores["total"] = reversed_items.mean(axis=1, skipna=True).where(
            scores[list(SUBSCALES)].notna().all(axis=1)
        )
    return scores[[*SUBSCALES, "total"]]


def _reverse(items: pd.DataFrame, key: Mapping[str, Sequence[int]]) -> pd.DataFrame:
    """Items with the negatively keyed ones reversed as 6 − x."""
    neg = [i for s in NEGATIVE_SUBSCALES for i in key[s]]
    out = items.copy()
    out[neg] = 6 - out[neg]
    return out


def score_scs_sf(
    responses,
    item_columns=None,
    *,
    pattern: str | None = None,
    missing: str | int = "complete",
    source: str | None = None,
    id_column: str = "participant_id",
) -> pd.DataFrame:
    """Score the 12-item short form SCS-SF (Raes et al. 2011; key in book/spec_scs.md): total only.

    total = mean over the 12 items of x (positive items) or 6 − x (items 1, 4, 8, 9, 11, 12).
    Subscale scores are not computed: Raes et al. advise against them for the short form.

    Parameters
    ----------
    responses : DataFrame or path
        One row per participant, one column per item (other columns are ignored).  A path is read
        with :func:`read_scs`.
    item_columns : list, dict or None, default None
        Item columns (see :func:`resolve_item_columns`); None detects them with ``pattern``.
    pattern : str or None, default None
        Regular expression with one group capturing the item number; None means :data:`DEFAULT_PATTERN`.
    missing : "complete" or int, default "complete"
        Applies to the 12 items as a whole: ``"complete"`` needs all 12, otherwise the total is NaN;
        an integer k allows up to k missing items (the total is then the mean of the answered ones).
    source : str or None, default None
        A file name for error messages (default: ``responses.attrs["source"]``).
    id_column : str, default "participant_id"
        Column naming the participants in messages (else the index).

    Returns
    -------
    DataFrame
        Indexed like ``responses`` with the single column ``total``.

    Raises
    ------
    ValueError
        Invalid responses or item columns (:func:`item_matrix`), or an invalid ``missing``.
    """
    k = _max_missing(missing)
    responses, source = _as_frame(responses, source)
    items = item_matrix(responses, 12, item_columns, pattern, source, id_column)
    reversed_items = _reverse(items, SCS_SF_KEY)
    return _prorated_means(
        reversed_items, {"total": tuple(range(1, 13))}, k, _participants(responses, id_column)
    )


def missing_report(
    responses,
    item_columns=None,
    *,
    pattern: str | None = None,
    source: str | None = None,
    id_column: str = "participant_id",
) -> pd.DataFrame:
    """Every participant × subscale with skipped items (validated like :func:`score_scs`).

    Parameters
    ----------
    responses : DataFrame or path
        One row per participant, one column per item (other columns are ignored).  A path is read
        with :func:`read_scs`.
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
        Columns participant_id, subscale, n_missing, n_items, items (the skipped item numbers);
        empty if every item was answered.

    Raises
    ------
    ValueError
        Invalid responses or item columns (:func:`item_matrix`).
    """
    responses, source = _as_frame(responses, source)
    items = item_matrix(responses, 26, item_columns, pattern, source, id_column)
    ids = _participants(responses, id_column)
    rows = []
    for row in np.flatnonzero(items.isna().any(axis=1).to_numpy()):
        for scale in SUBSCALES:
            skipped = [i for i in SCS_KEY[scale] if np.isnan(items.iloc[row][i])]
            if skipped:
                rows.append(
                    {
                        "participant_id": ids.iloc[row],
                        "subscale": scale,
                        "n_missing": len(skipped),
                        "n_items": len(SCS_KEY[scale]),
                        "items": ", ".join(map(str, skipped)),
                    }
                )
    return pd.DataFrame(rows, columns=["participant_id", "subscale", "n_missing", "n_items", "items"])


def item_key_table() -> pd.DataFrame:
    """The SCS item key as a table: subscale, keying, item numbers, number of items (book/spec_scs.md).

    Returns
    -------
    DataFrame
        One row per subscale: ``subscale, keyed, items, n_items, short_form_items``.
    """
    rows = [
        {
            "subscale": s,
            "keyed": "negative" if s in NEGATIVE_SUBSCALES else "positive",
            "items": ", ".join(map(str, SCS_KEY[s])),
            "n_items": len(SCS_KEY[s]),
            "short_form_items": ", ".join(map(str, SCS_SF_KEY[s])),
        }
        for s in SUBSCALES
    ]
    return pd.DataFrame(rows)


def compare_total_rules(responses, item_columns=None, **kwargs) -> pd.DataFrame:
    """Both totals side by side: columns ``subscale_mean``, ``item_mean`` and ``difference``.

    ``difference`` is ``subscale_mean − item_mean``; the two rules are those of :func:`score_scs`
    (``total="subscale_mean"`` and ``total="item_mean"``).

    Parameters
    ----------
    responses : DataFrame or path
        One row per participant, one column per item (other columns are ignored).  A path is read
        with :func:`read_scs`.
    item_columns : list, dict or None, default None
        Item columns (see :func:`resolve_item_columns`); None detects them with ``pattern``.
    **kwargs
        Passed to :func:`score_scs` (``pattern``, ``missing``, ``source``, ``id_column``).

    Returns
    -------
    DataFrame
        Indexed like ``responses``.
    """
    a = score_scs(responses, item_columns, total="subscale_mean", **kwargs)["total"]
    with warnings.catch_warnings():  # the first call already warned about missing items
        warnings.simplefilter("ignore", MissingItemsWarning)
        b = score_scs(responses, item_columns, total="item_mean", **kwargs)["total"]
    return pd.DataFrame({"subscale_mean": a, "item_mean": b, "difference": a - b})


def summarise_total_rules(comparison: pd.DataFrame) -> dict[str, float]:
    """Numbers describing how much the total rule matters (complete cases of :func:`compare_total_rules`).

    Parameters
    ----------
    comparison : DataFrame
        The result of :func:`compare_total_rules`; rows with a missing value are dropped.

    Returns
    -------
    dict
        ``n``, ``mean_difference`` and ``max_abs_difference`` (subscale_mean − item_mean), ``pearson_r``
        and ``spearman_rho`` between the two totals (NaN for 2 or fewer participants), and
        ``rank_changes``: the number of participants whose rank (average ranks for ties) differs between
        the two totals.
    """
    c = comparison.dropna()
    ranks = c[["subscale_mean", "item_mean"]].rank()
    enough = len(c) > 2
    r = c["subscale_mean"].corr(c["item_mean"]) if enough else float("nan")
    rho = ranks["subscale_mean"].corr(ranks["item_mean"]) if enough else float("nan")
    return {
        "n": len(c),
        "mean_difference": float(c["difference"].mean()),
        "max_abs_difference": float(c["difference"].abs().max()),
        "pearson_r": float(r),
        "spearman_rho": float(rho),
        "rank_changes": int((ranks["subscale_mean"] != ranks["item_mean"]).sum()),
    }


# --------------------------------------------------------------------------------------------
# Reliability
# --------------------------------------------------------------------------------------------


def omega_total(items: pd.DataFrame | np.ndarray, seed: int = 0) -> float:
    """McDonald's ω (total) from a one-factor model fitted by maximum likelihood.

    ω = (Σ λ_i)² / ((Σ λ_i)² + Σ ψ_i)   (McDonald 1999, eq. 6.20b), with loadings λ and unique
    variances ψ of a single-factor model of the item covariance (``sklearn.decomposition.FactorAnalysis``
    on complete cases).

    Parameters
    ----------
    items : DataFrame or numpy.ndarray
        Participants × items; rows with a missing value are dropped.
    seed : int, default 0
        ``random_state`` of the factor analysis.

    Returns
    -------
    float
        ω, or NaN when the model is not identified or the data cannot support it: fewer than 3 items,
        no more participants than items, or an item without variance.
    """
    from sklearn.decomposition import FactorAnalysis

    x = np.asarray(items, dtype=float)
    x = x[~np.isnan(x).any(axis=1)]
    n, p = x.shape
    if p < 3 or n <= p or np.any(x.var(axis=0) == 0):
        return float("nan")
    fa = FactorAnalysis(n_components=1, random_state=seed).fit(x)
    lam = fa.components_[0]
    common = lam.sum() ** 2
    return float(common / (common + fa.noise_variance_.sum()))


def reliability(
    responses,
    item_columns=None,
    *,
    pattern: str | None = None,
    ci: float = 0.95,
    source: str | None = None,
    id_column: str = "participant_id",
) -> pd.DataFrame:
    """Internal consistency of the SCS total and of each subscale.

    For each scale (``total`` on all 26 items with the negative items reversed; each subscale on its
    raw items) on complete cases: Cronbach's α = k/(k−1) · (1 − Σ s²_i / s²_sum) with its
    F-distribution confidence interval (Feldt; ``pingouin.cronbach_alpha``), and McDonald's ω total
    (:func:`omega_total`; NaN where not estimable, e.g. 26 items with ≤ 26 participants).

    Parameters
    ----------
    responses : DataFrame or path
        One row per participant, one column per item (other columns are ignored).  A path is read
        with :func:`read_scs`.
    item_columns : list, dict or None, default None
        Item columns (see :func:`resolve_item_columns`); None detects them with ``pattern``.
    pattern : str or None, default None
        Regular expression with one group capturing the item number; None means :data:`DEFAULT_PATTERN`.
    ci : float, default 0.95
        Coverage of the confidence interval of α.
    source : str or None, default None
        A file name for error messages (default: ``responses.attrs["source"]``).
    id_column : str, default "participant_id"
        Column naming the participants in messages (else the index).

    Returns
    -------
    DataFrame
        Columns scale, n_items, n_participants, alpha, alpha_ci_low, alpha_ci_high, omega_total;
        one row per scale, ``total`` first (α NaN with fewer than 2 complete cases).

    Raises
    ------
    ValueError
        Invalid responses or item columns (:func:`item_matrix`).
    """
    import pingouin as pg

    items = item_matrix(responses, 26, item_columns, pattern, source, id_column)
    scales = {"total": _reverse(items, SCS_KEY)} | {s: items[list(SCS_KEY[s])] for s in SUBSCALES}
    rows = []
    for name, block in scales.items():
        block = block.dropna(axis=0, how="any")
        row = {
            "scale": name,
            "n_items": block.shape[1],
            "n_participants": len(block),
            "alpha": np.nan,
            "alpha_ci_low": np.nan,
            "alpha_ci_high": np.nan,
            "omega_total": omega_total(block),
        }
        if len(block) >= 2 and (block.var(axis=0) > 0).any():
            a, (lo, hi) = pg.cronbach_alpha(block, ci=ci)
            row.update(alpha=float(a), alpha_ci_low=float(lo), alpha_ci_high=float(hi))
        rows.append(row)
    return pd.DataFrame(rows)


def alpha_comparison(rel: pd.DataFrame, paper: Mapping[str, float] = PAPER_ALPHA) -> pd.DataFrame:
    """Our α next to the paper's.

    Parameters
    ----------
    rel : DataFrame
        The result of :func:`reliability`.
    paper : mapping of str to float, default :data:`PAPER_ALPHA`
        The paper's α per scale (scales without a value get NaN).

    Returns
    -------
    DataFrame
        Columns scale, alpha, alpha_ci_low, alpha_ci_high, paper_alpha, difference (ours − paper) and
        paper_in_ci (whether the paper's value lies in our CI).
    """
    out = rel[["scale", "alpha", "alpha_ci_low", "alpha_ci_high"]].copy()
    out["paper_alpha"] = out["scale"].map(paper)
    out["difference"] = out["alpha"] - out["paper_alpha"]
    out["paper_in_ci"] = (out["paper_alpha"] >= out["alpha_ci_low"]) & (
        out["paper_alpha"] <= out["alpha_ci_high"]
    )
    return out


def reliability_table(rel: pd.DataFrame, paper: Mapping[str, float] = PAPER_ALPHA) -> pd.DataFrame:
    """Display version of :func:`reliability` next to the paper's α (one row per scale, readable labels).

    Parameters
    ----------
    rel : DataFrame
        The result of :func:`reliability`.
    paper : mapping of str to float, default :data:`PAPER_ALPHA`
        The paper's α per scale.

    Returns
    -------
    DataFrame
        Indexed by the scale's label; columns: items, participants, Cronbach's α, 95 % CI of α (text,
        ``"n/a"`` when not estimable), McDonald's ω, α in the paper, difference (ours − paper).
    """
    cmp = alpha_comparison(rel, paper)
    ci = [
        f"[{lo:.2f}, {hi:.2f}]" if np.isfinite(lo) else "n/a"
        for lo, hi in zip(cmp["alpha_ci_low"], cmp["alpha_ci_high"])
    ]
    out = pd.DataFrame(
        {
            "items": rel["n_items"].to_numpy(),
            "participants": rel["n_participants"].to_numpy(),
            "Cronbach's α": cmp["alpha"].to_numpy(),
            "95 % CI of α": ci,
            "McDonald's ω": rel["omega_total"].to_numpy(),
            "α in the paper": cmp["paper_alpha"].to_numpy(),
            "difference": cmp["difference"].to_numpy(),
        },
        index=pd.Index([SCALE_LABELS.get(s, s) for s in rel["scale"]], name="scale"),
    )
    return out
