"""helpers.figures and the other figure modules: labelled as in the paper, the data drawn, in the book's
style (helpers.style: one condition palette, legible fonts, legends and statistics off the data)."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.colors import to_hex

from helpers import figures, scs_plots, style
from helpers.io import save_figure
from helpers.robustness import leave_one_out, monte_carlo_r, specification_curve, synthetic_study

matplotlib.use("Agg")  # tests only: the library never chooses a backend
Y_NEG_NEU = "VMPFC–right amygdala connectivity\n(Neg − Neu, Fisher z)"


@pytest.fixture(scope="module")
def study():
    return synthetic_study(n=19, rho={"weighted_hrf": -0.5, "beta_series": -0.1}, seed=5)


def _points(ax):
    """Scatter points (PathCollections); the CI band is a separate PolyCollection."""
    return np.vstack([c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)])


def _has_ci_band(ax):
    return any(isinstance(c, PolyCollection) for c in ax.collections)


def test_figure1_labels_data_and_annotation(study):
    scores, conn = study
    fig = figures.figure1(scores, conn)
    (ax,) = fig.axes
    assert ax.get_xlabel() == "Self-compassion (mean)"
    assert ax.get_ylabel() == Y_NEG_NEU
    pts = _points(ax)
    assert pts.shape == (19, 2)
    np.testing.assert_allclose(np.sort(pts[:, 0]), np.sort(scores["total"]))
    assert len(ax.lines) >= 1 and _has_ci_band(ax)  # regression line and its CI band
    # the statistics sit above the axes (a title), not in a box over the points
    title = ax.get_title(loc="left")
    assert "r = −.500" in title and "one-tailed" in title and "n = 19" in title and not ax.texts


def test_figure2_has_negative_and_neutral_panels(study):
    scores, conn = study
    fig = figures.figure2(scores, conn)
    assert [ax.get_title(loc="left").split("\n")[0] for ax in fig.axes] == [
        "Negative feedback",
        "Neutral feedback",
    ]
    assert [ax.get_ylabel() for ax in fig.axes] == [
        "VMPFC–right amygdala connectivity\n(Negative, Fisher z)",
        "VMPFC–right amygdala connectivity\n(Neutral, Fisher z)",
    ]
    for ax, condition in zip(fig.axes, ("negative", "neutral")):
        assert ax.get_xlabel() == "Self-compassion (mean)"
        assert _points(ax).shape == (19, 2)
        # each condition's points in its colour of the book's palette
        points = next(c for c in ax.collections if isinstance(c, PathCollection))
        assert to_hex(points.get_facecolor()[0]) == style.condition_colour(condition).lower()


def test_figure3_common_humanity_and_self_judgment(study):
    scores, conn = study
    fig = figures.figure3(scores, conn)
    assert [ax.get_xlabel() for ax in fig.axes] == ["Common humanity", "Self-judgment"]
    assert all(ax.get_ylabel() == Y_NEG_NEU for ax in fig.axes)
    np.testing.assert_allclose(np.sort(_points(fig.axes[1])[:, 0]), np.sort(scores["self_judgment"]))


def test_figures_save_as_png_and_svg(study, tmp_path):
    scores, conn = study
    paths = save_figure(figures.figure1(scores, conn), tmp_path / "figure1")
    assert [p.suffix for p in paths] == [".png", ".svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[0].stat().st_size > 10_000


def test_robustness_figures_have_content(study):
    scores, conn = study
    loo = leave_one_out(scores, conn, "total", "negative-neutral")
    fig = figures.influence_figure(loo)
    assert fig.axes[0].get_xlabel() == "Participant left out" and _points(fig.axes[0]).shape == (19, 2)
    curve = specification_curve(scores, conn)
    fig = figures.specification_curve_figure(curve)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["weighted_hrf", "beta_series"]
    fig = figures.sampling_distribution_figure(monte_carlo_r(-0.4, n_sim=2000, seed=1), [("paper", -0.402)])
    assert "replications reach p < 0.05" in fig.axes[0].get_title(loc="left")
    assert sum(p.get_height() for p in fig.axes[0].patches) == 2000


def _legend_overlaps_axes(fig) -> bool:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [ax.get_window_extent(renderer) for ax in fig.axes]
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    return any(leg.get_window_extent(renderer).overlaps(box) for leg in legends for box in boxes)


def test_legends_sit_off_the_data(study):
    scores, conn = study
    figs = [
        figures.influence_figure(leave_one_out(scores, conn, "total", "negative-neutral")),
        figures.sampling_distribution_figure(monte_carlo_r(-0.4, n_sim=500, seed=1), [("paper", -0.402)]),
    ]
    for fig in figs:
        assert fig.legends, "the legend should be the figure's, outside the axes"
        assert not _legend_overlaps_axes(fig)


def test_figures_use_the_book_fonts(study):
    scores, conn = study
    fig = figures.figure1(scores, conn)
    ax = fig.axes[0]
    assert ax.xaxis.label.get_fontsize() == style.RC["axes.labelsize"] >= 10
    assert min(t.get_fontsize() for t in ax.get_xticklabels()) >= 10
    assert fig.get_size_inches()[0] <= style.FIGURE_WIDTH + 1


def test_score_histograms_count_from_zero_participants():
    # the strip of dots under the bars used to drag the count axis to a "−1 participants" tick
    rng = np.random.default_rng(3)
    scores = pd.DataFrame(
        {
            c: rng.uniform(1, 5, 11)
            for c in [
                "total",
                "self_kindness",
                "self_judgment",
                "common_humanity",
                "isolation",
                "mindfulness",
                "over_identification",
            ]
        }
    )
    fig = scs_plots.plot_score_distributions(scores)
    for ax in fig.axes[:7]:
        ticks = ax.get_yticks()
        assert ticks.min() == 0 and np.all(ticks == np.round(ticks)), ticks
    colours = {to_hex(ax.patches[0].get_facecolor()[:3]) for ax in fig.axes[:7]}
    assert colours == {style.OKABE_ITO["blue"].lower(), style.OKABE_ITO["vermillion"].lower()}


def test_condition_colour_names_the_palette_and_rejects_unknown_names():
    assert style.condition_colour("negative") != style.condition_colour("positive")
    assert len({style.condition_colour(c) for c in ("negative", "neutral", "positive")}) == 3
    with pytest.raises(KeyError, match="no colour for 'sad'"):
        style.condition_colour("sad")


def test_a_studys_own_labels_take_the_colours_of_the_roles_they_play():
    import pandas as pd

    from helpers import firstlevel
    from helpers.style import PALETTE, role_colours

    labels = ["face", "house", "scrambled", "extra"]
    colours = role_colours(labels)
    assert [colours[k] for k in labels[:3]] == [PALETTE["negative"], PALETTE["neutral"], PALETTE["positive"]]
    assert colours["extra"] not in [colours[k] for k in labels[:3]]
    events = pd.DataFrame(
        {
            "onset": [0, 12, 24, 36, 48, 60],
            "duration": [10] * 6,
            "trial_type": ["face", "house", "scrambled"] * 2,
        }
    )
    fig = firstlevel.plot_condition_weights(events, 30, 3.0, labels[:3], "hrf")
    assert [line.get_color() for line in fig.axes[0].lines] == [colours[k] for k in labels[:3]]


def test_demographics_figure_without_ages_or_sex_says_so():
    import pandas as pd

    from helpers.simulate import overview

    fig = overview.plot_demographics(pd.DataFrame({"participant_id": ["sub-01", "sub-02"]}))
    assert [t.get_text() for t in fig.axes[0].texts] == ["participants.tsv gives no ages"]
    fig = overview.plot_demographics(pd.DataFrame({"participant_id": ["sub-01", "sub-02"], "age": [20, 22]}))
    assert sum(len(c) for c in fig.axes[0].containers) > 0  # one histogram, sex unknown


def test_replication_figure_keeps_nearly_equal_values_apart_and_names_the_critical_r():
    """The 19-participant twin: ρ = −.402, the paper's −.402 and the critical r −.389 lie within .013."""
    mc = monte_carlo_r(-0.402, n_sim=2000, seed=1, alternative="less")
    fig = figures.sampling_distribution_figure(mc, [("paper", -0.402), ("ours", -0.312)])
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == [
        "critical r, p = 0.05 one-tailed (−.389)",
        "population ρ (−.402)",
        "paper (−.402)",
        "ours (−.312)",
    ]
    marked = [line for line in fig.axes[0].lines if line.get_marker() not in ("None", None, "")]
    assert len({line.get_marker() for line in marked}) == 3  # one marker shape each
    assert len({line.get_ydata()[1] for line in marked}) == 3  # and one height each
    top = max(p.get_height() for p in fig.axes[0].patches)
    lowest = min(line.get_ydata()[1] for line in marked)  # axes fraction
    assert lowest * fig.axes[0].get_ylim()[1] > top  # every marker above the bars
    assert not _legend_overlaps_axes(fig)


