"""Behaviour of the training study: ratings after each clip, group x session x video type.

Each participant's ratings are averaged over the clips of a video type in a session (cell means).
The design is 2 (group, between) x 2 (session, within) x 2 (video type, within).

**Three-way mixed ANOVA from contrast scores.**  pingouin's ``mixed_anova`` takes one within
factor; with two-level within factors every within-participant effect is a one-degree-of-freedom
contrast, and the split-plot ANOVA of the full design equals between-group analyses of contrast
scores (e.g. Maxwell & Delaney, *Designing Experiments and Analyzing Data*, ch. 12–14):

* averaged over video types, ``mixed_anova(within=session, between=group)`` gives the effects of
  group, session and group x session;
* on the video contrast D = distress − everyday, the same call gives video x group (its "group"
  row), video x session ("session") and group x session x video ("Interaction");
* the main effect of video is F = N·mean(D̄)² / MS_within with D̄ the participant's D averaged
  over sessions and MS_within the pooled within-group variance of D̄ (df 1, N − 2).

F, p and partial η² (SS_effect / (SS_effect + SS_error)) are invariant to the scaling of the
contrast, so they are those of the full design.  For the 2 x 2 x 2 case the three-way F equals
the squared Student two-sample t of the double difference (tested).
"""

from __future__ import annotations

import pandas as pd
import pingouin as pg
from scipy import stats

__all__ = ["cell_means", "mixed_anova_3way", "hedges_g_change", "posthoc"]

EFFECTS = (
    "group",
    "session",
    "video",
    "group × session",
    "group × video",
    "session × video",
    "group × session × video",
)


def cell_means(ratings: pd.DataFrame, measures) -> pd.DataFrame:
    """Clip ratings -> cell means: ``participant_id, group, session, video, <measures>``.

    Parameters
    ----------
    ratings : DataFrame
        One row per clip (:func:`helpers.training.design.ratings` with ids and session).
    measures : sequence of str
        Rating columns to average.

    Returns
    -------
    DataFrame
        Mean over the clips of each participant, session and video type.

    Raises
    ------
    ValueError
        If a needed column is missing (the message names it).
    """
    missing = {"participant_id", "group", "session", "video", *measures} - set(ratings.columns)
    if missing:
        raise ValueError(f"ratings table: missing column(s) {sorted(missing)}")
    keys = ["participant_id", "group", "session", "video"]
    return ratings.groupby(keys, sort=False)[list(measures)].mean().reset_index()


def _anova_rows(data: pd.DataFrame, dv: str, names: dict) -> list[dict]:
    aov = pg.mixed_anova(data=data, dv=dv, within="session", between="group", subject="participant_id")
    rows = []
    for source, name in names.items():
        r = aov.set_index("Source").loc[source]
        rows.append(
            {
                "effect": name,
                "F": float(r["F"]),
                "df1": int(r["DF1"]),
                "df2": int(r["DF2"]),
                "p": float(r["p_unc"]),
                "np2": float(r["np2"]),
            }
        )
    return rows


def mixed_anova_3way(means: pd.DataFrame, dv: str, videos=("distress", "everyday")) -> pd.DataFrame:
    """Group x session x video-type mixed ANOVA of one measure (see the module docstring).

    Parameters
    ----------
    means : DataFrame
        Cell means (:func:`cell_means`), one row per participant, session and video type.
    dv : str
        The measure, e.g. ``"positive_affect"``.
    videos : (str, str), default ("distress", "everyday")
        The two video types; the contrast is D = videos[0] − videos[1].

    Returns
    -------
    DataFrame
        ``effect, F, df1, df2, p, np2`` for the seven effects, in :data:`EFFECTS` order.

    Raises
    ------
    ValueError
        If a participant lacks a session x video cell (the message names them).
    """
    wide = means.pivot_table(
        index=["participant_id", "group", "session"], columns="video", values=dv
    ).reset_index()
    if wide[list(videos)].isna().any().any():
        bad = wide.loc[wide[list(videos)].isna().any(axis=1), "participant_id"].unique()
        raise ValueError(
            f"ratings: participants {list(bad)} lack a cell (every session x video type is needed)"
        )
    wide["mean"] = wide[list(videos)].mean(axis=1)
    wide["contrast"] = wide[videos[0]] - wide[videos[1]]
    rows = _anova_rows(
        wide, "mean", {"group": "group", "session": "session", "Interaction": "group × session"}
    )
    rows += _anova_rows(
        wide,
        "contrast",
        {"group": "group × video", "session": "session × video", "Interaction": "group × session × video"},
    )
    d = wide.groupby(["participant_id", "group"])["contrast"].mean().reset_index()
    ss_err = float(((d["contrast"] - d.groupby("group")["contrast"].transform("mean")) ** 2).sum())
    n = len(d)
    ss_eff = n * float(d["contrast"].mean()) ** 2
    f = ss_eff / (ss_err / (n - 2))
    rows.append(
        {
            "effect": "video",
            "F": f,
            "df1": 1,
            "df2": n - 2,
            "p": float(stats.f.sf(f, 1, n - 2)),
            "np2": ss_eff / (ss_eff + ss_err),
        }
    )
    return pd.DataFrame(rows).set_index("effect").loc[list(EFFECTS)].reset_index()


def hedges_g_change(data: pd.DataFrame, dv: str, sessions=("pre", "post")) -> dict:
    """Training effect on the change Δ = post − pre of ``dv`` (one row per participant and session).

    Parameters
    ----------
    data : DataFrame
        Long table with ``participant_id``, ``group``, ``session`` and ``dv``.
    dv : str
        Column analysed.
    sessions : (str, str), default ("pre", "post")
        Session labels (before, after): Δ = sessions[1] − sessions[0].

    Returns
    -------
    dict
        Mean Δ per group (``change_compassion``, ``change_memory``) and ``hedges_g`` of
        compassion vs memory (pingouin ``compute_effsize``, bias-corrected standardised difference).
    """
    wide = data.pivot_table(index=["participant_id", "group"], columns="session", values=dv).reset_index()
    wide["change"] = wide[sessions[1]] - wide[sessions[0]]
    comp = wide.loc[wide["group"] == "compassion", "change"].to_numpy()
    mem = wide.loc[wide["group"] == "memory", "change"].to_numpy()
    return {
        "change_compassion": float(comp.mean()),
        "change_memory": float(mem.mean()),
        "hedges_g": float(pg.compute_effsize(comp, mem, eftype="hedges")),
    }


def posthoc(means: pd.DataFrame, dv: str, video: str) -> pd.DataFrame:
    """Post-hoc tests for one video type: post vs pre within each group.

    pingouin ``pairwise_tests`` (rows ``group * session``: paired t of the sessions within each
    group), Holm correction over the two groups, Hedges' g.

    Parameters
    ----------
    means : DataFrame
        Cell means (:func:`cell_means`).
    dv : str
        The measure tested.
    video : str
        The video type (e.g. ``"distress"``).

    Returns
    -------
    DataFrame
        pingouin's table, with ``measure`` and ``video`` columns in front.
    """
    sub = means[means["video"] == video]
    res = pg.pairwise_tests(
        data=sub,
        dv=dv,
        within="session",
        between="group",
        subject="participant_id",
        padjust="holm",
        effsize="hedges",
        within_first=False,
    )
    res = res[res["Contrast"].str.contains(r"\*")].copy()
    res.insert(0, "video", video)
    res.insert(0, "measure", dv)
    return res.reset_index(drop=True)
