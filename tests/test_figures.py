"""helpers.figures: Figures 1–3 are labelled as in the paper and contain the data."""

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import PathCollection, PolyCollection

from helpers import figures
from helpers.io import save_figure
from helpers.robustness import leave_one_out, monte_carlo_r, specification_curve, synthetic_study

matplotlib.use("Agg")  # tests only: the library never chooses a backend
Y_NEG_NEU = "VMPFC–right amygdala connectivity (Neg − Neu, Fisher z)"


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
    assert any("r = −.500" in t.get_text() and "one-tailed" in t.get_text() for t in ax.texts)


def test_figure2_has_negative_and_neutral_panels(study):
    scores, conn = study
    fig = figures.figure2(scores, conn)
    assert [ax.get_title() for ax in fig.axes] == ["Negative feedback", "Neutral feedback"]
    assert [ax.get_ylabel() for ax in fig.axes] == [
        "VMPFC–right amygdala connectivity (Negative, Fisher z)",
        "VMPFC–right amygdala connectivity (Neutral, Fisher z)"]
    for ax in fig.axes:
        assert ax.get_xlabel() == "Self-compassion (mean)"
        assert _points(ax).shape == (19, 2)


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
    assert "replications reach p < 0.05" in fig.axes[0].get_title()
    assert sum(p.get_height() for p in fig.axes[0].patches) == 2000
