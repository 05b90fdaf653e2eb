"""Reliability of the connectivity estimate and the attenuation of a correlation (helpers.reliability).

Hand-worked values (Spearman's attenuation formula, variance components planted in synthetic draws)
and the twin itself: the ROI-voxel shortcut must reproduce the twin's images voxel for voxel.
"""

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
import yaml

from helpers import atlas, reliability
from helpers.simulate import load_config


def test_attenuated_r_follows_spearman_in_expectation():
    sims = reliability.attenuated_r(0.5, 0.49, n=200, n_sim=3000, seed=1)
    assert sims.mean() == pytest.approx(0.5 * 0.7, abs=0.01)  # r_true * sqrt(rel)
    # sampling SD of r around .35 at n = 200 is about (1 - .35^2)/sqrt(199) = .062
    assert sims.std() == pytest.approx((1 - 0.35**2) / np.sqrt(199), rel=0.1)


def test_fixed_sample_has_exact_sample_correlation_and_error_only_spread():
    exact = reliability.attenuated_r(-0.427, 1.0, n=19, n_sim=50, seed=2, fixed_sample=True)
    np.testing.assert_allclose(exact, -0.427, atol=1e-12)  # no error: the planted sample r
    fixed = reliability.attenuated_r(-0.427, 0.5, n=19, n_sim=4000, seed=2, fixed_sample=True)
    fresh = reliability.attenuated_r(-0.427, 0.5, n=19, n_sim=4000, seed=2)
    assert fixed.std() < fresh.std()  # new participants add spread
    assert fixed.mean() == pytest.approx(-0.427 * np.sqrt(0.5), abs=0.02)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"r_true": 1.2, "reliability": 0.5, "n": 19}, "r_true must lie in"),
        ({"r_true": 0.2, "reliability": 1.5, "n": 19}, "reliability must lie in"),
        ({"r_true": 0.2, "reliability": 0.5, "n": 2}, "n must be >= 3"),
    ],
)
def test_attenuated_r_validates(kwargs, message):
    with pytest.raises(ValueError, match=message):
        reliability.attenuated_r(**kwargs)


def test_latent_r_can_exceed_one():
    assert reliability.latent_r(-0.4, 0.25) == pytest.approx(-0.8)
    assert reliability.latent_r(0.6, 0.25) == pytest.approx(1.2)  # no latent r fits: said, not clipped
    with pytest.raises(ValueError, match="reliability"):
        reliability.latent_r(0.3, 0.0)


