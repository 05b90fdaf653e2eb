"""Tests for helpers.connectivity: hand-worked CONN cases and planted ground truth."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers.connectivity import (
    check_dof,
    condition_dof,
    condition_effects,
    condition_weights,
    fisher_z,
    gppi,
    matlab_round,
    roi_to_roi,
    spm_hrf,
    weighted_correlation,
)


def events(*rows):
    return pd.DataFrame(rows, columns=["onset", "duration", "trial_type"])


def effect_from_bins(bins, n_scans, dt=0.3):
    """Hand computation of CONN's regressor from explicit microtime bins (t = bin·dt)."""
    h = spm_hrf(dt)
    out = np.zeros(n_scans)
    for n in range(n_scans):
        total = 0.0
        for j in range(10 * n, 10 * n + 10):
            total += sum(h[j - i] for i in bins if 0 <= j - i < h.size)
        out[n] = total / 10
    return out


# --------------------------------------------------------------------------- spm_hrf
def test_spm_hrf_sums_to_one_and_peaks_near_5s():
    h = spm_hrf(0.3)
    assert h.size == 107  # 0, 0.3, …, 31.8 s (floor(32/0.3) = 106)
    assert h.sum() == pytest.approx(1.0, abs=1e-12)
    assert 4.5 <= np.argmax(h) * 0.3 <= 5.5
    assert h[0] == 0.0 and h.min() < 0  # starts at zero, has an undershoot


def test_spm_hrf_equals_difference_of_gammas():
    dt = 0.3
    t = np.arange(107) * dt
    ref = stats.gamma.pdf(t, 6) - stats.gamma.pdf(t, 16) / 6
    np.testing.assert_allclose(spm_hrf(dt), ref / ref.sum(), rtol=0, atol=1e-13)


def test_spm_hrf_at_tr_length():
    assert spm_hrf(3.0).size == 11  # floor(32/3) + 1


@pytest.mark.parametrize("dt", [0, -1, np.nan, 40])
def test_spm_hrf_rejects_bad_dt(dt):
    with pytest.raises(ValueError, match="dt"):
        spm_hrf(dt)


def test_matlab_round_halves_away_from_zero():
    np.testing.assert_array_equal(
        matlab_round([0.5, 1.5, 2.5, -0.5, -2.5, 0.49999999999999994]), [1, 2, 3, -1, -3, 0]
    )


# --------------------------------------------------------------------------- effects
def test_condition_effects_single_event_by_hand():
    # onset 3 s, duration 0.9 s at TR 3: microtime bins 10, 11, 12 (t = 3.0, 3.3, 3.6 s)
    eff = condition_effects(events((3.0, 0.9, "a")), n_scans=20, tr=3.0)
    assert list(eff.columns) == ["a"] and len(eff) == 20
    np.testing.assert_allclose(eff["a"], effect_from_bins([10, 11, 12], 20), atol=1e-14)
    assert eff["a"].iloc[0] == 0.0


def test_condition_effects_round_half_away_from_zero():
    # 1 + 0.45/0.3 = 2.5 exactly: MATLAB's round gives 3 → bin 2 (t = 0.6 s); numpy's would give bin 1
    eff = condition_effects(events((0.45, 0.3, "a")), n_scans=12, tr=3.0)["a"]
    np.testing.assert_allclose(eff, effect_from_bins([2], 12), atol=1e-14)
    assert np.abs(eff - effect_from_bins([1], 12)).max() > 1e-3


def test_condition_effects_floating_point_onset_and_duration():
    # 16.8/0.3 = 56.00000000000001 → bin 56; 11 s → floor(11/0.3 − 1) + 1 = 36 bins
    eff = condition_effects(events((16.8, 11.0, "a")), n_scans=20, tr=3.0)["a"]
    np.testing.assert_allclose(eff, effect_from_bins(range(56, 92), 20), atol=1e-13)


def test_condition_effects_overlapping_events_do_not_add():
    one = condition_effects(events((3.0, 6.0, "a")), 20, 3.0)
    two = condition_effects(events((3.0, 6.0, "a"), (3.0, 3.0, "a")), 20, 3.0)
    np.testing.assert_array_equal(one, two)


