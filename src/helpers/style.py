"""The book's house style: column labels and APA numbers for tables, one palette and rcParams for figures.

Tables
    :func:`format_r`, :func:`format_p` print numbers as psychology journals do (APA 7: no leading
    zero for quantities bounded by 1, a true minus sign "−", ``p < .001`` below the printed
    precision). :func:`journal_cells` turns the header and cells of any table into that form: code
    names such as ``p_two_sided`` or ``ci95_low`` become human labels (:data:`LABELS`), r- and
    p-columns are re-printed APA-style, and a whole cell that is a code name (``amygdala_r``,
    ``self_kindness``) is spelled out. :class:`helpers.provenance.Chapter` applies it to every
    numbered table, so notebooks keep their code names.

Figures
    :data:`PALETTE` holds one colour per condition, contrast and region, from the Okabe–Ito palette,
    which stays distinguishable under the common colour-vision deficiencies (Okabe & Ito, 2008,
    *Color Universal Design*). :func:`styled` wraps a figure function so that it draws with
    :data:`RC` (fonts legible when a 6.5-inch figure fills the text column).
"""

from __future__ import annotations

import functools
import math
import re

__all__ = [
    "OKABE_ITO",
    "PALETTE",
    "ACCENT",
    "RC",
    "LABELS",
    "CELL_LABELS",
    "condition_colour",
    "role_colours",
    "styled",
    "format_r",
    "format_p",
    "format_number",
    "label",
    "journal_cells",
    "FIGURE_WIDTH",
]

#: The eight Okabe–Ito colours.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: One colour per condition, contrast and region, used by every figure of the book.
PALETTE = {
    "negative": OKABE_ITO["vermillion"],
    "neutral": "#888888",
    "positive": OKABE_ITO["blue"],
    "negative-neutral": OKABE_ITO["reddish_purple"],
    "positive-neutral": OKABE_ITO["sky_blue"],
    "amygdala_l": OKABE_ITO["bluish_green"],
    "amygdala_r": OKABE_ITO["orange"],
    "vmpfc": OKABE_ITO["reddish_purple"],
    # the training study's groups
    "compassion": OKABE_ITO["bluish_green"],
    "memory": OKABE_ITO["reddish_purple"],
}
#: Colour of fitted lines and highlighted results (the paper's pipeline, "all participants").
ACCENT = OKABE_ITO["vermillion"]

#: Width (inches) of a figure that spans the text column; fonts in :data:`RC` are sized for it.
FIGURE_WIDTH = 6.5

#: Shared rcParams: 10–11 pt text on a 6.5-inch figure stays ≥ 10 px when the column is ~700 px wide.
RC = {
    "font.size": 11,
    "axes.titlesize": 11,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.frameon": False,
    "figure.titlesize": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": __import__("cycler").cycler(
        color=[
            OKABE_ITO[k]
            for k in (
                "blue",
                "vermillion",
                "bluish_green",
                "orange",
                "reddish_purple",
                "sky_blue",
                "black",
                "yellow",
            )
        ]
    ),
    "savefig.dpi": 200,
    "svg.hashsalt": "helpers",  # high-resolution PNG; reproducible SVG ids
}


def condition_colour(name: str) -> str:
    """Colour of a condition (``"negative"``), contrast (``"negative-neutral"``) or ROI (``"amygdala_r"``).

    Parameters
    ----------
    name : str
        A key of :data:`PALETTE`.

    Returns
    -------
    str
        Hex colour (``"#RRGGBB"``).

    Raises
    ------
    KeyError
        ``name`` has no colour in :data:`PALETTE` (the message lists those that do).
    """
    try:
        return PALETTE[name]
    except KeyError:
        raise KeyError(
            f"no colour for {name!r} in helpers.style.PALETTE; known: {', '.join(PALETTE)}"
        ) from None


def role_colours(conditions) -> dict[str, str]:
    """Colours of a study's condition labels by the role they play, listed in the paper's role order.

    The first three labels take the colours of negative, neutral and positive (so ``face, house,
    scrambled`` look like the paper's conditions in every figure); further labels take the remaining
    Okabe–Ito colours (black excluded), cycling when they run out.

    Parameters
    ----------
    conditions : iterable of str
        Condition labels in the order of :data:`helpers.stats.ROLES`.

    Returns
    -------
    dict of str to str
        Label → hex colour.
    """
    roles = [PALETTE[r] for r in ("negative", "neutral", "positive")]
    spare = [c for c in OKABE_ITO.values() if c not in roles and c != OKABE_ITO["black"]]
    cycle = roles + spare
    return {name: cycle[i % len(cycle)] for i, name in enumerate(conditions)}


def styled(func):
    """Decorator: run a figure function under :data:`RC` (its figure keeps the style when saved).

    Parameters
    ----------
    func : callable
        A function that draws and returns a figure.

    Returns
    -------
    callable
        ``func`` wrapped in ``matplotlib.pyplot.rc_context(RC)`` (same name and docstring).
    """
    import matplotlib.pyplot as plt

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with plt.rc_context(RC):
            return func(*args, **kwargs)

    return wrapper


