"""The values Parrish et al. (2018) report, as data (one place, used by every chapter).

Everything here is transcribed from the paper (see ``book/spec_paper.md``);
nothing is computed.  Chapters compare their own results against these tables,
and :func:`helpers.stats.audit_reported_correlations` checks them for internal
consistency.

Conventions
-----------
* ``scale`` values are the column names of ``scores.tsv`` (``total`` is the
  self-compassion mean); ``label`` is the paper's wording.
* ``condition`` is a ``connectivity.tsv`` condition: ``"negative"``,
  ``"neutral"``, ``"positive"`` or a contrast ``"negative-neutral"`` /
  ``"positive-neutral"``.
* ``source``/``target`` are the project's ROI names (``vmpfc``,
  ``amygdala_l``, ``amygdala_r``).
* The paper's Table 1 marks ``*`` p < .05 and ``†`` p < .1.
"""

from __future__ import annotations

import pandas as pd

__all__ = [
    "N",
    "SCALES",
    "SCALE_LABELS",
    "HYPOTHESISED_DIRECTION",
    "ALPHAS",
    "MARKERS",
    "table1",
    "reported_correlations",
    "audit_input",
]

#: Sample size of the study (the text's "r(18)" notwithstanding; see the audit).
N = 19

#: Table 1 rows in the paper's order: (scores.tsv column, the paper's label).
SCALES: tuple[tuple[str, str], ...] = (
    ("total", "Self-compassion mean"),
    ("self_kindness", "Self-kindness"),
    ("self_judgment", "Self-judgment"),
    ("common_humanity", "Common humanity"),
    ("isolation", "Isolation"),
    ("mindfulness", "Mindfulness"),
    ("over_identification", "Over-identification"),
)
SCALE_LABELS: dict[str, str] = dict(SCALES)

#: Direction of the paper's hypothesis for each scale against VMPFC–amygdala
#: connectivity: more self-compassion → more negative (inverse) coupling, so the
#: total and the positive subscales predict r < 0 ("less") and the three negative
#: subscales, which are scored in the uncompassionate direction, predict r > 0.
HYPOTHESISED_DIRECTION: dict[str, str] = {
    "total": "less",
    "self_kindness": "less",
    "common_humanity": "less",
    "mindfulness": "less",
    "self_judgment": "greater",
    "isolation": "greater",
    "over_identification": "greater",
}

#: Cronbach's alpha reported for the total and each subscale.
ALPHAS: dict[str, float] = {
    "total": 0.913,
    "self_kindness": 0.729,
    "self_judgment": 0.759,
    "common_humanity": 0.724,
    "isolation": 0.669,
    "mindfulness": 0.818,
    "over_identification": 0.792,
}

#: Significance markers of Table 1 as (threshold, marker), strictest first.
MARKERS: tuple[tuple[float, str], ...] = ((0.05, "*"), (0.1, "†"))

_TABLE1_VALUES = {  # Neg − Neu, VMPFC–right amygdala
    "total": (-0.402, 0.044),
    "self_kindness": (-0.182, 0.227),
    "self_judgment": (0.417, 0.038),
    "common_humanity": (-0.518, 0.012),
    "isolation": (0.070, 0.387),
    "mindfulness": (-0.321, 0.090),
    "over_identification": (0.317, 0.093),
}

# Text results: (label, scale, condition, target, r, p, p as printed)
_TEXT_RESULTS = (
    (
        "SC mean × left amygdala, Neg − Neu",
        "total",
        "negative-neutral",
        "amygdala_l",
        -0.263,
        0.165,
        "= .165",
    ),
    ("SC mean × right amygdala, Negative", "total", "negative", "amygdala_r", -0.458, 0.024, "= .024"),
    ("SC mean × right amygdala, Neutral", "total", "neutral", "amygdala_r", 0.044, float("nan"), "> .05"),
    (
        "SC mean × right amygdala, Pos − Neu",
        "total",
        "positive-neutral",
        "amygdala_r",
        -0.262,
        0.140,
        "= .140",
    ),
    (
        "SC mean × left amygdala, Pos − Neu",
        "total",
        "positive-neutral",
        "amygdala_l",
        -0.366,
        0.062,
        "= .062",
    ),
    (
        "Self-judgment × right amygdala, Negative",
        "self_judgment",
        "negative",
        "amygdala_r",
        0.205,
        0.200,
        "= .200",
    ),
    (
        "Self-judgment × right amygdala, Neutral",
        "self_judgment",
        "neutral",
        "amygdala_r",
        -0.226,
        0.176,
        "= .176",
    ),
    (
        "Common humanity × right amygdala, Negative",
        "common_humanity",
        "negative",
        "amygdala_r",
        -0.442,
        0.029,
        "= .029",
    ),
    (
        "Common humanity × right amygdala, Neutral",
        "common_humanity",
        "neutral",
        "amygdala_r",
        0.156,
        0.262,
        "= .262",
    ),
)


def table1() -> pd.DataFrame:
    """The paper's Table 1 (Neg − Neu VMPFC–right amygdala), rows in the paper's order.

    Returns
    -------
    DataFrame
        Columns ``scale`` (scores.tsv column), ``label``, ``r``, ``p``, ``marker``.
    """
    rows = []
    for scale, label in SCALES:
        r, p = _TABLE1_VALUES[scale]
        marker = next((m for thr, m in MARKERS if p < thr), "")
        rows.append({"scale": scale, "label": label, "r": r, "p": p, "marker": marker})
    return pd.DataFrame(rows)


def reported_correlations() -> pd.DataFrame:
    """Every correlation the paper reports (Table 1 and the text), 16 rows.

    Fifteen have an exact p; the Neutral-alone correlation of the self-compassion
    mean is printed only as "p > .05" (``p`` is NaN there, ``p_text`` keeps the
    printed form).

    Returns
    -------
    DataFrame
        Columns ``label, scale, condition, source, target, r, p, p_text, n, where``.
    """
    rows = [
        {
            "label": f"{label} × right amygdala, Neg − Neu (Table 1)",
            "scale": scale,
            "condition": "negative-neutral",
            "target": "amygdala_r",
            "r": r,
            "p": p,
            "p_text": f"= {p:.3f}".replace("0.", "."),
            "where": "Table 1",
        }
        for scale, label, r, p in table1()[["scale", "label", "r", "p"]].itertuples(index=False)
    ]
    rows += [
        {
            "label": label,
            "scale": scale,
            "condition": cond,
            "target": target,
            "r": r,
            "p": p,
            "p_text": p_text,
            "where": "text",
        }
        for label, scale, cond, target, r, p, p_text in _TEXT_RESULTS
    ]
    out = pd.DataFrame(rows)
    out.insert(3, "source", "vmpfc")
    out["n"] = N
    return out[["label", "scale", "condition", "source", "target", "r", "p", "p_text", "n", "where"]]


def audit_input() -> pd.DataFrame:
    """The 15 reported r/p pairs with an exact p, as input for the audit (``label, r, p, n``)."""
    rep = reported_correlations()
    return rep.loc[rep["p"].notna(), ["label", "r", "p", "n"]].reset_index(drop=True)
