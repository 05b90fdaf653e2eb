"""A table's header and cells in the book's style: human labels, APA numbers, spelled-out names."""

from __future__ import annotations

import re

from .apa import MINUS, format_p, format_r
from .labels import _METHODS, CELL_LABELS, label

#: Further cell names spelled out only in an unnamed first (index) column: ``describe()``'s rows.
_INDEX_CELLS = {
    "count": "n",
    "std": "SD",
    "mean": "M",
    "min": "Min",
    "max": "Max",
    "25%": "Q1",
    "50%": "Median",
    "75%": "Q3",
    "unique": "Distinct values",
    "top": "Most frequent",
    "freq": "n (most frequent)",
}
#: Columns whose cells are scale names (``total`` means the self-compassion total only there).
_SCALE_COLUMNS = {"scale", "score", "subscale", "column", "key", "Scale", "Score", "Subscale"}

#: Header code names (after :data:`LABELS`) whose cells are p values / bounded by 1 (printed APA-style).
_P_COLUMNS = re.compile(r"^(p|p_\w+|q|q_\w+|p-unc|p-corr|Paper p|p \(.*\))$")
_R_COLUMNS = re.compile(
    r"^(r|rho|ρ|r_\w+|ci95_low|ci95_high|boot_low|boot_high|power|power_\w+|Power|"
    r"95 % CI (low|high)|paper_r|Paper r|planted|sample|target|"
    r"Cronbach's α|McDonald's ω|α in the paper|np2|η²p)$"
)
_INTERVAL = re.compile(r"^\[\s*([-−]?\d*\.\d+),\s*([-−]?\d*\.\d+)\s*\]$")
_INTEGER_COLUMNS = re.compile(r"^(n|count|dof|df|df₁|df₂|items|participants|Participants|Volumes|Events)$")
_FLOAT = re.compile(r"^\s*([-+−]?(\d[\d,]*)?\.?\d+(e[-+]?\d+)?)\s*([*†]*)\s*$", re.IGNORECASE)


def _as_float(text: str) -> tuple[float, str] | None:
    m = _FLOAT.match(text)
    if not m:
        return None
    return float(m.group(1).replace(",", "").replace(MINUS, "-")), m.group(4)


def _cell(text: str, column: str, first: bool) -> str:
    parsed = _as_float(text)
    interval = _INTERVAL.match(text.strip()) if "CI" in column else None
    if interval:  # "[0.91, 0.99]" -> "[.91, .99]"
        lo, hi = (float(x.replace(MINUS, "-")) for x in interval.groups())
        if abs(lo) <= 1 and abs(hi) <= 1:
            decimals = len(interval.group(1).split(".")[-1])
            return f"[{format_r(lo, decimals)}, {format_r(hi, decimals)}]"
    if parsed is None:
        if first and column == "" and text in _INDEX_CELLS:
            return _INDEX_CELLS[text]
        if text == "total" and column in _SCALE_COLUMNS:
            return "Self-compassion (total)"
        return CELL_LABELS.get(text, text)
    value, marker = parsed
    if _P_COLUMNS.match(column):
        return format_p(value) + marker
    if _R_COLUMNS.match(column) and abs(value) <= 1:
        decimals = max(2, min(3, len(text.split(".")[-1].rstrip("*†")) if "." in text else 3))
        return format_r(value, decimals) + marker
    if _INTEGER_COLUMNS.match(column) and value.is_integer():
        return f"{value:.0f}" + marker
    return text.strip().replace("-", MINUS, 1) if text.strip().startswith("-") else text


def journal_cells(header: list[str], body: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    """A table's header and cells in the book's style (see :mod:`helpers.style`).

    Parameters
    ----------
    header : list of str
        Column names as displayed (code names allowed); a multi-level name such as ``"Ours r"``
        is typed by its last word.
    body : list of list of str
        Cell texts as displayed (pandas or a Styler's formats).

    Returns
    -------
    header, body
        Human labels; p and r columns printed APA-style (``.043``, ``< .001``, ``−.19``), integer
        counts without ``.0``, true minus signs, code-name cells spelled out. Markers ``*``/``†``
        after a number are kept.
    """
    kinds = [h.split(" ")[-1] if h.split(" ")[-1] in ("r", "p") else h for h in header]
    kinds = [
        h.split(" ")[0] if h.split(" ")[0] in ("r", "p") and h.split(" ", 1)[-1] in _METHODS else k
        for h, k in zip(header, kinds)
    ]
    kinds = ["p" if re.search(r"(^| )p( \(|$)", h) else k for h, k in zip(header, kinds)]
    cells = [[_cell(c, k, i == 0) for i, (c, k) in enumerate(zip(row, kinds))] for row in body]
    for row in cells:  # describe()'s count rows: whole numbers
        if header and header[0] == "" and row[0] in ("n", "Distinct values", "n (most frequent)"):
            row[1:] = [re.sub(r"^(\d+)\.0+$", r"\1", c) for c in row[1:]]
    return [label(h) for h in header], cells