# --- numbers ---------------------------------------------------------------------------------------

MINUS = "−"


def format_r(r: float, decimals: int = 3) -> str:
    """APA-style r (or any quantity bounded by 1): no leading zero, true minus; ``—`` if missing.

    Parameters
    ----------
    r : float
        The value; None or non-finite gives ``"—"``.
    decimals : int, default 3
        Decimal places.

    Returns
    -------
    str
        E.g. ``"−.402"``; ``"1.000"`` keeps its leading digit; a value that rounds to zero has no sign.
    """
    if r is None or not math.isfinite(r):
        return "—"
    text = f"{abs(r):.{decimals}f}"
    text = text if text.startswith("1") else text[1:]  # "0.402" -> ".402"; "1.000" stays
    return (MINUS if r < 0 and float(text) != 0 else "") + text


def format_p(p: float, decimals: int = 3) -> str:
    """APA-style p: no leading zero; ``< .001`` below the printed precision; ``—`` if missing.

    Parameters
    ----------
    p : float
        The p value; None or non-finite gives ``"—"``.
    decimals : int, default 3
        Decimal places; values below 10^-decimals print as ``"< .001"`` (for 3).

    Returns
    -------
    str
        E.g. ``".044"``, ``"< .001"``, ``"1.000"``.
    """
    if p is None or not math.isfinite(p):
        return "—"
    floor = 10.0**-decimals
    if p < floor:
        return f"< {floor:.{decimals}f}".replace("0.", ".", 1)
    text = f"{p:.{decimals}f}"
    return text if text.startswith("1") else text.lstrip("0")


def format_number(x: float, decimals: int = 2) -> str:
    """Any other statistic: ``decimals`` places (integers as integers), true minus, thousands separated.

    Parameters
    ----------
    x : float
        The value; None or non-finite gives ``"—"``.
    decimals : int, default 2
        Decimal places of non-integer values (integer values below 1e15 print without decimals).

    Returns
    -------
    str
        E.g. ``"1,234"``, ``"−0.57"``.
    """
    if x is None or not math.isfinite(x):
        return "—"
    text = f"{x:,.0f}" if float(x).is_integer() and abs(x) < 1e15 else f"{x:,.{decimals}f}"
    return text.replace("-", MINUS)


# --- labels ----------------------------------------------------------------------------------------