def test_condition_weights_figure_draws_every_shared_scan_and_keeps_its_legend_off_the_events():
    from helpers import firstlevel
    from helpers.connectivity import condition_weights

    # isolated shared scans: 4 s events 9 s apart, TR 3 s
    events = pd.DataFrame(
        {"onset": [0, 9, 18, 27, 36, 45], "duration": [4] * 6, "trial_type": ["a", "b", "c"] * 2}
    )
    w = condition_weights(events, 24, 3.0, "hrf", conditions=["a", "b", "c"])
    shared = int(((w > 0).sum(axis=1) > 1).sum())
    fig = firstlevel.plot_condition_weights(events, 24, 3.0, ["a", "b", "c"], "hrf")
    bars = [p for p in fig.axes[0].patches if p.get_height() < 0]
    assert len(bars) == shared > 0
    assert f"({shared / 24:.0%})" in fig.legends[0].get_texts()[-1].get_text()
    assert not _legend_overlaps_axes(fig)


def test_attenuation_figure_spans_the_data_not_minus_one_to_one():
    from helpers import reliability

    summary = reliability.attenuation_summary(-0.55, 0.58, 19, n_sim=4000, seed=0, r_ours=-0.31)
    fig = reliability.plot_attenuation(summary, r_paper=-0.402, n=19, draw_r=np.array([-0.69, -0.39]))
    lo, hi = fig.axes[0].get_xlim()
    assert -1 < lo < -0.69 and -0.31 < hi < 0.6
    assert lo <= np.quantile(summary["sims"], 0.001) and hi >= np.quantile(summary["sims"], 0.999)


