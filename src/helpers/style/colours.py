"""The book's colours: the Okabe–Ito palette and one colour per condition, contrast, region and group.

The Okabe–Ito colours stay distinguishable under the common colour-vision deficiencies (Okabe & Ito,
2008, *Color Universal Design*).
"""

from __future__ import annotations

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