def _synthetic_draws(n=600, draws=8, slope=0.6, planted_sd=0.4, systematic_sd=0.05, error_sd=0.2, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.normal(0.1, planted_sd, n)
    u = rng.normal(0, systematic_sd, n)
    rows = [
        (
            f"p{i}",
            d,
            "negative-neutral",
            "amygdala_r",
            0.05 + slope * t[i] + u[i] + rng.normal(0, error_sd),
            t[i],
        )
        for i in range(n)
        for d in range(draws)
    ]
    return pd.DataFrame(rows, columns=["participant_id", "draw", "condition", "target", "z", "planted"])


def test_reliability_recovers_planted_variance_components():
    res = reliability.reliability_from_draws(_synthetic_draws())
    signal = 0.6**2 * 0.4**2  # .0576
    assert res["slope"] == pytest.approx(0.6, abs=0.03)
    assert res["error_sd"] == pytest.approx(0.2, rel=0.03)
    assert res["reliability"] == pytest.approx(signal / (signal + 0.05**2 + 0.2**2), abs=0.03)  # .583
    assert res["retest"] == pytest.approx((signal + 0.05**2) / (signal + 0.05**2 + 0.2**2), abs=0.03)
    assert (
        reliability.population_reliability(res, 0.8) > res["reliability"]
    )  # wider spread, higher reliability


def test_reliability_needs_rows_and_two_draws():
    draws = _synthetic_draws(n=5, draws=1)
    with pytest.raises(ValueError, match="needs >= 2 draws"):
        reliability.reliability_from_draws(draws)
    with pytest.raises(ValueError, match="no rows for condition 'negative' and target 'amygdala_r'"):
        reliability.reliability_from_draws(draws, condition="negative")


def test_draw_correlations_and_image_check():
    draws = _synthetic_draws(n=30, draws=40, error_sd=0.2, seed=3)
    scores = draws.groupby("participant_id")["planted"].first()
    r = reliability.draw_correlations(draws, scores)
    assert r.shape == (40,) and r.mean() == pytest.approx(np.sqrt(0.0576 / (0.0576 + 0.0425)), abs=0.1)
    # an "image" estimate drawn from the same model: z-scores near N(0, 1)
    rng = np.random.default_rng(9)
    means = draws.groupby("participant_id")["z"].mean()
    image = pd.DataFrame(
        {
            "participant_id": means.index,
            "z": means.to_numpy() + rng.normal(0, 0.2, len(means)),
            "condition": "negative-neutral",
            "target": "amygdala_r",
            "source": "vmpfc",
            "measure": "weighted_hrf",
        }
    )
    check = reliability.image_check(draws, image)
    assert check["n"] == 30 and abs(check["mean"]) < 0.5 and 0.6 < check["sd"] < 1.5 and check["consistent"]
    shifted = reliability.image_check(draws, image.assign(z=image["z"] + 1.0))  # a biased shortcut is caught
    assert shifted["mean"] > 3 and shifted["within"] < 0.2


def test_attenuation_summary_says_where_ours_lies():
    inside = reliability.attenuation_summary(-0.43, 0.5, 19, n_sim=4000, seed=0, r_ours=-0.3)
    assert inside["ours_within"] and inside["q_low"] < inside["expected"] < inside["q_high"]
    assert inside["expected"] == pytest.approx(-0.43 * np.sqrt(0.5), abs=0.03)
    outside = reliability.attenuation_summary(-0.43, 0.5, 19, n_sim=4000, seed=0, r_ours=0.6)
    assert outside["ours_within"] is False and outside["ours_quantile"] == 1.0
    fig = reliability.plot_attenuation(inside, r_paper=-0.402, n=19, draw_r=np.array([-0.3, -0.2]))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("planted r, sample = −0.43" in t for t in labels) and any(
        "paper r = −0.40" in t for t in labels
    )
    assert any("ours r = −0.30" in t for t in labels)


def test_voxel_shortcut_reproduces_the_twins_images(tiny_twin):
    """Noise-free shortcut (S0 + W ts) * spin from the twin's own components vs the ideal derivative's
    ROI means: the difference is the images' thermal noise alone (SD 0.75 sigma / sqrt(voxels))."""
    root = tiny_twin
    truth = root / "derivatives" / "twin-truth"
    cfg = yaml.safe_load((truth / "config.yaml").read_text())
    vm = reliability.voxel_model(cfg)
    comps = pd.read_csv(truth / "sub-01" / "sub-01_components.tsv", sep="\t").to_numpy()
    fd = pd.read_csv(truth / "sub-01" / "sub-01_motion.tsv", sep="\t")["framewise_displacement"].to_numpy()
    spin = 1 - cfg["motion"]["spin_pct_per_mm"] * fd / 100
    img = nib.load(
        next((root / "derivatives" / "twin-fmriprep" / "sub-01" / "func").glob("*desc-preproc_bold.nii.gz"))
    )
    data = img.get_fdata()
    for name, mask in atlas.roi_masks(img).items():
        image_mean = data[np.asanyarray(mask.dataobj) > 0].mean(axis=0)
        model_mean = ((vm.s0[name][None, :] + comps @ vm.weights[name].T) * spin[:, None]).mean(axis=1)
        diff = image_mean - model_mean
        n_vox = int((vm.s0[name] > 0).sum())
        expected_sd = np.hypot(
            vm.noise_sd / np.sqrt(n_vox), np.sqrt(1 / 12) / np.sqrt(n_vox)
        )  # + int16 rounding
        assert diff.std() == pytest.approx(expected_sd, rel=0.2), name  # without spin(t): 2.2x for the VMPFC
        assert abs(diff.mean()) < 4 * expected_sd / np.sqrt(len(diff)) + 0.5, name


def test_repeated_draws_are_deterministic_and_carry_the_planted_values(tiny_twin):
    design = reliability.read_twin_design(tiny_twin)
    one = reliability.repeated_draws(design, 2, seed=5, participants=["sub-01", "sub-02"])
    two = reliability.repeated_draws(design, 2, seed=5, participants=["sub-01", "sub-02"])
    pd.testing.assert_frame_equal(one, two)
    assert set(one["condition"]) == {
        "negative",
        "neutral",
        "positive",
        "negative-neutral",
        "positive-neutral",
    }
    planted = design.coupling.set_index(["participant_id", "condition", "target"])["z"]
    row = one[
        (one["participant_id"] == "sub-02")
        & (one["condition"] == "negative-neutral")
        & (one["target"] == "amygdala_l")
    ].iloc[0]
    assert row["planted"] == pytest.approx(
        planted[("sub-02", "negative", "amygdala_l")] - planted[("sub-02", "neutral", "amygdala_l")]
    )
    assert not one["z"].equals(
        reliability.repeated_draws(design, 2, seed=6, participants=["sub-01", "sub-02"])["z"]
    )
    with pytest.raises(ValueError, match="n_draws must be >= 2"):
        reliability.repeated_draws(design, 1, seed=5)


def test_not_a_twin_gives_no_design(tmp_path):
    assert reliability.read_twin_design(tmp_path) is None


def test_default_config_reliabilities_are_plausible():
    """The config's stored reliabilities: contrasts less reliable than single conditions (a difference
    of two noisy estimates), all in (0, 1)."""
    rel = load_config()["coupling"]["reliability"]
    assert all(0 < v < 1 for v in rel.values())
    assert max(rel["negative-neutral"], rel["positive-neutral"]) < min(
        rel["negative"], rel["neutral"], rel["positive"]
    )


def test_observed_r_given_matches_spearman_without_systematic_parts_and_keeps_them_otherwise():
    rng = np.random.default_rng(4)
    x, t = reliability._exact_pair(60, -0.5, rng)
    t = 0.4 * t  # planted SD .4; error SD .4: reliability .5
    plain = reliability.observed_r_given(x, t, error_sd=0.4, n_draws=10**6, n_sim=4000, seed=1)
    assert plain.mean() == pytest.approx(-0.5 * np.sqrt(0.5), abs=0.02)
    # a systematic part of the estimate that tracks x (leakage of another planted coupling) is kept
    leaky = reliability.observed_r_given(x, t - 0.2 * x, error_sd=0.4, n_draws=10**6, n_sim=4000, seed=1)
    assert leaky.mean() < plain.mean() - 0.1
    # the draws' own error is removed from the means' spread: noisy means from 2 draws are shrunk
    noisy = t + rng.normal(0, 0.4 / np.sqrt(2), 60)
    shrunk = reliability.observed_r_given(x, noisy, error_sd=0.4, n_draws=2, n_sim=4000, seed=1)
    assert abs(shrunk.mean() - plain.mean()) < 0.08
    with pytest.raises(ValueError, match="same length"):
        reliability.observed_r_given(x, t[:5], 0.4, 10)


def _image_with(draws, zs):
    """Images whose standardised errors (image_check's units) are exactly ``zs``."""
    grouped = draws.groupby("participant_id")["z"]
    error_sd = np.sqrt(grouped.var(ddof=1).mean())
    means, size = grouped.mean(), grouped.size()
    return pd.DataFrame(
        {
            "participant_id": means.index,
            "z": means.to_numpy() + np.asarray(zs) * error_sd * np.sqrt(1 + 1 / size.to_numpy()),
            "condition": "negative-neutral",
            "target": "amygdala_r",
            "source": "vmpfc",
            "measure": "weighted_hrf",
        }
    )


@pytest.mark.parametrize(
    "sd, mean, consistent",
    [(1.0, 0.0, True), (1.3, 0.0, True), (1.4, 0.0, False), (0.6, 0.0, False), (1.0, 0.6, False)],
)
def test_image_check_intervals_decide(sd, mean, consistent):
    """n = 19: the SD's 95 % CI is s·[√(18/χ²₀.₉₇₅(18)), √(18/χ²₀.₀₂₅(18))] = s·[0.7556, 1.4788] (tables:
    χ² = 31.526 and 8.231), so SD 1.3 still contains 1 and SD 1.4 does not; the mean's is
    mean ± t₀.₉₇₅(18)·s/√19 = mean ± 2.1009·s/4.359, so a shift of 0.6 (CI 0.118 to 1.082) fails."""
    draws = _synthetic_draws(n=19, draws=12, seed=5)
    e = np.random.default_rng(1).standard_normal(19)
    zs = mean + sd * (e - e.mean()) / e.std(ddof=1)
    check = reliability.image_check(draws, _image_with(draws, zs))
    assert check["sd"] == pytest.approx(sd) and check["mean"] == pytest.approx(mean, abs=1e-12)
    assert check["sd_low"] == pytest.approx(sd * 0.75562, abs=1e-4)
    assert check["sd_high"] == pytest.approx(sd * 1.47883, abs=1e-4)
    assert check["mean_high"] - check["mean"] == pytest.approx(2.10092 * sd / np.sqrt(19), abs=1e-4)
    assert check["consistent"] is consistent


def test_image_check_a_perfect_shortcut_is_not_inflated():
    """Images from the shortcut's own model: with each participant's own draw SD the standardised errors
    would have SD √((1 + 1/D)(D − 1)/(D − 3)) ≈ 1.19 at D = 10; with the pooled error they have SD 1."""
    draws = _synthetic_draws(n=400, draws=10, seed=4)
    # a fresh run of the same participants (t and u come first in the stream; the errors are new)
    extra = _synthetic_draws(n=400, draws=11, seed=4)
    image = extra[extra["draw"] == 10].assign(source="vmpfc", measure="weighted_hrf")
    check = reliability.image_check(draws, image)
    assert check["sd"] == pytest.approx(1.0, abs=0.06) and check["consistent"]


def test_reliability_scaled_error_by_hand():
    res = {"slope": 0.6, "planted_sd": 0.4, "systematic_sd": 0.05, "error_sd": 0.2}
    signal = 0.6**2 * 0.4**2
    assert reliability.reliability_scaled_error(res, 1.0) == pytest.approx(signal / (signal + 0.0025 + 0.04))
    assert reliability.reliability_scaled_error(res, 1.4) == pytest.approx(
        signal / (signal + 0.0025 + 1.96 * 0.04)
    )
    draws = _synthetic_draws(n=50, seed=2)
    measured = reliability.reliability_from_draws(draws)
    assert reliability.reliability_scaled_error(measured, 1.0) == pytest.approx(measured["reliability"])


def test_systematic_correlation_finds_score_related_deviations():
    n, draws = 300, 200
    draws_df = _synthetic_draws(n=n, draws=draws, seed=6)
    rng = np.random.default_rng(6)  # the same stream as _synthetic_draws: t, then u
    t, u = rng.normal(0.1, 0.4, n), rng.normal(0, 0.05, n)
    ids = [f"p{i}" for i in range(n)]
    # the OLS residuals are orthogonal to the planted values: exactly 0
    assert reliability.systematic_correlation(draws_df, pd.Series(t, index=ids)) == pytest.approx(0, abs=1e-9)
    # scores that carry the systematic part u: corr ≈ σ_u / √(σ_u² + σ_e²/D) = .05 / √(.0025 + .0002) = .96
    r = reliability.systematic_correlation(draws_df, pd.Series(u, index=ids))
    assert r == pytest.approx(0.05 / np.sqrt(0.0025 + 0.04 / draws), abs=0.03)