def test_condition_effects_columns_sorted_and_selectable():
    ev = events((3, 10, "positive"), (15, 10, "negative"))
    assert list(condition_effects(ev, 30, 3.0).columns) == ["negative", "positive"]
    assert list(condition_effects(ev, 30, 3.0, conditions=["positive"]).columns) == ["positive"]
    with pytest.raises(ValueError, match="neutral"):
        condition_effects(ev, 30, 3.0, conditions=["neutral"])


@pytest.mark.parametrize(
    "ev, message",
    [
        (events((90.0, 10, "a")), "beyond the scan"),
        (events((np.nan, 10, "a")), "onset, row 0"),
        (events((3.0, "n/a", "a")), "duration, row 0"),
        (events((3.0, -1, "a")), "negative"),
        (pd.DataFrame({"onset": [1.0], "duration": [1.0]}), "trial_type"),
    ],
)
def test_condition_effects_validation(ev, message):
    with pytest.raises(ValueError, match=message):
        condition_effects(ev, n_scans=30, tr=3.0)


def test_condition_effects_rejects_bad_scan_counts():
    with pytest.raises(ValueError, match="n_scans"):
        condition_effects(events((3, 1, "a")), n_scans=2.5, tr=3.0)
    with pytest.raises(ValueError, match="tr"):
        condition_effects(events((3, 1, "a")), n_scans=10, tr=0)


# --------------------------------------------------------------------------- weights
def test_weights_of_an_isolated_event():
    ev = events((30.0, 11.0, "a"))
    eff = condition_effects(ev, 40, 3.0)["a"].to_numpy()
    hrf = condition_weights(ev, 40, 3.0, "hrf")["a"].to_numpy()
    support = np.flatnonzero(eff > 0)
    # contiguous support of 6–7 scans, peak slightly above 1 (CONN.md §2)
    assert np.all(np.diff(support) == 1) and 6 <= support.size <= 8
    assert 1.0 < hrf.max() < 1.2
    np.testing.assert_array_equal(hrf[support], eff[support])
    assert np.all(hrf[eff <= 0] == 0)
    none = condition_weights(ev, 40, 3.0, "none")["a"].to_numpy()
    np.testing.assert_array_equal(none, (eff > 0).astype(float))
    han = condition_weights(ev, 40, 3.0, "hanning")["a"].to_numpy()
    L = support.size
    k = np.arange(1, L + 1)
    np.testing.assert_allclose(han[support], 0.5 * (1 - np.cos(2 * np.pi * k / (L + 1))), atol=1e-15)
    assert np.all(han[eff <= 0] == 0)


def test_hanning_weights_per_segment():
    ev = events((10.0, 10.0, "a"), (70.0, 12.0, "a"))
    w = condition_weights(ev, 40, 3.0, "hanning")["a"].to_numpy()
    segs = np.split(np.flatnonzero(w > 0), np.flatnonzero(np.diff(np.flatnonzero(w > 0)) > 1) + 1)
    assert len(segs) == 2
    for seg in segs:
        L = seg.size
        np.testing.assert_allclose(
            w[seg], 0.5 * (1 - np.cos(2 * np.pi * np.arange(1, L + 1) / (L + 1))), atol=1e-15
        )
        np.testing.assert_array_equal(w[seg], w[seg][::-1])  # exactly symmetric, as conn_hanning


def test_weights_reject_zero_weight_condition_and_unknown_weighting():
    # an event in the last 0.1 s never reaches a scan (the HRF is 0 at lag 0)
    with pytest.raises(ValueError, match="zero weight"):
        condition_weights(events((3.0, 10, "a"), (59.9, 0.1, "b")), 20, 3.0)
    with pytest.raises(ValueError, match="weighting"):
        condition_weights(events((3.0, 10, "a")), 20, 3.0, weighting="boxcar")


# --------------------------------------------------------------------------- correlation
def test_weighted_correlation_with_unit_weights_is_pearson():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(2, 50))
    assert weighted_correlation(x, y, np.ones(50)) == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-14)


def test_weighted_correlation_with_binary_weights_is_pearson_on_the_subset():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(2, 60))
    w = (np.arange(60) % 3 == 0).astype(float)
    sel = w > 0
    assert weighted_correlation(x, y, w) == pytest.approx(np.corrcoef(x[sel], y[sel])[0, 1], abs=1e-14)


