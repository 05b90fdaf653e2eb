"""The training study's analysis in one call, its outputs and the comparison with the abstract.

:func:`analyse` runs every test of the chapter on a :class:`~helpers.training.pipeline.Study`;
:func:`key_numbers` extracts the headline statistics as plain Python floats (for glue);
:func:`comparison_table` puts the abstract's claims beside what the planted and the null twin give;
:func:`write_outputs` writes the tables and maps atomically; :func:`display_table` prints a
statistics table as the chapter shows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import nibabel as nib
import pandas as pd
import pingouin as pg

from ..io import atomic_path, write_tsv
from ..style import format_p
from . import behaviour, glm

__all__ = [
    "Analysis",
    "analyse",
    "key_numbers",
    "comparison_table",
    "write_outputs",
    "assumptions_table",
    "display_table",
]

#: p-value columns of the analysis tables (printed by :func:`helpers.style.format_p`).
P_COLUMNS = ("p", "p_unc", "p_corr", "p_bonferroni")
#: Decimals of the other statistics the chapter's tables show.
DECIMALS = {"F": 2, "T": 2, "hedges": 2, "hedges_g": 2, "cohen_d": 2, "dof": 0, "np2": 3}
#: Columns that hold ROI contrasts, in percent signal change: their displayed header names the unit.
SIGNAL_COLUMNS = {
    "mean": "M (% signal change)",
    "change_compassion": "Change, compassion (% signal change)",
    "change_memory": "Change, memory (% signal change)",
}


@dataclass
class Analysis:
    """Results of :func:`analyse` (tables are DataFrames, maps nibabel images)."""

    means: pd.DataFrame
    anova: pd.DataFrame
    posthoc: pd.DataFrame
    pre_affect: pd.DataFrame
    maps: dict
    thresholds: dict
    roi_values: pd.DataFrame
    roi_stats: pd.DataFrame
    empathy: pd.DataFrame


def _pre_video_tests(means: pd.DataFrame, measures) -> pd.DataFrame:
    """Before training (everybody): paired t-test distress vs everyday for each rating (pingouin)."""
    pre = means[means["session"] == "pre"]
    rows = []
    for m in measures:
        wide = pre.pivot_table(index="participant_id", columns="video", values=m)
        res = pg.ttest(wide["distress"], wide["everyday"], paired=True).iloc[0]
        rows.append(
            {
                "measure": m,
                "distress": float(wide["distress"].mean()),
                "everyday": float(wide["everyday"].mean()),
                "T": float(res["T"]),
                "dof": int(res["dof"]),
                "p": float(res["p_val"]),
                "cohen_d": float(res["cohen_d"]),
            }
        )
    return pd.DataFrame(rows)


def analyse(study, alpha: float | None = None, height_control: str | None = None) -> Analysis:
    """Every test of the chapter on one twin.

    Behaviour (three-way mixed ANOVA per rating, post-hoc tests on positive affect, pre-training video
    effects), whole-brain maps (thresholded with ``alpha``/``height_control``) and ROI statistics.

    Parameters
    ----------
    study : helpers.training.pipeline.Study
        Output of :func:`helpers.training.pipeline.run_study`.
    alpha : float or None, default None
        Error rate of the map threshold (None: the config's ``inference.alpha``).
    height_control : str or None, default None
        Map correction (``"fdr"``, ``"bonferroni"``, ``"fpr"``; None: the config's
        ``inference.height_control``).

    Returns
    -------
    Analysis
    """
    cfg = study.cfg
    alpha = cfg["inference"]["alpha"] if alpha is None else alpha
    height_control = cfg["inference"]["height_control"] if height_control is None else height_control
    means = behaviour.cell_means(study.ratings, cfg["measures"])
    anova = pd.concat(
        [behaviour.mixed_anova_3way(means, m).assign(measure=m) for m in cfg["measures"]], ignore_index=True
    )
    posthoc = pd.concat(
        [behaviour.posthoc(means, "positive_affect", v) for v in cfg["video_types"]], ignore_index=True
    )
    maps = glm.second_level_maps(study.contrasts, study.participants["group"], study.grid)
    thresholds = {k: glm.threshold_map(z, study.grid, alpha, height_control) for k, z in maps.items()}
    values = glm.roi_values(study.contrasts, study.participants, study.grid, "training")
    empathy = glm.roi_onesample(glm.roi_values(study.contrasts, study.participants, study.grid, "empathy"))
    return Analysis(
        means,
        anova[["measure", *anova.columns[:-1]]],
        posthoc,
        _pre_video_tests(means, cfg["measures"]),
        maps,
        thresholds,
        values,
        glm.roi_stats(values),
        empathy,
    )


def key_numbers(a: Analysis, prefix: str) -> dict[str, float]:
    """Headline statistics as plain floats, keyed ``<prefix>_<name>`` (ready for ``glue``).

    Parameters
    ----------
    a : Analysis
        Output of :func:`analyse`.
    prefix : str
        Key prefix (e.g. ``"planted"`` or ``"null"``).

    Returns
    -------
    dict of str to float
    """
    an = a.anova.set_index(["measure", "effect"])
    out = {}
    for key, effect in (("gxs", "group × session"), ("gxsxv", "group × session × video")):
        out[f"{key}_F"] = an.loc[("positive_affect", effect), "F"]
        out[f"{key}_p"] = an.loc[("positive_affect", effect), "p"]
        out[f"{key}_np2"] = an.loc[("positive_affect", effect), "np2"]
    for roi, r in a.roi_stats.set_index("roi").iterrows():
        out[f"roi_{roi}_F"], out[f"roi_{roi}_p"], out[f"roi_{roi}_pb"] = r["F"], r["p"], r["p_bonferroni"]
        out[f"roi_{roi}_g"] = r["hedges_g"]
    for roi, r in a.empathy.set_index("roi").iterrows():
        out[f"pre_{roi}_T"], out[f"pre_{roi}_pb"] = r["T"], r["p_bonferroni"]
    na = a.pre_affect.set_index("measure").loc["negative_affect"]
    out["pre_na_T"], out["pre_na_p"] = na["T"], na["p"]
    for name, (_, thr, n) in a.thresholds.items():
        out[f"{name}_voxels"], out[f"{name}_threshold"] = n, thr
    ph = a.posthoc[(a.posthoc["video"] == "distress") & (a.posthoc["Contrast"] == "group * session")]
    return {f"{prefix}_{k}": float(v) for k, v in out.items()} | {
        f"{prefix}_distress_pa_{g}_p": float(ph.loc[ph["group"] == g, "p_corr"].iloc[0])
        for g in ("compassion", "memory")
        if "group" in ph and (ph["group"] == g).any()
    }


def _fmt_p(p: float) -> str:
    return "p < .001" if p < 0.001 else f"p = {p:.3f}".replace("0.", ".")


def comparison_table(planted: Analysis, null: Analysis, alpha: float = 0.05) -> pd.DataFrame:
    """The abstract's claims (our paraphrase) beside the planted and the null twin's results.

    Parameters
    ----------
    planted : Analysis
        Analysis of the twin with planted effects.
    null : Analysis
        Analysis of the null twin.
    alpha : float, default 0.05
        FDR level quoted in the whole-brain row (the label only; the maps were thresholded by
        :func:`analyse`).

    Returns
    -------
    DataFrame
        ``claim, abstract, twin (planted), null twin``.
    """

    def cells(a: Analysis) -> list[str]:
        an = a.anova.set_index(["measure", "effect"])
        na = a.pre_affect.set_index("measure").loc["negative_affect"]
        emp = a.empathy.set_index("roi")
        gxs = an.loc[("positive_affect", "group × session")]
        rows = [
            f"t({int(na['dof'])}) = {na['T']:.2f}, {_fmt_p(na['p'])}",
            "; ".join(
                f"{r}: t = {emp.loc[r, 'T']:.2f}, {_fmt_p(emp.loc[r, 'p_bonferroni'])} (Bonf.)"
                for r in emp.index
            ),
            f"F(1, {int(gxs['df2'])}) = {gxs['F']:.2f}, {_fmt_p(gxs['p'])}",
        ]
        rs = a.roi_stats.set_index("roi")
        rows += [
            f"F(1, {rs.loc[r, 'df2']}) = {rs.loc[r, 'F']:.2f}, {_fmt_p(rs.loc[r, 'p_bonferroni'])} (Bonf.)"
            for r in rs.index
        ]
        rows.append(f"{a.thresholds['interaction'][2]} voxels (FDR q < {alpha})")
        return rows

    claims = [
        ("Before training, distress clips raise negative affect", "reported (direction only)"),
        ("Before training, distress clips engage anterior insula and aMCC", "reported (direction only)"),
        ("Compassion training raises positive affect (group × session)", "reported (direction only)"),
    ]
    claims += [
        (
            f"Compassion > memory training: {r} response to distress clips (group × session)",
            "reported (direction only)",
        )
        for r in planted.roi_stats["roi"]
    ]
    claims.append(
        (
            "Whole-brain group × session interaction",
            "network of the four regions (no statistics in the abstract)",
        )
    )
    return pd.DataFrame(
        {
            "claim": [c[0] for c in claims],
            "abstract": [c[1] for c in claims],
            "twin (planted)": cells(planted),
            "null twin": cells(null),
        }
    )


def write_outputs(study, a: Analysis, out_dir, tag: str = "") -> list[Path]:
    """Write ratings, events, the statistics tables and the z maps under ``out_dir`` (atomically).

    Parameters
    ----------
    study : helpers.training.pipeline.Study
        The simulated study.
    a : Analysis
        Its analysis.
    out_dir : path
        Destination folder.
    tag : str, default ""
        Suffix of every file name (e.g. ``"_null"``).

    Returns
    -------
    list of Path
        The files written.
    """
    out = Path(out_dir)
    paths = [
        write_tsv(study.ratings, out / f"ratings{tag}.tsv"),
        write_tsv(study.events, out / f"events{tag}.tsv"),
        write_tsv(a.anova, out / f"behaviour_anova{tag}.tsv"),
        write_tsv(a.roi_values, out / f"roi_values{tag}.tsv"),
        write_tsv(a.roi_stats, out / f"roi_stats{tag}.tsv"),
    ]
    for name, img in a.maps.items():
        dest = out / f"zmap_{name}{tag}.nii.gz"
        with atomic_path(dest) as tmp:
            nib.save(img, tmp)
        paths.append(dest)
    return paths


def assumptions_table() -> pd.DataFrame:
    """Every value of ``config.yaml`` with its source tag and comment: ``setting, value, source, note``."""
    text = resources.files(__package__).joinpath("config.yaml").read_text()
    stack, rows = [], []
    for line in text.splitlines():
        m = re.match(r"^(\s*)(\w+):\s*(.*)$", line)
        if not m:
            continue
        indent, key, rest = len(m.group(1)) // 2, m.group(2), m.group(3)
        stack = stack[:indent] + [key]
        value, _, comment = rest.partition("#")
        if not value.strip():
            continue
        tags = re.findall(r"\[(abstract|secondary|assumed)\]", comment)
        note = re.sub(
            r"\s*\[(abstract|secondary|assumed)\](/\[(abstract|secondary|assumed)\])?\s*", " ", comment
        ).strip()
        rows.append(
            {
                "setting": ".".join(stack),
                "value": value.strip(),
                "source": "/".join(dict.fromkeys(tags)),
                "note": note,
            }
        )
    return pd.DataFrame(rows)


def display_table(frame: pd.DataFrame, signal_decimals: int = 3):
    """A statistics table of :class:`Analysis` as the chapter shows it (a Styler, index hidden).

    Every p column (:data:`P_COLUMNS`) is printed from the full-precision value by
    :func:`helpers.style.format_p` (three decimals, ``< .001``), so a table cell agrees with the
    same p glued into the prose; other statistics take :data:`DECIMALS`; ROI contrast columns
    (:data:`SIGNAL_COLUMNS`) take ``signal_decimals`` and a header that names the unit.

    Parameters
    ----------
    frame : DataFrame
        One of the tables of :class:`Analysis` (e.g. ``anova``, ``posthoc``, ``empathy``,
        ``roi_stats``); columns it lacks are ignored.
    signal_decimals : int, default 3
        Decimals of the percent-signal-change columns.

    Returns
    -------
    pandas.io.formats.style.Styler
    """
    formats = {c: format_p for c in P_COLUMNS if c in frame}
    formats |= {c: f"{{:.{d}f}}" for c, d in DECIMALS.items() if c in frame}
    formats |= {c: f"{{:.{signal_decimals}f}}" for c in SIGNAL_COLUMNS if c in frame}
    shown = frame.rename(columns=SIGNAL_COLUMNS)
    formats = {SIGNAL_COLUMNS.get(c, c): f for c, f in formats.items()}
    return shown.style.format(formats).hide(axis="index")
