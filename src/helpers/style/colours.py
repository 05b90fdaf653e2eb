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
    # the regions: one colour each in every figure that shows them (ROI maps, the preprocessing
    # chapter's outlines, scatter plots by region), in the order of helpers.atlas.DEFAULT_ROIS
    "vmpfc": OKABE_ITO["vermillion"],
    "amygdala_l": OKABE_ITO["sky_blue"],
    "amygdala_r": OKABE_ITO["bluish_green"],
    # the training study's groups
    "compassion": OKABE_ITO["bluish_green"],
    "memory": OKABE_ITO["reddish_purple"],
}
#: Colour of fitted lines and highlighted results (the paper's pipeline, "all participants").
ACCENT = OKABE_ITO["vermillion"]
#: The words a caption uses for each Okabe–Ito colour (vermillion reads as orange-red on screen).
COLOUR_NAMES = {
    OKABE_ITO["black"]: "black",
    OKABE_ITO["orange"]: "orange",
    OKABE_ITO["sky_blue"]: "sky blue",
    OKABE_ITO["bluish_green"]: "bluish green",
    OKABE_ITO["yellow"]: "yellow",
    OKABE_ITO["blue"]: "blue",
    OKABE_ITO["vermillion"]: "orange-red",
    OKABE_ITO["reddish_purple"]: "reddish purple",
    PALETTE["neutral"]: "grey",
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


def colour_name(colour: str) -> str:
    """The caption word for a colour of the book: a hex colour or a :data:`PALETTE` key.

    Captions glue these words, so that a caption names the colour its figure draws.

    Parameters
    ----------
    colour : str
        ``"#RRGGBB"`` (any case) or a key of :data:`PALETTE` (``"vmpfc"``, ``"compassion"``).

    Returns
    -------
    str
        E.g. ``"orange-red"``, ``"sky blue"``.

    Raises
    ------
    KeyError
        The colour is neither a :data:`PALETTE` key nor one of :data:`COLOUR_NAMES`.
    """
    hex_ = PALETTE.get(colour, colour).upper()
    try:
        return COLOUR_NAMES[hex_]
    except KeyError:
        raise KeyError(
            f"no caption word for colour {colour!r} (helpers.style.COLOUR_NAMES names "
            f"{', '.join(COLOUR_NAMES.values())})"
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
