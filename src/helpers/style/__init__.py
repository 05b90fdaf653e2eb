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

The package's modules: :mod:`~helpers.style.colours`, :mod:`~helpers.style.figure_style`,
:mod:`~helpers.style.apa` (numbers), :mod:`~helpers.style.labels` and :mod:`~helpers.style.journal`
(whole tables).
"""

from __future__ import annotations

from .apa import MINUS, agrees, counted, format_number, format_p, format_r
from .colours import ACCENT, COLOUR_NAMES, OKABE_ITO, PALETTE, colour_name, condition_colour, role_colours
from .figure_style import FIGURE_WIDTH, RC, styled
from .journal import journal_cells
from .labels import CELL_LABELS, LABELS, label, method_name

__all__ = [
    "OKABE_ITO",
    "PALETTE",
    "ACCENT",
    "COLOUR_NAMES",
    "colour_name",
    "RC",
    "LABELS",
    "CELL_LABELS",
    "condition_colour",
    "role_colours",
    "styled",
    "agrees",
    "counted",
    "format_r",
    "format_p",
    "format_number",
    "label",
    "method_name",
    "journal_cells",
    "FIGURE_WIDTH",
    "MINUS",
]