def test_weighted_correlation_hand_worked():
    x = np.array([1.0, 2.0, 4.0])
    y = np.array([2.0, 1.0, 5.0])
    w = np.array([1.0, 2.0, -1.0])  # negative weight → 0
    # weighted means: x̄ = (1+4)/3 = 5/3, ȳ = (2+2)/3 = 4/3; w² = [1, 4, 0]
    xt, yt = x - 5 / 3, y - 4 / 3
    num = 1 * xt[0] * yt[0] + 4 * xt[1] * yt[1]
    den = math.sqrt((xt[0] ** 2 + 4 * xt[1] ** 2) * (yt[0] ** 2 + 4 * yt[1] ** 2))
    assert weighted_correlation(x, y, w) == pytest.approx(num / den, abs=1e-14)


def test_weighted_correlation_validation():
    x = np.arange(10.0)
    with pytest.raises(ValueError, match="mismatched"):
        weighted_correlation(x, x[:9], np.ones(10))
    with pytest.raises(ValueError, match="NaN"):
        weighted_correlation(np.r_[np.nan, x[1:]], x, np.ones(10))
    with pytest.raises(ValueError, match="constant"):
        weighted_correlation(np.full(10, 3.0), x, np.ones(10))
    with pytest.raises(ValueError, match="zero"):
        weighted_correlation(x, x[::-1], np.zeros(10))


def test_fisher_z_is_atanh_and_finite_at_one():
    assert fisher_z(0.5) == pytest.approx(math.atanh(0.5))
    assert np.isfinite(fisher_z(1.0)) and fisher_z(1.0) > 18


