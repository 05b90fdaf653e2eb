"""How the book's figures are drawn: the column width and the rcParams every figure function uses."""

from __future__ import annotations

import functools

from .colours import OKABE_ITO

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