#: Column code names → the header a reader sees (units in parentheses).
LABELS = {
    "participant_id": "Participant",
    "participants": "Participants",
    "n": "n",
    "count": "n",
    "mean": "M",
    "std": "SD",
    "sd": "SD",
    "min": "Min",
    "max": "Max",
    "25%": "Q1",
    "50%": "Median",
    "75%": "Q3",
    "median": "Median",
    "unique": "Distinct",
    "top": "Most frequent",
    "freq": "n (most frequent)",
    "r": "r",
    "p": "p",
    "p_two_sided": "p (two-tailed)",
    "p_one_sided": "p (one-tailed)",
    "p_unc": "p (uncorrected)",
    "p_corr": "p (corrected)",
    "p_bonferroni": "p (Bonferroni)",
    "p_fdr": "p (FDR)",
    "p_holm": "p (Holm)",
    "ci95_low": "95 % CI low",
    "ci95_high": "95 % CI high",
    "ci95": "95 % CI",
    "bf10": "BF₁₀",
    "power": "Power",
    "rho": "ρ",
    "cohen_d": "Cohen's d",
    "hedges_g": "Hedges' g",
    "hedges": "Hedges' g",
    "np2": "η²p",
    "dof": "df",
    "df1": "df₁",
    "df2": "df₂",
    "T": "t",
    "F": "F",
    "age": "Age (years)",
    "age_mean": "Mean age (years)",
    "age_sd": "SD of age (years)",
    "sex": "Sex",
    "scale": "Scale",
    "score": "Score",
    "subscale": "Subscale",
    "condition": "Condition",
    "contrast": "Contrast",
    "measure": "Measure",
    "method": "Method",
    "description": "Description",
    "target": "Target",
    "planted": "Planted",
    "sample": "Sample",
    "side": "Side",
    "source": "Source",
    "roi": "ROI",
    "label": "Label",
    "keyed": "Keyed",
    "items": "Items",
    "short_form_items": "Items (short form)",
    "item": "Item",
    "paper": "Paper",
    "dataset": "Dataset",
    "ours": "Ours",
    "alternative": "H₁",
    "marker": "",
    "status": "Status",
    "path": "File",
    "bytes": "Size (bytes)",
    "sha256": "SHA-256",
    "chapter": "Chapter",
    "stage": "Stage",
    "reason": "Reason",
    "seconds": "Time (s)",
    "wall_seconds": "Time (s)",
    "fd_mean": "Mean FD (mm)",
    "fd_max": "Max FD (mm)",
    "mean_fd": "Mean FD (mm)",
    "max_fd": "Max FD (mm)",
    "n_volumes": "Volumes",
    "n_events": "Events",
    "n_excluded": "Excluded",
    "setting": "Setting",
    "value": "Value",
    "note": "Note",
    "default": "Default",
    "type": "Type",
    "rule": "Rule",
    "parameter": "Parameter",
    "video": "Video",
    "group": "Group",
    "session": "Session",
    "effect": "Effect",
    "A": "A",
    "B": "B",
    "Contrast": "Contrast",
    "estimate": "Estimate",
    "se": "SE",
    "z": "z",
    "t": "t",
    "r_without": "r without",
    "r_all": "r (all)",
    "delta_r": "Δr",
    "is_default": "Paper's pipeline",
    "paper_r": "Paper r",
    "paper_p": "Paper p",
    "paper_p_text": "Paper p",
    # robustness chapter
    "p_one_tailed": "p (one-tailed)",
    "p_two_tailed": "p (two-tailed)",
    "consistent": "Consistent with",
    "r_for_p_one_tailed": "r implied by p (one-tailed)",
    "r_for_p_two_tailed": "r implied by p (two-tailed)",
    "boot_low": "Bootstrap CI low",
    "boot_high": "Bootstrap CI high",
    "bf10_two_sided": "BF₁₀ (two-tailed)",
    "q": "q (FDR)",
    "q_two_sided": "q (FDR, two-tailed)",
    "significant_after_bh": "Significant (FDR)",
    "power_one_tailed": "Power (one-tailed)",
    "power_two_tailed": "Power (two-tailed)",
    "n_for_80_one_tailed": "n for 80 % power (one-tailed)",
    "n_for_80_two_tailed": "n for 80 % power (two-tailed)",
    "key": "Scale",
    "p_all": "p (all)",
    "r_min": "r (min)",
    "r_max": "r (max)",
    "most_influential": "Most influential",
    "max_abs_delta": "Max |Δr|",
    "n_significant": "n significant",
    # training study
    "change_compassion": "Change (compassion)",
    "change_memory": "Change (memory)",
    "claim": "Claim",
    "abstract": "Abstract",
    "twin (planted)": "Twin (planted)",
    "null twin": "Null twin",
    # data and questionnaire chapters
    "difference": "Difference",
    "n_items": "n items",
}
#: Second words of two-level headers such as ``"r spearman"`` (a pivot of methods).
_METHODS = {
    "pearson": "Pearson",
    "spearman": "Spearman",
    "shepherd": "Shepherd's pi",
    "skipped": "skipped",
    "percbend": "percentage bend",
    "bicor": "biweight midcorrelation",
    "kendall": "Kendall",
}

#: Whole-cell code names (row labels, conditions, regions) → words.
CELL_LABELS = {
    "negative-neutral": "Neg − Neu",
    "positive-neutral": "Pos − Neu",
    "negative": "Negative",
    "neutral": "Neutral",
    "positive": "Positive",
    "amygdala_r": "Right amygdala",
    "amygdala_l": "Left amygdala",
    "vmpfc": "VMPFC",
    "self_kindness": "Self-kindness",
    "self_judgment": "Self-judgment",
    "common_humanity": "Common humanity",
    "isolation": "Isolation",
    "mindfulness": "Mindfulness",
    "over_identification": "Over-identification",
    "two-sided": "r ≠ 0",
    "less": "r < 0",
    "greater": "r > 0",
    "positive_affect": "Positive affect",
    "negative_affect": "Negative affect",
    "empathy": "Empathy",
    "mofc": "mOFC",
    "vta": "VTA",
    "amcc": "aMCC",
    "anterior_insula": "Anterior insula",
    "putamen": "Putamen",
    "pallidum": "Pallidum",
    # rows of the data chapter's design table
    "age_mean": "Mean age (years)",
    "age_range": "Age range (years)",
    "tr_s": "TR (s)",
    "voxel_mm": "Voxel size (mm)",
    "events_per_condition": "Events per condition",
    "event_duration_s": "Event duration (s)",
    "female": "Female",
    "volumes": "Volumes",
    "matrix": "Matrix (voxels)",
    "structural": "Structural scan",
}
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


def label(name: str) -> str:
    """The header a reader sees for column ``name`` (a code name, or a label that is already human).

    Parameters
    ----------
    name : str
        A column name: a key of :data:`LABELS`, ``"r <method>"`` / ``"p <method>"`` (e.g.
        ``"r spearman"`` → ``"r (Spearman)"``), or anything else (returned unchanged).

    Returns
    -------
    str
        The display label.
    """
    if name in LABELS:
        return LABELS[name]
    first, _, rest = name.partition(" ")
    if first in ("r", "p") and rest in _METHODS:  # "r spearman" -> "r (Spearman)"
        return f"{first} ({_METHODS[rest]})"
    return name


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
    """A table's header and cells in the book's style (see the module docstring).

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