def planted(n=300, seed=3):
    """Three ROIs: a–b correlate at 0.8 in condition 'on', independent in 'off'."""
    rng = np.random.default_rng(seed)
    on = (np.arange(n) // 20) % 2 == 0
    shared = rng.normal(size=n)
    a = rng.normal(size=n)
    b = np.where(on, 0.8 * a + 0.6 * rng.normal(size=n), rng.normal(size=n))
    c = rng.normal(size=n) + 0.1 * shared
    ts = pd.DataFrame({"a": a, "b": b, "c": c})
    w = pd.DataFrame({"on": on.astype(float), "off": (~on).astype(float)})
    return ts, w, on


def test_roi_to_roi_recovers_planted_condition_specific_correlation():
    ts, w, on = planted()
    out = roi_to_roi(ts, w)
    assert list(out.columns) == ["condition", "source", "target", "r", "z"]
    assert len(out) == 2 * 6  # 2 conditions × ordered pairs of 3 ROIs
    get = out.set_index(["condition", "source", "target"])
    assert get.loc[("on", "a", "b"), "r"] == pytest.approx(0.8, abs=0.06)
    assert abs(get.loc[("off", "a", "b"), "r"]) < 0.15
    assert get.loc[("on", "a", "b"), "r"] == get.loc[("on", "b", "a"), "r"]
    np.testing.assert_allclose(out["z"], np.arctanh(out["r"]))
    expected = np.corrcoef(ts["a"][on], ts["b"][on])[0, 1]
    assert get.loc[("on", "a", "b"), "r"] == pytest.approx(expected, abs=1e-12)


def test_roi_to_roi_validation():
    ts, w, _ = planted()
    with pytest.raises(ValueError, match="mismatched"):
        roi_to_roi(ts.iloc[:-1], w)
    ts2 = ts.copy()
    ts2["c"] = 1.0
    with pytest.raises(ValueError, match="'c' is constant"):
        roi_to_roi(ts2, w)
    with pytest.raises(ValueError, match="at least 2"):
        roi_to_roi(ts[["a"]], w)


# --------------------------------------------------------------------------- gPPI
def test_gppi_recovers_planted_interaction():
    rng = np.random.default_rng(7)
    n = 200
    p1 = ((np.arange(n) // 10) % 2 == 0).astype(float)
    p2 = 1 - p1
    s = rng.normal(size=n)
    y = 0.5 * s + 1.0 * p1 + 2.0 * s * p1 - 0.7 * s * p2 + 0.01 * rng.normal(size=n)
    ts = pd.DataFrame({"seed": s, "target": y})
    w = pd.DataFrame({"one": p1, "two": p2})
    out = gppi(ts, w, max_vif=np.inf).set_index(["condition", "source", "target"])["value"]
    # p1 + p2 = 1 makes s·p1, s·p2 and s collinear: only the difference of the interaction betas is
    # identified (by default an error, tests/test_gppi_safeguards.py); pinv gives the minimum-norm split
    diff = out[("one", "seed", "target")] - out[("two", "seed", "target")]
    assert diff == pytest.approx(2.7, abs=0.01)


def test_gppi_regression_and_correlation_with_independent_terms():
    rng = np.random.default_rng(8)
    n = 240
    p1 = ((np.arange(n) // 12) % 3 == 0).astype(float)
    p2 = ((np.arange(n) // 12) % 3 == 1).astype(float)
    s = rng.normal(size=n)
    y = 0.3 * s + 1.5 * s * p1 + 0.05 * rng.normal(size=n)
    ts = pd.DataFrame({"s": s, "y": y})
    w = pd.DataFrame({"p1": p1, "p2": p2})
    reg = gppi(ts, w).set_index(["condition", "source", "target"])["value"]
    assert reg[("p1", "s", "y")] == pytest.approx(1.5, abs=0.02)
    assert reg[("p2", "s", "y")] == pytest.approx(0.0, abs=0.02)
    # correlation measure from its formula, computed independently with lstsq
    X = np.column_stack([s, p1, p2, s * p1, s * p2])
    X = X - X.mean(axis=0)
    yc = y - y.mean()
    b = np.linalg.lstsq(X, yc, rcond=None)[0][3]
    expected = np.arctanh(b / (np.sqrt(np.linalg.inv(X.T @ X)[3, 3]) * np.linalg.norm(yc)))
    cor = gppi(ts, w, measure="correlation").set_index(["condition", "source", "target"])["value"]
    assert cor[("p1", "s", "y")] == pytest.approx(expected, rel=1e-10)
    assert list(gppi(ts, w).columns) == ["condition", "source", "target", "value"]
    with pytest.raises(ValueError, match="measure"):
        gppi(ts, w, measure="beta")


# --------------------------------------------------------------------------- degrees of freedom
def test_condition_dof_formula_by_hand():
    w1 = pd.DataFrame({"a": [0, 0.5, 1, 0.2, 0, 0], "b": [1, 1, 0, 0, 0, 0]})
    w2 = pd.DataFrame({"a": [0.0, 0, 0, 0], "b": [0.3, 0.3, 0.3, 0.3]})
    # run 1: 6 scans, 3 residual dof → 0.5 per scan; run 2: 4 scans, 2 dof → 0.5 per scan
    dof = condition_dof([w1, w2], [3, 2])
    assert dof["a"] == pytest.approx(3 * 0.5)  # absent from run 2: nothing from it
    assert dof["b"] == pytest.approx(2 * 0.5 + 4 * 0.5)
    assert condition_dof(w1, 6)["a"] == pytest.approx(3.0)  # one run: scans with weight > 0 × d/N
    with pytest.raises(
        ValueError,
        match=r"sub-9: condition 'a' has 1\.5 effective residual degrees of freedom .* min_dof = 2",
    ):
        check_dof(dof, 2, "sub-9")
    check_dof(dof, 1.5, "sub-9")  # at the minimum: allowed


def test_few_degrees_of_freedom_give_large_correlations_on_pure_noise():
    """Why min_dof exists: with 2 residual dof two noise series are two random directions in a plane, so
    |r| = |cos θ| > .9 with probability 2·arccos(.9)/π = 0.287; with 42 dof it (almost) never happens."""
    from helpers.denoise import regress_and_filter

    rng = np.random.default_rng(1)
    share = {}
    for n in (32, 72):
        big = []
        for _ in range(300):
            y = rng.normal(size=(n, 2))
            den = regress_and_filter(y, rng.normal(size=(n, 28)), 3.0, (0.0, math.inf))  # n − 30 dof
            big.append(abs(weighted_correlation(den[:, 0], den[:, 1], np.ones(n))) > 0.9)
        share[n] = np.mean(big)
    assert share[32] == pytest.approx(2 * np.arccos(0.9) / np.pi, abs=0.08)
    assert share[72] < 0.01