def test_specification_curve_key_explains_a_filled_point_whose_interval_crosses_zero():
    """A one-tailed p = .042 with a two-sided 95 % interval [−.73, .06] (the 19-participant book's
    beta-series row): filled, and the key says why its bar crosses zero; two-tailed rows need no such
    remark."""
    curve = pd.DataFrame(
        {
            "measure": ["beta_series", "weighted_hrf"],
            "r": [-0.4069, -0.2],
            "p": [0.0419, 0.21],
            "alternative": ["less", "less"],
            "ci95_low": [-0.7268, -0.6],
            "ci95_high": [0.0581, 0.28],
            "is_default": [False, True],
        }
    )
    fig = figures.specification_curve_figure(curve)
    filled = [to_hex(c.get_facecolor()[0]) for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert filled[0] != "#ffffff" and filled[1] == "#ffffff"  # p = .042 filled, .21 open
    assert curve.loc[0, "ci95_low"] < 0 < curve.loc[0, "ci95_high"]
    key = figures.specification_curve_key(curve)
    assert key == (
        "Filled: p < .05 with the chosen test, one-tailed "
        "(a filled point's two-sided 95 % interval can include 0)"
    )
    assert "(one-tailed)" in fig.axes[0].get_title(loc="left")
    two = figures.specification_curve_key(curve.assign(alternative="two-sided"))
    assert two == "Filled: p < .05 with the chosen test, two-tailed"
