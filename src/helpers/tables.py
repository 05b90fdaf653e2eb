"""Table 1 and the follow-up correlations, ours beside the paper's.

Numbers are computed by :mod:`helpers.stats`; this module arranges them in the
paper's order and formats them the way the paper prints them, with the book's APA
formatter (:func:`helpers.style.format_r`, :func:`helpers.style.format_p`: no leading
zero, true minus, ``< .001``) and the paper's markers (``*`` p < .05, ``†`` p < .1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import paper
from .stats import DEFAULT_MEASURE, correlate, paired_values
from .style import format_p, format_r  # the book's one APA formatter (re-exported here)
from .style.labels import CELL_LABELS

__all__ = [
    "marker",
    "format_r",
    "format_p",
    "table1",
    "render_table1",
    "compare_with_paper",
    "render_comparison",
]


def marker(p: float) -> str:
    """The paper's significance marker for ``p`` (``*`` < .05, ``†`` < .1, else empty).

    Parameters
    ----------
    p : float
        The p value; NaN gives no marker.

    Returns
    -------
    str
        ``"*"``, ``"†"`` or ``""`` (thresholds :data:`helpers.paper.MARKERS`).
    """
    return next((m for thr, m in paper.MARKERS if p < thr), "") if np.isfinite(p) else ""


def _tails(alternatives: pd.Series) -> str:
    return "two-tailed" if (alternatives == "two-sided").all() else "one-tailed"


def table1(
    scores: pd.DataFrame,
    connectivity: pd.DataFrame,
    *,
    contrast: str = "negative-neutral",
    pair=("vmpfc", "amygdala_r"),
    alternative: str = "directional",
    measure: str = DEFAULT_MEASURE,
) -> pd.DataFrame:
    """Our Table 1: each SCS scale × Neg − Neu VMPFC–right amygdala connectivity.

    Rows in the paper's order (:data:`helpers.paper.SCALES`).  ``p`` follows
    ``alternative`` (default: the paper's one-tailed, hypothesised direction;
    see :func:`helpers.stats.correlate`); ``p_two_sided`` is always given too.

    Parameters
    ----------
    scores, connectivity : DataFrame
        ``scores.tsv`` and ``connectivity.tsv`` (:func:`helpers.stats.read_inputs`).
    contrast : str, default "negative-neutral"
        Contrast or single condition correlated with the scores.
    pair : (str, str) or str, default ("vmpfc", "amygdala_r")
        ROI pair (:func:`helpers.stats.resolve_pair`).
    alternative : {"directional", "less", "greater", "two-sided"}, default "directional"
        Tail of each test (``"directional"``: the paper's hypothesis for the scale).
    measure : str, default "weighted_hrf"
        Connectivity measure (:data:`helpers.stats.DEFAULT_MEASURE`).

    Returns
    -------
    DataFrame
        ``scale`` (the paper's label), ``column``, ``n``, ``r``, ``p``, ``marker``,
        ``alternative``, ``p_two_sided``, ``marker_two_sided``, ``ci95_low``, ``ci95_high``.

    Raises
    ------
    ValueError
        As :func:`helpers.stats.correlate` (missing column, fewer than 3 participants).
    """
    rows = []
    for col, label in paper.SCALES:
        res = correlate(scores, connectivity, col, contrast, pair, alternative, measure=measure)
        rows.append(
            {
                "scale": label,
                "column": col,
                "n": res["n"],
                "r": res["r"],
                "p": res["p"],
                "marker": marker(res["p"]),
                "alternative": res["alternative"],
                "p_two_sided": res["p_two_sided"],
                "marker_two_sided": marker(res["p_two_sided"]),
                "ci95_low": res["ci95_low"],
                "ci95_high": res["ci95_high"],
            }
        )
    return pd.DataFrame(rows)


def table1_by_pipeline(scores: pd.DataFrame, pipelines: dict[str, pd.DataFrame], **kwargs) -> pd.DataFrame:
    """Table 1 computed from several connectivity tables side by side (r and p per pipeline).

    Used to show how much the preprocessing changes the paper's result.

    Parameters
    ----------
    scores : DataFrame
        ``scores.tsv``.
    pipelines : dict of str to DataFrame
        Label (e.g. ``"ideal derivatives"``, ``"our preprocessing"``) → a ``connectivity.tsv`` table.
    **kwargs
        Passed to :func:`table1` (``contrast``, ``pair``, ``alternative``, ``measure``).

    Returns
    -------
    DataFrame
        ``scale`` and, per pipeline, ``"<label>: r"`` and ``"<label>: p"``.
    """
    out = pd.DataFrame({"scale": [label for _, label in paper.SCALES]})
    for name, conn in pipelines.items():
        t = table1(scores, conn, **kwargs)
        out[(f"{name}: r")] = t["r"].to_numpy()
        out[(f"{name}: p")] = t["p"].to_numpy()
    return out


#: How a connectivity route (a key of :func:`table1_by_pipeline`'s ``pipelines``) is named in prose.
PIPELINE_PHRASES = {
    "our preprocessing": "our own preprocessing of the raw images",
    "ideal derivatives": "the twin's ideal derivatives",
}


def route_agreement(
    scores: pd.DataFrame,
    pipelines: dict[str, pd.DataFrame],
    contrast: str = "negative-neutral",
    pair=("vmpfc", "amygdala_r"),
    measure: str = DEFAULT_MEASURE,
) -> pd.DataFrame:
    """Per participant, how closely each route's headline connectivity follows the first route's.

    The quantity Table 1 correlates (Fisher z of ``contrast`` for ``pair``), participant by
    participant: Pearson r between the routes, the mean |Δz|, and the between-participant SD of the
    first route for scale.  Participants present in both routes only.

    Parameters
    ----------
    scores : DataFrame
        ``scores.tsv`` (participants with a self-compassion mean).
    pipelines : dict of str to DataFrame
        Label → ``connectivity.tsv``; the first is the reference.
    contrast : str, default "negative-neutral"
        Condition or contrast of ``connectivity.tsv``.
    pair : (str, str), default ("vmpfc", "amygdala_r")
        Source and target ROI.
    measure : str, default :data:`helpers.stats.DEFAULT_MEASURE`
        Connectivity measure.

    Returns
    -------
    DataFrame
        One row per other route: ``pipeline``, ``n``, ``r``, ``mean_abs_diff``, ``sd_reference``.
    """
    values = {
        name: paired_values(scores, conn, "total", contrast, pair, measure=measure).set_index(
            "participant_id"
        )["y"]
        for name, conn in pipelines.items()
    }
    names = list(values)
    rows = []
    for name in names[1:]:
        both = pd.concat([values[names[0]], values[name]], axis=1, join="inner").dropna()
        ref, other = both.iloc[:, 0], both.iloc[:, 1]
        rows.append(
            {
                "pipeline": name,
                "n": len(both),
                "r": float(np.corrcoef(ref, other)[0, 1]),
                "mean_abs_diff": float((other - ref).abs().mean()),
                "sd_reference": float(ref.std(ddof=1)),
            }
        )
    out = pd.DataFrame(rows, columns=["pipeline", "n", "r", "mean_abs_diff", "sd_reference"])
    source, target = pair
    words = {k: CELL_LABELS.get(k, k) for k in (contrast, source, target)}
    out.attrs.update(reference=names[0], what=f"{words[contrast]} {words[source]}–{words[target].lower()}")
    return out


def route_agreement_sentence(agreement: pd.DataFrame) -> str:
    """:func:`route_agreement` in words, one sentence per route (empty without other routes).

    "Participant by participant, the Neg − Neu VMPFC–right amygdala connectivity from our own
    preprocessing of the raw images correlates r = .937 with the one from the twin's ideal derivatives
    (19 participants); the two differ by 0.11 on average (Fisher z), against a spread of 0.37 (SD)
    between participants."

    Parameters
    ----------
    agreement : DataFrame
        :func:`route_agreement` (its ``attrs`` name the reference route and the quantity).

    Returns
    -------
    str
    """
    if agreement.empty:
        return ""
    first = agreement.attrs.get("reference")
    reference = PIPELINE_PHRASES.get(first, first)
    sentences = [
        "Table 1 correlates each participant's connectivity with a score, so the closer test of a "
        "preprocessing route is that connectivity itself."
    ] + [
        f"Participant by participant, the {agreement.attrs['what']} connectivity from "
        f"{PIPELINE_PHRASES.get(row.pipeline, row.pipeline)} correlates r = {format_r(row.r)} with the one "
        f"from {reference} ({row.n} participants); the two differ by {row.mean_abs_diff:.2f} on average "
        f"(Fisher z), against a spread of {row.sd_reference:.2f} (SD) between participants."
        for row in agreement.itertuples()
    ]
    if first == "ideal derivatives":
        sentences.append(
            "The differences include the ideal derivatives' own noise draw, so they bound from above what "
            "the registration of the other route costs."
        )
    return " ".join(sentences)


def render_table1(ours: pd.DataFrame) -> pd.DataFrame:
    """Table 1 as printed: the paper's r and p beside ours (one-tailed as the paper, and two-tailed).

    Parameters
    ----------
    ours : DataFrame
        Output of :func:`table1`.

    Returns
    -------
    DataFrame
        Strings, index = SCS scale, two-level columns ``(Paper | Ours, r | p …)``;
        r carries the marker of its p (``*`` < .05, ``†`` < .1).
    """
    ref = paper.table1().set_index("label")
    ours = ours.set_index("scale").loc[ref.index]
    out = pd.DataFrame(
        {
            ("Paper", "r"): [format_r(r) + m for r, m in zip(ref["r"], ref["marker"])],
            ("Paper", "p (one-tailed)"): [format_p(p) for p in ref["p"]],
            ("Ours", "r"): [format_r(r) + m for r, m in zip(ours["r"], ours["marker"])],
            ("Ours", f"p ({_tails(ours['alternative'])})"): [format_p(p) for p in ours["p"]],
            ("Ours", "p (two-tailed)"): [
                format_p(p) + m for p, m in zip(ours["p_two_sided"], ours["marker_two_sided"])
            ],
        },
        index=pd.Index(ref.index, name="SCS scale"),
    )
    out.columns = pd.MultiIndex.from_tuples(out.columns)
    return out


def compare_with_paper(
    scores: pd.DataFrame,
    connectivity: pd.DataFrame,
    reported: pd.DataFrame | None = None,
    *,
    alternative: str = "directional",
    measure: str = DEFAULT_MEASURE,
) -> pd.DataFrame:
    """Recompute each reported correlation on our data and put the paper's values beside it.

    Parameters
    ----------
    scores, connectivity : DataFrame
        ``scores.tsv`` and ``connectivity.tsv`` (:func:`helpers.stats.read_inputs`).
    reported : DataFrame, default None
        Rows of :func:`helpers.paper.reported_correlations` (default None: the text's
        follow-ups, i.e. the rows whose ``where`` is ``"text"``).
    alternative : {"directional", "less", "greater", "two-sided"}, default "directional"
        Tail of each test (:func:`helpers.stats.correlate`).
    measure : str, default "weighted_hrf"
        Connectivity measure (:data:`helpers.stats.DEFAULT_MEASURE`).

    Returns
    -------
    DataFrame
        ``label, scale, condition, source, target, paper_r, paper_p, paper_p_text, n, r, p,
        alternative, p_two_sided, ci95_low, ci95_high``.
    """
    if reported is None:
        reported = paper.reported_correlations().query("where == 'text'")
    rows = []
    for rep in reported.itertuples(index=False):
        res = correlate(
            scores,
            connectivity,
            rep.scale,
            rep.condition,
            (rep.source, rep.target),
            alternative,
            measure=measure,
        )
        rows.append(
            {
                "label": rep.label,
                "scale": rep.scale,
                "condition": rep.condition,
                "source": rep.source,
                "target": rep.target,
                "paper_r": rep.r,
                "paper_p": rep.p,
                "paper_p_text": rep.p_text,
                **{k: res[k] for k in ("n", "r", "p", "alternative", "p_two_sided", "ci95_low", "ci95_high")},
            }
        )
    return pd.DataFrame(rows)


def render_comparison(comparison: pd.DataFrame) -> pd.DataFrame:
    """:func:`compare_with_paper` formatted for display (strings, paper | ours).

    Parameters
    ----------
    comparison : DataFrame
        The result of :func:`compare_with_paper`.

    Returns
    -------
    DataFrame
        Indexed by ``label`` ("Correlation"); two-level columns: Paper (r, p) and Ours (n, r, p in the
        tested direction with its :func:`marker`, two-tailed p with its marker).
    """
    out = pd.DataFrame(
        {
            ("Paper", "r"): comparison["paper_r"].map(format_r),
            ("Paper", "p"): comparison["paper_p_text"].str.replace("= ", "", regex=False),
            ("Ours", "n"): comparison["n"].astype(str),
            ("Ours", "r"): comparison["r"].map(format_r),
            ("Ours", f"p ({_tails(comparison['alternative'])})"): [
                format_p(p) + marker(p) for p in comparison["p"]
            ],
            ("Ours", "p (two-tailed)"): [format_p(p) + marker(p) for p in comparison["p_two_sided"]],
        }
    )
    out.index = pd.Index(comparison["label"], name="Correlation")
    out.columns = pd.MultiIndex.from_tuples(out.columns)
    return out
