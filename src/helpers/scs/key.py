"""The SCS item key: which item belongs to which subscale, how each is keyed, and the scales' labels.

Neff (2003) for the 26-item scale, Raes et al. (2011) for the 12-item short form; the key and the
reasons for it are in ``book/spec_scs.md``.
"""

from __future__ import annotations

import pandas as pd

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
